"""Format adapter for VKontakte API posts (``wall.get``, ``newsfeed.search``) to flat records.

A VK post item: ``id`` (unique per wall), ``owner_id`` (the wall: negative for a
community), ``from_id`` (who posted), ``date`` (epoch seconds), ``text``,
``attachments`` (links, photos...) and, for a repost, ``copy_history`` (the reposted
item first). Like the other adapters it only reshapes; ``post_from_record`` validates.
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


def vk_record(item: object) -> dict[str, Any]:
    """A flat record from one VK post item.

    item: one element of a response's ``items`` (anything: a non-object is rejected).
    post_id is '{owner_id}_{id}' (ids are unique per wall only), author the
    ``from_id``; a repost has ``retweet_of`` = the reposted item's id and takes its
    text when it adds none of its own; link attachments (its own and the reposted
    item's) are URLs.
    Raises RecordError when ``item`` is not an object or has no id.
    """
    if not isinstance(item, Mapping):
        raise RecordError(f"expected a VK post object, got {type(item).__name__}")
    post_id = _vk_id(item)
    if post_id is None:
        raise RecordError("VK post lacks 'owner_id' or 'id'")
    text = item.get("text")
    urls = _links(item)
    retweet_of = retweeted = None
    history = item.get("copy_history")
    if isinstance(history, list) and history and isinstance(history[0], Mapping):
        original = history[0]
        retweet_of = _vk_id(original)
        author = original.get("from_id", original.get("owner_id"))
        retweeted = None if author is None else str(author)
        if (text is None or text == "") and isinstance(original.get("text"), str):
            text = original["text"]
        urls += _links(original)
    author = item.get("from_id", item.get("owner_id"))
    return {
        "id": post_id,
        "text": "" if text is None and retweet_of is not None else text,
        "created_at": item.get("date"),
        "author": None if author is None else str(author),
        "retweet_of": retweet_of,
        "retweet_of_author": retweeted,
        "urls": urls,
        "label": item.get("label"),
        "platform": "vkontakte",
    }
