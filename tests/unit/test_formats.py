"""Format adapters: each maps one raw record to the expected flat record, without validation.

Also the one-way flow they sit in: the source hands Telegram messages on unadapted,
the wiring detects a record's format once, and no stage before validation imports it.
"""

from __future__ import annotations

import ast
import json
import pickle
from pathlib import Path
from typing import Any

import pytest

import swarmlens.classifier.posts as posts_package
from swarmlens.classifier.errors import RecordError
from swarmlens.classifier.posts import post as post_module
from swarmlens.classifier.posts import readers
from swarmlens.classifier.posts.readers import decode, record_format
from swarmlens.classifier.posts.rejects import Rejected
from swarmlens.classifier.posts.sources import TelegramMessage, iter_raw
from swarmlens.classifier.posts.telegram import telegram_record, telegram_text
from swarmlens.classifier.posts.twitter import (
    twitter_v1_record,
    twitter_v2_includes,
    twitter_v2_record,
)

POSTS_DIR = Path(posts_package.__file__).parent


def v1_status(**extra: Any) -> dict[str, Any]:
    status: dict[str, Any] = {
        "id_str": "101",
        "id": 101,
        "text": "hello #Paris https://t.co/a @Someone",
        "lang": "en",
        "created_at": "Fri Nov 13 22:00:00 +0000 2015",
        "user": {"screen_name": "demo_a"},
        "in_reply_to_status_id_str": "99",
        "entities": {
            "hashtags": [{"text": "Paris"}, "junk"],
            "urls": [{"url": "https://t.co/a", "expanded_url": "https://example.org/x"}, {}],
            "user_mentions": [{"screen_name": "Someone"}],
        },
    }
    status.update(extra)
    return status


# -- Twitter v1.1 ----------------------------------------------------------------


def test_v1_status_to_flat_record() -> None:
    assert twitter_v1_record(v1_status(label="pro")) == {
        "id": "101",
        "text": "hello #Paris https://t.co/a @Someone",
        "lang": "en",
        "created_at": "Fri Nov 13 22:00:00 +0000 2015",
        "author": "demo_a",
        "retweet_of": None,
        "retweet_of_author": None,
        "reply_to": "99",
        "hashtags": ["Paris"],
        "urls": ["https://example.org/x"],
        "mentions": ["Someone"],
        "label": "pro",  # not a label swarmlens knows: validation's to reject, not the adapter's
        "platform": "twitter",
    }


def test_v1_extended_tweet_and_retweet_take_the_full_text() -> None:
    extended = v1_status(
        text="cut short…",
        extended_tweet={
            "full_text": "the whole text #Long",
            "entities": {"hashtags": [{"text": "Long"}]},
        },
    )
    flat = twitter_v1_record(extended)
    assert flat["text"] == "the whole text #Long" and flat["hashtags"] == ["Long"]
    assert flat["urls"] == [] and flat["mentions"] == []
    original = {"id": 7, "full_text": "original words", "user": {"screen_name": "orig"}}
    retweet = twitter_v1_record(v1_status(text="RT @orig: orig…", retweeted_status=original))
    assert retweet["text"] == "RT @orig: original words" and retweet["retweet_of"] == 7
    assert retweet["retweet_of_author"] == "orig"  # retweeted_status.user
    assert retweet["hashtags"] == []  # the original's entities, which it has none of


def test_v1_adapter_passes_bad_values_on_unvalidated() -> None:
    flat = twitter_v1_record({"id_str": None, "text": 5, "created_at": "yesterday"})
    assert flat["id"] is None and flat["text"] is None and flat["created_at"] == "yesterday"
    assert flat["author"] is None and flat["label"] is None
    assert twitter_v1_record({"id_str": "1", "swarmlens_label": "neutral"})["label"] == "neutral"


# -- Twitter v2 ------------------------------------------------------------------


def test_v2_tweet_to_flat_record_with_includes() -> None:
    page = {
        "data": [],
        "includes": {
            "users": [{"id": "u1", "username": "demo_a"}, {"id": "u2", "username": "demo_b"}],
            "tweets": [
                {
                    "id": "0",
                    "text": "the full original",
                    "author_id": "u1",
                    "entities": {
                        "hashtags": [{"tag": "Orig"}],
                        "urls": [{"url": "https://t.co/o", "expanded_url": "https://example.org/o"}],
                    },
                },
                "junk",
            ],
        },
    }
    users, tweets = twitter_v2_includes(page)
    assert users == {"u1": "demo_a", "u2": "demo_b"} and list(tweets) == ["0"]
    tweet = {
        "id": "1",
        "text": "RT @demo_a: the full…",
        "lang": "en",
        "author_id": "u2",
        "created_at": "2015-11-14T01:00:00.000Z",
        "referenced_tweets": [{"type": "retweeted", "id": "0"}, {"type": "replied_to", "id": "9"}],
        "entities": {
            "hashtags": [{"tag": "Paris"}],
            "urls": [{"url": "https://t.co/b", "expanded_url": "https://example.org/y"}],
            "mentions": [{"username": "demo_a"}],
        },
        "label": "neutral",
    }
    assert twitter_v2_record(tweet, users, tweets) == {
        "id": "1",
        "text": "RT @demo_a: the full original",
        "lang": "en",
        "created_at": "2015-11-14T01:00:00.000Z",
        "author": "demo_b",
        "retweet_of": "0",
        "retweet_of_author": "demo_a",
        "reply_to": "9",
        # A retweet's entities are its original's (its own are those of its cut text).
        "hashtags": ["Orig"],
        "urls": ["https://example.org/o"],
        "mentions": [],
        "label": "neutral",
        "platform": "twitter",
    }


def test_v2_note_tweet_unknown_author_and_non_object() -> None:
    flat = twitter_v2_record(
        {"id": 5, "text": "cut", "note_tweet": {"text": "long text"}, "author_id": "u9"}, {}, {}
    )
    assert flat["text"] == "long text" and flat["author"] == "u9" and flat["id"] == 5
    assert twitter_v2_includes({"data": [], "includes": "junk"}) == ({}, {})
    with pytest.raises(RecordError, match="expected a tweet object in 'data', got str"):
        twitter_v2_record("garbage", {}, {})


# -- Telegram ----------------------------------------------------------------------


def test_telegram_message_to_flat_record() -> None:
    message = {
        "id": 2,
        "type": "message",
        "date": "2015-11-13T23:05:00",
        "date_unixtime": "1447455900",
        "from": "someone",
        "reply_to_message_id": 1,
        "text": ["see ", {"type": "link", "text": "t.me/demo"}, 5, {"type": "bold"}],
        "label": "nope",
    }
    assert telegram_record(message, "chan") == {
        "id": "chan/2",
        "text": "see t.me/demo",
        "created_at": "1447455900",
        "author": "someone",
        "reply_to": "chan/1",
        "label": "nope",
        "platform": "telegram",
    }
    plain = telegram_record({"id": 3, "date": "2015-11-13T23:00:00", "text": "hi"}, "chan")
    assert plain["created_at"] == "2015-11-13T23:00:00" and plain["author"] == "chan"
    assert plain["reply_to"] is None and plain["text"] == "hi"


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ([1], "expected a message object"),
        ({"id": 1, "type": "service", "text": ""}, "Telegram service message, not a post"),
        ({"id": 1}, "missing 'text'"),
        ({"text": "x"}, "missing 'id'"),
        ({"id": 1, "text": 7}, "'text' must be a string or a list of parts, got int"),
    ],
)
def test_telegram_adapter_rejects_what_it_cannot_reshape(message: object, reason: str) -> None:
    with pytest.raises(RecordError) as caught:
        telegram_record(message, "chan")
    assert caught.value.message == reason


def test_telegram_text_forms() -> None:
    assert telegram_text("plain") == "plain"
    assert telegram_text([]) == ""
    with pytest.raises(RecordError):
        telegram_text(None)


# -- detection and wiring ----------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"data": [], "id_str": "1"}, "twitter_v2_page"),
        ({"id_str": "1", "text": "x"}, "twitter_v1"),
        ({"id": 1, "user": {"screen_name": "a"}, "entities": {}}, "twitter_v1"),
        ({"id": 1, "user": "a", "entities": {}}, "flat"),
        ({"id": "1", "text": "x", "data": "not a list"}, "flat"),
        ([1, 2], "flat"),
        ("text", "flat"),
    ],
)
def test_record_format(record: object, expected: str) -> None:
    assert record_format(record) == expected


def test_telegram_source_hands_messages_on_unadapted(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    messages = [{"id": 1, "text": "hi", "label": "nope"}, {"id": 2, "type": "service"}]
    path.write_text(json.dumps({"name": "chan", "id": 42, "messages": messages}))
    raw = list(iter_raw(path))
    assert raw == [
        (1, TelegramMessage("chan", messages[0])),
        (2, TelegramMessage("chan", messages[1])),
    ]
    # Payloads travel pickled to batch workers; decoding happens there.
    (line, payload), (line2, payload2) = (item for item in pickle.loads(pickle.dumps(raw)))
    [invalid] = decode(str(path), line, payload)
    [service] = decode(str(path), line2, payload2)
    assert isinstance(invalid, Rejected) and invalid.reason.startswith("unknown label 'nope'")
    # As before the modules were split: a message that fails validation is kept as flat record.
    assert json.loads(invalid.raw)["id"] == "chan/1"
    assert isinstance(service, Rejected) and json.loads(service.raw) == messages[1]
    assert (invalid.line, service.line) == (1, 2)


def test_only_the_wiring_imports_validation() -> None:
    # The flow is one way: sources and adapters never reach forward into post.py
    # or back into the wiring.
    for name in ("sources", "twitter", "telegram", "rejects"):
        tree = ast.parse((POSTS_DIR / f"{name}.py").read_text())
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        assert not {m for m in imported if m and m.endswith(("posts.post", "posts.readers"))}, name


# Every name other modules imported from ``readers`` before the split.
READERS_NAMES = [
    "Payload",
    "ReadPosition",
    "ReadStats",
    "Rejected",
    "RejectsFile",
    "SUPPORTED_SUFFIXES",
    "Post",
    "decode",
    "expand_inputs",
    "iter_raw",
    "iter_source",
    "open_binary",
    "post_from_record",
    "read_posts",
    "record_to_posts",
    "telegram_record",
    "telegram_text",
    "twitter_v1_record",
    "twitter_v2_record",
]


def test_public_names_stay_importable() -> None:
    for name in READERS_NAMES:
        assert getattr(readers, name) is getattr(posts_package, name)
    for name in ("Post", "format_time", "parse_time", "post_from_record", "normalize_label"):
        assert getattr(post_module, name) is getattr(posts_package, name)
