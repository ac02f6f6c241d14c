"""Readers: every format, gzip, and every kind of bad input (rejected, never fatal)."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from swarmlens.classifier.errors import InputError, RecordError
from swarmlens.classifier.posts.post import Post, parse_time, post_from_record
from swarmlens.classifier.posts.readers import (
    ReadStats,
    Rejected,
    RejectsFile,
    expand_inputs,
    iter_source,
    read_posts,
)


def write_lines(path: Path, lines: list[str], gz: bool = False) -> Path:
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def split(items: list[Post | Rejected]) -> tuple[list[Post], list[Rejected]]:
    return [i for i in items if isinstance(i, Post)], [i for i in items if isinstance(i, Rejected)]


def test_flat_jsonl_with_bad_lines(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "a.jsonl",
        [
            json.dumps(
                {
                    "id": "1",
                    "text": "#ParisIsBurning x",
                    "lang": "en",
                    "created_at": "2015-11-13T21:30:00Z",
                    "label": "supportive",
                }
            ),
            "{not json",
            json.dumps([1, 2]),
            json.dumps({"id": "3"}),
            json.dumps({"text": "no id"}),
            "",
            json.dumps({"post_id": 4, "text": "", "created_at": 1447450200}),
            json.dumps({"id": "5", "text": "x", "created_at": "yesterday"}),
            json.dumps({"id": "6", "text": "x", "label": "pro"}),
        ],
    )
    posts, rejects = split(list(iter_source(path)))
    assert [p.post_id for p in posts] == ["1", "4"]
    assert posts[0].hashtags == ["parisisburning"] and posts[0].label == "supportive"
    assert posts[1].created_at == parse_time("2015-11-13T21:30:00Z")
    assert [(r.line, r.reason.split()[0]) for r in rejects] == [
        (2, "not"),
        (3, "expected"),
        (4, "missing"),
        (5, "missing"),
        (8, "'created_at':"),
        (9, "unknown"),
    ]
    assert rejects[0].raw == "{not json" and rejects[0].source == str(path)


def test_invalid_utf8_is_kept_with_replacement(tmp_path: Path) -> None:
    path = tmp_path / "b.jsonl"
    path.write_bytes(b'{"id": "1", "text": "caf\xe9 #x"}\n')
    posts, rejects = split(list(iter_source(path)))
    assert not rejects and posts[0].text == "caf\ufffd #x"


def test_truncated_gzip_keeps_rows_before_damage(tmp_path: Path) -> None:
    lines = [json.dumps({"id": str(i), "text": f"post {i} " + "x" * 200}) for i in range(2000)]
    data = gzip.compress(("\n".join(lines) + "\n").encode())
    path = tmp_path / "t.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    posts, rejects = split(list(iter_source(path)))
    assert 0 < len(posts) < 2000
    assert [p.post_id for p in posts] == [str(i) for i in range(len(posts))]
    assert len(rejects) == 1 and "truncated" in rejects[0].reason
    assert rejects[0].line >= len(posts)


def test_gzip_detected_by_content(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "c.jsonl", [json.dumps({"id": "1", "text": "hi"})], gz=True)
    assert [p.post_id for p in iter_source(path)] == ["1"]


def test_twitter_v1_status_with_retweet(tmp_path: Path) -> None:
    original = {
        "id_str": "100",
        "full_text": "Paris is burning #ParisIsBurning https://t.co/a",
        "user": {"screen_name": "demo_orig"},
        "created_at": "Fri Nov 13 21:40:00 +0000 2015",
        "entities": {
            "hashtags": [{"text": "ParisIsBurning"}],
            "urls": [{"url": "https://t.co/a", "expanded_url": "https://justpaste.it/z"}],
            "user_mentions": [],
        },
    }
    retweet = {
        "id_str": "101",
        "text": "RT @demo_orig: Paris is bur…",
        "lang": "en",
        "user": {"screen_name": "demo_rt"},
        "created_at": "Fri Nov 13 22:00:00 +0000 2015",
        "entities": {"hashtags": [], "urls": [], "user_mentions": [{"screen_name": "demo_orig"}]},
        "retweeted_status": original,
    }
    path = write_lines(tmp_path / "v1.jsonl", [json.dumps(original), json.dumps(retweet)])
    first, second = list(iter_source(path))
    assert isinstance(second, Post) and second.platform == "twitter"
    assert second.text.startswith("RT @demo_orig: Paris is burning")
    assert second.retweet_of == "100" and second.author == "demo_rt"
    assert "justpaste.it" in first.domains and first.hashtags == ["parisisburning"]
    assert second.created_at.isoformat() == "2015-11-13T22:00:00+00:00"


def test_twitter_v2_page(tmp_path: Path) -> None:
    page = {
        "data": [
            {
                "id": "1",
                "text": "RT @demo_a: short",
                "author_id": "u2",
                "created_at": "2015-11-14T01:00:00.000Z",
                "referenced_tweets": [{"type": "retweeted", "id": "0"}],
            },
            {
                "id": "2",
                "text": "reply #JeSuisParis",
                "author_id": "u1",
                "referenced_tweets": [{"type": "replied_to", "id": "1"}],
                "entities": {"hashtags": [{"tag": "JeSuisParis"}]},
            },
            "garbage",
        ],
        "includes": {
            "users": [{"id": "u1", "username": "demo_a"}, {"id": "u2", "username": "demo_b"}],
            "tweets": [{"id": "0", "text": "the full original text", "author_id": "u1"}],
        },
    }
    path = tmp_path / "v2.json"
    path.write_text(json.dumps(page))
    posts, rejects = split(list(iter_source(path)))
    assert posts[0].text == "RT @demo_a: the full original text" and posts[0].retweet_of == "0"
    assert posts[0].author == "demo_b"
    assert posts[1].reply_to == "1" and posts[1].hashtags == ["jesuisparis"]
    assert len(rejects) == 1


def test_telegram_export_both_text_forms(tmp_path: Path) -> None:
    export = {
        "name": "demo_channel",
        "type": "public_channel",
        "id": 42,
        "messages": [
            {
                "id": 1,
                "type": "message",
                "date": "2015-11-13T23:00:00",
                "date_unixtime": "1447455600",
                "from": "demo_channel",
                "text": "plain text #باريس_تحترق",
            },
            {
                "id": 2,
                "type": "message",
                "date": "2015-11-13T23:05:00",
                "reply_to_message_id": 1,
                "text": [
                    "see ",
                    {"type": "link", "text": "t.me/demo"},
                    " ",
                    {"type": "hashtag", "text": "#ParisEnFeu"},
                ],
            },
            {"id": 3, "type": "service", "action": "pin_message"},
        ],
    }
    path = tmp_path / "result.json"
    path.write_text(json.dumps(export, ensure_ascii=False))
    posts, rejects = split(list(iter_source(path)))
    assert [p.post_id for p in posts] == ["demo_channel/1", "demo_channel/2"]
    assert posts[0].created_at.isoformat() == "2015-11-13T23:00:00+00:00"
    assert posts[0].hashtags == ["باريستحترق"] and posts[0].platform == "telegram"
    assert posts[1].text == "see t.me/demo #ParisEnFeu" and posts[1].reply_to == "demo_channel/1"
    assert posts[1].domains == ["t.me"]
    assert len(rejects) == 1 and rejects[0].line == 3


def test_csv_and_csv_with_other_columns(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text(
        'id,text,lang,label\n1,"hello, #World",en,neutral\n2,second,,\n3,"a","b","c","d"\n'
    )
    posts, rejects = split(list(iter_source(good)))
    assert [(p.post_id, p.label) for p in posts] == [("1", "neutral"), ("2", None)]
    assert posts[0].hashtags == ["world"]
    assert len(rejects) == 1 and "more fields" in rejects[0].reason
    other = tmp_path / "other.csv"
    other.write_text("tweet_id,body\n1,hello\n2,world\n")
    posts, rejects = split(list(iter_source(other)))
    assert not posts and len(rejects) == 2
    assert "lacks column(s) text, id or post_id" in rejects[0].reason


def test_parquet(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"post_id": ["1", "2"], "text": ["hello there", None]}), path)
    posts, rejects = split(list(iter_source(path)))
    assert [p.post_id for p in posts] == ["1"] and rejects[0].line == 2


def test_unreadable_file_and_empty_dir(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "locked.jsonl", [json.dumps({"id": "1", "text": "x"})])
    os.chmod(path, 0)
    if os.access(path, os.R_OK):  # running as root: simulate with a directory-named file
        path.chmod(0o644)
        path = tmp_path / "dir.jsonl"
        path.mkdir()
    items = list(iter_source(path))
    assert len(items) == 1 and isinstance(items[0], Rejected)
    assert "cannot be read" in items[0].reason
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="holds no input file"):
        expand_inputs([empty])
    with pytest.raises(InputError, match="does not exist"):
        expand_inputs([tmp_path / "nope.jsonl"])
    with pytest.raises(InputError, match="matches no file"):
        expand_inputs([str(tmp_path / "*.csv")])


def test_read_posts_counts_and_rejects_file(tmp_path: Path) -> None:
    write_lines(
        tmp_path / "in" / "a.jsonl" if (tmp_path / "in").mkdir() is None else tmp_path,
        [json.dumps({"id": "1", "text": "x"}), "oops", json.dumps({"id": "2", "text": "y"})],
    )
    stats = ReadStats()
    with RejectsFile(tmp_path / "rejects.jsonl") as sink:
        posts = list(read_posts([tmp_path / "in"], sink, stats))
    assert len(posts) == 2
    assert (stats.read, stats.accepted, stats.rejected) == (3, 2, 1)
    lines = (tmp_path / "rejects.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["line"] == 2 and json.loads(lines[0])["raw"] == "oops"


def test_post_from_record_validation() -> None:
    with pytest.raises(RecordError, match="'text' must be a string"):
        post_from_record({"id": "1", "text": 5})
    with pytest.raises(RecordError, match="'post_id' must be"):
        post_from_record({"id": [1], "text": "x"})
    post = post_from_record({"id": "1", "text": "x" * 200_000 + "\ud800"})
    assert len(post.text) == 100_000
    assert post_from_record({"id": 1, "text": "hi", "platform": "Myspace"}).platform == "other"
