"""Expensive work (explanations, networks) in small bounded pools, with time limits, stopped
when its client leaves or the server shuts down.

The cheap path (classify, volumes) never waits for it: a pool runs at most ``workers`` jobs
at once on threads of its own, lets a few more wait, and answers 503 (E040) beyond. A job
is stopped when its time limit passes (503 E041), when its client disconnects, or at
shutdown; the request answers at once, whatever the thread is doing.

Stopping a thread: Python cannot kill one, so a job is stopped the two ways that reach the
code it runs. ``Job.on_cancel`` hooks run first (a DuckDB ``connection.interrupt()`` ends a
query in C++), then ``WorkCancelled`` is raised inside the thread
(``PyThreadState_SetAsyncExc``), which pure-Python work (networkx, explanations) meets at
its next bytecode. An exception can so appear anywhere in the job, which is why a job must
touch only objects of its own (its own DuckDB cursor, its own copy of the model) and take
no lock shared with other requests: whatever it leaves half-done is thrown away with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from swarmlens.classifier.errors import WorkBusyError, WorkTimeoutError
from swarmlens.serve.metrics import Metrics

log = logging.getLogger(__name__)
T = TypeVar("T")
Receive = Callable[[], Awaitable[dict[str, Any]]]

WAITING_PER_WORKER = 4
"""Jobs that may wait for a worker, per worker, before more are refused (503)."""


class WorkCancelled(BaseException):
    """Raised inside a job's thread to stop it (a BaseException: no ``except Exception`` in
    the job's code swallows it)."""


class ClientGone(Exception):
    """The client disconnected before its job finished; nobody reads the answer."""


class Job:
    """One job's handle, passed to its function: ``on_cancel`` registers what stops it."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._hooks: list[Callable[[], object]] = []
        self.thread: threading.Thread | None = None
        """The thread running the job (set by the pool before it starts)."""
        self._running = True
        self.cancelled: str | None = None
        """Why the job was stopped ('timeout', 'client_gone', 'shutdown'), else None."""

    def on_cancel(self, hook: Callable[[], object]) -> None:
        """Call ``hook`` (from another thread) when the job is stopped: e.g. a DuckDB
        cursor's ``interrupt``. Called at once when the job was stopped already."""
        with self._mutex:
            if self.cancelled is None:
                self._hooks.append(hook)
                return
        hook()

    def cancel(self, reason: str) -> bool:
        """Stop the job if it still runs; True if this call stopped it."""
        with self._mutex:
            if self.cancelled is not None or not self._running:
                return False
            self.cancelled = reason
            hooks, self._hooks = self._hooks, []
            thread = self.thread
        for hook in hooks:
            try:
                hook()
            except Exception:  # a hook that fails must not keep the others from running
                log.exception("stopping a job")
        with self._mutex:
            if self._running and thread is not None and thread.ident is not None:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(thread.ident), ctypes.py_object(WorkCancelled)
                )
        return True

    def finished(self) -> None:
        """Called by the job's own thread when the work has ended. Under the mutex: after
        this no WorkCancelled is sent; one sent just before may still be pending, and is
        cleared here (or caught by the caller if it fires first)."""
        with self._mutex:
            self._running = False
            if self.cancelled is not None:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(threading.get_ident()), None
                )


class _Outcome(Generic[T]):
    __slots__ = ("error", "value")

    def __init__(self, value: T | None = None, error: BaseException | None = None) -> None:
        self.value, self.error = value, error


class WorkPool:
    """At most ``workers`` jobs of one kind at once, each within ``timeout`` seconds.

    name: the kind ('explain', 'network'), in messages and metrics. Used from one event
    loop; its threads report back to it.
    """

    def __init__(self, name: str, workers: int, timeout: float, metrics: Metrics) -> None:
        self.name = name
        self.workers = workers
        self.timeout = timeout
        self.metrics = metrics
        self.max_waiting = workers * WAITING_PER_WORKER
        self.running = 0
        self.closed = False
        self.jobs: dict[Job, asyncio.Future[_Outcome[Any]]] = {}
        self._queue: deque[asyncio.Future[bool]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._queue)

    async def run(
        self,
        work: Callable[[Job], T],
        receive: Receive | None = None,
        before: Callable[[], Awaitable[object]] | None = None,
    ) -> T:
        """``work(job)`` on a thread of the pool; its value, or its exception re-raised.

        receive: the request's ASGI ``receive`` (its body already read): the job is stopped
        when it says the client disconnected (``ClientGone`` is raised).
        before: awaited once a worker is ours, before ``work`` starts: preparation that
        must not be interrupted (taking a model copy), done by at most ``workers``
        requests at once instead of by every one waiting.
        Raises WorkBusyError (pool full or shutting down), WorkTimeoutError (time limit).
        """
        loop = asyncio.get_running_loop()
        if self.closed:
            raise self._busy("the server is shutting down")
        if self.running + self.waiting >= self.workers + self.max_waiting:
            self.metrics.rejected_busy.inc()
            raise self._busy(
                f"{self.running} {self.name} jobs run and {self.waiting} wait (the most "
                "this server takes): retry shortly"
            )
        deadline = loop.time() + self.timeout
        gone = asyncio.ensure_future(_disconnected(receive)) if receive is not None else None
        try:
            await self._slot(loop, deadline, gone)
            try:
                if before is not None:
                    await before()
            except BaseException:
                self._release()
                raise
            return await self._start(loop, work, deadline, gone)
        finally:
            if gone is not None:
                gone.cancel()

    async def _slot(
        self, loop: asyncio.AbstractEventLoop, deadline: float, gone: asyncio.Future | None
    ) -> None:
        """Take a worker, waiting in line for one (first come, first served)."""
        if self.running < self.workers and not self._queue:
            self.running += 1
            self._gauges()
            return
        turn: asyncio.Future[bool] = loop.create_future()
        self._queue.append(turn)
        self._gauges()
        try:
            await self._race(turn, deadline, gone, None)
        except BaseException:
            if turn in self._queue:
                self._queue.remove(turn)
            elif turn.done() and not turn.cancelled() and turn.result():
                self._release()  # handed a worker just as we left: pass it on
            self._gauges()
            raise
        if not turn.result():
            raise self._busy("the server is shutting down")

    def _release(self) -> None:
        """A worker is free: hand it to the oldest waiter, else count it free."""
        while self._queue:
            turn = self._queue.popleft()
            if not turn.done():
                turn.set_result(True)
                self._gauges()
                return
        self.running -= 1
        self._gauges()

    async def _start(
        self,
        loop: asyncio.AbstractEventLoop,
        work: Callable[[Job], T],
        deadline: float,
        gone: asyncio.Future | None,
    ) -> T:
        job = Job()
        done: asyncio.Future[_Outcome[T]] = loop.create_future()

        def deliver(outcome: _Outcome[T]) -> None:
            # The worker is counted busy until its thread has really ended.
            self.jobs.pop(job, None)
            self._release()
            if not done.done():
                done.set_result(outcome)

        def body() -> None:
            outcome: _Outcome[T] = _Outcome(error=WorkCancelled())
            try:
                try:
                    outcome = _Outcome(value=work(job))
                except BaseException as exc:  # handed to the request, re-raised there
                    outcome = _Outcome(error=exc)
                job.finished()
            except WorkCancelled:
                pass  # sent just as the work ended: nothing is left pending now
            with contextlib.suppress(RuntimeError):  # the event loop is gone: server stopped
                loop.call_soon_threadsafe(deliver, outcome)

        thread = threading.Thread(target=body, name=f"swarmlens-{self.name}", daemon=True)
        job.thread = thread
        try:
            thread.start()
        except RuntimeError:  # no thread to be had (the process is at its limit)
            self._release()
            raise self._busy("no thread could be started: retry shortly") from None
        self.jobs[job] = done
        try:
            await self._race(done, deadline, gone, job)
        except asyncio.CancelledError:
            self._cancel(job, "shutdown")
            raise
        outcome = done.result()
        if job.cancelled:
            raise self._busy("the server is shutting down")
        if outcome.error is not None:
            raise outcome.error
        return outcome.value  # type: ignore[return-value]

    async def _race(
        self,
        awaited: asyncio.Future,
        deadline: float,
        gone: asyncio.Future | None,
        job: Job | None,
    ) -> None:
        """Wait for ``awaited``; stop ``job`` and raise when the time is up or the client
        has gone first."""
        loop = asyncio.get_running_loop()
        others = {gone} if gone is not None else set()
        finished, _ = await asyncio.wait(
            {awaited, *others},
            timeout=max(0.0, deadline - loop.time()),
            return_when=asyncio.FIRST_COMPLETED,
        )
        if awaited in finished:
            return
        reason = "client_gone" if gone is not None and gone in finished else "timeout"
        if job is not None:
            self._cancel(job, reason)
        else:
            self.metrics.work_cancelled.labels(self.name, reason).inc()
        if reason == "client_gone":
            raise ClientGone
        raise WorkTimeoutError(
            f"{self.name} did not finish within {self.timeout:g} s ({self.name}_timeout) and "
            "was stopped: ask for less (a shorter time range, fewer or shorter posts)"
        )

    def _cancel(self, job: Job, reason: str) -> None:
        if job.cancel(reason):
            self.metrics.work_cancelled.labels(self.name, reason).inc()
            log.warning("stopped the %s job: %s", self.name, reason.replace("_", " "))

    def close(self) -> None:
        """Stop every job and refuse new ones (the server is shutting down)."""
        self.closed = True
        while self._queue:
            turn = self._queue.popleft()
            if not turn.done():
                turn.set_result(False)
        for job, done in list(self.jobs.items()):
            self._cancel(job, "shutdown")
            if not done.done():  # answer now: the thread may take a moment to stop
                done.set_result(_Outcome(error=WorkCancelled()))

    def _busy(self, why: str) -> WorkBusyError:
        return WorkBusyError(f"{self.name}: {why}")

    def _gauges(self) -> None:
        self.metrics.work_running.labels(self.name).set(self.running)
        self.metrics.work_waiting.labels(self.name).set(self.waiting)


async def _disconnected(receive: Receive) -> None:
    """Return once ``receive`` says the client has gone (the request body is read already)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


class Pools:
    """The server's pools of expensive work (made in the app's lifespan, on its event loop)."""

    def __init__(self, explain: WorkPool, network: WorkPool) -> None:
        self.explain = explain
        self.network = network

    def close(self) -> None:
        self.explain.close()
        self.network.close()
