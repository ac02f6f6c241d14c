"""Scoring posts with a model, and writing the output records (JSONL or Parquet).

An output record: post_id, label, scores {supportive, opposing, neutral},
model_version, lang, hashtags, domains, created_at, platform, author,
retweet_of, retweet_of_author, reply_to, urls, mentions, hashtag_forms. ``OUTPUT_SCHEMA`` is its
Arrow form, shared by every writer and by the query code that reads scored datasets.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from swarmlens.classifier.errors import OutputError
from swarmlens.classifier.fsio import commit, temp_path_for
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
    classes = list(model.classes_)
    out = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
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


def batched(items: Iterable[Post], size: int = READ_CHUNK_SIZE) -> Iterator[list[Post]]:
    batch: list[Post] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# Control characters must be escaped in JSON; U+2028/U+2029 are escaped too, because
# many line readers (str.splitlines, JavaScript) take them for line ends.
_CONTROL = r"[\x00-\x1f\x{2028}\x{2029}]"


def _json_strings(values: pa.Array) -> pa.Array:
    """Each string as a JSON string literal ('null' for nulls), with Arrow kernels.

    Backslashes and quotes are escaped by two replacements; the rare values holding a
    control character are encoded by ``json.dumps`` instead (its \\uXXXX escapes).
    """
    values = values.cast(pa.string())
    # Most columns (ids, codes, hashtags) hold none of the bytes that need escaping: a
    # look at the data buffer skips the kernels that would change nothing.
    data = values.buffers()[2]
    raw = np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8)
    escaped = values
    if (raw == 0x5C).any() or (raw == 0x22).any():  # backslash, quote
        escaped = pc.replace_substring(pc.replace_substring(values, "\\", "\\\\"), '"', '\\"')
    quoted = pc.binary_join_element_wise('"', escaped, '"', "")
    if not _may_hold_controls(raw):
        return pc.fill_null(quoted, "null")
    controls = pc.fill_null(pc.match_substring_regex(values, _CONTROL), False)
    if pc.any(controls).as_py():
        rows = np.flatnonzero(controls.to_numpy(zero_copy_only=False))
        exact = [
            json.dumps(v, ensure_ascii=False).replace("\u2028", "\\u2028").replace(
                "\u2029", "\\u2029")
            for v in values.take(pa.array(rows)).to_pylist()
        ]
        quoted = pc.replace_with_mask(quoted, controls, pa.array(exact, pa.string()))
    return pc.fill_null(quoted, "null")


def _may_hold_controls(raw: np.ndarray) -> bool:
    """Whether UTF-8 bytes may hold a control character or U+2028/U+2029 (E2 80 A8/A9)."""
    if (raw < 0x20).any():
        return True
    leads = np.flatnonzero(raw[:-2] == 0xE2)
    return bool(((raw[leads + 1] == 0x80) & ((raw[leads + 2] | 1) == 0xA9)).any())


def _iso_seconds(column: pa.Array) -> pa.Array:
    """'"YYYY-MM-DDTHH:MM:SSZ"' of each UTC timestamp ('null' for nulls), built with
    integer arithmetic on the whole column (strftime costs a microsecond a row)."""
    micros = pc.fill_null(column.cast(pa.int64()), 0).to_numpy()
    if len(micros) == 0 or micros.min() < 0 or micros.max() >= _YEAR_10000_MICROS:
        seconds = pc.cast(column, pa.timestamp("s", tz="UTC"), safe=False)  # 4-digit years
        text = pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%SZ")
        return pc.fill_null(pc.binary_join_element_wise('"', text, '"', ""), "null")
    secs = micros // 1_000_000
    days, clock = np.divmod(secs, 86_400)
    # Civil date from days since 1970-01-01 (H. Hinnant's algorithm, proleptic Gregorian).
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1_460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    out = np.frombuffer(b'"0000-00-00T00:00:00Z"' * len(micros), np.uint8).reshape(-1, 22).copy()
    for col, value, width in ((1, year, 4), (6, month, 2), (9, day, 2), (12, clock // 3600, 2),
                              (15, clock // 60 % 60, 2), (18, clock % 60, 2)):
        for k in range(width):
            out[:, col + width - 1 - k] += (value // 10**k % 10).astype(np.uint8)
    offsets = np.arange(0, 22 * len(micros) + 1, 22, dtype=np.int32)
    text = pa.Array.from_buffers(pa.string(), len(micros),
                                 [None, pa.py_buffer(offsets), pa.py_buffer(out)])
    return pc.if_else(pc.is_valid(column), text, "null")


_YEAR_10000_MICROS = 253_402_300_800_000_000  # 10000-01-01T00:00:00Z


def _json_lists(lists: pa.Array) -> pa.Array:
    """Each list of strings as a JSON array ('null' for a null list)."""
    lists = lists.combine_chunks() if isinstance(lists, pa.ChunkedArray) else lists
    items = _json_strings(lists.values.slice(lists.offsets[0].as_py(),
                                             lists.offsets[-1].as_py() - lists.offsets[0].as_py()))
    offsets = pc.subtract(lists.offsets, lists.offsets[0])
    rebuilt = pa.ListArray.from_arrays(offsets, items, mask=pc.is_null(lists))
    joined = pc.binary_join_element_wise("[", pc.binary_join(rebuilt, ","), "]", "")
    return pc.fill_null(joined, "null")


def jsonl_bytes(table: pa.Table) -> bytes:
    """Output records as JSON lines (created_at as ISO 8601 'Z', scores rounded to 1e-6).

    Built column by column with Arrow string kernels: each line is a concatenation of
    literal keys and JSON-encoded columns, so no Python runs per record.
    """
    if table.num_rows == 0:
        return b""
    table = table.combine_chunks()
    parts: list[pa.Array | str] = []
    for field in OUTPUT_SCHEMA:
        column = table.column(field.name).chunk(0)
        parts.append(("{" if not parts else ",") + json.dumps(field.name) + ":")
        if field.name == "scores":
            inner = [
                ("{" if j == 0 else ",") + json.dumps(label) + ":"
                for j, label in enumerate(LABELS)
            ]
            for j, label in enumerate(LABELS):
                number = pc.round(pc.cast(column.field(label), pa.float64()), 6)
                parts += [inner[j], pc.cast(number, pa.string())]
            parts.append("}")
        elif field.name == "created_at":
            parts.append(_iso_seconds(column))
        elif pa.types.is_list(field.type):
            parts.append(_json_lists(column))
        else:
            parts.append(_json_strings(column))
    parts.append("}\n")
    lines = pc.binary_join_element_wise(*parts, "")
    # The lines sit one after another in the array's data buffer: write that buffer.
    _, offsets, data = lines.buffers()
    bounds = np.frombuffer(offsets, np.int32, len(lines) + 1, lines.offset * 4)
    return data.to_pybytes()[bounds[0] : bounds[-1]]


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
                self._jsonl.write(jsonl_bytes(table))
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
