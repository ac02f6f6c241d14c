"""Platform-shaped exports of demo records: Twitter API v1.1 / v2 and Telegram Desktop JSON.

Lets readers and tests exercise the real input formats with synthetic data:
entity offsets are computed with the same spans a Twitter client would link,
and Telegram messages mix the string and list forms of ``text`` as real
exports do.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["to_telegram_export", "to_twitter_v1", "to_twitter_v2_page"]

# Telegram Desktop writes 'date' in the exporting machine's local time; the
# demo pretends the export was made in Paris (CET, no DST in November).
_TELEGRAM_LOCAL_OFFSET = timedelta(hours=1)

# Same spans a Twitter client would link: URLs first (they may contain '#'),
# then hashtags (letters, marks incl. Arabic harakat and tatweel, ZWNJ), then @handles.
_ENTITY_RE = re.compile(
    r"(?P<url>(?:https?://|pic\.twitter\.com/)\S+)"
    r"|(?P<hashtag>(?<![\w#&])#[\w\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u200c]+)"
    r"|(?P<mention>(?<![\w@])@[A-Za-z0-9_]{1,32})"
)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _spans(text: str) -> list[tuple[str, str, int, int]]:
    """Entities of ``text`` as (kind, matched text, start, end), in order.

    text: post text; offsets are Python (code point) indices, as Twitter uses.
    """
    return [(m.lastgroup or "", m.group(), m.start(), m.end()) for m in _ENTITY_RE.finditer(text)]


def _parse_created(created_at: str) -> datetime:
    """Aware UTC datetime of a record's ISO 8601 'Z' time. created_at: that string."""
    return datetime.fromisoformat(created_at).astimezone(UTC)


def _twitter_time(moment: datetime) -> str:
    """Twitter's 'Wed Nov 18 21:04:05 +0000 2015' (locale independent).

    moment: an aware datetime.
    """
    moment = moment.astimezone(UTC)
    return (
        f"{_DAYS[moment.weekday()]} {_MONTHS[moment.month - 1]} {moment.day:02d} "
        f"{moment:%H:%M:%S} +0000 {moment.year}"
    )


def _display_url(url: str) -> str:
    """Twitter's shortened display form of a URL. url: the full URL."""
    bare = url.split("://", 1)[-1]
    return bare if len(bare) <= 26 else bare[:25] + "…"


def to_twitter_v1(
    record: Mapping[str, Any], *, originals: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """A Twitter API v1.1 status (extended mode) for one demo record.

    record: a record from ``generate_demo``.
    originals: optional id -> record lookup; when the retweeted record is in
        it, a nested ``retweeted_status`` is added (as the API does),
        otherwise that key is omitted.
    The stance label is carried in the non-API key ``swarmlens_label``.
    """
    text = record["text"]
    hashtags = []
    urls = []
    mentions = []
    for kind, value, start, end in _spans(text):
        if kind == "hashtag":
            hashtags.append({"text": value[1:], "indices": [start, end]})
        elif kind == "url":
            expanded = value if "://" in value else "https://" + value
            urls.append(
                {
                    "url": value,
                    "expanded_url": expanded,
                    "display_url": _display_url(value),
                    "indices": [start, end],
                }
            )
        elif kind == "mention":
            mentions.append(
                {
                    "screen_name": value[1:],
                    "name": value[1:],
                    "indices": [start, end],
                }
            )
    status: dict[str, Any] = {
        "created_at": _twitter_time(_parse_created(record["created_at"])),
        "id_str": record["id"],
        "full_text": text,
        "truncated": False,
        "display_text_range": [0, len(text)],
        "entities": {"hashtags": hashtags, "symbols": [], "user_mentions": mentions, "urls": urls},
        "source": "swarmlens synthetic demo",
        "in_reply_to_status_id_str": record.get("reply_to"),
        "user": {
            "id_str": record.get("group") or record["author"],
            "screen_name": record["author"],
            "name": record["author"],
        },
        "is_quote_status": False,
        "lang": record["lang"],
        "swarmlens_label": record.get("label"),
        "swarmlens_synthetic": bool(record.get("synthetic", True)),
    }
    original_id = record.get("retweet_of")
    if original_id is not None and originals is not None and original_id in originals:
        status["retweeted_status"] = to_twitter_v1(originals[original_id])
    return status


def to_twitter_v2_page(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One Twitter API v2 search page holding ``records``.

    records: records from ``generate_demo`` (any platform; all become tweets).
    Entity types that a tweet lacks are omitted, as the API does. Retweeted
    originals present in ``records`` are also listed in ``includes.tweets``.
    The stance label is carried in the non-API key ``label``.
    """
    data = []
    users: dict[str, dict[str, str]] = {}
    by_id = {r["id"]: r for r in records}
    referenced: dict[str, dict[str, Any]] = {}
    for record in records:
        text = record["text"]
        ents: dict[str, list[dict[str, Any]]] = {}
        for kind, value, start, end in _spans(text):
            if kind == "hashtag":
                ents.setdefault("hashtags", []).append(
                    {"start": start, "end": end, "tag": value[1:]}
                )
            elif kind == "url":
                expanded = value if "://" in value else "https://" + value
                ents.setdefault("urls", []).append(
                    {"start": start, "end": end, "url": value, "expanded_url": expanded}
                )
            elif kind == "mention":
                ents.setdefault("mentions", []).append(
                    {"start": start, "end": end, "username": value[1:]}
                )
        author_id = record.get("group") or record["author"]
        tweet: dict[str, Any] = {
            "id": record["id"],
            "text": text,
            "created_at": record["created_at"],
            "author_id": author_id,
            "lang": record["lang"],
        }
        if ents:
            tweet["entities"] = ents
        refs = []
        if record.get("retweet_of") is not None:
            refs.append({"type": "retweeted", "id": record["retweet_of"]})
            original = by_id.get(record["retweet_of"])
            if original is not None:
                referenced[original["id"]] = {
                    "id": original["id"],
                    "text": original["text"],
                    "author_id": original.get("group") or original["author"],
                    "created_at": original["created_at"],
                    "lang": original["lang"],
                }
        if record.get("reply_to") is not None:
            refs.append({"type": "replied_to", "id": record["reply_to"]})
        if refs:
            tweet["referenced_tweets"] = refs
        tweet["label"] = record.get("label")
        data.append(tweet)
        users.setdefault(author_id, {"id": author_id, "username": record["author"]})
    page: dict[str, Any] = {"data": data, "includes": {"users": list(users.values())}}
    if referenced:
        page["includes"]["tweets"] = list(referenced.values())
    page["meta"] = {"result_count": len(data)}
    if data:
        page["meta"]["newest_id"] = data[-1]["id"]
        page["meta"]["oldest_id"] = data[0]["id"]
    return page


def _telegram_parts(text: str, bold_first_line: bool) -> list[dict[str, str]]:
    """Telegram text entities covering all of ``text`` (plain parts included).

    text: message text; bold_first_line: render an entity-free first line bold,
    as channels do with their headline.
    """
    parts: list[dict[str, str]] = []
    pos = 0
    spans = _spans(text)
    first_break = text.find("\n")
    if bold_first_line and first_break > 0 and (not spans or spans[0][2] > first_break):
        parts.append({"type": "bold", "text": text[:first_break]})
        pos = first_break
    kinds = {"url": "link", "hashtag": "hashtag", "mention": "mention"}
    for kind, value, start, end in spans:
        if start < pos:
            continue
        if start > pos:
            parts.append({"type": "plain", "text": text[pos:start]})
        parts.append({"type": kinds[kind], "text": value})
        pos = end
    if pos < len(text):
        parts.append({"type": "plain", "text": text[pos:]})
    return parts


def to_telegram_export(
    records: Sequence[Mapping[str, Any]], channel: str = "demo_channel"
) -> dict[str, Any]:
    """A Telegram Desktop ``result.json`` of one public channel holding ``records``.

    records: records from ``generate_demo``, in time order (message ids follow it).
    channel: the channel's name, also used as every message's sender.
    Every other message with entities uses the list form of ``text`` (strings
    mixed with entity dicts); the rest use a plain string. ``text_entities``
    always holds the full breakdown. ``date`` is Paris local time (UTC+1),
    ``date_unixtime`` the exact epoch. The stance label is in the non-export
    key ``label``.
    """
    chat_id = 1_000_000_000 + zlib.crc32(channel.encode("utf-8")) % 1_000_000_000
    message_ids = {r["id"]: n for n, r in enumerate(records, start=1)}
    messages = []
    for number, record in enumerate(records, start=1):
        moment = _parse_created(record["created_at"])
        text = record["text"]
        use_list = number % 2 == 1
        parts = _telegram_parts(text, bold_first_line=use_list)
        has_entities = any(p["type"] != "plain" for p in parts)
        if use_list and has_entities:
            rendered: str | list[str | dict[str, str]] = [
                p["text"] if p["type"] == "plain" else dict(p) for p in parts
            ]
            entities = parts
        else:
            rendered = text
            entities = _telegram_parts(text, bold_first_line=False)
        message: dict[str, Any] = {
            "id": number,
            "type": "message",
            "date": (moment + _TELEGRAM_LOCAL_OFFSET).replace(tzinfo=None).isoformat(),
            "date_unixtime": str(int(moment.timestamp())),
            "from": channel,
            "from_id": f"channel{chat_id}",
            "text": rendered,
            "text_entities": entities,
            "label": record.get("label"),
        }
        reply = record.get("reply_to")
        if reply is not None and reply in message_ids:
            message["reply_to_message_id"] = message_ids[reply]
        messages.append(message)
    return {"name": channel, "type": "public_channel", "id": chat_id, "messages": messages}
