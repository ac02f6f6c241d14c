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
    channel: the channel's name (or id), from the export's top level.
    Message ids are unique per channel only, so the post id is 'channel/id'.
    ``date_unixtime`` is preferred: ``date`` is in the exporting machine's local time.
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
    return {
        "id": f"{channel}/{msg_id}",
        "text": telegram_text(message.get("text")),
        "created_at": message.get("date_unixtime") or message.get("date"),
        "author": message.get("from") or channel,
        "reply_to": f"{channel}/{reply}" if reply is not None else None,
        "label": message.get("label"),
        "platform": "telegram",
    }
