"""Reading a fixture as the per-record path does, field by field (the shape tests share it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from swarmlens.classifier.posts.post import Post
from swarmlens.classifier.posts.readers import Rejected, iter_source

FIELDS = ("post_id", "author", "created_at", "retweet_of", "retweet_of_author", "reply_to",
          "urls", "hashtags", "platform")
"""The fields a shape must fill right (issue 22's list)."""


def post_fields(post: Post) -> dict[str, Any]:
    """``FIELDS`` of ``post``, its time as ISO text."""
    row = {name: getattr(post, name) for name in FIELDS}
    row["created_at"] = post.created_at.isoformat() if post.created_at else None
    return row


def read_fields(path: Path) -> tuple[list[dict[str, Any]], list[Rejected]]:
    """(the posts of ``path`` as ``post_fields`` rows, its rejects), in file order."""
    items = list(iter_source(path))
    return ([post_fields(i) for i in items if isinstance(i, Post)],
            [i for i in items if isinstance(i, Rejected)])
