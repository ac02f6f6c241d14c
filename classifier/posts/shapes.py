"""Which shape a raw record has, decided in one place before any reading lane.

A JSON record is flat (``post_id``/``id``, ``text``, ...) or one of the API shapes the
adapters reshape: a Twitter v2 page or stream line, a v2 tweet on its own (twarc2's
flattened lines), a v1.1 status or search response, a VKontakte response
or post item. The same rules decide for one decoded record (``record_format``) and for a
table of JSON lines parsed by Arrow (``flat_rows``), so a line in an API shape can never
be read as a flat record by the columnar lane, whatever else the file holds.

Every shape needs one of its ``MARKER_KEYS`` with a value (a key whose value is null
counts as absent, as it must: Arrow cannot tell the two apart). ``flat_rows`` therefore
only needs to find rows where no marker has a value; every other row takes the
per-record lane, where ``record_format`` decides exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

RecordFormat = Literal[
    "twitter_v2_page", "twitter_v1", "vk_response", "vkontakte", "vk_comment", "vk_feed_item",
    "twitter_v1_search", "twitter_v2_tweet",
    "flat",
]

MARKER_KEYS: dict[RecordFormat, tuple[str, ...]] = {
    "twitter_v2_page": ("data",),
    "twitter_v1": ("id_str", "user"),
    "twitter_v1_search": ("statuses",),
    "twitter_v2_tweet": ("author_id", "__twarc"),
    "vk_response": ("response", "items"),
    "vkontakte": ("owner_id",),
    "vk_comment": ("owner_id",),
    "vk_feed_item": ("source_id",),
}
"""For each API shape, the keys one of which it must hold with a non-null value."""

SOURCE_ENTITY_KEYS = ("urls", "hashtags", "mentions")
"""Flat records may give their own entities: those are merged with the found ones per
record, so their rows take the per-record lane too."""

PER_RECORD_KEYS = tuple(key for keys in MARKER_KEYS.values() for key in keys) + (
    SOURCE_ENTITY_KEYS
)


def _has(record: Mapping[str, Any], key: str) -> bool:
    return record.get(key) is not None


def is_twitter_v2_page(record: Mapping[str, Any]) -> bool:
    """Whether a decoded record is a Twitter API v2 page (a ``data`` list) or a
    filtered-stream line (``data`` one tweet object, as ``twarc2 stream`` writes)."""
    return isinstance(record.get("data"), (list, Mapping))


def is_twitter_v1(record: Mapping[str, Any]) -> bool:
    """Whether a decoded record is a Twitter API v1.1 status (check v2 first)."""
    return _has(record, "id_str") or (
        isinstance(record.get("user"), Mapping) and "entities" in record
    )


def is_twitter_v1_search(record: Mapping[str, Any]) -> bool:
    """Whether a decoded record is a v1.1 search response: ``{"statuses": [...],
    "search_metadata": {...}}``."""
    return isinstance(record.get("statuses"), list)


def is_twitter_v2_tweet(record: Mapping[str, Any]) -> bool:
    """Whether a decoded record is one v2 tweet on its own: a ``twarc2 flatten`` line
    (``__twarc``; ``author`` a user object) or a bare v2 tweet (``author_id`` with an
    ``entities`` object or a ``referenced_tweets`` list), with an ``id`` and no flat
    ``post_id`` (check v1.1 first). A table row with an ``author_id`` column alone (a CSV
    export) stays flat."""
    structured = (
        isinstance(record.get("author"), Mapping)
        or isinstance(record.get("entities"), Mapping)
        or isinstance(record.get("referenced_tweets"), list)
    )
    return (
        (isinstance(record.get("__twarc"), Mapping) or (_has(record, "author_id") and structured))
        and _has(record, "id")
        and not _has(record, "post_id")
    )


def is_vk_response(record: Mapping[str, Any]) -> bool:
    """Whether a decoded record is a whole VK API response: ``{"response": {"items": [...]}}``
    (``wall.get``, ``newsfeed.search``, ``newsfeed.get``, ``wall.getComments``, recent
    ``wall.getById``), ``{"response": [...]}`` (``wall.getById`` before API 5.131) or a
    bare ``{"count": N, "items": [...]}`` (the response's object, as crawlers store it)."""
    response = record.get("response")
    if isinstance(response, Mapping):
        return isinstance(response.get("items"), list)
    return isinstance(response, list) or (
        isinstance(record.get("items"), list) and _is_int(record.get("count"))
    )


def vk_response_items(record: Mapping[str, Any]) -> list[Any]:
    """The items of a record ``is_vk_response`` accepts, in every one of its forms."""
    response = record.get("response")
    if isinstance(response, Mapping):
        return response["items"]
    return response if isinstance(response, list) else record["items"]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_vk_comment(record: Mapping[str, Any]) -> bool:
    """Whether a decoded record is one ``wall.getComments`` item: ``owner_id``, its own
    ``id``, the integer ``post_id`` of the post it answers, and ``from_id`` or ``date``
    (a photo, which has them too, is in an album)."""
    return (
        _has(record, "owner_id")
        and _has(record, "id")
        and _is_int(record.get("post_id"))
        and (_has(record, "from_id") or _has(record, "date"))
        and not _has(record, "album_id")
    )


def is_vk_feed_item(record: Mapping[str, Any]) -> bool:
    """Whether a decoded record is one ``newsfeed.get`` item: an integer ``source_id``
    (the wall) and a ``post_id``, ``type`` or ``date``."""
    return _is_int(record.get("source_id")) and (
        _has(record, "post_id") or _has(record, "type") or _has(record, "date")
    )


def is_vk_item(record: Mapping[str, Any]) -> bool:
    """Whether a decoded record is one VK post item: ``owner_id`` and ``from_id`` or
    ``date``, and no flat ``post_id``."""
    return (
        _has(record, "owner_id")
        and (_has(record, "from_id") or _has(record, "date"))
        and not _has(record, "post_id")
    )


def record_format(record: object) -> RecordFormat:
    """Which adapter a decoded record needs: 'twitter_v2_page', 'twitter_v1',
    'vk_response' (a whole VK API response), 'vkontakte' (one VK post item),
    'vk_comment' (one VK comment), 'vk_feed_item' (one ``newsfeed.get`` item),
    'twitter_v1_search' (a v1.1 search response), 'twitter_v2_tweet' (one v2 tweet on its
    own, as twarc2 flattens them) or 'flat'.

    record: one decoded JSON value (JSONL line, JSON array item, CSV or Parquet row).
        Anything that is no known API shape is taken as flat, and validation says what
        is wrong with it.
    """
    if isinstance(record, Mapping):
        # A v2 page can hold v1-looking keys; its 'data' decides first.
        if is_twitter_v2_page(record):
            return "twitter_v2_page"
        if is_twitter_v1(record):
            return "twitter_v1"
        if is_twitter_v1_search(record):
            return "twitter_v1_search"
        if is_twitter_v2_tweet(record):
            return "twitter_v2_tweet"
        if is_vk_response(record):
            return "vk_response"
        if is_vk_comment(record):
            return "vk_comment"
        if is_vk_item(record):
            return "vkontakte"
        if is_vk_feed_item(record):
            return "vk_feed_item"
    return "flat"


def flat_rows(table: pa.Table) -> np.ndarray:
    """Bool per row of ``table`` (JSON lines parsed by Arrow): True where no key of
    ``PER_RECORD_KEYS`` has a value, so the row is a flat record with no entities of
    its own, which the columnar lane may read."""
    flat = np.ones(table.num_rows, bool)
    for key in PER_RECORD_KEYS:
        if key in table.column_names:
            flat &= ~pc.is_valid(table.column(key)).to_numpy(zero_copy_only=False)
    return flat
