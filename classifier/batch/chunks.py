"""The worker side of batch scoring: decode, score and write one chunk, marker last.

A chunk's outputs are a pure function of the chunk, so a chunk redone after a crash is
identical to the one lost. Files are written with ``fsio`` (temp + fsync + rename) and
the chunk's marker ``_chunks/<chunk>.json`` is written last.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from swarmlens.classifier.batch.dedup import first_of_each_id
from swarmlens.classifier.fsio import atomic_parquet, atomic_write_bytes
from swarmlens.classifier.posts.readers import Payload
from swarmlens.classifier.vocab import OUTPUT_SCHEMA

UNKNOWN_DAY = "unknown"


@dataclass(frozen=True)
class ModelRef:
    """What a worker needs to load the model itself: path, expected hash, version id."""

    path: str
    sha256: str
    version: str
    source: str | None = None  # what recorded sha256 (registry.vouched_by), named on a mismatch


@dataclass
class ChunkResult:
    chunk: str
    read: int
    scored: int
    rejected: int
    duplicates: int
    seconds: float
    files: list[str] = field(default_factory=list)
    truncated: int = 0  # texts cut to MAX_TEXT_CHARS (markers written before it lack it)


# -- the worker side -------------------------------------------------------------------

_MODELS: dict[str, Any] = {}
_MODELS_LOCK = threading.Lock()  # the scoring threads of one job load its model once


def load_model(ref: ModelRef) -> Any:
    """The model, loaded once per worker process, after checking its SHA-256."""
    with _MODELS_LOCK:
        model = _MODELS.get(ref.sha256)
        if model is None:
            from swarmlens.classifier.model.registry import model_from_bytes, verified_bytes

            data = verified_bytes(Path(ref.path), ref.sha256, ref.version, ref.source)
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
    # Imported here, where chunks are scored: a Dask scheduler or client that only
    # dispatches never loads the scoring stack (numba, its compiled kernels).
    from swarmlens.classifier.batch.scoring import READ_CHUNK_SIZE, score_table
    from swarmlens.classifier.posts.columnar import POST_SCHEMA, decode_batch, record_parts

    batches = [decode_batch(source, part) for part in record_parts(items, READ_CHUNK_SIZE)]
    # After decoding: the first chunks' threads decode (Arrow, mostly without the GIL)
    # while one of them loads the model (numba's start-up, Python under the GIL).
    model = load_model(ref)
    rejects = [reject for batch in batches for reject in batch.rejects]
    read = sum(batch.read for batch in batches)
    posts = (
        pa.concat_tables([batch.table for batch in batches]) if batches
        else POST_SCHEMA.empty_table()
    )
    posts, duplicates = first_of_each_id(posts)
    tables = [
        score_table(model, posts.slice(i, READ_CHUNK_SIZE), ref.version)
        for i in range(0, posts.num_rows, READ_CHUNK_SIZE)
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
        scored=posts.num_rows,
        rejected=len(rejects),
        duplicates=duplicates,
        seconds=round(time.perf_counter() - started, 3),
        files=files,
        truncated=sum(batch.truncated for batch in batches),
    )
    atomic_write_bytes(root / "_chunks" / f"{chunk_id}.json", json.dumps(asdict(result)).encode())
    return result


_DAY_MICROS = 86_400_000_000
_NO_DAY = np.iinfo(np.int64).min
_NO_DAY_LAST = np.iinfo(np.int64).max


def _split_by_day(table: pa.Table) -> Iterator[tuple[str, pa.Table]]:
    """(UTC day 'YYYY-MM-DD' or 'unknown', its rows) in day order, 'unknown' last."""
    if table.num_rows == 0:
        return
    # Whole days since the epoch by integer division (strftime per row costs a
    # microsecond a post); only the few distinct days are formatted.
    micros = pc.fill_null(table.column("created_at").cast(pa.int64()), _NO_DAY)
    micros = micros.to_numpy()
    # 'unknown' sorts after every day, as its name does after every ISO date.
    days = np.where(micros == _NO_DAY, _NO_DAY_LAST, micros // _DAY_MICROS)
    # One stable sort by day, then a slice per day (rows keep their order within a day):
    # a filter per day read the whole table once per day.
    order = np.argsort(days, kind="stable")
    days = days[order]
    table = table.take(pa.array(order))
    starts = np.flatnonzero(np.diff(days, prepend=days[0] - 1))
    for start, end in zip(starts, [*starts[1:], len(days)], strict=True):
        day = int(days[start])
        name = (UNKNOWN_DAY if day == _NO_DAY_LAST
                else (_EPOCH_DAY + timedelta(days=day)).isoformat())
        yield name, table.slice(start, end - start)


_EPOCH_DAY = date(1970, 1, 1)
