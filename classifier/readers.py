"""Streaming readers for every archive shape swarmlens accepts, plain or gzip.

Formats: JSONL (flat records, Twitter API v1.1 statuses or v2 pages, one per
line), CSV, Parquet, JSON documents (a Telegram Desktop ``result.json``, a
Twitter v2 page, or an array of records). Nothing loads a whole archive into
memory: JSON documents are streamed with ijson, Parquet by row batches.

A malformed record never stops a run: readers yield a ``Rejected`` (source,
line, reason, raw) in its place and go on. For JSON documents and Parquet,
``line`` is the record's 1-based position in the file.
"""

from __future__ import annotations

import csv
import glob
import gzip
import io
import json
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import ijson
import orjson

from classifier.errors import InputError, RecordError
from classifier.posts import Post, post_from_record

SUPPORTED_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv", ".parquet")
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(slots=True)
class Rejected:
    """A record that could not become a post, with everything needed to fix it."""

    source: str
    line: int
    reason: str
    raw: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ReadStats:
    """Counts of records read / accepted / rejected, in total and per source file."""

    read: int = 0
    accepted: int = 0
    rejected: int = 0
    by_source: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, source: str, accepted: bool) -> None:
        per = self.by_source.setdefault(source, {"read": 0, "accepted": 0, "rejected": 0})
        self.read += 1
        per["read"] += 1
        key = "accepted" if accepted else "rejected"
        setattr(self, key, getattr(self, key) + 1)
        per[key] += 1


class RejectsFile:
    """Appends rejected records as JSON lines to ``path`` (created on first reject)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._handle: IO[str] | None = None
        self.count = 0

    def add(self, rejected: Rejected) -> None:
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("a", encoding="utf-8")
        self._handle.write(json.dumps(rejected.to_dict(), ensure_ascii=False) + "\n")
        self.count += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> RejectsFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def expand_inputs(inputs: Iterable[str | Path]) -> list[Path]:
    """Files named by ``inputs``: files as given, globs expanded, directories walked.

    Raises InputError when an input matches nothing or a directory holds no
    file of a supported format.
    """
    files: list[Path] = []
    for item in inputs:
        text = str(item)
        path = Path(text)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and _format_of(p) is not None)
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


def _format_of(path: Path) -> str | None:
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

    position: when given, its ``bytes`` counts the file's (compressed) bytes read.
    """
    with path.open("rb") as probe:
        is_gzip = probe.read(2) == _GZIP_MAGIC
    raw = _CountingReader(path, position if position is not None else ReadPosition())
    buffered = io.BufferedReader(raw, buffer_size=1 << 20)
    if is_gzip:
        return gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[return-value]
    return buffered


Payload = bytes | Mapping[str, Any] | Rejected
"""One raw record: a JSONL line not yet parsed, a decoded record, or a reader-level reject."""


def iter_raw(
    path: str | Path, position: ReadPosition | None = None
) -> Iterator[tuple[int, Payload]]:
    """(line, payload) of every record of one file, in file order, without building posts.

    Cheap enough for one process to feed many scoring workers: JSONL lines are
    passed on unparsed; other formats are decoded into flat records. Stream
    errors (truncated gzip, malformed JSON document, unreadable file) end the
    file with a ``Rejected`` saying where it struck.
    path: a file in one of the supported formats (the format is taken from the
    name, '.gz' stripped; a file of unknown suffix is read as JSONL).
    position: updated with the line reached and the bytes read (for progress).
    """
    path = Path(path)
    source = str(path)
    fmt = _format_of(path) or "jsonl"
    readers = {"jsonl": _jsonl, "json": _json_document, "csv": _csv, "parquet": _parquet}
    position = position if position is not None else ReadPosition()
    try:
        yield from readers[fmt](path, source, position)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
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


def decode(source: str, line: int, payload: Payload) -> Iterator[Post | Rejected]:
    """Posts (or rejects) of one raw record from ``iter_raw``."""
    if isinstance(payload, Rejected):
        yield payload
        return
    if isinstance(payload, bytes):
        try:
            record = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            text = payload.decode("utf-8", "replace")
            try:
                # orjson refuses invalid UTF-8 outright; the text is worth keeping.
                record = json.loads(text)
            except json.JSONDecodeError:
                yield Rejected(source, line, f"not valid JSON: {exc}", text.rstrip("\r\n"))
                return
        payload = record
    yield from record_to_posts(payload, source, line)


def iter_source(path: str | Path) -> Iterator[Post | Rejected]:
    """Posts and rejects of one file, in file order."""
    source = str(path)
    for line, payload in iter_raw(path):
        yield from decode(source, line, payload)


@dataclass(slots=True)
class ReadPosition:
    """How far a reader got: last line (or record), so a stream error can say where it
    struck, and bytes of the file read, for progress."""

    line: int = 0
    bytes: int = 0


def read_posts(
    inputs: Iterable[str | Path],
    rejects: RejectsFile | None = None,
    stats: ReadStats | None = None,
) -> Iterator[Post]:
    """Stream the posts of every input; rejects go to ``rejects``, counts to ``stats``.

    inputs: files, globs or directories (see ``expand_inputs``).
    rejects: where rejected records are written (dropped from the stream either way).
    stats: updated with read / accepted / rejected counts as the stream is consumed.
    """
    for path in expand_inputs(inputs):
        for item in iter_source(path):
            accepted = isinstance(item, Post)
            if stats is not None:
                stats.count(str(path), accepted)
            if accepted:
                yield item
            elif rejects is not None:
                rejects.add(item)


# -- record shapes -------------------------------------------------------------


def record_to_posts(record: object, source: str, line: int) -> Iterator[Post | Rejected]:
    """Posts from one decoded record of any per-record shape (flat, Twitter v1.1, v2 page)."""
    raw = None
    try:
        if isinstance(record, Mapping) and isinstance(record.get("data"), list):
            yield from _v2_page(record, source, line)
            return
        if isinstance(record, Mapping) and _is_twitter_v1(record):
            yield post_from_record(twitter_v1_record(record), platform="twitter")
            return
        yield post_from_record(record)  # type: ignore[arg-type]
    except RecordError as exc:
        raw = _dump(record)
        yield Rejected(source, line, exc.message, raw)


def _is_twitter_v1(record: Mapping[str, Any]) -> bool:
    return "id_str" in record or (isinstance(record.get("user"), Mapping) and "entities" in record)


def _status_text(status: Mapping[str, Any]) -> str | None:
    extended = status.get("extended_tweet")
    if isinstance(extended, Mapping) and isinstance(extended.get("full_text"), str):
        return extended["full_text"]
    text = status.get("full_text", status.get("text"))
    return text if isinstance(text, str) else None


def _status_entities(status: Mapping[str, Any]) -> Mapping[str, Any]:
    extended = status.get("extended_tweet")
    if isinstance(extended, Mapping) and isinstance(extended.get("entities"), Mapping):
        return extended["entities"]
    ents = status.get("entities")
    return ents if isinstance(ents, Mapping) else {}


def _screen_name(status: Mapping[str, Any]) -> str | None:
    user = status.get("user")
    return user.get("screen_name") if isinstance(user, Mapping) else None


def twitter_v1_record(status: Mapping[str, Any]) -> dict[str, Any]:
    """A flat record from a Twitter API v1.1 status (extended or compat mode).

    Retweets get the original's full text ('RT @author: ...') rather than the
    140-character truncation, and ``retweet_of`` set to the original's id.
    """
    text = _status_text(status)
    ents = _status_entities(status)
    retweet_of = None
    original = status.get("retweeted_status")
    if isinstance(original, Mapping):
        retweet_of = original.get("id_str", original.get("id"))
        original_text = _status_text(original)
        if original_text is not None:
            text = f"RT @{_screen_name(original) or 'unknown'}: {original_text}"
            ents = _status_entities(original)
    return {
        "id": status.get("id_str", status.get("id")),
        "text": text,
        "lang": status.get("lang"),
        "created_at": status.get("created_at"),
        "author": _screen_name(status),
        "retweet_of": retweet_of,
        "reply_to": status.get("in_reply_to_status_id_str", status.get("in_reply_to_status_id")),
        "hashtags": [h.get("text") for h in ents.get("hashtags") or [] if isinstance(h, Mapping)],
        "urls": [
            u.get("expanded_url") or u.get("url")
            for u in ents.get("urls") or []
            if isinstance(u, Mapping) and (u.get("expanded_url") or u.get("url"))
        ],
        "mentions": [
            m.get("screen_name") for m in ents.get("user_mentions") or [] if isinstance(m, Mapping)
        ],
        "label": status.get("label", status.get("swarmlens_label")),
        "platform": "twitter",
    }


def _v2_page(page: Mapping[str, Any], source: str, line: int) -> Iterator[Post | Rejected]:
    includes = page.get("includes") if isinstance(page.get("includes"), Mapping) else {}
    users = {
        str(u.get("id")): u.get("username")
        for u in includes.get("users") or []
        if isinstance(u, Mapping)
    }
    tweets = {str(t.get("id")): t for t in includes.get("tweets") or [] if isinstance(t, Mapping)}
    for tweet in page["data"]:
        try:
            yield post_from_record(twitter_v2_record(tweet, users, tweets), platform="twitter")
        except RecordError as exc:
            yield Rejected(source, line, exc.message, _dump(tweet))


def twitter_v2_record(
    tweet: object, users: Mapping[str, Any], tweets: Mapping[str, Any]
) -> dict[str, Any]:
    """A flat record from one Twitter API v2 tweet object and its page's includes."""
    if not isinstance(tweet, Mapping):
        raise RecordError(f"expected a tweet object in 'data', got {type(tweet).__name__}")
    note = tweet.get("note_tweet")
    text = note.get("text") if isinstance(note, Mapping) else tweet.get("text")
    retweet_of = reply_to = None
    for ref in tweet.get("referenced_tweets") or []:
        if not isinstance(ref, Mapping):
            continue
        if ref.get("type") == "retweeted":
            retweet_of = ref.get("id")
            original = tweets.get(str(retweet_of))
            if isinstance(original, Mapping) and isinstance(original.get("text"), str):
                who = users.get(str(original.get("author_id"))) or "unknown"
                text = f"RT @{who}: {original['text']}"
        elif ref.get("type") == "replied_to":
            reply_to = ref.get("id")
    ents = tweet.get("entities") if isinstance(tweet.get("entities"), Mapping) else {}
    author_id = tweet.get("author_id")
    return {
        "id": tweet.get("id"),
        "text": text,
        "lang": tweet.get("lang"),
        "created_at": tweet.get("created_at"),
        "author": users.get(str(author_id)) or author_id,
        "retweet_of": retweet_of,
        "reply_to": reply_to,
        "hashtags": [h.get("tag") for h in ents.get("hashtags") or [] if isinstance(h, Mapping)],
        "urls": [
            u.get("expanded_url") or u.get("url")
            for u in ents.get("urls") or []
            if isinstance(u, Mapping) and (u.get("expanded_url") or u.get("url"))
        ],
        "mentions": [
            m.get("username") for m in ents.get("mentions") or [] if isinstance(m, Mapping)
        ],
        "label": tweet.get("label"),
        "platform": "twitter",
    }


def telegram_text(text: object) -> str:
    """Plain text of a Telegram export 'text' field: a string or a list of parts."""
    if isinstance(text, str):
        return text
    if isinstance(text, list):
        return "".join(
            part if isinstance(part, str) else str(part.get("text", ""))
            for part in text
            if isinstance(part, (str, Mapping))
        )
    raise RecordError(f"'text' must be a string or a list of parts, got {type(text).__name__}")


def telegram_record(message: Mapping[str, Any], channel: str) -> dict[str, Any]:
    """A flat record from one message of a Telegram Desktop export.

    Message ids are unique per channel only, so the post id is 'channel/id'.
    ``date_unixtime`` is preferred: ``date`` is in the exporting machine's local time.
    """
    if message.get("type", "message") != "message":
        raise RecordError(f"Telegram {message.get('type')} message, not a post")
    if "text" not in message:
        raise RecordError("missing 'text'")
    msg_id = message.get("id")
    if msg_id is None:
        raise RecordError("missing 'id'")
    reply = message.get("reply_to_message_id")
    return {
        "id": f"{channel}/{msg_id}",
        "text": telegram_text(message.get("text")),
        "created_at": message.get("date_unixtime") or message.get("date"),
        "author": message.get("from") or channel,
        "reply_to": f"{channel}/{reply}" if reply is not None else None,
        "label": message.get("label"),
        "platform": "telegram",
    }


# -- file formats ---------------------------------------------------------------


def _dump(record: object) -> str:
    try:
        return json.dumps(record, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(record)


def _jsonl(path: Path, source: str, position: ReadPosition) -> Iterator[tuple[int, Payload]]:
    with open_binary(path, position) as handle:
        for number, line in enumerate(handle, start=1):
            position.line = number
            if line.strip():
                yield number, line


def _json_document(
    path: Path, source: str, position: ReadPosition
) -> Iterator[tuple[int, Payload]]:
    with open_binary(path) as handle:
        first = handle.read(1024).lstrip()
    if first.startswith(b"["):
        with open_binary(path, position) as handle:
            for number, record in enumerate(ijson.items(handle, "item", use_float=True), start=1):
                position.line = number
                yield number, record
        return
    top_keys: dict[str, Any] = {}
    with open_binary(path) as handle:
        for prefix, event, value in ijson.parse(handle):
            if prefix in ("name", "id", "type") and event in ("string", "number"):
                top_keys[prefix] = value
            elif prefix in ("messages", "data") and event == "start_array":
                top_keys["_kind"] = prefix
                break
    if top_keys.get("_kind") == "messages":
        channel = str(top_keys.get("name") or top_keys.get("id") or path.stem)
        with open_binary(path, position) as handle:
            messages = ijson.items(handle, "messages.item", use_float=True)
            for number, message in enumerate(messages, start=1):
                position.line = number
                try:
                    if not isinstance(message, Mapping):
                        raise RecordError("expected a message object")
                    yield number, telegram_record(message, channel)
                except RecordError as exc:
                    yield number, Rejected(source, number, exc.message, _dump(message))
        return
    with open_binary(path, position) as handle:
        # A single Twitter v2 page (or one flat record): pages are small by API design.
        yield 1, handle.read()


def _csv(path: Path, source: str, position: ReadPosition) -> Iterator[tuple[int, Payload]]:
    with open_binary(path, position) as binary:
        text = io.TextIOWrapper(binary, encoding="utf-8", errors="replace", newline="")
        reader = csv.DictReader(text)
        columns = set(reader.fieldnames or [])
        missing = []
        if "text" not in columns:
            missing.append("text")
        if not columns & {"id", "post_id"}:
            missing.append("id or post_id")
        problem = f"CSV header lacks column(s) {', '.join(missing)}" if missing else None
        for row in reader:
            number = position.line = reader.line_num
            if problem:
                yield number, Rejected(source, number, problem, _dump(row))
                continue
            if None in row:
                reason = "row has more fields than the header"
                yield number, Rejected(source, number, reason, _dump(row))
                continue
            clean = {k: v for k, v in row.items() if v not in (None, "")}
            clean.setdefault("text", "")
            for key in ("hashtags", "urls", "mentions"):
                if isinstance(clean.get(key), str):
                    clean[key] = clean[key].split()
            yield number, clean


def _parquet(path: Path, source: str, position: ReadPosition) -> Iterator[tuple[int, Payload]]:
    import pyarrow.parquet as pq

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
