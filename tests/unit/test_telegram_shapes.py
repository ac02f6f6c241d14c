"""Telegram Desktop exports, single-chat and full-account, read field by field.

The fixtures (``tests/fixtures/telegram``) follow what Telegram Desktop's JSON export
writes (``export_output_json.cpp``): a single chat's ``result.json`` is the chat itself
(``name``, ``type``, ``id``, ``messages``); "Export Telegram data" writes the account's
``result.json`` with every chat under ``chats.list`` (and the chats left under
``left_chats.list``). Messages carry ``from`` / ``from_id``, ``forwarded_from``,
``reply_to_message_id``, ``text`` (a string, or a list of parts when there are entities)
and ``text_entities``. Texts are hand-written and non-violent.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from swarmlens.classifier.posts.columnar import read_batches
from swarmlens.classifier.posts.post import Post, post_from_record
from swarmlens.classifier.posts.readers import Rejected, iter_source
from swarmlens.classifier.posts.sources import TelegramMessage, iter_raw
from swarmlens.classifier.posts.telegram import telegram_links, telegram_record
from tests.support.shapes import FIELDS, read_fields

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "telegram"

def _row(post_id: str, author: str, created_at: str, retweet_of_author: str | None = None,
         reply_to: str | None = None, urls: tuple[str, ...] = (),
         hashtags: tuple[str, ...] = ()) -> dict[str, Any]:
    # A forward names who was forwarded, never which message: retweet_of stays unknown.
    return {"post_id": post_id, "author": author, "created_at": created_at,
            "retweet_of": None, "retweet_of_author": retweet_of_author,
            "reply_to": reply_to, "urls": list(urls), "hashtags": list(hashtags),
            "platform": "telegram"}


JOIN = "https://cleanup.example/join"
EXPECTED: dict[str, list[dict[str, Any]]] = {
    "single_chat.json": [
        # A text_link shows words; its href is the URL ('www.' and utm_source normalised).
        _row("Demo Channel/2", "Demo Channel", "2015-11-13T22:10:00+00:00",
             urls=("https://report.example/peace",), hashtags=("prayforparis",)),
        _row("Demo Channel/3", "Demo Channel", "2015-11-13T22:20:00+00:00",
             retweet_of_author="Other News", hashtags=("paris",)),
        _row("Demo Channel/4", "Demo Channel", "2015-11-13T22:30:00+00:00",
             reply_to="Demo Channel/2", urls=("https://photos.example/vigil",)),
    ],
    "full_export.json": [
        _row("Demo Channel/2", "Demo Channel", "2020-03-01T12:00:00+00:00",
             urls=(JOIN,), hashtags=("cleanup",)),
        # 'from' null (a deleted account): its from_id, not the chat's name.
        _row("Neighbourhood Help/2", "user666", "2020-03-01T12:05:00+00:00",
             hashtags=("cleanup",)),
        _row("Neighbourhood Help/3", "Maria", "2020-03-01T12:10:00+00:00",
             retweet_of_author="Demo Channel", urls=(JOIN,), hashtags=("cleanup",)),
        _row("Neighbourhood Help/4", "Sam", "2020-03-01T12:15:00+00:00",
             reply_to="Neighbourhood Help/2"),
        # Saved messages have no name: the chat's id names them.
        _row("4242/7", "Alex Example", "2020-03-02T09:00:00+00:00"),
        # Chats left are exported too, under left_chats.
        _row("Old Book Club/2", "Lena", "2019-05-05T18:00:00+00:00"),
    ],
}


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_export_reads_every_field(name: str, gzipped: bool, tmp_path: Path) -> None:
    data = (FIXTURES / name).read_bytes()
    path = tmp_path / "result.json"
    path.write_bytes(gzip.compress(data) if gzipped else data)
    posts, rejects = read_fields(path)
    assert posts == EXPECTED[name]
    assert [r.reason for r in rejects] == ["Telegram service message, not a post"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_scoring_lane_reads_the_export_alike(name: str) -> None:
    rows = []
    for _, batch in read_batches([FIXTURES / name], size=2):
        rows += batch.table.to_pylist()
    for row in rows:
        row["created_at"] = row["created_at"].isoformat()
    assert [{k: row[k] for k in FIELDS} for row in rows] == EXPECTED[name]


def test_full_export_streams_every_chat_with_its_name() -> None:
    raw = list(iter_raw(FIXTURES / "full_export.json"))
    chats = [payload.channel for _, payload in raw if isinstance(payload, TelegramMessage)]
    assert chats == ["Demo Channel", *["Neighbourhood Help"] * 4, "4242", "Old Book Club"]
    assert [line for line, _ in raw] == list(range(1, 8))  # positions run over the file
    # Contacts and the account's own data are no messages.
    assert all(isinstance(p, TelegramMessage) and "type" in p.message for _, p in raw)


def test_full_export_with_a_non_object_message(tmp_path: Path) -> None:
    export = {"about": "x", "chats": {"about": "y", "list": [
        {"name": "A", "type": "private_group", "id": 1, "messages": [
            "stray", {"id": 5, "type": "message", "date_unixtime": "1583064000",
                      "from": "Bo", "from_id": "user9", "text": "Hello #Garden"}]},
        {"type": "private_group", "id": 2, "messages": []},
    ]}}
    path = tmp_path / "result.json"
    path.write_text(json.dumps(export))
    stray, post = iter_source(path)
    assert isinstance(stray, Rejected) and stray.reason == "expected a message object"
    assert isinstance(post, Post) and post.post_id == "A/5" and post.author == "Bo"


def test_chats_of_the_same_name_keep_their_posts_apart(tmp_path: Path) -> None:
    def chat(chat_id: int, text: str) -> dict[str, Any]:
        return {"name": "News", "type": "public_channel", "id": chat_id, "messages": [
            {"id": 1, "type": "message", "date_unixtime": "1583064000", "from": "Ed",
             "from_id": f"channel{chat_id}", "text": text}]}

    export = {"chats": {"list": [chat(11, "First #Garden"), chat(22, "Second"),
                                 chat(11, "First again")]}}
    path = tmp_path / "result.json"
    path.write_text(json.dumps(export))
    posts = [p for p in iter_source(path) if isinstance(p, Post)]
    # the first chat keeps the name a single-chat export of it would give
    assert [p.post_id for p in posts] == ["News/1", "News#22/1", "News/1"]


def test_text_links_from_either_entity_list() -> None:
    link = {"type": "text_link", "text": "here", "href": "https://a.example/x"}
    # Only text_entities (a plain string text beside it).
    message = {"id": 1, "text": "read here", "date_unixtime": "1583064000",
               "text_entities": [{"type": "plain", "text": "read "}, link]}
    assert telegram_links(message) == ["https://a.example/x"]
    # Only text (exports before text_entities existed), and both: each href once.
    assert telegram_links({"text": ["read ", link]}) == ["https://a.example/x"]
    assert telegram_links({**message, "text": ["read ", link]}) == ["https://a.example/x"]
    post = post_from_record(telegram_record(message, "chan"))
    assert post.urls == ["https://a.example/x"] and post.text == "read here"
    # A shown URL is found in the text; no href, no extra URL.
    assert telegram_links({"text": [{"type": "link", "text": "b.example"}]}) == []


def test_authors_and_forwards() -> None:
    base = {"id": 9, "type": "message", "date_unixtime": "1583064000", "text": "hi"}
    assert telegram_record({**base, "from": None, "from_id": "user1"}, "chan")["author"] == "user1"
    assert telegram_record({**base, "from": "Ann", "from_id": "user1"}, "chan")["author"] == "Ann"
    assert telegram_record(base, "chan")["author"] == "chan"  # a channel post, no sender
    forward = telegram_record({**base, "from": "Ann", "forwarded_from": "News"}, "chan")
    assert forward["retweet_of_author"] == "News" and "retweet_of" not in forward
    hidden = telegram_record({**base, "from": "Ann", "forwarded_from": None,
                              "forwarded_from_id": "channel7"}, "chan")
    assert hidden["retweet_of_author"] == "channel7"
    assert "retweet_of_author" not in telegram_record(base, "chan")
