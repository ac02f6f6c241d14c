"""Where chunks are scored: in this process, by a pool of its threads, or on a Dask cluster.

Each executor keeps a bounded number of chunks in flight (flat memory however large the
archive) and yields ``ChunkResult``s as chunks finish.

Local workers are threads, not processes: the scoring stages run in Arrow compute and in
numba kernels compiled ``nogil``, which release the GIL, so threads of one process keep the
cores busy while sharing one copy of the model, of numba and of its compiled code. A pool of
spawned processes loaded all three once per worker: +120 MiB of RSS a worker (numba and
LLVM alone), and each worker's start-up costs a second of CPU (bench/archive.py measures
both modes' CPU and peak RSS, with ``--scheduler local`` for the Dask side).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from swarmlens.classifier.batch.chunks import ChunkResult, ModelRef, load_model, score_chunk
from swarmlens.classifier.posts.readers import Payload


def _bounded(
    submit: Callable[[str, str, list[tuple[int, Payload]]], Future],
    todo: Iterator[tuple[str, str, list[tuple[int, Payload]]]],
    limit: int,
) -> Iterator[Any]:
    """Submit chunks keeping at most ``limit`` in flight (flat memory), yield results."""
    pending: set[Future] = set()
    for chunk in todo:
        pending.add(submit(*chunk))
        if len(pending) >= limit:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                yield future.result()
    while pending:
        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
        for future in finished:
            yield future.result()


def _single_threaded_workers() -> None:
    # Each Dask worker scores on one core: BLAS thread pools would only oversubscribe the
    # machine and allocate a buffer per thread. Inherited by the worker processes.
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")


def run_local(todo: Iterator, ref: ModelRef, out_dir: str, workers: int) -> Iterator[ChunkResult]:
    """Score chunks on ``workers`` threads of this process while this thread reads ahead.

    The model is loaded by a thread of its own from the start (numba's start-up is most of
    it, under the GIL), while this thread reads and the scoring threads decode the first
    chunks (ISA-L, Arrow's JSON reader: mostly without the GIL). A load that fails fails
    again in the scoring threads, which raise it.
    """
    with (
        ThreadPoolExecutor(1, thread_name_prefix="swarmlens-model") as loader,
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="swarmlens-score") as pool,
    ):
        loader.submit(load_model, ref)
        yield from _bounded(
            lambda c, s, i: pool.submit(score_chunk, c, s, i, ref, out_dir), todo, workers + 1
        )


def run_dask(
    todo: Iterator, ref: ModelRef, out_dir: str, workers: int, scheduler: str
) -> Iterator[ChunkResult]:
    from dask.distributed import Client, LocalCluster
    from dask.distributed import wait as dask_wait

    cluster = None
    if scheduler == "local":
        _single_threaded_workers()
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        pending: set[Any] = set()
        limit = max(2, 2 * len(client.scheduler_info()["workers"]) or 2 * workers)
        for chunk_id, source, items in todo:
            pending.add(
                client.submit(score_chunk, chunk_id, source, items, ref, out_dir, pure=False)
            )
            if len(pending) >= limit:
                finished = dask_wait(pending, return_when="FIRST_COMPLETED")
                pending = set(finished.not_done)
                for future in finished.done:
                    yield future.result()
        for future in pending:
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
