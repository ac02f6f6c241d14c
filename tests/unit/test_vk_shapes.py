"""VKontakte payloads in every shape the API returns, read field by field.

The fixtures (``tests/fixtures/vk``) are written in the exact shapes of the API's answers
(version 5.131, as VkNet's test data has them) with hand-written, non-violent texts:
``wall.get``, ``wall.getById`` in both of its response forms, ``newsfeed.search``,
``newsfeed.get`` (items named by ``source_id`` + ``post_id``, and items that are no
posts), ``wall.getComments`` (a comment with a reply in its thread, a deleted one) and a
bare ``{"count": N, "items": [...]}``. Each must read to the same posts whether it comes
as the JSON document, the whole response on one JSON line, or one item per line; plain
or gzip; by the per-record reader and by the scoring lane (``columnar.read_batches``).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from swarmlens.classifier.errors import RecordError
from swarmlens.classifier.posts.columnar import read_batches
from swarmlens.classifier.posts.readers import Rejected, iter_source
from swarmlens.classifier.posts.shapes import MARKER_KEYS, record_format, vk_response_items
from swarmlens.classifier.posts.vkontakte import vk_comment_record, vk_feed_record, vk_record
from tests.support.shapes import FIELDS, read_fields

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vk"

def _row(post_id: str, author: str, created_at: str, retweet_of: str | None = None,
         retweet_of_author: str | None = None, reply_to: str | None = None,
         urls: tuple[str, ...] = (), hashtags: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"post_id": post_id, "author": author, "created_at": created_at,
            "retweet_of": retweet_of, "retweet_of_author": retweet_of_author,
            "reply_to": reply_to, "urls": list(urls), "hashtags": list(hashtags),
            "platform": "vkontakte"}


VIGIL = "https://news.example/paris-vigil"  # 'www.' and utm_source go in normalisation
MEET = "https://volunteers.example/meet"
CONCERT = "https://events.example/park-concert"

EXPECTED: dict[str, list[dict[str, Any]]] = {
    "wall_get.json": [
        _row("-106879986_1164", "-106879986", "2015-11-13T22:00:00+00:00",
             urls=(VIGIL,), hashtags=("prayforparis",)),
        # A repost adding no words: the reposted item's text, links and author.
        _row("1563369_2001", "1563369", "2015-11-13T23:00:00+00:00",
             retweet_of="-106879986_1164", retweet_of_author="-106879986",
             urls=(VIGIL,), hashtags=("prayforparis",)),
        # A signed community post: the community posted it (signer_id is not from_id).
        _row("-106879986_1165", "-106879986", "2015-11-14T00:00:00+00:00",
             urls=(MEET,), hashtags=("помощь",)),
    ],
    "wall_getById_list.json": [
        _row("1_617", "1", "2007-02-18T00:31:39+00:00", hashtags=("hello",)),
        _row("-106879986_1165", "-106879986", "2015-11-14T00:00:00+00:00",
             urls=(MEET,), hashtags=("помощь",)),
    ],
    "wall_getById_items.json": [
        _row("1_617", "1", "2007-02-18T00:31:39+00:00", hashtags=("hello",)),
    ],
    "newsfeed_search.json": [
        _row("388444282_11454", "388444282", "2019-08-02T21:05:00+00:00",
             urls=("https://books.example/drive",), hashtags=("помощь",)),
        _row("-30022666_77", "-30022666", "2019-08-02T22:05:00+00:00", hashtags=("помощь",)),
    ],
    "newsfeed_get.json": [
        _row("-106879986_32860", "-106879986", "2017-05-18T08:03:19+00:00",
             urls=(CONCERT,), hashtags=("музыка",)),
        _row("361347484_2399", "361347484", "2017-05-18T09:03:19+00:00",
             retweet_of="-106879986_32860", retweet_of_author="-106879986",
             urls=(CONCERT,), hashtags=("музыка",)),
    ],
    "wall_getComments.json": [
        _row("-69459624_482124", "287979664", "2019-03-21T14:59:56+00:00",
             reply_to="-69459624_482121"),
        # The reply in the first comment's thread is a post too.
        _row("-69459624_482130", "197900038", "2019-03-21T15:05:00+00:00",
             reply_to="-69459624_482121", urls=("https://library.example/guide",)),
        _row("-69459624_482418", "197900038", "2019-03-22T05:12:17+00:00",
             reply_to="-69459624_482121", urls=("https://debate.example/views",),
             hashtags=("диалог",)),
    ],
    "bare_items.json": [
        _row("-4242_501", "712", "2020-09-13T12:26:40+00:00", hashtags=("история",)),
        _row("-4242_502", "-4242", "2020-09-13T13:26:40+00:00",
             urls=("https://video.example/lesson-1",)),
    ],
}

REJECTED: dict[str, list[str]] = {
    "newsfeed_get.json": ["VK newsfeed item of type 'wall_photo', not a post",
                          "VK newsfeed item of type 'friend', not a post"],
    "wall_getComments.json": ["deleted VK item: nothing to read"],
}


def _document(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _write(path: Path, data: bytes, gzipped: bool) -> Path:
    path.write_bytes(gzip.compress(data) if gzipped else data)
    return path


def _lines(records: list[Any]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_document_reads_every_field(name: str) -> None:
    posts, rejects = read_fields(FIXTURES / name)
    assert posts == EXPECTED[name]
    assert [r.reason for r in rejects] == REJECTED.get(name, [])


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_form_reads_as_the_document(name: str, gzipped: bool, tmp_path: Path) -> None:
    document = _document(name)
    items = vk_response_items(document)
    forms = {
        # The document itself (gzip detected by content, whatever the name says).
        "doc.json": json.dumps(document, ensure_ascii=False).encode(),
        # A crawl storing each response on one line.
        "responses.jsonl": _lines([document, document]),  # twice: read twice, same posts
        # A crawl storing each item on one line.
        "items.jsonl": _lines(items),
    }
    for form, data in forms.items():
        posts, _ = read_fields(_write(tmp_path / form, data, gzipped))
        expected = EXPECTED[name] * 2 if form == "responses.jsonl" else EXPECTED[name]
        assert posts == expected, form


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_scoring_lane_reads_items_among_flat_lines(name: str, tmp_path: Path) -> None:
    # The columnar lane parses the whole block with Arrow; rows in a VK shape must go per
    # record (never read as flat: '1164', no author), in file order among the flat rows.
    flat = [{"id": f"flat-{i}", "text": f"Flat post {i} #Paris",
             "created_at": "2015-11-14T04:00:00Z"} for i in range(40)]
    items = vk_response_items(_document(name))
    path = _write(tmp_path / "mixed.jsonl", _lines([*flat[:20], *items, *flat[20:]]), True)
    rows = []
    for _, batch in read_batches([path], size=16):
        rows += batch.table.to_pylist()
    got = [row for row in rows if not row["post_id"].startswith("flat-")]
    for row in got:
        row["created_at"] = row["created_at"].isoformat()
    assert [{k: row[k] for k in FIELDS} for row in got] == EXPECTED[name]
    assert [row["post_id"] for row in rows][:20] == [f"flat-{i}" for i in range(20)]


def test_each_item_shape_is_recognised_by_a_marker() -> None:
    wall = _document("wall_get.json")["response"]["items"][0]
    feed = _document("newsfeed_get.json")["response"]["items"]
    comment = _document("wall_getComments.json")["response"]["items"][0]
    cases = [
        (wall, "vkontakte"),
        (feed[0], "vk_feed_item"),
        (feed[2], "vk_feed_item"),  # a wall_photo item: recognised, then rejected
        (comment, "vk_comment"),
        (_document("wall_get.json"), "vk_response"),
        (_document("wall_getById_list.json"), "vk_response"),
        (_document("bare_items.json"), "vk_response"),
    ]
    for record, kind in cases:
        assert record_format(record) == kind
        assert any(record.get(key) is not None for key in MARKER_KEYS[kind])
    # Flat records that only look like VK items stay flat.
    assert record_format({"post_id": "x", "owner_id": 1, "id": 2, "date": 3}) == "flat"
    assert record_format({"id": 1, "source_id": "feed", "text": "t"}) == "flat"
    assert record_format({"id": 1, "items": [], "text": "t"}) == "flat"  # no 'count'


def test_two_comments_of_one_post_are_two_posts() -> None:
    first, _, second = _document("wall_getComments.json")["response"]["items"]
    a, b = vk_comment_record(first), vk_comment_record(second)
    assert (a["id"], b["id"]) == ("-69459624_482124", "-69459624_482418")
    assert a["reply_to"] == b["reply_to"] == "-69459624_482121"
    assert (a["author"], b["author"]) == ("287979664", "197900038")
    assert (a["created_at"], b["created_at"]) == (1553180396, 1553231537)


def test_newsfeed_get_post_is_named_by_its_source() -> None:
    item = _document("newsfeed_get.json")["response"]["items"][0]
    flat = vk_feed_record(item)
    assert flat["id"] == "-106879986_32860" and flat["author"] == "-106879986"
    assert flat["created_at"] == 1495094599 and flat["platform"] == "vkontakte"
    # A from_id, when an item gives one, names who posted.
    assert vk_feed_record({**item, "from_id": 55})["author"] == "55"
    with pytest.raises(RecordError, match="lacks 'source_id' or 'post_id'"):
        vk_feed_record({"type": "post", "source_id": 1, "date": 2})


def test_old_comments_without_an_owner_are_rejected_not_read_flat(tmp_path: Path) -> None:
    # wall.getComments before API 5.8x named no wall: no post id can be made. In a VK
    # response such items are rejected one by one, never read as flat records '3809'.
    response = {"response": {"count": 2, "items": [
        {"id": 3809, "from_id": 6733856, "date": 1385099144, "text": "С праздником!",
         "likes": {"count": 1}},
        {"id": 3810, "from_id": 3073863, "date": 1385101266, "text": "Поздравляем!"},
    ]}}
    for path in (tmp_path / "old.json", tmp_path / "old.jsonl"):
        path.write_text(json.dumps(response, ensure_ascii=False))
        items = list(iter_source(path))
        assert all(isinstance(i, Rejected) for i in items) and len(items) == 2
        assert items[0].reason == "VK post lacks 'owner_id' or 'id'"
    with pytest.raises(RecordError, match="deleted VK item"):
        vk_record({"id": 1, "owner_id": 2, "date": 3, "deleted": True})
    with pytest.raises(RecordError, match="expected a VK comment object"):
        vk_comment_record([1])
