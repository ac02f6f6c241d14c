"""API shapes written one record per line read exactly as the same records in a JSON document.

The shapes are those the platforms' APIs return (VKontakte ``wall.get`` items, Twitter
v1.1 statuses, Twitter v2 pages with their ``includes`` and filtered-stream lines); the
texts are hand-written and non-violent. Each file is scored by a real ``swarmlens score``
process to every kind of output (``.jsonl``, ``.parquet``, a directory), and every field
of every post must equal what the same records give when read from a JSON document.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.support.processes import swarmlens

pytestmark = pytest.mark.integration

# VKontakte wall.get items (fields as the API returns them, version 5.131).
VK_ITEMS: list[dict[str, Any]] = [
    {
        "id": 1164,
        "owner_id": 1563369,
        "from_id": 1563369,
        "date": 1447452000,
        "post_type": "post",
        "text": "Solidarity with Paris tonight #PrayForParis https://www.news.example/a?utm_source=vk",
        "attachments": [
            {"type": "link", "link": {"url": "https://news.example/story", "title": "t"}}
        ],
        "comments": {"count": 3, "can_post": 1},
        "likes": {"count": 10, "user_likes": 0},
        "reposts": {"count": 1},
        "views": {"count": 530},
    },
    {
        "id": 1165,
        "owner_id": 1563369,
        "from_id": 88,
        "date": 1447455600,
        "post_type": "post",
        "text": "",
        "copy_history": [
            {
                "id": 77,
                "owner_id": -106879986,
                "from_id": -106879986,
                "date": 1447450000,
                "post_type": "post",
                "text": "Les hashtags #ParisEnFlammes sont inondés de messages de paix",
            }
        ],
    },
]

# Twitter API v1.1 statuses (extended mode), an original and its retweet.
V1_ORIGINAL: dict[str, Any] = {
    "created_at": "Sat Nov 14 01:00:00 +0000 2015",
    "id": 665314322005327872,
    "id_str": "665314322005327872",
    "full_text": "Flooding #ParisIsBurning with cat pictures https://t.co/abc",
    "truncated": False,
    "entities": {
        "hashtags": [{"text": "ParisIsBurning", "indices": [9, 24]}],
        "symbols": [],
        "user_mentions": [],
        "urls": [{"url": "https://t.co/abc", "expanded_url": "https://cats.example/p/1",
                  "display_url": "cats.example/p/1", "indices": [43, 59]}],
    },
    "user": {"id": 42, "id_str": "42", "screen_name": "counter_voice", "name": "Counter"},
    "in_reply_to_status_id": None,
    "in_reply_to_status_id_str": None,
    "lang": "en",
}
V1_STATUSES: list[dict[str, Any]] = [
    V1_ORIGINAL,
    {
        "created_at": "Sat Nov 14 01:05:00 +0000 2015",
        "id": 665315580006764545,
        "id_str": "665315580006764545",
        "full_text": "RT @counter_voice: Flooding #ParisIsBurning with cat pictures https://t.co/abc",
        "entities": {"hashtags": [], "symbols": [], "urls": [],
                     "user_mentions": [{"screen_name": "counter_voice", "id_str": "42"}]},
        "user": {"id": 43, "id_str": "43", "screen_name": "reader_b"},
        "retweeted_status": V1_ORIGINAL,
        "lang": "en",
    },
]

# A Twitter API v2 search page and a filtered-stream line.
V2_PAGE: dict[str, Any] = {
    "data": [
        {
            "id": "1300000000000000001",
            "text": "RT @news_desk: Live updates from Paris #Paris",
            "author_id": "2",
            "created_at": "2015-11-14T02:00:00.000Z",
            "lang": "en",
            "referenced_tweets": [{"type": "retweeted", "id": "1300000000000000000"}],
            "entities": {"hashtags": [{"start": 39, "end": 45, "tag": "Paris"}],
                         "mentions": [{"start": 3, "end": 13, "username": "news_desk", "id": "1"}]},
        }
    ],
    "includes": {
        "users": [{"id": "1", "username": "news_desk", "name": "News"},
                  {"id": "2", "username": "reader_c", "name": "C"}],
        "tweets": [{"id": "1300000000000000000", "author_id": "1",
                    "text": "Live updates from Paris #Paris",
                    "created_at": "2015-11-14T01:58:00.000Z"}],
    },
    "meta": {"result_count": 1, "newest_id": "1300000000000000001"},
}
V2_STREAM_LINE: dict[str, Any] = {
    "data": {"id": "1300000000000000002", "text": "Thinking of everyone in Paris #PrayForParis",
             "author_id": "3", "created_at": "2015-11-14T03:00:00.000Z", "lang": "en"},
    "includes": {"users": [{"id": "3", "username": "reader_d"}]},
    "matching_rules": [{"id": "1", "tag": "paris"}],
}



def flat_lines(first: int, n: int = 300) -> list[dict[str, Any]]:
    """Flat records to put around API lines, so the columnar lane really runs on the file
    (integer ids, as the API lines have: one type per column, so Arrow parses it whole)."""
    return [{"id": first + i, "text": f"Flat post {i} #Paris",
             "created_at": "2015-11-14T04:00:00Z"} for i in range(n)]


COMPARED = ["post_id", "platform", "lang", "created_at", "hashtags", "hashtag_forms", "urls",
            "domains", "mentions", "author", "retweet_of", "retweet_of_author", "reply_to",
            "label", "scores"]


def _jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    return path


def _rows(out: Path) -> dict[str, dict[str, Any]]:
    if out.suffix == ".jsonl":  # JSON lines round scores to 6 decimals, Parquet keeps them
        rows = [json.loads(line) for line in out.read_text().splitlines()]
    else:
        files = [out] if out.suffix == ".parquet" else sorted(out.glob("day=*/*.parquet"))
        rows = pq.read_table(files).to_pylist()
        for row in rows:
            moment = row["created_at"]
            row["created_at"] = None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    for row in rows:
        row["scores"] = {label: round(p, 6) for label, p in row["scores"].items()}
    return {row["post_id"]: {k: row.get(k) for k in COMPARED} for row in rows}


def _score(inputs: list[Path], out: Path, env: dict[str, str]) -> dict[str, dict[str, Any]]:
    swarmlens(["score", *map(str, inputs), "--out", str(out)], env)
    return _rows(out)


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory, shared_env: dict[str, str]) -> dict:
    """The expected rows: every shape read from its JSON document."""
    folder = tmp_path_factory.mktemp("shapes-documents")
    (folder / "vk.json").write_text(json.dumps({"response": {"count": 2, "items": VK_ITEMS}}))
    (folder / "v1.json").write_text(json.dumps(V1_STATUSES))
    (folder / "v2.json").write_text(json.dumps(V2_PAGE))
    return _score([folder], folder / "expected.jsonl", shared_env)


@pytest.mark.parametrize("output", ["scored.jsonl", "scored.parquet", "scored"])
def test_api_lines_read_as_their_documents(
    output: str, documents: dict, shared_env: dict[str, str], tmp_path: Path
) -> None:
    # One file per shape, each line between flat lines (one API shape per file is what
    # crawls write, and what once sent VK items down the flat lane).
    files = []
    for first, (name, records) in enumerate(
        (("vk", VK_ITEMS), ("v1", V1_STATUSES), ("v2", [V2_PAGE]))
    ):
        flat = flat_lines(first * 10_000)
        files.append(_jsonl(tmp_path / f"{name}.jsonl", [*flat[:150], *records, *flat[150:]]))
    got = _score(files, tmp_path / output, shared_env)
    for post_id, expected in documents.items():
        assert got[post_id] == expected, post_id
    # The bug this guards: VK items taken for flat records ('1164', no author or date).
    assert got["1563369_1164"]["author"] == "1563369"
    assert got["1563369_1165"]["retweet_of"] == "-106879986_77"
    assert got["1563369_1164"]["platform"] == "vkontakte"
    assert "1164" not in got and len(got) == 3 * 300 + 5


def test_v2_stream_lines_are_tweets(shared_env: dict[str, str], tmp_path: Path) -> None:
    stream = _jsonl(tmp_path / "stream.jsonl", [V2_STREAM_LINE, *flat_lines(50_000, 10)])
    got = _score([stream], tmp_path / "scored.jsonl", shared_env)
    tweet = got["1300000000000000002"]
    assert tweet["author"] == "reader_d" and tweet["platform"] == "twitter"
    assert tweet["hashtags"] == ["prayforparis"] and tweet["created_at"].startswith("2015-11-14T03")
