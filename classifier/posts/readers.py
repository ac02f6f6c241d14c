"""Reading posts: the wiring of file -> source -> format adapter -> validation -> Post.

Data flows one way, each stage in its own module:

1. ``sources``: inputs to files, files to (line, raw payload), plain or gzip,
   with positions for progress and resumption.
2. ``shapes``: which shape the record has (decided once, by the rules the columnar
   lane uses too); here, the adapter of that shape is picked.
3. ``twitter`` / ``telegram`` / ``vkontakte``: the adapter turns the raw record into one flat
   record (a flat record is its own adapter).
4. ``post.post_from_record``: the record's validation, building the ``Post`` (flat JSON
   lines mostly take ``columnar``'s column rules instead; see there).

A malformed record never stops a run: a ``Rejected`` (source, line, reason, raw)
takes its place and reading goes on. For JSON documents and Parquet, ``line`` is
the record's 1-based position in the file.

Every name that used to live here is still importable from here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from swarmlens.classifier.errors import RecordError
from swarmlens.classifier.posts.blocks import LineBlock
from swarmlens.classifier.posts.jsondoc import MAX_JSON_DEPTH, TooDeep, too_deep
from swarmlens.classifier.posts.post import Post, post_from_record
from swarmlens.classifier.posts.rejects import ReadStats, Rejected, RejectsFile, raw_text
from swarmlens.classifier.posts.shapes import record_format, vk_response_items
from swarmlens.classifier.posts.sources import (
    SUPPORTED_SUFFIXES,
    Payload,
    ReadPosition,
    TelegramMessage,
    expand_inputs,
    format_of,
    iter_raw,
    open_binary,
)
from swarmlens.classifier.posts.telegram import telegram_record, telegram_text
from swarmlens.classifier.posts.twitter import (
    twitter_v1_record,
    twitter_v1_statuses,
    twitter_v2_includes,
    twitter_v2_record,
    twitter_v2_tweet_record,
)
from swarmlens.classifier.posts.vkontakte import vk_comment_record, vk_feed_record, vk_record

__all__ = [
    "SUPPORTED_SUFFIXES",
    "Payload",
    "Post",
    "ReadPosition",
    "ReadStats",
    "Rejected",
    "RejectsFile",
    "TelegramMessage",
    "decode",
    "expand_inputs",
    "format_of",
    "iter_raw",
    "iter_source",
    "open_binary",
    "post_from_record",
    "read_posts",
    "record_format",
    "record_to_posts",
    "telegram_record",
    "telegram_text",
    "twitter_v1_record",
    "twitter_v2_record",
    "vk_record",
]

log = logging.getLogger(__name__)



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


def iter_source(path: str | Path) -> Iterator[Post | Rejected]:
    """Posts and rejects of one file, in file order.

    path: a file in one of the supported formats (see ``iter_raw``).
    """
    source = str(path)
    for line, payload in iter_raw(path):
        yield from decode(source, line, payload)


def decode(source: str, line: int, payload: Payload) -> Iterator[Post | Rejected]:
    """Posts (or rejects) of one raw record from ``iter_raw``.

    source: the file the record came from, and line: its line (or position), both
        for rejects. payload: the raw record as ``iter_raw`` yielded it (a block of
        JSONL lines is decoded line by line).
    """
    if isinstance(payload, LineBlock):
        for number, text in payload.lines():
            yield from decode(source, number, text)
        return
    try:
        yield from _decode(source, line, payload)
    except Exception as exc:
        # A record can only ever become a reject: an input nobody foresaw must not kill
        # a job (a directory job would crash again on every re-run and never finish).
        log.warning("record %s:%s: unexpected %s: %s", source, line, type(exc).__name__, exc)
        yield Rejected(
            source, line, f"record cannot be read ({type(exc).__name__}: {exc})", _raw(payload)
        )


def _raw(payload: Payload) -> str:
    if isinstance(payload, bytes):
        return payload.decode("utf-8", "replace").rstrip("\r\n")
    if isinstance(payload, TelegramMessage):
        return raw_text(payload.message)
    return raw_text(payload)


def _decode(source: str, line: int, payload: Payload) -> Iterator[Post | Rejected]:
    # Testing the payload's type is the first half of format detection: the
    # source already knows what each kind of payload holds.
    if isinstance(payload, bytes):
        try:
            record = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            text = payload.decode("utf-8", "replace")
            try:
                # orjson refuses invalid UTF-8 outright (and lone surrogate escapes, and
                # nesting over 1024 levels); the text is worth keeping.
                record = json.loads(text)
            except json.JSONDecodeError:
                yield Rejected(source, line, f"not valid JSON: {exc}", text.rstrip("\r\n"))
                return
            except RecursionError:
                yield Rejected(source, line, TooDeep().reason, text.rstrip("\r\n"))
                return
        # The depth cap of JSON documents (``jsondoc``), for a line read whole: only a line
        # with that many brackets can nest that deep, so most lines skip the walk.
        if (payload.count(b"[") + payload.count(b"{") > MAX_JSON_DEPTH
                and too_deep(record)):
            text = payload.decode("utf-8", "replace").rstrip("\r\n")
            yield Rejected(source, line, TooDeep().reason, text)
            return
    elif isinstance(payload, Rejected):
        yield payload
        return
    elif isinstance(payload, TelegramMessage):
        yield _telegram_post(payload, source, line)
        return
    else:
        record = payload
    yield from record_to_posts(record, source, line)


def record_to_posts(record: object, source: str, line: int) -> Iterator[Post | Rejected]:
    """Posts from one decoded record of any per-record shape (flat, Twitter v1.1, v2 page).

    record: one decoded JSON value. source / line: where it came from, for rejects.
    """
    kind = record_format(record)
    # The ignores below: record_format has checked the shape, which a type checker cannot see.
    if kind == "twitter_v2_page":
        yield from _v2_page_posts(record, source, line)  # type: ignore[arg-type]
        return
    if kind == "vk_response":
        # One JSONL line holding a whole response: each item on its own, like a v2 page.
        for item in vk_response_items(record):  # type: ignore[arg-type]
            yield from _vk_item_posts(item, source, line)
        return
    if kind in _VK_ADAPTERS:
        yield from _vk_item_posts(record, source, line)
        return
    if kind in ("twitter_v1_search", "twitter_v2_tweet"):
        yield from _twitter_posts(kind, record, source, line)  # type: ignore[arg-type]
        return
    adapter = {"twitter_v1": twitter_v1_record}.get(kind, _flat)
    yield _adapted(adapter, record, source, line)


_VK_ADAPTERS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "vkontakte": vk_record,
    "vk_comment": vk_comment_record,
    "vk_feed_item": vk_feed_record,
}


def _vk_item_posts(item: object, source: str, line: int) -> Iterator[Post | Rejected]:
    # An item of a VK response is VK whatever it looks like: one that is no VK shape
    # (a comment without 'owner_id', a deleted one) is rejected by the post adapter,
    # never read as a flat record. A comment's replies ('thread.items') are posts too.
    kind = record_format(item)
    yield _adapted(_VK_ADAPTERS.get(kind, vk_record), item, source, line)
    if kind == "vk_comment":
        thread = item.get("thread")  # type: ignore[union-attr]
        replies = thread.get("items") if isinstance(thread, Mapping) else None
        for reply in replies if isinstance(replies, list) else []:
            yield from _vk_item_posts(reply, source, line)


def _twitter_posts(
    kind: str, record: Mapping[str, Any], source: str, line: int
) -> Iterator[Post | Rejected]:
    # A v1.1 search response: each status on its own (a status whatever it looks like),
    # a non-object rejected alone. A v2 tweet on its own (twarc2 flattened): one post.
    if kind == "twitter_v2_tweet":
        yield _adapted(twitter_v2_tweet_record, record, source, line)
        return
    for status in twitter_v1_statuses(record):
        if isinstance(status, Mapping):
            yield _adapted(twitter_v1_record, status, source, line)
        else:
            reason = f"expected a status object in 'statuses', got {type(status).__name__}"
            yield Rejected(source, line, reason, raw_text(status))


def _flat(record: object) -> object:
    return record


def _adapted(
    adapter: Callable[[Any], object], record: object, source: str, line: int
) -> Post | Rejected:
    try:
        return post_from_record(adapter(record))  # type: ignore[arg-type]
    except RecordError as exc:
        return Rejected(source, line, exc.message, raw_text(record))


def _v2_page_posts(page: Mapping[str, Any], source: str, line: int) -> Iterator[Post | Rejected]:
    # One page holds many tweets: each is adapted and validated on its own, so a
    # bad tweet is rejected alone (with the page's line) and the rest are kept.
    users, tweets = twitter_v2_includes(page)
    data = page["data"]
    # A filtered-stream line ('twarc2 stream') holds one tweet object, a page a list.
    for tweet in data if isinstance(data, list) else [data]:
        try:
            yield post_from_record(twitter_v2_record(tweet, users, tweets))
        except RecordError as exc:
            yield Rejected(source, line, exc.message, raw_text(tweet))


def _telegram_post(payload: TelegramMessage, source: str, line: int) -> Post | Rejected:
    try:
        flat = telegram_record(payload.message, payload.channel)
    except RecordError as exc:
        return Rejected(source, line, exc.message, raw_text(payload.message))
    try:
        return post_from_record(flat)
    except RecordError as exc:
        # Kept from before the split into modules: a message that reshapes but
        # fails validation is stored as its flat record, not as exported.
        return Rejected(source, line, exc.message, raw_text(flat))
