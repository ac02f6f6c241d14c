"""Scoring posts with a model, and writing the output records (JSONL or Parquet).

An output record: post_id, label, scores {supportive, opposing, neutral},
model_version, lang, hashtags, domains, created_at, platform, author,
retweet_of, retweet_of_author, reply_to, urls, mentions. ``OUTPUT_SCHEMA`` is its
Arrow form, shared by every writer and by the query code that reads scored datasets.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from swarmlens.classifier.errors import OutputError
from swarmlens.classifier.fsio import commit, temp_path_for
from swarmlens.classifier.posts.post import Post
from swarmlens.classifier.vocab import LABELS, OUTPUT_SCHEMA

if TYPE_CHECKING:
    from swarmlens.classifier.model.estimator import StanceClassifier

READ_CHUNK_SIZE = 5_000
"""Posts per batch when scoring: large enough to amortise, small enough for flat memory."""


def label_probabilities(model: StanceClassifier, texts: Sequence[str]) -> np.ndarray:
    """Probabilities with columns in ``LABELS`` order (whatever order the model keeps)."""
    proba = model.predict_proba(list(texts))
    classes = list(model.classes_)
    out = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
    for j, label in enumerate(LABELS):
        if label in classes:
            out[:, j] = proba[:, classes.index(label)]
    return out


def score_batch(model: StanceClassifier, posts: Sequence[Post], model_version: str) -> pa.Table:
    """Score ``posts`` and return their output records as an Arrow table."""
    proba = label_probabilities(model, [p.text for p in posts]) if posts else np.zeros((0, 3))
    labels = np.array(LABELS, dtype=object)[proba.argmax(axis=1)] if len(posts) else []
    columns = {
        "post_id": pa.array([p.post_id for p in posts], pa.string()),
        "label": pa.array(list(labels), pa.string()),
        "scores": pa.StructArray.from_arrays(
            [pa.array(proba[:, j], pa.float32()) for j in range(len(LABELS))], names=list(LABELS)
        ),
        "model_version": pa.array([model_version] * len(posts), pa.string()),
        "lang": pa.array([p.lang for p in posts], pa.string()),
        "hashtags": pa.array([p.hashtags for p in posts], pa.list_(pa.string())),
        "domains": pa.array([p.domains for p in posts], pa.list_(pa.string())),
        "created_at": pa.array([p.created_at for p in posts], pa.timestamp("us", tz="UTC")),
        "platform": pa.array([p.platform for p in posts], pa.string()),
        "author": pa.array([p.author for p in posts], pa.string()),
        "retweet_of": pa.array([p.retweet_of for p in posts], pa.string()),
        "retweet_of_author": pa.array([p.retweet_of_author for p in posts], pa.string()),
        "reply_to": pa.array([p.reply_to for p in posts], pa.string()),
        "urls": pa.array([p.urls for p in posts], pa.list_(pa.string())),
        "mentions": pa.array([p.mentions for p in posts], pa.list_(pa.string())),
    }
    return pa.table(columns, schema=OUTPUT_SCHEMA)


def batched(items: Iterable[Post], size: int = READ_CHUNK_SIZE) -> Iterator[list[Post]]:
    batch: list[Post] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def jsonl_bytes(table: pa.Table) -> bytes:
    """Output records as JSON lines (created_at as ISO 8601 'Z', scores rounded to 1e-6).

    DuckDB renders the JSON: several times faster than building dicts in Python.
    """
    if table.num_rows == 0:
        return b""
    seconds = pc.cast(table.column("created_at"), pa.timestamp("s", tz="UTC"), safe=False)
    created = pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%SZ")
    scores = table.column("scores").combine_chunks()
    rounded = pa.StructArray.from_arrays(
        [pc.round(pc.cast(scores.field(label), pa.float64()), 6) for label in LABELS],
        names=list(LABELS),
    )
    view = table.set_column(table.schema.get_field_index("created_at"), "created_at", created)
    view = view.set_column(view.schema.get_field_index("scores"), "scores", rounded)
    con = duckdb.connect()
    try:
        con.register("batch", view)
        lines = con.sql("SELECT to_json(b)::VARCHAR FROM batch AS b").to_arrow_table().column(0)
    finally:
        con.close()
    return ("\n".join(lines.to_pylist()) + "\n").encode()


class OutputWriter:
    """Writes output tables to ``path``: '.jsonl' (JSON lines), '.parquet' (one file),
    anything else a directory of Parquet part files. Files appear atomically: they
    are written under a temporary name and renamed on ``close``."""

    def __init__(self, path: str | Path, rows_per_part: int = 1_000_000) -> None:
        self.path = Path(path)
        self.rows = 0
        self._rows_per_part = rows_per_part
        self._part_rows = 0
        self._parts = 0
        self._jsonl: IO[bytes] | None = None
        self._parquet: pq.ParquetWriter | None = None
        self._tmp: Path | None = None
        name = self.path.name.lower()
        self.kind = (
            "jsonl"
            if name.endswith(".jsonl")
            else "parquet"
            if name.endswith(".parquet")
            else "dataset"
        )
        try:
            if self.kind == "dataset":
                if self.path.exists() and not self.path.is_dir():
                    raise OutputError(f"{self.path} exists and is not a directory")
                self.path.mkdir(parents=True, exist_ok=True)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot write to {self.path}: {exc.strerror}") from None

    def _open(self) -> None:
        if self.kind == "dataset":
            target = self.path / f"part-{self._parts:05d}.parquet"
        else:
            target = self.path
        self._target = target
        self._tmp = temp_path_for(target)
        if self.kind == "jsonl":
            self._jsonl = self._tmp.open("wb")
        else:
            self._parquet = pq.ParquetWriter(self._tmp, OUTPUT_SCHEMA, compression="zstd")

    def write(self, table: pa.Table) -> None:
        if self._tmp is None:
            self._open()
        if self._jsonl is not None:
            self._jsonl.write(jsonl_bytes(table))
        elif self._parquet is not None:
            self._parquet.write_table(table)
            self._part_rows += table.num_rows
        self.rows += table.num_rows
        if self.kind == "dataset" and self._part_rows >= self._rows_per_part:
            self._finish()

    def _finish(self) -> None:
        if self._jsonl is not None:
            self._jsonl.close()
            self._jsonl = None
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None
        if self._tmp is not None:
            commit(self._tmp, self._target)
            self._tmp = None
            self._parts += 1
            self._part_rows = 0

    def close(self) -> None:
        if self._tmp is None and self.rows == 0:
            self._open()  # an empty input still yields a valid (empty) output
        self._finish()

    def __enter__(self) -> OutputWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
        elif self._tmp is not None:
            for handle in (self._jsonl, self._parquet):
                if handle is not None:
                    handle.close()
            self._tmp.unlink(missing_ok=True)
