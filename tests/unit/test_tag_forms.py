"""Hashtags are shown as people spell them: the spellings kept beside the keys, and the
most frequent one chosen in SQL (``analytics.tag_forms``)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from swarmlens.classifier.analytics import datasets, queries, tag_forms
from swarmlens.classifier.posts.columnar import decode_batch, posts_table
from swarmlens.classifier.posts.post import post_from_record
from swarmlens.classifier.text import entities
from swarmlens.classifier.vocab import OUTPUT_SCHEMA

ARABIC = "الدولة_الإسلامية_تضرب_فرنسا"  # ends in ta marbuta (ة), which the key folds to ha


def test_the_spelling_is_the_tag_as_first_written() -> None:
    text = f"عاجل #{ARABIC} #ParisIsBurning #parisisburning ＃Ｔａｇ"
    keys, _, _, forms = entities.extract_all(text)
    assert keys == ["الدولهالاسلاميهتضربفرنسا", "parisisburning", "tag"]
    # Ta marbuta, hamza and underscores kept; the first of two spellings of one key; NFKC.
    assert forms == [ARABIC, "ParisIsBurning", "Tag"]
    assert entities.tagged("#b #A #a") == {"b": "b", "a": "A"}


def test_post_keeps_spellings_of_text_and_source_tags() -> None:
    post = post_from_record(
        {"id": "1", "text": "#ParisIsBurning now", "hashtags": ["#PrayForParis", "parisisburning",
                                                                "#", "بـاريس"]}
    )
    assert post.hashtags == ["parisisburning", "prayforparis", "باريس"]
    assert post.hashtag_forms == ["ParisIsBurning", "PrayForParis", "بـاريس"]


def test_both_scoring_paths_give_the_same_spellings() -> None:
    records = [
        {"id": "1", "text": f"#{ARABIC} و #ParisIsBurning", "lang": "ar"},
        {"id": "2", "text": "#parisisburning #ParisIsBurning x #Paris_Is_Burning", "lang": "en"},
        {"id": "3", "text": "nothing here", "lang": "en"},
    ]
    items = [(i + 1, json.dumps(r, ensure_ascii=False).encode() + b"\n")
             for i, r in enumerate(records)]
    batch = decode_batch("x.jsonl", items)
    assert batch.vectorised == len(records)
    per_record = posts_table([post_from_record(r) for r in records])
    assert batch.table.column("hashtag_forms").to_pylist() == [
        [ARABIC, "ParisIsBurning"], ["parisisburning"], []]
    assert batch.table.to_pylist() == per_record.to_pylist()


def _write(path: Path, rows: list[tuple[str, list[str], list[str] | None]], forms: bool) -> str:
    schema = OUTPUT_SCHEMA if forms else pa.schema(
        [f for f in OUTPUT_SCHEMA if f.name != tag_forms.FORMS_COLUMN])
    table = pa.table(
        {
            "post_id": [r[0] for r in rows],
            "label": ["neutral"] * len(rows),
            "scores": [{"supportive": 0.1, "opposing": 0.1, "neutral": 0.8}] * len(rows),
            "hashtags": [r[1] for r in rows],
            "created_at": pa.array([1_447_500_000_000_000] * len(rows), pa.int64()).cast(
                pa.timestamp("us", tz="UTC")),
            "lang": ["en"] * len(rows),
            **({"hashtag_forms": [r[2] for r in rows]} if forms else {}),
        }
    )
    for f in schema:
        if f.name not in table.column_names:
            table = table.append_column(f.name, pa.nulls(len(rows), f.type))
    pq.write_table(table.select(schema.names).cast(schema), path)
    return datasets.parquet_source([path])


def test_most_frequent_spelling_wins_and_ties_are_deterministic(tmp_path: Path) -> None:
    rows = [
        ("1", ["parisisburning", "k"], ["parisisburning", "b"]),
        ("2", ["parisisburning", "k"], ["ParisIsBurning", "a"]),
        ("3", ["parisisburning"], ["ParisIsBurning"]),
        ("4", ["الدولهالاسلاميه"], ["الدولة_الاسلامية"]),
        ("5", ["الدولهالاسلاميه"], ["الدوله_الاسلاميه"]),
        ("6", ["الدولهالاسلاميه"], ["الدولة_الاسلامية"]),
        ("7", ["k"], None),  # a row without spellings counts for none
    ]
    source = _write(tmp_path / "s.parquet", rows, forms=True)
    top = {r["hashtag"]: r["display"] for r in queries.top_hashtags(source, limit=5)}
    # 2 of 3 'ParisIsBurning'; the Arabic spelling with ta marbuta, 2 of 3; 'k' tied 1-1:
    # the first in code point order ('a' < 'b'), whatever order the rows come in.
    assert top == {"parisisburning": "ParisIsBurning", "الدولهالاسلاميه": "الدولة_الاسلامية",
                   "k": "a"}
    reversed_source = _write(tmp_path / "r.parquet", rows[::-1], forms=True)
    con = queries.connect()
    assert tag_forms.displays(con, tag_forms.form_counts(reversed_source), ["k", "none"]) == {
        "k": "a", "none": "none"}


def test_a_dataset_without_spellings_shows_its_keys(tmp_path: Path) -> None:
    source = _write(tmp_path / "old.parquet", [("1", ["parisisburning"], None)], forms=False)
    (row,) = queries.top_hashtags(source)
    assert (row["hashtag"], row["display"], row["total"]) == ("parisisburning", "parisisburning", 1)


def test_the_store_counts_spellings_at_attach_and_fills_an_older_store(tmp_path: Path) -> None:
    from swarmlens.serve.store import Store

    new = tmp_path / "new"
    new.mkdir()
    _write(new / "p.parquet", [("1", ["parisisburning"], ["ParisIsBurning"]),
                               ("2", ["parisisburning"], ["parisisburning"]),
                               ("3", ["parisisburning"], ["ParisIsBurning"])], forms=True)
    old = tmp_path / "old"
    old.mkdir()
    _write(old / "p.parquet", [("9", ["prayforparis"], None)], forms=False)
    store = Store(tmp_path / "db")
    store.attach(new)
    store.attach(old)  # a dataset scored before spellings were kept still attaches

    def shown(s: Store) -> dict[str, str]:
        return tag_forms.displays(s.cursor(), s.tag_forms(), ["parisisburning", "prayforparis"])

    assert shown(store) == {"parisisburning": "ParisIsBurning", "prayforparis": "prayforparis"}
    # A store from before the spellings: its datasets are counted once when it opens.
    store.cursor().execute("DROP TABLE agg_tag_forms")
    store.close()
    reopened = Store(tmp_path / "db")
    assert shown(reopened)["parisisburning"] == "ParisIsBurning"
    ids = {d["path"]: d["id"] for d in reopened.datasets()}
    reopened.detach(ids[str(new.resolve())])
    assert shown(reopened)["parisisburning"] == "parisisburning"
    reopened.close()
