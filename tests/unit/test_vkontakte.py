"""VKontakte posts, and the network's fields of a post: normalised URLs, retweeted authors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swarmlens.classifier.errors import RecordError
from swarmlens.classifier.posts.post import Post, post_from_record
from swarmlens.classifier.posts.readers import Rejected, iter_source
from swarmlens.classifier.posts.vkontakte import vk_record
from swarmlens.classifier.text.entities import normalize_url

# Hand-written, non-violent sample items in the shape of the VK API's wall.get.
ORIGINAL = {
    "id": 101,
    "owner_id": -777,
    "from_id": -777,
    "date": 1447452000,
    "text": "Solidarity with Paris tonight #PrayForParis",
    "attachments": [
        {"type": "link", "link": {"url": "https://www.news.example/story?utm_source=vk"}},
        {"type": "photo", "photo": {"id": 5}},
    ],
}
REPOST = {
    "id": 55,
    "owner_id": 123,
    "from_id": 123,
    "date": 1447452600,
    "text": "",
    "copy_history": [ORIGINAL],
}
OWN_WORDS = {**REPOST, "id": 56, "text": "Read this, friends https://example.org/more"}


def test_vk_item_to_flat_record() -> None:
    flat = vk_record(ORIGINAL)
    assert flat["id"] == "-777_101" and flat["author"] == "-777"
    assert flat["platform"] == "vkontakte" and flat["created_at"] == 1447452000
    assert flat["retweet_of"] is None and flat["urls"] == [
        "https://www.news.example/story?utm_source=vk"
    ]


def test_vk_repost_is_a_retweet_with_the_reposted_text() -> None:
    post = post_from_record(vk_record(REPOST))
    assert post.post_id == "123_55" and post.author == "123"
    assert post.retweet_of == "-777_101" and post.retweet_of_author == "-777"
    assert post.text == ORIGINAL["text"] and post.hashtags == ["prayforparis"]
    assert post.urls == ["https://news.example/story"]  # the reposted item's link, normalised
    assert post.created_at is not None and post.created_at.isoformat().startswith("2015-11-13T22")
    own = post_from_record(vk_record(OWN_WORDS))
    assert own.text == OWN_WORDS["text"] and own.retweet_of == "-777_101"
    assert own.urls == ["https://news.example/story", "https://example.org/more"]


def test_vk_bad_items_are_rejected() -> None:
    with pytest.raises(RecordError):
        vk_record("not an object")
    with pytest.raises(RecordError):
        vk_record({"owner_id": 1, "date": 1})


def test_wall_get_response_document(tmp_path: Path) -> None:
    path = tmp_path / "wall.json"
    response = {"response": {"count": 3, "items": [ORIGINAL, REPOST, 7]}}
    path.write_text(json.dumps(response))
    items = list(iter_source(path))
    posts = [i for i in items if isinstance(i, Post)]
    assert [p.post_id for p in posts] == ["-777_101", "123_55"]
    assert all(p.platform == "vkontakte" for p in posts)
    (reject,) = [i for i in items if isinstance(i, Rejected)]
    assert reject.line == 3 and "VK post" in reject.reason


def test_vk_items_as_jsonl_and_responses_per_line(tmp_path: Path) -> None:
    path = tmp_path / "vk.jsonl"
    newsfeed = {"response": {"items": [OWN_WORDS], "next_from": "x", "count": 1}}
    lines = [json.dumps(ORIGINAL), json.dumps(REPOST), json.dumps(newsfeed)]
    path.write_text("\n".join(lines) + "\n")
    posts = list(iter_source(path))
    assert [p.post_id for p in posts if isinstance(p, Post)] == ["-777_101", "123_55", "123_56"]
    assert posts[1].retweet_of == "-777_101"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("justpaste.it/abc", "https://justpaste.it/abc"),
        ("http://WWW.Example.org/A/?utm_source=tw&id=3#top", "https://example.org/A?id=3"),
        ("https://example.org/", "https://example.org"),
        ("https://example.org:443/x?fbclid=zz", "https://example.org/x"),
        ("http://example.org:8080/x", "https://example.org:8080/x"),
        (
            "https://web.archive.org/web/20151113/http://justpaste.it/abc",
            "https://web.archive.org/web/20151113/http://justpaste.it/abc",
        ),
        ("https://t.co/AbC", "https://t.co/AbC"),
    ],
)
def test_urls_are_normalised(given: str, expected: str) -> None:
    assert normalize_url(given) == expected


def test_post_keeps_the_network_fields() -> None:
    post = post_from_record(
        {
            "id": "9",
            "text": "RT @Demo_Hub: see www.example.org/x?utm_medium=a and @other",
            "retweet_of": "8",
            "reply_to": 7,
        }
    )
    assert post.retweet_of_author == "Demo_Hub"  # from the classic 'RT @handle:' prefix
    assert post.urls == ["https://example.org/x"] and post.reply_to == "7"
    assert post.mentions == ["demo_hub", "other"]
    given = post_from_record(
        {"id": "9", "text": "RT @a: x", "retweet_of": "8", "retweet_of_author": "b"}
    )
    assert given.retweet_of_author == "b"  # what the source says wins
    plain = post_from_record({"id": "9", "text": "RT @a: not marked as a retweet"})
    assert plain.retweet_of_author == "a"  # the prefix alone names it (issue 22, item 3)
    assert plain.retweet_of is None
    assert post_from_record({"id": "9", "text": "no RT @a: prefix"}).retweet_of_author is None
