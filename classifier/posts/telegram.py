"""Format adapter for Telegram Desktop exports: one message to a flat record.

Like the Twitter adapters it only reshapes; ``post_from_record`` validates. It
rejects what is not a post at all (service messages such as pins or joins) and
what it cannot reshape (a message without an id or text).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from swarmlens.classifier.errors import RecordError


def telegram_text(text: object) -> str:
    """Plain text of a Telegram export 'text' field.

    text: a string, or a list of parts, each a string or an entity object
        ({'type': 'link', 'text': ...}) whose 'text' is what was shown.
    Raises RecordError for anything else.
    """
    if isinstance(text, str):
        return text
    if isinstance(text, list):
        return "".join(
            part if isinstance(part, str) else str(part.get("text", ""))
            for part in text
            if isinstance(part, (str, Mapping))
        )
    raise RecordError(f"'text' must be a string or a list of parts, got {type(text).__name__}")


def telegram_record(message: object, channel: str) -> dict[str, Any]:
    """A flat record from one message of a Telegram Desktop export.

    message: one item of the export's 'messages' list, as decoded (any JSON value).
    channel: the chat's name (or id), from the export's top level (or, in a full-account
        export, from the chat's entry in ``chats.list``).
    Message ids are unique per chat only, so the post id is 'channel/id'.
    ``date_unixtime`` is preferred: ``date`` is in the exporting machine's local time.
    author is ``from`` (the sender's name), else ``from_id`` ('user123', 'channel456'),
    else the channel; a forward's ``forwarded_from`` is its ``retweet_of_author`` (the
    export names no original message, so ``retweet_of`` stays unknown); ``text_link``
    targets are URLs.
    Raises RecordError for a non-object, a service message, or a missing id or text.
    """
    if not isinstance(message, Mapping):
        raise RecordError("expected a message object")
    if message.get("type", "message") != "message":
        raise RecordError(f"Telegram {message.get('type')} message, not a post")
    if "text" not in message:
        raise RecordError("missing 'text'")
    msg_id = message.get("id")
    if msg_id is None:
        raise RecordError("missing 'id'")
    reply = message.get("reply_to_message_id")
    # A deleted account's name is exported as null: its from_id still names it.
    author = message.get("from") or message.get("from_id") or channel
    record = {
        "id": f"{channel}/{msg_id}",
        "text": telegram_text(message.get("text")),
        "created_at": message.get("date_unixtime") or message.get("date"),
        "author": str(author),
        "reply_to": f"{channel}/{reply}" if reply is not None else None,
        "label": message.get("label"),
        "platform": "telegram",
    }
    forwarded = message.get("forwarded_from") or message.get("forwarded_from_id")
    if forwarded is not None:
        record["retweet_of_author"] = str(forwarded)
    links = telegram_links(message)
    if links:
        record["urls"] = links
    return record


def telegram_links(message: Mapping[str, Any]) -> list[str]:
    """The targets of a message's ``text_link`` entities (text shown, URL hidden in its
    ``href``), from ``text`` (when a list of parts) and ``text_entities``, each once.

    Links written out in the text are found in the text itself; these are not.
    """
    links: list[str] = []
    for parts in (message.get("text"), message.get("text_entities")):
        for part in parts if isinstance(parts, list) else []:
            if isinstance(part, Mapping) and part.get("type") == "text_link":
                href = part.get("href")
                if isinstance(href, str) and href and href not in links:
                    links.append(href)
    return links
