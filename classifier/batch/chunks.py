"""The worker side of batch scoring: decode, score and write one chunk, marker last.

A chunk's outputs are a pure function of the chunk, so a chunk redone after a crash is
identical to the one lost. Files are written with ``fsio`` (temp + fsync + rename) and
the chunk's marker ``_chunks/<chunk>.json`` is written last.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from swarmlens.classifier.batch.scoring import OUTPUT_SCHEMA, READ_CHUNK_SIZE, score_batch
from swarmlens.classifier.fsio import atomic_path, atomic_write_bytes
from swarmlens.classifier.posts.post import Post
from swarmlens.classifier.posts.readers import Payload, Rejected, decode

UNKNOWN_DAY = "unknown"


@dataclass(frozen=True)
class ModelRef:
    """What a worker needs to load the model itself: path, expected hash, version id."""

    path: str
    sha256: str
    version: str


@dataclass
class ChunkResult:
    chunk: str
    read: int
    scored: int
    rejected: int
    duplicates: int
    seconds: float
    files: list[str] = field(default_factory=list)


def atomic_parquet(path: Path, table: pa.Table) -> None:
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


# -- the worker side -------------------------------------------------------------------

_MODELS: dict[str, Any] = {}


def _model(ref: ModelRef) -> Any:
    """The model, loaded once per worker process, after checking its SHA-256."""
    model = _MODELS.get(ref.sha256)
    if model is None:
        from swarmlens.classifier.model.registry import model_from_bytes, verified_bytes

        data = verified_bytes(Path(ref.path), ref.sha256, ref.version)
        model = _MODELS[ref.sha256] = model_from_bytes(data, ref.version)
    return model


def score_chunk(
    chunk_id: str, source: str, items: list[tuple[int, Payload]], ref: ModelRef, out_dir: str
) -> ChunkResult:
    """Decode, score and write one chunk; the marker file is written last.

    chunk_id: the chunk's name ('<file index>-<chunk index>', zero-padded so names
        sort in input order). source: the input file. items: (line, payload) pairs
        from ``iter_raw``. ref: the model. out_dir: the job's output directory.
    """
    started = time.perf_counter()
    root = Path(out_dir)
    model = _model(ref)
    posts: list[Post] = []
    rejects: list[Rejected] = []
    seen: set[str] = set()
    duplicates = 0
    read = 0
    for line, payload in items:
        for item in decode(source, line, payload):
            read += 1
            if isinstance(item, Rejected):
                rejects.append(item)
            elif item.post_id in seen:
                duplicates += 1
            else:
                seen.add(item.post_id)
                posts.append(item)
    tables = [
        score_batch(model, posts[i : i + READ_CHUNK_SIZE], ref.version)
        for i in range(0, len(posts), READ_CHUNK_SIZE)
    ]
    table = pa.concat_tables(tables) if tables else OUTPUT_SCHEMA.empty_table()
    files = []
    for day, part in _split_by_day(table):
        relative = f"day={day}/part-{chunk_id}.parquet"
        atomic_parquet(root / relative, part)
        files.append(relative)
    if rejects:
        lines = b"".join(
            json.dumps(r.to_dict(), ensure_ascii=False).encode() + b"\n" for r in rejects
        )
        atomic_write_bytes(root / "_rejects" / f"{chunk_id}.jsonl", lines)
    result = ChunkResult(
        chunk=chunk_id,
        read=read,
        scored=len(posts),
        rejected=len(rejects),
        duplicates=duplicates,
        seconds=round(time.perf_counter() - started, 3),
        files=files,
    )
    atomic_write_bytes(root / "_chunks" / f"{chunk_id}.json", json.dumps(asdict(result)).encode())
    return result


def _split_by_day(table: pa.Table) -> Iterator[tuple[str, pa.Table]]:
    if table.num_rows == 0:
        return
    days = pc.fill_null(pc.strftime(table.column("created_at"), format="%Y-%m-%d"), UNKNOWN_DAY)
    for day in sorted(pc.unique(days).to_pylist()):
        yield day, table.filter(pc.equal(days, day))
