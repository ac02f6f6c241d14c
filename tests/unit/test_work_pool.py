"""The pools of expensive work: a bounded line, time limits that stop a pure-Python job
where it is, a client leaving, shutdown."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from swarmlens.classifier.errors import WorkBusyError, WorkTimeoutError
from swarmlens.serve.metrics import Metrics
from swarmlens.serve.services.work import ClientGone, Job, WorkPool


def spin(stopped: threading.Event) -> Any:
    """A job that never ends by itself: pure Python, as networkx or an explanation."""

    def work(job: Job) -> None:
        try:
            while True:
                pass
        finally:
            stopped.set()

    return work


def test_a_job_over_its_time_limit_is_stopped_where_it_is() -> None:
    stopped = threading.Event()
    pool = WorkPool("network", 1, 0.3, Metrics())

    async def main() -> None:
        with pytest.raises(WorkTimeoutError, match="network_timeout"):
            await pool.run(spin(stopped))
        assert await pool.run(lambda job: 42) == 42  # the worker is free again

    asyncio.run(main())
    assert stopped.wait(10)


def test_a_full_pool_refuses_at_once_and_hooks_run_on_stop() -> None:
    pool = WorkPool("explain", 1, 30, Metrics())
    interrupted = threading.Event()

    def work(job: Job) -> None:
        job.on_cancel(interrupted.set)  # a DuckDB cursor's interrupt, say
        interrupted.wait(30)

    async def main() -> None:
        jobs = [asyncio.ensure_future(pool.run(work)) for _ in range(5)]  # 1 runs, 4 wait
        await asyncio.sleep(0.1)
        with pytest.raises(WorkBusyError):
            await pool.run(work)
        pool.close()  # shutdown: every job stops and answers now
        for job in jobs:
            with pytest.raises(WorkBusyError, match="shutting down"):
                await job

    asyncio.run(main())
    assert interrupted.is_set()


def test_a_job_whose_client_left_is_stopped() -> None:
    stopped = threading.Event()
    pool = WorkPool("network", 1, 30, Metrics())

    async def main() -> None:
        gone = asyncio.Event()

        async def receive() -> dict[str, Any]:
            await gone.wait()
            return {"type": "http.disconnect"}

        asyncio.get_running_loop().call_later(0.2, gone.set)
        with pytest.raises(ClientGone):
            await pool.run(spin(stopped), receive)

    asyncio.run(main())
    assert stopped.wait(10)
