"""Scoring posts with a model, and writing the output records (JSONL or Parquet).

An output record: post_id, label, scores {supportive, opposing, neutral},
model_version, lang, hashtags, domains, created_at, platform, author,
retweet_of, retweet_of_author, reply_to, urls, mentions, hashtag_forms. ``OUTPUT_SCHEMA`` is its
Arrow form, shared by every writer and by the query code that reads scored datasets.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from swarmlens.classifier.batch.jsonl import jsonl_lines
from swarmlens.classifier.errors import OutputError
from swarmlens.classifier.fsio import check_regular_target, commit, temp_path_for
from swarmlens.classifier.posts.columnar import posts_table
from swarmlens.classifier.posts.post import Post
from swarmlens.classifier.vocab import LABELS, OUTPUT_SCHEMA

if TYPE_CHECKING:
    from swarmlens.classifier.model.estimator import StanceClassifier

READ_CHUNK_SIZE = 20_000
"""Posts per batch when scoring: large enough to amortise, small enough for flat memory."""


def label_probabilities(
    model: StanceClassifier, texts: Sequence[str] | pa.Array | pa.ChunkedArray
) -> np.ndarray:
    """Probabilities with columns in ``LABELS`` order (whatever order the model keeps).

    texts: a list of strings, or an Arrow string array (scored without a copy).
    """
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    proba = model.predict_proba(texts if isinstance(texts, pa.Array) else list(texts))
    return _in_label_order(proba, model.classes_)


def label_probabilities_and_no_text(
    model: StanceClassifier, texts: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """``label_probabilities`` and which texts got the model's no-text answer (nothing in
    them the model has a weight for: ``model.evidence``), for answers that flag them."""
    proba, empty = model.predict_proba_and_no_text(list(texts))
    return _in_label_order(proba, model.classes_), empty


def _in_label_order(proba: np.ndarray, classes: Sequence[object]) -> np.ndarray:
    """Probabilities with columns in ``LABELS`` order from columns in ``classes`` order."""
    classes = list(classes)
    out = np.zeros((len(proba), len(LABELS)), dtype=np.float32)
    for j, label in enumerate(LABELS):
        if label in classes:
            out[:, j] = proba[:, classes.index(label)]
    return out


def score_table(model: StanceClassifier, posts: pa.Table, model_version: str) -> pa.Table:
    """Score a table of posts (``columnar.POST_SCHEMA``) into output records.

    posts: as ``columnar.decode_batch`` or ``columnar.posts_table`` give them.
    model_version: the id written in every record.
    """
    n = posts.num_rows
    proba = label_probabilities(model, posts.column("text")) if n else np.zeros((0, 3))
    labels = pa.array(list(LABELS), pa.string()).take(pa.array(proba.argmax(axis=1)))
    columns = {
        "label": labels,
        "scores": pa.StructArray.from_arrays(
            [pa.array(proba[:, j], pa.float32()) for j in range(len(LABELS))], names=list(LABELS)
        ),
        "model_version": pa.array([model_version] * n, pa.string()),
    }
    return pa.table(
        [columns[name] if name in columns else posts.column(name) for name in OUTPUT_SCHEMA.names],
        schema=OUTPUT_SCHEMA,
    )


def score_batch(model: StanceClassifier, posts: Sequence[Post], model_version: str) -> pa.Table:
    """Score ``posts`` and return their output records as an Arrow table."""
    return score_table(model, posts_table(posts), model_version)


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
                check_regular_target(self.path)  # never renamed over a device or FIFO
                self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot write to {self.path}: {exc.strerror}") from None

    def _open(self) -> None:
        with _as_output_error(self.path):
            self._open_part()

    def _open_part(self) -> None:
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
        with _as_output_error(self.path):  # a full disk, a file system gone read-only
            if self._jsonl is not None:
                self._jsonl.write(jsonl_lines(table))
            elif self._parquet is not None:
                self._parquet.write_table(table)
                self._part_rows += table.num_rows
        self.rows += table.num_rows
        if self.kind == "dataset" and self._part_rows >= self._rows_per_part:
            self._finish()

    def _finish(self) -> None:
        try:
            self._finish_part()
        except OSError as exc:
            self._discard()
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def _finish_part(self) -> None:
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
        else:
            self._discard()

    def _discard(self) -> None:
        """Drop the part being written: a failed run leaves no temporary file behind."""
        for handle in (self._jsonl, self._parquet):
            if handle is not None:
                with contextlib.suppress(OSError):  # the disk that failed may fail again
                    handle.close()
        self._jsonl = self._parquet = None
        if self._tmp is not None:
            with contextlib.suppress(OSError):
                self._tmp.unlink(missing_ok=True)
            self._tmp = None


@contextlib.contextmanager
def _as_output_error(path: Path) -> Iterator[None]:
    """An OS error while writing ``path`` as an ``OutputError`` naming it (no traceback)."""
    try:
        yield
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
