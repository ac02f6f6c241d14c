"""Format adapters for VKontakte API items to flat records.

A wall post item (``wall.get``, ``wall.getById``, ``newsfeed.search``): ``id`` (unique
per wall), ``owner_id`` (the wall: negative for a community), ``from_id`` (who posted),
``date`` (epoch seconds), ``text``, ``attachments`` (links, photos...) and, for a
repost, ``copy_history`` (the reposted item first).
A ``newsfeed.get`` item names its post by ``source_id`` (the wall) and ``post_id``
instead, and has a ``type`` (only ``post`` items are posts).
A ``wall.getComments`` item is a comment: its own ``id``, the wall's ``owner_id`` and
the ``post_id`` of the post it answers.
Which of these a record is, ``shapes`` decides; like the other adapters these only
reshape, and ``post_from_record`` validates.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from swarmlens.classifier.errors import RecordError


def _vk_id(item: Mapping[str, Any]) -> str | None:
    owner, number = item.get("owner_id"), item.get("id")
    if owner is None or number is None:
        return None
    return f"{owner}_{number}"


def _links(item: Mapping[str, Any]) -> list[str]:
    links = []
    for attachment in item.get("attachments") or []:
        if not isinstance(attachment, Mapping) or attachment.get("type") != "link":
            continue
        link = attachment.get("link")
        if isinstance(link, Mapping) and isinstance(link.get("url"), str) and link["url"]:
            links.append(link["url"])
    return links


def _checked(item: object, what: str) -> Mapping[str, Any]:
    if not isinstance(item, Mapping):
        raise RecordError(f"expected a VK {what} object, got {type(item).__name__}")
    if item.get("deleted"):
        raise RecordError("deleted VK item: nothing to read")
    return item


def _flat(
    item: Mapping[str, Any], post_id: str, author: object, reply_to: str | None = None
) -> dict[str, Any]:
    """The flat record of a VK item whose id and author are settled: its text, date,
    link attachments and, for a repost, the reposted item."""
    text = item.get("text")
    urls = _links(item)
    retweet_of = retweeted = None
    history = item.get("copy_history")
    if isinstance(history, list) and history and isinstance(history[0], Mapping):
        original = history[0]
        retweet_of = _vk_id(original)
        original_author = original.get("from_id", original.get("owner_id"))
        retweeted = None if original_author is None else str(original_author)
        if (text is None or text == "") and isinstance(original.get("text"), str):
            text = original["text"]
        urls += _links(original)
    return {
        "id": post_id,
        "text": "" if text is None and retweet_of is not None else text,
        "created_at": item.get("date"),
        "author": None if author is None else str(author),
        "retweet_of": retweet_of,
        "retweet_of_author": retweeted,
        "reply_to": reply_to,
        "urls": urls,
        "label": item.get("label"),
        "platform": "vkontakte",
    }


def vk_record(item: object) -> dict[str, Any]:
    """A flat record from one VK wall post item (``wall.get``, ``wall.getById``,
    ``newsfeed.search``).

    item: one element of a response's ``items`` (anything: a non-object is rejected).
    post_id is '{owner_id}_{id}' (ids are unique per wall only), author the
    ``from_id``; a repost has ``retweet_of`` = the reposted item's id and takes its
    text when it adds none of its own; link attachments (its own and the reposted
    item's) are URLs.
    Raises RecordError when ``item`` is not an object, was deleted or has no id.
    """
    item = _checked(item, "post")
    post_id = _vk_id(item)
    if post_id is None:
        raise RecordError("VK post lacks 'owner_id' or 'id'")
    return _flat(item, post_id, item.get("from_id", item.get("owner_id")))


def vk_feed_record(item: object) -> dict[str, Any]:
    """A flat record from one ``newsfeed.get`` item.

    item: one element of the response's ``items``. Only items of type ``post`` are
    posts (``photo``, ``wall_photo``, ``friend``... are rejected). post_id is
    '{source_id}_{post_id}', author the ``from_id`` when the item gives one, else
    its ``source_id`` (who posted on their own wall), created_at its ``date``; a
    repost reads as in ``vk_record``.
    Raises RecordError for a non-object, an item of another type or one without ids.
    """
    item = _checked(item, "newsfeed item")
    kind = item.get("type", "post")
    if kind != "post":
        raise RecordError(f"VK newsfeed item of type {kind!r}, not a post")
    source, number = item.get("source_id"), item.get("post_id")
    if source is None or number is None:
        raise RecordError("VK newsfeed item lacks 'source_id' or 'post_id'")
    return _flat(item, f"{source}_{number}", item.get("from_id", source))


def vk_comment_record(item: object) -> dict[str, Any]:
    """A flat record from one ``wall.getComments`` item: a comment is a post.

    item: one element of the response's ``items`` (or of a comment's
    ``thread.items``). post_id is '{owner_id}_{id}' (comment ids share the wall's
    numbering with its posts), reply_to the post it answers, '{owner_id}_{post_id}',
    author its ``from_id``, created_at its ``date``; link attachments are URLs.
    Raises RecordError for a non-object, a deleted comment or one without ids.
    """
    item = _checked(item, "comment")
    post_id, answered = _vk_id(item), item.get("post_id")
    if post_id is None or answered is None:
        raise RecordError("VK comment lacks 'owner_id', 'id' or 'post_id'")
    return _flat(item, post_id, item.get("from_id"), f"{item['owner_id']}_{answered}")
