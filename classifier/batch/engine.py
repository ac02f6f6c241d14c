"""Archive-scale scoring: streamed, parallel, resumable, hive-partitioned Parquet output.

One process reads the inputs and cuts them into chunks of raw records (JSONL
lines stay unparsed); workers (local processes or a Dask cluster) decode,
score and write each chunk. Output layout under the output directory:

    day=YYYY-MM-DD/part-<chunk>.parquet   scored rows, by UTC day of created_at
                                          (day=unknown when the source gives no time)
    _chunks/<chunk>.json                  marker: the chunk is complete (its counts)
    _rejects/<chunk>.jsonl                rejected records of the chunk
    _job.json                             what this directory is the output of
    rejects.jsonl, _summary.json          written when the job completes

Every file is written under a temporary name and renamed, and a chunk's
marker is written last, so a crash at any moment leaves only complete files
and a re-run redoes exactly the chunks without a marker. Chunk outputs are a
pure function of the chunk, so redone chunks are identical to the lost ones.
A post_id seen again in a later chunk (overlapping archives) is dropped from
the later chunk once every chunk before it is done; the earliest occurrence is kept.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from itertools import takewhile
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from swarmlens.classifier.batch.chunks import ChunkResult, ModelRef, score_chunk
from swarmlens.classifier.batch.dedup import drop_later_copies
from swarmlens.classifier.batch.executors import run_dask, run_local
from swarmlens.classifier.batch.progress import Progress
from swarmlens.classifier.errors import InputError, OutputError
from swarmlens.classifier.fsio import HOST, atomic_write_bytes, temp_owner
from swarmlens.classifier.model.registry import sha256_file
from swarmlens.classifier.posts.blocks import LineBlock
from swarmlens.classifier.posts.readers import (
    Payload,
    ReadPosition,
    expand_inputs,
    iter_raw,
)

log = logging.getLogger(__name__)

BATCH_CHUNK_RECORDS = 20_000
"""Raw records per chunk in batch scoring: the unit of parallel work and of resumption."""
JOB_FILE = "_job.json"
SUMMARY_FILE = "_summary.json"
REJECTS_FILE = "rejects.jsonl"


@dataclass
class InputFile:
    path: str
    size: int
    mtime_ns: int
    sha256: str


def plan_inputs(inputs: Iterable[str | Path], previous: list[dict[str, Any]]) -> list[InputFile]:
    """Input files with size, mtime and SHA-256 (reused from ``previous`` when unchanged)."""
    known = {p["path"]: p for p in previous}
    planned = []
    for path in expand_inputs(inputs):
        try:
            stat = path.stat()
        except OSError as exc:
            raise InputError(f"input {path} cannot be read: {exc.strerror}") from None
        old = known.get(str(path))
        if old and old["size"] == stat.st_size and old["mtime_ns"] == stat.st_mtime_ns:
            digest = old["sha256"]
        else:
            try:
                digest = sha256_file(path)
            except OSError:
                digest = ""  # unreadable: the reader will reject it with the reason
        planned.append(InputFile(str(path), stat.st_size, stat.st_mtime_ns, digest))
    return planned


def iter_chunks(
    files: list[InputFile], chunk_records: int, progress: Callable[[int], None] | None = None
) -> Iterator[tuple[str, str, list[tuple[int, Payload]]]]:
    """(chunk id, source, items) for every chunk of every file, in input order.

    progress: called with the number of input bytes read so far (all files).
    """
    done_bytes = 0
    for index, file in enumerate(files):
        position = ReadPosition()
        items: list[tuple[int, Payload]] = []
        held = number = 0
        # JSONL comes as blocks of lines (one bytes object per chunk, no Python per line);
        # a block holds at most a chunk's records, so chunks are cut where they always were.
        for item in iter_raw(file.path, position, block_records=chunk_records):
            items.append(item)
            held += item[1].records if isinstance(item[1], LineBlock) else 1
            if held >= chunk_records:
                yield f"{index:05d}-{number:07d}", file.path, items
                if progress:
                    progress(done_bytes + position.bytes)
                items = []
                held = 0
                number += 1
        if items or number == 0:
            yield f"{index:05d}-{number:07d}", file.path, items
        done_bytes += file.size
        if progress:
            progress(done_bytes)


@dataclass
class BatchJob:
    """A batch scoring job. Run it with ``run()``; re-running finishes an interrupted job.

    inputs: files, globs or directories. out_dir: output directory.
    ref: the model. workers: processes to score with (local executor or Dask cluster).
    scheduler: None for local processes, 'local' for a dask.distributed LocalCluster,
        or a Dask scheduler address ('tcp://host:8786').
    chunk_records: raw records per chunk (the unit of work and of resumption).
    """

    inputs: list[str]
    out_dir: Path
    ref: ModelRef
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    scheduler: str | None = None
    chunk_records: int = BATCH_CHUNK_RECORDS
    show_progress: bool | None = None

    def _job_description(self, files: list[InputFile]) -> dict[str, Any]:
        return {
            "format": 1,
            "inputs": [asdict(f) for f in files],
            "model_version": self.ref.version,
            "model_sha256": self.ref.sha256,
            "chunk_records": self.chunk_records,
        }

    def run(self) -> dict[str, Any]:
        """Score everything not yet scored; returns the summary (also in _summary.json)."""
        root = self.out_dir
        if root.exists() and not root.is_dir():
            raise OutputError(f"{root} exists and is not a directory")
        root.mkdir(parents=True, exist_ok=True)
        job_path = root / JOB_FILE
        previous = json.loads(job_path.read_text()) if job_path.exists() else None
        files = plan_inputs(self.inputs, previous["inputs"] if previous else [])
        job = self._job_description(files)
        if previous is not None:
            if _identity(previous) != _identity(job):
                raise OutputError(
                    f"{root} holds the output of another job (other inputs, model or chunk "
                    "size); choose a new output directory or delete this one"
                )
            summary_path = root / SUMMARY_FILE
            if summary_path.exists():
                summary = json.loads(summary_path.read_text())
                log.info(
                    f"Nothing to do: {root} already holds the complete output of this job "
                    f"({summary['scored']} posts scored with {summary['model_version']})."
                )
                summary["already_complete"] = True
                return summary
        else:
            if any(root.iterdir()):
                raise OutputError(f"{root} is not empty and holds no swarmlens job")
            atomic_write_bytes(job_path, json.dumps(job, indent=2).encode())

        _remove_stale_temp_files(root)
        started = time.perf_counter()
        done = _completed_chunks(root)
        if done:
            log.info(f"Resuming: {len(done)} chunk(s) already complete in {root}.")
        total_bytes = sum(f.size for f in files)
        chunks: list[str] = []  # every chunk of the job, in input order, once all are read
        head: set[str] = set()
        head_pass: Future[int] | None = None
        with (
            Progress(total_bytes, self.show_progress) as progress,
            ThreadPoolExecutor(1, thread_name_prefix="swarmlens-dedup") as background,
        ):
            for result in self._execute(files, done, progress, chunks):
                done[result.chunk] = result
                progress.advance_posts(result.read)
                if head_pass is None and chunks:
                    # All input read: while the last chunks are scored (a core is soon
                    # idle), the complete chunks at the head lose their later copies.
                    head = set(takewhile(done.__contains__, chunks))
                    if head:
                        head_pass = background.submit(
                            drop_later_copies, root, self.workers, head)
            duplicates_across = head_pass.result() if head_pass else 0
        rest = set(chunks) - head
        duplicates_across += drop_later_copies(root, self.workers, rest if head else None)
        return self._finish(root, files, done, duplicates_across, time.perf_counter() - started)

    def _execute(
        self,
        files: list[InputFile],
        done: dict[str, ChunkResult],
        progress: Progress,
        chunks: list[str],
    ) -> Iterator[ChunkResult]:
        """Score the chunks not ``done``; ``chunks`` gets every chunk's id, in input order,
        once the input has been read to its end."""
        def todo_chunks() -> Iterator[tuple[str, str, list[tuple[int, Payload]]]]:
            seen = []
            for chunk_id, source, items in iter_chunks(files, self.chunk_records, progress.read):
                seen.append(chunk_id)
                if chunk_id not in done:
                    yield chunk_id, source, items
            chunks.extend(seen)

        todo = todo_chunks()
        if self.scheduler:
            yield from run_dask(todo, self.ref, str(self.out_dir), self.workers, self.scheduler)
        elif self.workers <= 1:
            for chunk_id, source, items in todo:
                yield score_chunk(chunk_id, source, items, self.ref, str(self.out_dir))
        else:
            yield from run_local(todo, self.ref, str(self.out_dir), self.workers)

    def _finish(
        self,
        root: Path,
        files: list[InputFile],
        done: dict[str, ChunkResult],
        duplicates_across: int,
        seconds: float,
    ) -> dict[str, Any]:
        rejects = sorted((root / "_rejects").glob("*.jsonl"))
        atomic_write_bytes(root / REJECTS_FILE, b"".join(p.read_bytes() for p in rejects))
        read = sum(r.read for r in done.values())
        rejected = sum(r.rejected for r in done.values())
        scored = _count_rows(root)
        summary = {
            "read": read,
            "scored": scored,
            "rejected": rejected,
            "duplicates": read - scored - rejected,
            "duplicates_within_chunks": sum(r.duplicates for r in done.values()),
            "duplicates_across_chunks": read
            - scored
            - rejected
            - sum(r.duplicates for r in done.values()),
            "truncated": sum(r.truncated for r in done.values()),
            "model_version": self.ref.version,
            "inputs": [{"path": f.path, "bytes": f.size, "sha256": f.sha256} for f in files],
            "chunks": len(done),
            "workers": self.workers,
            "scheduler": self.scheduler or "processes",
            "timings": {
                "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "seconds_this_run": round(seconds, 3),
                "chunk_seconds_total": round(sum(r.seconds for r in done.values()), 3),
                "posts_per_second_this_run": round(read / seconds, 1) if seconds else None,
            },
        }
        atomic_write_bytes(root / SUMMARY_FILE, json.dumps(summary, indent=2).encode())
        return summary


FOREIGN_TEMP_SECONDS = 24 * 3600
"""A temporary file of another machine is garbage only once it is this old: its writer's
PID means nothing here, and a live writer on shared storage keeps writing to it."""


def _remove_stale_temp_files(root: Path) -> None:
    """Delete temporary files of writers that died mid-write (``fsio`` names them
    ``.NAME.HOST.PID.tmp``): their chunks have no marker and are redone, so the files are
    garbage. A file whose writer is still alive (another run) is left alone; the PIDs of
    other hosts cannot be checked here, so their files go only when old."""
    now = time.time()
    for stale in root.rglob(".*.tmp"):
        owner = temp_owner(stale)
        if owner is not None and owner[0] == HOST:
            if _alive(owner[1]):
                continue
        else:
            try:
                if now - stale.stat().st_mtime < FOREIGN_TEMP_SECONDS:
                    continue
            except OSError:
                continue
        stale.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` can still write. A zombie cannot: a worker killed with its
    parent stays one until something reaps it (in a container whose init does not reap,
    for good), and its temporary files are garbage like any dead writer's."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def _identity(job: dict[str, Any]) -> tuple:
    return (
        tuple((f["path"], f["size"], f["sha256"]) for f in job["inputs"]),
        job["model_sha256"],
        job["chunk_records"],
    )


def _completed_chunks(root: Path) -> dict[str, ChunkResult]:
    done = {}
    for marker in (root / "_chunks").glob("*.json"):
        result = ChunkResult(**json.loads(marker.read_text()))
        done[result.chunk] = result
    return done


def _count_rows(root: Path) -> int:
    return sum(pq.ParquetFile(p).metadata.num_rows for p in root.glob("day=*/part-*.parquet"))
