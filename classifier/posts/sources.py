"""Sources: from input names to the raw records of each file, with line numbers.

This is the first stage of reading (file -> source -> format adapter -> validation
-> Post). It expands inputs (files, globs, directories) and splits each file format
into raw payloads, with how far reading got (``ReadPosition``). It knows file formats,
not record formats: it never builds a post and never validates a record.

File formats: JSONL (one record per line), CSV and Parquet, here; JSON documents (a
Telegram Desktop ``result.json``, a Twitter v2 page or v1.1 search response, a VK API
response, or an array of records) in ``documents``. Files are opened, plain or gzip, by
``opening``. Nothing loads a whole archive into memory: JSONL is cut in bounded blocks
(``blocks``; a line over ``MAX_LINE_BYTES`` is one reject), JSON documents are streamed
with bounded depth (``jsondoc``), Parquet by row batches.
"""

from __future__ import annotations

import contextlib
import csv
import glob
import io
import logging
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import ijson

from swarmlens.classifier.errors import InputError
from swarmlens.classifier.posts.blocks import MAX_LINE_BYTES, LineBlock, jsonl_blocks
from swarmlens.classifier.posts.documents import TelegramMessage, json_document
from swarmlens.classifier.posts.opening import (
    STREAM_ERRORS,
    ReadPosition,
    open_binary,
    skip_bom,
)
from swarmlens.classifier.posts.rejects import Rejected, raw_text

__all__ = [  # ReadPosition, open_binary and TelegramMessage: the readers' names for them
    "SUPPORTED_SUFFIXES", "Payload", "ReadPosition", "TelegramMessage", "expand_inputs",
    "format_of", "iter_raw", "open_binary",
]

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv", ".parquet")
CSV_FIELD_LIMIT = 1 << 20
"""Characters in one CSV field (Python's default is 128 KiB): room for a text over
``MAX_TEXT_CHARS`` to be read and cut; a longer field is a reject."""
_SKIPPED_NAMED = 10
"""Skipped files named one by one in the notice; the rest are counted."""


Payload = bytes | Mapping[str, Any] | TelegramMessage | Rejected | LineBlock
"""One raw record: a JSON text not yet parsed (a JSONL line, a one-record document), a
decoded record (CSV/Parquet row, JSON array item), a Telegram message, or a reader-level
reject; or, when asked for, a block of JSONL lines (many records). Payloads are pickled
to scoring workers, so they stay plain data."""


def expand_inputs(inputs: Iterable[str | Path]) -> list[Path]:
    """Files named by ``inputs``, each once, in the order given.

    inputs: file paths (taken as given, whatever their suffix), glob patterns
        (expanded, sorted) and directories (walked for files of a supported format).
    Raises InputError when an input matches nothing or a directory holds no
    file of a supported format.
    """
    files: list[Path] = []
    for item in inputs:
        text = str(item)
        path = Path(text)
        if path.is_dir():
            every = sorted(p for p in path.rglob("*") if p.is_file())
            found = [p for p in every if format_of(p) is not None]
            _notice_skipped(text, [p for p in every if format_of(p) is None])
            if not found:
                raise InputError(
                    f"directory {text} holds no input file ({', '.join(SUPPORTED_SUFFIXES)}, "
                    "optionally .gz)"
                )
            files.extend(found)
        elif path.exists():
            files.append(path)
        elif glob.has_magic(text):
            matched = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
            if not matched:
                raise InputError(f"pattern {text} matches no file")
            files.extend(matched)
        else:
            raise InputError(f"input {text} does not exist")
    return list(dict.fromkeys(files))


def _notice_skipped(directory: str, skipped: list[Path]) -> None:
    """Say which files of ``directory`` are left out, so none is lost without a word."""
    if not skipped:
        return
    names = ", ".join(str(p) for p in skipped[:_SKIPPED_NAMED])
    more = len(skipped) - _SKIPPED_NAMED
    log.warning(
        f"skipped {len(skipped)} file(s) in {directory} of no supported format "
        f"({', '.join(SUPPORTED_SUFFIXES)}, optionally .gz): {names}"
        + (f" and {more} more" if more > 0 else "")
    )


def format_of(path: Path) -> str | None:
    """'jsonl', 'json', 'csv' or 'parquet' from the file's name ('.gz' ignored), else None.

    path: the file.
    """
    name = path.name.lower().removesuffix(".gz")
    for suffix in SUPPORTED_SUFFIXES:
        if name.endswith(suffix):
            return "jsonl" if suffix == ".ndjson" else suffix.lstrip(".")
    return None


def iter_raw(
    path: str | Path, position: ReadPosition | None = None, block_records: int | None = None
) -> Iterator[tuple[int, Payload]]:
    """(line, payload) of every record of one file, in file order, without building posts.

    Cheap enough for one process to feed many scoring workers: JSONL lines are
    passed on unparsed; other formats are decoded, not adapted. Stream errors
    (truncated gzip, malformed JSON document, unreadable file) end the file
    with a ``Rejected`` saying where it struck.
    path: a file in one of the supported formats (the format is taken from the
        name, '.gz' stripped; a file of unknown suffix is read as JSONL).
    position: updated with the line reached and the bytes read (for progress).
    block_records: when given, a JSONL file comes as ``blocks.LineBlock`` payloads of at
        most this many records each (line: the block's first line), not line by line.
    """
    path = Path(path)
    source = str(path)
    fmt = format_of(path) or "jsonl"
    position = position if position is not None else ReadPosition()
    try:
        if fmt == "jsonl" and block_records:
            with open_binary(path, position) as handle:
                yield from jsonl_blocks(skip_bom(handle), position, block_records, source)
            return
        yield from _READERS[fmt](path, source, position)
    except STREAM_ERRORS as exc:
        line = position.line + 1
        reason = (
            f"truncated or corrupt gzip stream after line {position.line} ({exc}); "
            "the records before it were kept"
        )
        yield line, Rejected(source, line, reason, "")
    except (ijson.JSONError, UnicodeDecodeError) as exc:  # invalid UTF-8 too
        line = position.line + 1
        reason = (
            f"JSON document is malformed after record {position.line} ({exc}); "
            "the records before it were kept"
        )
        yield line, Rejected(source, line, reason, "")
    except OSError as exc:
        yield 0, Rejected(source, 0, f"file cannot be read: {exc.strerror or exc}", "")


# -- file formats ---------------------------------------------------------------
# Each reader: (path, source name, position) -> (line, payload) pairs, keeping
# ``position.line`` at the record being yielded so stream errors can name it.


def _jsonl(path: Path, source: str, position: ReadPosition) -> Iterator[tuple[int, Payload]]:
    with open_binary(path, position) as handle:
        skip_bom(handle)
        number = 0
        while line := handle.readline(MAX_LINE_BYTES + 1):
            number = position.line = number + 1
            if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                # Read past in bounded pieces, never joined (as ``blocks.jsonl_blocks``).
                while (rest := handle.readline(1 << 20)) and not rest.endswith(b"\n"):
                    pass
                reason = (f"line is longer than {MAX_LINE_BYTES:,} bytes (the limit of one "
                          "record); it was read past, not kept")
                yield number, Rejected(source, number, reason, "")
            elif line.strip():
                yield number, line


def _csv(path: Path, source: str, position: ReadPosition) -> Iterator[tuple[int, Payload]]:
    with open_binary(path, position) as binary:
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="replace",
                                newline="")
        reader = csv.DictReader(text)
        try:
            with _csv_field_limit():
                columns = set(reader.fieldnames or [])
        except csv.Error as exc:
            yield 1, Rejected(source, 1, f"unreadable CSV header: {exc}", "")
            return
        missing = []
        if "text" not in columns:
            missing.append("text")
        if not columns & {"id", "post_id"}:
            missing.append("id or post_id")
        problem = f"CSV header lacks column(s) {', '.join(missing)}" if missing else None
        while True:
            try:
                with _csv_field_limit():
                    row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                # The reader starts afresh on the next line: this row alone is lost. Its
                # line count may not have moved past the previous row yet.
                number = position.line = max(reader.line_num, position.line + 1)
                yield number, Rejected(source, number, f"unreadable CSV row: {exc}", "")
                continue
            number = position.line = reader.line_num
            if problem:
                yield number, Rejected(source, number, problem, raw_text(row))
                continue
            if None in row:
                reason = "row has more fields than the header"
                yield number, Rejected(source, number, reason, raw_text(row))
                continue
            yield number, _csv_record(row)


@contextlib.contextmanager
def _csv_field_limit() -> Iterator[None]:
    # The limit is process-wide state: raised for our reads only, then put back.
    previous = csv.field_size_limit(CSV_FIELD_LIMIT)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _csv_record(row: dict[str, str]) -> dict[str, Any]:
    # CSV has no null and no lists: an empty cell means absent, and list columns
    # hold space-separated items.
    clean: dict[str, Any] = {k: v for k, v in row.items() if v not in (None, "")}
    clean.setdefault("text", "")
    for key in ("hashtags", "urls", "mentions"):
        if isinstance(clean.get(key), str):
            clean[key] = clean[key].split()
    return clean


def _parquet(path: Path, source: str, position: ReadPosition) -> Iterator[tuple[int, Payload]]:
    import pyarrow.parquet as pq  # only Parquet inputs pay for importing pyarrow

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise OSError(f"not a readable Parquet file ({exc})") from None
    number = 0
    for batch in parquet.iter_batches(batch_size=10_000):
        for row in _readable_times(batch).to_pylist():
            number += 1
            position.line = number
            yield number, row


def _readable_times(batch: Any) -> Any:
    """``batch`` with its time columns as ISO 8601 text, which ``post.parse_time`` reads.

    ``to_pylist`` cannot give a ``timestamp[ns]`` with nanoseconds as a datetime, nor any
    time past year 9999: every unit (s, ms, us, ns), zoned or naive (naive is UTC, as
    everywhere), and dates (midnight UTC) are read as text instead, so that a time out of
    range is one reject with its reason, not the end of the job.
    """
    import pyarrow as pa

    columns = list(batch.columns)
    changed = False
    for i, column in enumerate(columns):
        kind = column.type
        if pa.types.is_timestamp(kind):
            if kind.tz is not None:  # the same instants, written in UTC ('...Z')
                column = column.cast(pa.timestamp(kind.unit, "UTC"))
            columns[i] = column.cast(pa.string())
            changed = True
        elif pa.types.is_date(kind):
            columns[i] = column.cast(pa.string())
            changed = True
    if not changed:
        return batch
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


_READERS = {"jsonl": _jsonl, "json": json_document, "csv": _csv, "parquet": _parquet}
