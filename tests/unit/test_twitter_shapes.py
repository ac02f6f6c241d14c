"""Twitter payloads in the shapes public archives have, read field by field.

The fixtures (``tests/fixtures/twitter``) follow the API's own field shapes, texts
hand-written and non-violent: a v1.1 search response (an original, its retweet, a photo
tweet whose only t.co wrapper is its photo, a reply), a v2 page with its ``includes``
(a retweet whose original is included, one whose original is missing and whose text is
cut mid-hashtag, a photo, a reply, a long ``note_tweet``), v2 filtered-stream lines as
``twarc2 stream`` writes them, and the same page as ``twarc2 flatten`` writes it. Each is
read as a JSON document and one record per line, plain and gzip, by the per-record
reader and by the columnar lane, which must agree.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from swarmlens.classifier.posts.columnar import posts_table, read_batches
from swarmlens.classifier.posts.post import Post, format_time, post_from_record
from swarmlens.classifier.posts.readers import Rejected, iter_source, record_to_posts
from swarmlens.classifier.posts.shapes import record_format
from swarmlens.classifier.posts.twitter import twitter_v2_record, twitter_v2_tweet_record

FIXTURES = Path(__file__).parents[1] / "fixtures" / "twitter"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def fixture_lines(name: str) -> list[Any]:
    return [json.loads(line) for line in (FIXTURES / name).read_text().splitlines()]


# Every field of every post, by post id. ``urls`` are normalised (tracking parameters
# dropped); ``hashtags`` are canonical keys.
V1 = {
    "665314322005327872": {
        "author": "counter_voice", "created_at": "2015-11-14T01:00:00Z", "retweet_of": None,
        "retweet_of_author": None, "reply_to": None, "urls": ["https://cats.example/p/1"],
        "hashtags": ["parisisburning"], "mentions": [],
    },
    "665320000000000001": {
        "author": "city_fan", "created_at": "2015-11-14T01:22:33Z",
        "retweet_of": "665314322005327872", "retweet_of_author": "counter_voice",
        "reply_to": None, "urls": ["https://cats.example/p/1"],
        "hashtags": ["parisisburning"], "mentions": ["counter_voice"],
    },
    "665330000000000002": {  # its only t.co wrapper is its photo: no link
        "author": "snap_shooter", "created_at": "2015-11-14T02:00:00Z", "retweet_of": None,
        "retweet_of_author": None, "reply_to": None, "urls": [], "hashtags": ["paris"],
        "mentions": [],
    },
    "665340000000000003": {
        "author": "city_fan", "created_at": "2015-11-14T02:30:00Z", "retweet_of": None,
        "retweet_of_author": None, "reply_to": "665314322005327872", "urls": [],
        "hashtags": ["parisisburning"], "mentions": ["counter_voice"],
    },
}
GARDEN = {
    "author": "garden_notes", "created_at": "2021-11-14T09:00:00Z", "retweet_of": None,
    "retweet_of_author": None, "reply_to": None, "urls": ["https://garden.example/open-day"],
    "hashtags": ["greenlyon", "jardins"], "mentions": [],
}
RETWEET = {  # the original's expanded link, not the retweet's own t.co wrapper
    "author": "lyon_walker", "created_at": "2021-11-14T09:05:00Z",
    "retweet_of": "1460000000000000001", "retweet_of_author": "garden_notes",
    "reply_to": None, "urls": ["https://garden.example/open-day"],
    "hashtags": ["greenlyon", "jardins"], "mentions": ["garden_notes"],
}
V2 = {
    "1460000000000000001": GARDEN,
    "1460000000000000011": RETWEET,
    "1460000000000000012": {  # original missing: author from 'RT @ghost_acct:'
        "author": "river_watch", "created_at": "2021-11-14T09:10:00Z",
        "retweet_of": "1460000000000000099", "retweet_of_author": "ghost_acct",
        "reply_to": None, "urls": [], "hashtags": ["riverwalk"],  # no 're' from '#Re…'
        "mentions": ["ghost_acct"],
    },
    "1460000000000000021": {  # a photo: its t.co wrapper (a URL entity with a media_key)
        "author": "quiet_reader", "created_at": "2021-11-14T10:00:00Z", "retweet_of": None,
        "retweet_of_author": None, "reply_to": None, "urls": [], "hashtags": ["lyon"],
        "mentions": [],
    },
    "1460000000000000031": {
        "author": "quiet_reader", "created_at": "2021-11-14T10:30:00Z", "retweet_of": None,
        "retweet_of_author": None, "reply_to": "1460000000000000001", "urls": [],
        "hashtags": ["greenlyon"], "mentions": ["garden_notes"],
    },
    "1460000000000000041": {  # the long text and links of its note_tweet
        "author": "garden_notes", "created_at": "2021-11-14T11:00:00Z", "retweet_of": None,
        "retweet_of_author": None, "reply_to": None, "urls": ["https://garden.example/compost"],
        "hashtags": ["greenlyon"], "mentions": [],
    },
}
STREAM = {
    "1460000000000000001": GARDEN,
    "1460000000000000011": RETWEET,
    "1460000000000000013": {  # original missing, text cut in a URL
        "author": "lyon_walker", "created_at": "2021-11-14T12:00:00Z",
        "retweet_of": "1460000000000000098", "retweet_of_author": "ghost_acct",
        "reply_to": None, "urls": [], "hashtags": [],  # no 'https://t' from 'https://t…'
        "mentions": ["ghost_acct"],
    },
}


def check(posts: list[Post], expected: dict[str, dict[str, Any]]) -> None:
    assert [p.post_id for p in posts] == list(expected)
    for post in posts:
        got = {**post.to_dict(), "created_at": format_time(post.created_at)}
        want = expected[post.post_id]
        assert {k: got[k] for k in want} == want, post.post_id
        assert post.platform == "twitter"


def read_both(path: Path) -> list[Post]:
    """Posts of ``path`` by the per-record reader; the columnar lane must give the same."""
    items = list(iter_source(path))
    assert [i for i in items if isinstance(i, Rejected)] == []
    posts = [i for i in items if isinstance(i, Post)]
    batches = [batch for _, batch in read_batches([path], size=3)]
    assert all(not batch.rejects for batch in batches)
    rows = [row for batch in batches for row in batch.table.to_pylist()]
    assert rows == posts_table(posts).to_pylist()
    return posts


def write(path: Path, text: str, gz: bool) -> Path:
    data = text.encode()
    path = path.with_name(path.name + ".gz") if gz else path
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def lines(records: list[Any]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


# -- v1.1 search responses ------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
def test_v1_search_response_as_document_and_lines(tmp_path: Path, gz: bool) -> None:
    response = fixture("v1_search.json")
    statuses = response["statuses"]
    halves = [{**response, "statuses": statuses[:2]}, {**response, "statuses": statuses[2:]}]
    forms = {
        "search.json": json.dumps(response),  # the response as the API returns it
        "responses.jsonl": lines(halves),  # one response a line, as a crawler stores pages
        "statuses.jsonl": lines(statuses),  # one status a line
        "statuses.json": json.dumps(statuses),  # an array of statuses
    }
    for name, text in forms.items():
        check(read_both(write(tmp_path / name, text, gz)), V1)


def test_v1_search_document_names_each_status_by_its_position(tmp_path: Path) -> None:
    response = fixture("v1_search.json")
    response["statuses"].insert(1, "not a status")
    items = list(iter_source(write(tmp_path / "search.json", json.dumps(response), False)))
    [reject] = [i for i in items if isinstance(i, Rejected)]
    assert (reject.line, reject.reason) == (2, "expected a status object in 'statuses', got str")
    assert [i.post_id for i in items if isinstance(i, Post)] == list(V1)
    assert record_format(response) == "twitter_v1_search"
    assert record_format({"statuses": None, "id": "1", "text": "x"}) == "flat"


def test_v1_photo_wrapper_is_no_link_but_a_status_without_entities_keeps_its_links() -> None:
    photo = fixture("v1_search.json")["statuses"][2]
    assert "https://t.co/Ph0toWrap1" in photo["full_text"]
    [post] = record_to_posts(photo, "s", 1)
    assert isinstance(post, Post) and post.urls == [] and post.domains == []
    bare = {key: value for key, value in photo.items()
            if key not in ("entities", "extended_entities")}
    [post] = record_to_posts(bare, "s", 1)  # no entities said: the text's links are all we have
    assert isinstance(post, Post) and post.urls == ["https://t.co/Ph0toWrap1"]


# -- v2 pages, stream lines and twarc2 flattened lines --------------------------------


@pytest.mark.parametrize("gz", [False, True])
def test_v2_page_as_document_and_lines(tmp_path: Path, gz: bool) -> None:
    page = fixture("v2_page.json")
    for name, text in {"page.json": json.dumps(page), "pages.jsonl": lines([page]),
                       "pages.json": json.dumps([page])}.items():
        posts = read_both(write(tmp_path / name, text, gz))
        check(posts, V2)
        assert posts[2].text.endswith("#Re…")


@pytest.mark.parametrize("gz", [False, True])
def test_v2_stream_lines_as_lines_and_documents(tmp_path: Path, gz: bool) -> None:
    stream = fixture_lines("v2_stream.jsonl")
    check(read_both(write(tmp_path / "stream.jsonl", lines(stream), gz)), STREAM)
    check(read_both(write(tmp_path / "stream.json", json.dumps(stream), gz)), STREAM)
    one = read_both(write(tmp_path / "one.json", json.dumps(stream[1]), gz))
    check(one, {"1460000000000000011": RETWEET})


@pytest.mark.parametrize("gz", [False, True])
def test_twarc2_flattened_lines_as_lines_and_document(tmp_path: Path, gz: bool) -> None:
    flat = fixture_lines("twarc2_flat.jsonl")
    assert all(record_format(t) == "twitter_v2_tweet" for t in flat)
    check(read_both(write(tmp_path / "flat.jsonl", lines(flat), gz)), V2)
    check(read_both(write(tmp_path / "flat.json", json.dumps(flat), gz)), V2)


def test_twarc2_lines_mixed_with_flat_records_keep_their_shape(tmp_path: Path) -> None:
    # Arrow parses a file of flattened lines as one table: their rows must never be read
    # as flat records (the author a dict's text, retweets without retweet_of).
    flat = fixture_lines("twarc2_flat.jsonl")
    plain = [{"id": f"p{i}", "text": f"plain words {i}", "author": "someone"} for i in range(6)]
    posts = read_both(write(tmp_path / "mixed.jsonl", lines(flat + plain), False))
    by_id = {p.post_id: p for p in posts}
    assert by_id["1460000000000000011"].author == "lyon_walker"
    assert by_id["1460000000000000011"].retweet_of == "1460000000000000001"
    assert by_id["p0"].author == "someone"


def test_v2_retweet_takes_the_originals_entities_over_its_own() -> None:
    page = fixture("v2_page.json")
    users = {u["id"]: u["username"] for u in page["includes"]["users"]}
    tweets = {t["id"]: t for t in page["includes"]["tweets"]}
    flat = twitter_v2_record(page["data"][1], users, tweets)
    assert flat["urls"] == ["https://garden.example/open-day"]  # not its own t.co wrapper
    assert flat["hashtags"] == ["GreenLyon", "Jardins"] and flat["mentions"] == []
    assert flat["text"].startswith("RT @garden_notes: Community garden")


def test_a_cut_retweet_passes_on_no_entity_reaching_the_cut() -> None:
    page = fixture("v2_page.json")
    tags = twitter_v2_record(page["data"][2], {}, {})
    assert [h["tag"] for h in page["data"][2]["entities"]["hashtags"]] == ["RiverWalk", "Re"]
    assert tags["hashtags"] == ["RiverWalk"] and tags["mentions"] == ["ghost_acct"]
    assert tags["retweet_of"] == "1460000000000000099" and tags["retweet_of_author"] is None
    link = fixture_lines("v2_stream.jsonl")[2]["data"]
    assert [u["url"] for u in link["entities"]["urls"]] == ["https://t"]
    assert twitter_v2_record(link, {}, {})["urls"] == []
    # The same tweet whole (no '…'): its entities stand.
    whole = {**link, "text": link["text"].removesuffix("…")}
    assert twitter_v2_record(whole, {}, {})["urls"] == ["https://t"]
    # twarc2 leaves a missing original empty ({type, id}): the same rule.
    flat = fixture_lines("twarc2_flat.jsonl")[2]
    assert flat["referenced_tweets"] == [{"type": "retweeted", "id": "1460000000000000099"}]
    assert twitter_v2_tweet_record(flat)["hashtags"] == ["RiverWalk"]


def test_twarc2_referenced_tweet_nested_under_tweet_is_read_too() -> None:
    flat = fixture_lines("twarc2_flat.jsonl")[1]
    [ref] = flat["referenced_tweets"]
    nested = {**flat, "referenced_tweets": [{"type": ref["type"], "id": ref["id"], "tweet": {
        k: v for k, v in ref.items() if k not in ("type", "id")} | {"id": ref["id"]}}]}
    assert twitter_v2_tweet_record(nested) == twitter_v2_tweet_record(flat)
    record = twitter_v2_tweet_record(flat)
    assert (record["author"], record["retweet_of_author"]) == ("lyon_walker", "garden_notes")


def test_v2_tweet_shape_needs_its_markers() -> None:
    assert record_format({"id": "1", "text": "x", "author_id": "9", "entities": {}}) == (
        "twitter_v2_tweet")
    assert record_format({"id": "1", "text": "x", "author_id": "9",
                          "referenced_tweets": []}) == "twitter_v2_tweet"
    assert record_format({"id": "1", "text": "x", "author_id": "9"}) == "flat"  # a CSV row
    assert record_format({"id": "1", "text": "x", "__twarc": {"version": "2"}}) == (
        "twitter_v2_tweet")
    assert record_format({"post_id": "1", "text": "x", "author_id": "9"}) == "flat"
    assert record_format({"id": "1", "text": "x", "author": {"username": "a"}}) == "flat"


# -- retweet edges from text ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "handle"),
    [
        ("RT @city_fan: a plain retweet", "city_fan"),
        ("RT @city_fan a retweet as old clients wrote it", "city_fan"),
        ("RT @José_1: non-ASCII handle", "José_1"),
        ("RT @a\u00a0b", "a"),  # a no-break space ends a handle too
        ("RT @city_fan", None),  # nothing after the handle: not the prefix
        ("RT @" + "h" * 51 + ": too long", None),
        ("rt @city_fan: lower case", None),
        ("Agreed. RT @city_fan: quoted mid-text", None),
    ],
)
def test_rt_prefix_names_the_retweeted_author_without_retweet_of(
    tmp_path: Path, text: str, handle: str | None
) -> None:
    post = post_from_record({"id": "1", "text": text, "author": "me"})
    assert post.retweet_of_author == handle and post.retweet_of is None
    # The columnar lane (flat JSON lines, vectorised) finds the same.
    path = write(tmp_path / "texts.jsonl", lines([{"id": "1", "text": text, "author": "me"}] * 70),
                 False)
    [(_, batch)] = read_batches([path])
    assert batch.vectorised == 70
    assert set(batch.table.column("retweet_of_author").to_pylist()) == {handle}
