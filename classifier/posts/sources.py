"""Sources: from input names to the raw records of each file, with line numbers.

This is the first stage of reading (file -> source -> format adapter -> validation
-> Post). It expands inputs (files, globs, directories), opens files plain or gzip
(by content, not by name), tracks how far reading got (``ReadPosition``) and
splits each file format into raw payloads. It knows file formats, not record
formats: it never builds a post and never validates a record.

File formats: JSONL (one record per line), CSV, Parquet, and JSON documents (a
Telegram Desktop ``result.json``, a Twitter v2 page or v1.1 search response, a VK API
response, or an array of records).
Nothing loads a whole archive into memory: JSON documents are streamed with
ijson, Parquet by row batches.
"""

from __future__ import annotations

import contextlib
import csv
import glob
import gzip
import io
import logging
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NamedTuple

import ijson
from isal import igzip, isal_zlib

from swarmlens.classifier.errors import InputError
from swarmlens.classifier.posts.blocks import LineBlock, jsonl_blocks
from swarmlens.classifier.posts.rejects import Rejected, raw_text

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv", ".parquet")
CSV_FIELD_LIMIT = 1 << 20
"""Characters in one CSV field (Python's default is 128 KiB): room for a text over
``MAX_TEXT_CHARS`` to be read and cut; a longer field is a reject."""
_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"  # a UTF-8 byte order mark: Windows tools write one; JSON parsers refuse it
_SKIPPED_NAMED = 10
"""Skipped files named one by one in the notice; the rest are counted."""


@dataclass(slots=True)
class ReadPosition:
    """How far a reader got: last line (or record), so a stream error can say where it
    struck, and bytes of the file read, for progress."""

    line: int = 0
    bytes: int = 0


class TelegramMessage(NamedTuple):
    """One message of a Telegram Desktop export, with the channel it was posted in.

    The channel comes from the export's top level, so the message alone cannot
    say it; the source passes both on. channel: the channel's name (else its id,
    else the file's stem). message: the message exactly as decoded (any JSON value).
    """

    channel: str
    message: object


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


class _CountingReader(io.RawIOBase):
    """A raw file that records in ``position.bytes`` how far into the file reading got."""

    def __init__(self, path: Path, position: ReadPosition) -> None:
        self._file = path.open("rb", buffering=0)
        self._position = position

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._file.readinto(buffer)
        self._position.bytes += count or 0
        return count  # type: ignore[return-value]

    def close(self) -> None:
        self._file.close()
        super().close()


def open_binary(path: Path, position: ReadPosition | None = None) -> IO[bytes]:
    """Open ``path`` for reading bytes, decompressing gzip when the content is gzip.

    path: the file. position: when given, its ``bytes`` counts the file's
    (compressed) bytes read.
    """
    with path.open("rb") as probe:
        is_gzip = probe.read(2) == _GZIP_MAGIC
    raw = _CountingReader(path, position if position is not None else ReadPosition())
    buffered = io.BufferedReader(raw, buffer_size=1 << 20)
    if is_gzip:
        return io.BufferedReader(_Gunzip(path, buffered), buffer_size=1 << 20)
    return buffered


_STREAM_ERRORS = (EOFError, zlib.error, isal_zlib.error, gzip.BadGzipFile)


class _Gunzip(io.RawIOBase):
    """gzip decompressed by ISA-L (3-4x zlib's speed); on a stream error, Python's gzip
    takes over where ISA-L got to. ISA-L drops what it decompressed in the read that met
    the damage (up to a buffer of records, even when only the trailer is damaged); zlib
    hands on every byte before it, so the records kept are those zlib would keep, and
    the error raised is zlib's."""

    def __init__(self, path: Path, compressed: IO[bytes]) -> None:
        self._path = path
        self._fast: IO[bytes] | None = igzip.IGzipFile(fileobj=compressed, mode="rb")
        self._slow: IO[bytes] | None = None
        self._handed_on = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._fast is not None:
            try:
                count = self._fast.readinto(buffer)  # type: ignore[attr-defined]
            except _STREAM_ERRORS:
                self._fast.close()
                self._fast = None
                self._slow = gzip.GzipFile(self._path, "rb")
                skip = self._handed_on
                while skip:  # re-inflate what was handed on (zlib errors here propagate)
                    got = self._slow.read(min(skip, 1 << 20))
                    if not got:
                        raise EOFError("compressed file ended early") from None
                    skip -= len(got)
            else:
                self._handed_on += count
                return count
        # read1: one inner read at a time, so the error comes only once nothing is left
        data = self._slow.read1(len(buffer))  # type: ignore[union-attr]
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        for stream in (self._fast, self._slow):
            if stream is not None:
                stream.close()
        super().close()


def _skip_bom(handle: IO[bytes]) -> IO[bytes]:
    """``handle`` past a UTF-8 byte order mark at its start, if there is one."""
    if handle.peek(3)[:3] == _BOM:  # type: ignore[attr-defined]
        handle.read(3)
    return handle


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
                yield from jsonl_blocks(_skip_bom(handle), position, block_records)
            return
        yield from _READERS[fmt](path, source, position)
    except _STREAM_ERRORS as exc:
        line = position.line + 1
        reason = (
            f"truncated or corrupt gzip stream after line {position.line} ({exc}); "
            "the records before it were kept"
        )
        yield line, Rejected(source, line, reason, "")
    except ijson.JSONError as exc:
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
        for number, line in enumerate(_skip_bom(handle), start=1):
            position.line = number
            if line.strip():
                yield number, line


def _json_document(
    path: Path, source: str, position: ReadPosition
) -> Iterator[tuple[int, Payload]]:
    # The document's kind is found by peeking at its start; reading then starts
    # over with ``position`` so that progress counts the file once.
    with open_binary(path) as handle:
        first = _skip_bom(handle).read(1024).lstrip()
    if first.startswith(b"["):
        with open_binary(path, position) as handle:
            records = ijson.items(_skip_bom(handle), "item", use_float=True)
            for number, record in enumerate(records, start=1):
                position.line = number
                yield number, record
        return
    top_keys: dict[str, Any] = {}
    with open_binary(path) as handle:
        for prefix, event, value in ijson.parse(_skip_bom(handle)):
            if prefix in ("name", "id", "type") and event in ("string", "number"):
                top_keys[prefix] = value
            elif (
                prefix in ("messages", "data", *_VK_ITEM_ARRAYS, *_TELEGRAM_CHAT_LISTS,
                           "statuses")
                and event == "start_array"
            ):
                top_keys["_kind"] = prefix
                break
    if top_keys.get("_kind") == "messages":
        channel = str(top_keys.get("name") or top_keys.get("id") or path.stem)
        with open_binary(path, position) as handle:
            messages = ijson.items(_skip_bom(handle), "messages.item", use_float=True)
            for number, message in enumerate(messages, start=1):
                position.line = number
                yield number, TelegramMessage(channel, message)
        return
    if top_keys.get("_kind") in _VK_ITEM_ARRAYS:
        yield from _vk_items(path, source, position, top_keys["_kind"])
        return
    if top_keys.get("_kind") in _TELEGRAM_CHAT_LISTS:
        yield from _telegram_chats(path, position)
        return
    if top_keys.get("_kind") == "statuses":
        yield from _twitter_statuses(path, position)
        return
    with open_binary(path, position) as handle:
        # A single Twitter v2 page (or one flat record): pages are small by API design.
        yield 1, _skip_bom(handle).read()


_VK_ITEM_ARRAYS = ("response.items", "response", "items")
"""Where a VK API response document keeps its items: ``{"response": {"items": [...]}}``,
``{"response": [...]}`` (``wall.getById`` before API 5.131), ``{"count": N, "items": [...]}``."""


def _vk_items(
    path: Path, source: str, position: ReadPosition, array: str
) -> Iterator[tuple[int, Payload]]:
    # A VK API response's items, streamed. Each goes on as a one-item response: an item
    # of a VK response is VK whatever keys it has (an old comment without 'owner_id'
    # must be rejected, not read as a flat record), which only the response can say.
    with open_binary(path, position) as handle:
        items = ijson.items(_skip_bom(handle), f"{array}.item", use_float=True)
        for number, item in enumerate(items, start=1):
            position.line = number
            if isinstance(item, Mapping):
                yield number, {"response": [item]}
            else:
                reason = f"expected a VK post object, got {type(item).__name__}"
                yield number, Rejected(source, number, reason, raw_text(item))


_TELEGRAM_CHAT_LISTS = ("chats.list", "left_chats.list")
"""Where a full-account Telegram Desktop export (``result.json`` of "Export Telegram
data") lists its chats, each ``{"name", "type", "id", "messages": [...]}``."""


def _telegram_chats(path: Path, position: ReadPosition) -> Iterator[tuple[int, Payload]]:
    # Every chat's messages, streamed one message at a time (a chat can hold millions),
    # each named by its chat as a single-chat export names them: the chat's name, else
    # its id. Telegram Desktop writes a chat's name and id before its messages.
    number = depth = 0
    chat: dict[str, Any] = {}
    builder: ijson.ObjectBuilder | None = None
    with open_binary(path, position) as handle:
        for prefix, event, value in ijson.parse(_skip_bom(handle), use_float=True):
            if builder is not None:
                builder.event(event, value)
                depth += event in ("start_map", "start_array")
                depth -= event in ("end_map", "end_array")
                if depth == 0:
                    number = position.line = number + 1
                    yield number, TelegramMessage(_chat_name(chat), builder.value)
                    builder = None
                continue
            head, _, rest = prefix.partition(".item")
            if head not in _TELEGRAM_CHAT_LISTS:
                continue
            if rest == "" and event == "start_map":
                chat = {}
            elif rest in (".name", ".id") and event in ("string", "number"):
                chat[rest[1:]] = value
            elif rest == ".messages.item" and event in ("start_map", "start_array"):
                builder, depth = ijson.ObjectBuilder(), 1
                builder.event(event, value)
            elif rest == ".messages.item" and event not in ("end_map", "end_array"):
                number = position.line = number + 1  # not an object: the adapter rejects it
                yield number, TelegramMessage(_chat_name(chat), value)


def _twitter_statuses(path: Path, position: ReadPosition) -> Iterator[tuple[int, Payload]]:
    # A Twitter v1.1 search response ({"statuses": [...], "search_metadata": {...}}): its
    # statuses, streamed, each as a one-status response so that it is read as a status
    # whatever keys it has (and a non-object is rejected alone, with its position).
    with open_binary(path, position) as handle:
        statuses = ijson.items(_skip_bom(handle), "statuses.item", use_float=True)
        for number, status in enumerate(statuses, start=1):
            position.line = number
            yield number, {"statuses": [status]}


def _chat_name(chat: Mapping[str, Any]) -> str:
    return str(chat.get("name") or chat.get("id") or "chat")


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
        for row in batch.to_pylist():
            number += 1
            position.line = number
            yield number, row


_READERS = {"jsonl": _jsonl, "json": _json_document, "csv": _csv, "parquet": _parquet}
