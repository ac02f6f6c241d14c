"""JSON documents: where each kind keeps its records, and those records streamed one by one.

A JSON document is a Telegram Desktop export (one channel's ``result.json``, or a whole
account's, chats listed), a Twitter v2 page or v1.1 search response, a VK API response,
an array of records, or one flat record. Its kind is found by walking its start; its
records are then streamed by ``jsondoc`` (bounded depth: a record nested too deep is a
reject; a lone surrogate escape does not end the document), never the whole document in
memory. ``sources.iter_raw`` reads ``.json`` files with ``json_document``.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, NamedTuple

from swarmlens.classifier.posts import jsondoc
from swarmlens.classifier.posts.blocks import MAX_LINE_BYTES
from swarmlens.classifier.posts.opening import ReadPosition, open_binary, skip_bom
from swarmlens.classifier.posts.rejects import Rejected, raw_text


class TelegramMessage(NamedTuple):
    """One message of a Telegram Desktop export, with the channel it was posted in.

    The channel comes from the export's top level, so the message alone cannot
    say it; the source passes both on. channel: the channel's name (else its id,
    else the file's stem). message: the message exactly as decoded (any JSON value).
    """

    channel: str
    message: object


Item = Mapping[str, Any] | TelegramMessage | Rejected
"""What a document gives for one record: a decoded record (as decoded: the adapters reject
a value that is no object), a ``TelegramMessage``, or a reader-level ``Rejected``."""


def json_document(
    path: Path, source: str, position: ReadPosition
) -> Iterator[tuple[int, Item]]:
    # The document's kind is found by walking its start; reading then starts over with
    # ``position`` so that progress counts the file once. Every value is built by
    # ``jsondoc`` (bounded depth; a lone surrogate does not end the document).
    kind, channel = _document_kind(path)
    if kind == "array":
        yield from _items(path, source, position, ("item",), lambda v, _: v)
    elif kind == "messages":
        channel = channel or path.stem
        yield from _items(path, source, position, ("messages", "item"),
                          lambda v, _: TelegramMessage(channel, v))
    elif kind in _VK_ITEM_ARRAYS:
        yield from _items(path, source, position, (*kind.split("."), "item"),
                          lambda v, n: _vk_item(v, source, n))
    elif kind in _TELEGRAM_CHAT_LISTS:
        yield from _telegram_chats(path, source, position)
    elif kind == "statuses":
        # A Twitter v1.1 search response: each status as a one-status response, so that it
        # is read as a status whatever keys it has (a non-object is rejected alone).
        yield from _items(path, source, position, ("statuses", "item"),
                          lambda v, _: {"statuses": [v]})
    else:
        yield from _single_record(path, source, position)


_VK_ITEM_ARRAYS = ("response.items", "response", "items")
"""Where a VK API response document keeps its items: ``{"response": {"items": [...]}}``,
``{"response": [...]}`` (``wall.getById`` before API 5.131), ``{"count": N, "items": [...]}``."""
_TELEGRAM_CHAT_LISTS = ("chats.list", "left_chats.list")
"""Where a full-account Telegram Desktop export (``result.json`` of "Export Telegram
data") lists its chats, each ``{"name", "type", "id", "messages": [...]}``."""
_KINDS = ("messages", "data", *_VK_ITEM_ARRAYS, *_TELEGRAM_CHAT_LISTS, "statuses")
_TOP_WANTED: dict[jsondoc.Path, str] = {
    (): "open", ("name",): "scalar", ("id",): "scalar",
    **{tuple(kind.split(".")): "open" for kind in _KINDS},
}
MAX_RECORD_BYTES = MAX_LINE_BYTES
"""Bytes of a JSON document read whole as one record (a Twitter v2 page): the limit of a
JSONL line. A longer one is one reject; no API page comes near."""


def _opener(path: Path, position: ReadPosition | None = None) -> Any:
    def open_stream() -> IO[bytes]:
        return skip_bom(open_binary(path, position))
    return open_stream


def _document_kind(path: Path) -> tuple[str | None, str | None]:
    """(where the document keeps its records: 'array', one of ``_KINDS``, or None for a
    single record; the Telegram chat's name, else id), from the document's start."""
    top: dict[str, Any] = {}
    walked = jsondoc.walk(jsondoc.events(_opener(path)), _TOP_WANTED)
    try:
        for where, value in walked:
            if not isinstance(value, jsondoc.Opened):
                if isinstance(value, str | int | float) and not isinstance(value, bool):
                    top[where[0]] = value
            elif where == ():
                if value.kind == "array":
                    return "array", None
            elif value.kind == "array":
                kind = ".".join(where)
                name = top.get("name") or top.get("id")
                return kind, None if name is None else str(name)
    finally:
        walked.close()
    return None, None


def _items(
    path: Path, source: str, position: ReadPosition, where: jsondoc.Path,
    wrap: Callable[[object, int], Item],
) -> Iterator[tuple[int, Item]]:
    """The values of the array at ``where``, each ``wrap``-ped (a too deep one rejected)."""
    values = jsondoc.walk(jsondoc.events(_opener(path, position), _opener(path)),
                          {where: "value"})
    for number, (_, value) in enumerate(values, start=1):
        position.line = number
        if isinstance(value, jsondoc.TooDeep):
            yield number, Rejected(source, number, value.reason, "")
        else:
            yield number, wrap(value, number)


def _vk_item(item: object, source: str, number: int) -> Item:
    # An item of a VK response is VK whatever keys it has (an old comment without
    # 'owner_id' must be rejected, not read as a flat record), which only the response can
    # say: each goes on as a one-item response.
    if isinstance(item, Mapping):
        return {"response": [item]}
    reason = f"expected a VK post object, got {type(item).__name__}"
    return Rejected(source, number, reason, raw_text(item))


def _single_record(
    path: Path, source: str, position: ReadPosition
) -> Iterator[tuple[int, Item]]:
    # A single Twitter v2 page (or one flat record): pages are small by API design, and one
    # over MAX_RECORD_BYTES is a reject, not a read into memory.
    with open_binary(path, position) as handle:
        data = skip_bom(handle).read(MAX_RECORD_BYTES + 1)
    position.line = 1
    if len(data) > MAX_RECORD_BYTES:
        reason = (f"JSON document is one record of more than {MAX_RECORD_BYTES:,} bytes "
                  "(the limit of one record)")
        yield 1, Rejected(source, 1, reason, "")
        return
    values = jsondoc.walk(jsondoc.events(lambda: io.BytesIO(data)), {(): "value"})
    for _, value in values:
        if isinstance(value, jsondoc.TooDeep):
            yield 1, Rejected(source, 1, value.reason, "")
        else:
            yield 1, value


def _telegram_chats(
    path: Path, source: str, position: ReadPosition
) -> Iterator[tuple[int, Item]]:
    # Every chat's messages, streamed one message at a time (a chat can hold millions),
    # each named by its chat as a single-chat export names them: the chat's name, else
    # its id. Telegram Desktop writes a chat's name and id before its messages.
    wanted: dict[jsondoc.Path, str] = {}
    for chats in _TELEGRAM_CHAT_LISTS:
        chat = (*chats.split("."), "item")
        wanted |= {chat: "open", (*chat, "name"): "scalar", (*chat, "id"): "scalar",
                   (*chat, "messages", "item"): "value"}
    number = 0
    chat_keys: dict[str, Any] = {}
    owners: dict[str, Any] = {}  # a chat name -> the id of the first chat that bore it
    walked = jsondoc.walk(jsondoc.events(_opener(path, position), _opener(path)), wanted)
    for where, value in walked:
        if isinstance(value, jsondoc.Opened):
            chat_keys = {}
        elif where[-1] in ("name", "id"):
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                chat_keys[where[-1]] = value
        else:
            number = position.line = number + 1
            if isinstance(value, jsondoc.TooDeep):
                yield number, Rejected(source, number, value.reason, "")
            else:  # a message that is no object: the adapter rejects it
                yield number, TelegramMessage(_chat_name(chat_keys, owners), value)


def _chat_name(chat: Mapping[str, Any], owners: dict[str, Any]) -> str:
    """The chat's name, else its id. Names are not unique (two groups called "News"):
    message ids are unique per chat only, so a later chat whose name an earlier chat of
    the export bore is named ``name#id``, and its posts do not take the earlier one's ids."""
    name = str(chat.get("name") or chat.get("id") or "chat")
    chat_id = chat.get("id")
    if owners.setdefault(name, chat_id) == chat_id:
        return name
    return f"{name}#{chat_id}"
