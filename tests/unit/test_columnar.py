"""The columnar scoring path gives exactly what the per-record definitions give.

Each vectorised part has a per-record definition it must agree with: ``entities.extract``
(entity lists), ``post_from_record`` via ``readers.decode`` (posts and rejects),
``linear.features`` @ weights (decision scores), the unfiltered Arrow steps (prepare).
"""

from __future__ import annotations

import json
import unicodedata
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swarmlens.classifier.batch.jsonl import jsonl_bytes, jsonl_lines
from swarmlens.classifier.batch.scoring import score_table
from swarmlens.classifier.model import fused
from swarmlens.classifier.model.fused import decision_scores
from swarmlens.classifier.model.linear import features
from swarmlens.classifier.posts.columnar import decode_batch, posts_table
from swarmlens.classifier.posts.readers import decode
from swarmlens.classifier.posts.rejects import Rejected
from swarmlens.classifier.text import entities, entity_columns, normalize
from swarmlens.classifier.text import prepare as prep
from swarmlens.classifier.vocab import LABELS, OUTPUT_SCHEMA

_PIECES = [
    "#Paris", "#باريس_تشتعل", "＃Ｐａｒｉｓ", "#2015", "a#b", "&#39;", "@demo_user", "@User:",
    "a@b.com", "@@x", "http://t.co/x1Y", "https://justpaste.it/abc.", "HTTPS://Ex.COM:80/x",
    "www.example.org", "www..", "w\u200bww.x.com/a", "pic.twitter.com/AbC", "archive.org/d/x",
    "x.co.uk/a", "(https://a.b/c)", "https://ünï.com/x", "https://u@h.com/p", "ｗｗｗ.x.com/a",
    "﹟tag", "\uff20handle", "Paris", "بَارِيسُ", "Москва", "🔥", " ", "  ", "\t", "\n", "\u00a0",
    "\u3000", "\u2028", "\x1c", "\x1f", "\u200d", "«", "»", "/", "#", "@", "www",
    "#ParisIsBurning", "#parisisburning", "#Paris_Is_Burning", "#الدولة_الإسلامية", "#الدوله",
    "“", "…", "¥",
    # what truncation leaves of links and tags, and hosts with and without a domain
    "https://", "https://t", "https://t.c", "https://t.co", "https://t.co/", "HTTP://T.CO/",
    "https://t…", "https://t.co/Ab…", "https://x.com/a...", "#Re…", "...", ".", "\u2025.",
    "http://1.2.3.4/x", "http://localhost/x", "www.x", "www.ab.cd/", "https://xn--p1ai.xn--p1ai/",
    "https://пример.рф/", "https://a.b_c/", "t.co/", "www.t.co", "https://x.com:8/a?b",
    "WWW.AA://0", "www.ab:8//x", "x.co:/a",
]
# Texts cut short: a truncated link or tag (or a whole one) before the text's end.
_CUT_ENDS = ["…", "...", "…\u200b", "… \u200b", ".", "‥.", "…\u200b.."]
TEXT = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(_PIECES), max_size=14).map("".join),
    st.lists(st.sampled_from(_PIECES), max_size=14).map(" ".join),
    st.tuples(st.lists(st.sampled_from(_PIECES), max_size=6).map(" ".join),
              st.sampled_from(["", " "]), st.sampled_from(_PIECES), st.sampled_from(_CUT_ENDS),
              st.sampled_from(["", " ", "\n"])).map("".join),
)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _expected_entities(text: str) -> tuple[list[str], ...]:
    tags, urls, mentions, forms = entities.extract_all(text)
    assert (tags, urls, mentions) == entities.extract(text)
    return tags, urls, entities.domains(urls), mentions, forms


@FAST
@given(texts=st.lists(TEXT, min_size=1, max_size=8))
def test_entity_columns_equal_extract(texts: list[str]) -> None:
    texts = [t.encode("utf-8", "replace").decode("utf-8") for t in texts]
    columns = entity_columns.extract_columns(pa.array(texts, pa.string()))
    normalized = entity_columns.normalized_url_lists(columns[1])
    posts = entity_columns.post_entity_columns(pa.array(texts, pa.string()))
    for i, text in enumerate(texts):
        got = tuple(column[i].as_py() for column in columns)
        assert got == _expected_entities(text), text
        assert normalized[i].as_py() == entities.normalize_urls(got[1]), text
        assert posts["urls"][i].as_py() == normalized[i].as_py()
        assert [posts[k][i].as_py() for k in ("hashtags", "domains", "mentions",
                                              "hashtag_forms")] == [*got[:1], *got[2:]]


@FAST
@given(urls=st.lists(st.one_of(
    st.sampled_from(["https://www.Ex.COM/a/", "http://x.org", "justpaste.it/AbC", "www.x.com/",
                     "https://x.com//", "https://x.com/a?utm_source=t&id=1#top",
                     "https://x.com:8080/p", "https://u@x.com/p", "HTTP://WWW.X.COM./P/",
                     "a.it/x://y", "https://./x", "https://ünï.com/x", "https://x.com/%7E/",
                     "https://web.archive.org/web/2015/http://justpaste.it/Ab/", "x.co/a@b:c",
                     "x.co/a:b", "http://x.co/@u:1/"]),
    st.text(alphabet="htps:/w.xcom-_?#=&%AB@", max_size=30)), max_size=6))
def test_normalized_urls_equal_normalize_url(urls: list[str]) -> None:
    lists = pa.array([urls, [], urls[::-1]], pa.list_(pa.string()))
    got = entity_columns.normalized_url_lists(lists).to_pylist()
    assert got == [entities.normalize_urls(u) for u in (urls, [], urls[::-1])]


_TRUNCATED = [
    # (text, hashtags, urls): texts cut short by Twitter, as real archives hold them
    ("Aleppo with hundreds of cluster bombs.. #Syria https://t.co…", ["syria"], []),
    ("joined IS\n\nhttps://t.…", [], []),
    ("#Ramadi #ISIS\nhttps://…", ["ramadi", "isis"], []),
    ("in Mt. dakwah https://t…", [], []),
    ("#Aleppo https://t.co/KL…", ["aleppo"], []),
    ("تقبله الله -\nhttps://t.co/bPnUkE4uBS https://t.c…", [], ["https://t.co/bPnUkE4uBS"]),
    ("investigation https://t.co/… ", [], []),
    ("suicide attack on #Haswah…", [], []),
    ("#Haswah is falling…", ["haswah"], []),
    ("the #Syria… story #Syria…", ["syria"], []),
    ("read https://x.com/story...", [], []),
    ("read https://x.com/story... now", [], ["https://x.com/story"]),
    ("https://www.reuters.com/a/b-c\u00a0…", [], ["https://www.reuters.com/a/b-c"]),
    ("two https://t.co/aw1FdjLqj4 …", [], ["https://t.co/aw1FdjLqj4"]),
    ("cut #Ma…\u200b", [], []),
    ("bare https://t.co and https://t.co/ and https://t.c", [], []),
    ("#Paris...", ["paris"], []),  # only '…' cuts a tag: '...' after a tag is a writer's
]


@pytest.mark.parametrize(("text", "tags", "urls"), _TRUNCATED)
def test_truncated_links_and_tags_are_no_entities(
    text: str, tags: list[str], urls: list[str]
) -> None:
    assert _expected_entities(text)[:2] == (tags, urls)
    columns = entity_columns.extract_columns(pa.array(["x", text, text + " tail"]))
    assert [columns[0][1].as_py(), columns[1][1].as_py()] == [tags, urls]
    assert tuple(c[2].as_py() for c in columns) == _expected_entities(text + " tail")


def test_entity_columns_on_nulls_and_empty_batches() -> None:
    columns = entity_columns.extract_columns(pa.array([None, "", "#A #a @b"], pa.string()))
    assert [c.to_pylist() for c in columns] == [[[], [], ["a"]], [[], [], []], [[], [], []],
                                               [[], [], ["b"]], [[], [], ["A"]]]
    assert all(len(c) == 0 for c in entity_columns.extract_columns(pa.array([], pa.string())))


def test_entity_characters_are_every_character_cleaning_can_turn_into_one() -> None:
    found = [
        cp for cp in range(0x110000)
        if not 0xD800 <= cp < 0xE000
        and any(ch in unicodedata.normalize("NFKC", chr(cp)) for ch in "#@/wW")
    ]
    assert sorted(entity_columns.ENTITY_CHAR_CODES) == found


def test_words_are_cut_at_str_isspace_whitespace() -> None:
    """``entity_columns._words`` cuts at every character ``str.isspace`` calls whitespace,
    and no other, inside a text and at its end."""
    every = [chr(cp) for cp in range(0x110000) if not 0xD800 <= cp < 0xE000]
    spaces = [ch for ch in every if ch.isspace()]
    for texts, cut in (
        (pc.binary_join_element_wise("a", pa.array(every), "b", ""), [["a", "b"]]),
        (pc.binary_join_element_wise("a", pa.array(every), ""), [["a"]]),
    ):
        words = entity_columns._words(texts).to_pylist()
        assert [ch for ch, w in zip(every, words, strict=True) if w in cut] == spaces


@pytest.mark.parametrize("after", [b"", b"\x00", b"x", b"\x80", b"\xc2", b"\xe2\x80", b"\xff" * 8])
def test_words_do_not_depend_on_the_bytes_after_a_text(after: bytes) -> None:
    # Arrow's utf8_split_whitespace reads past the end of a text that ends in whitespace.
    for text in ("a \x1f", "#x\u3000", "ab\n", "\u2028", "a\u2028 \n", "a b"):
        data = text.encode()
        arr = pa.Array.from_buffers(pa.string(), 1, [
            None, pa.py_buffer(np.array([0, len(data)], np.int32)), pa.py_buffer(data + after)])
        assert [w for w in entity_columns._words(arr)[0].as_py() if w] == text.split()


@FAST
@given(texts=st.lists(TEXT, min_size=1, max_size=8))
def test_words_are_str_split(texts: list[str]) -> None:
    texts = [t.encode("utf-8", "replace").decode("utf-8") for t in texts]
    words = entity_columns._words(pa.array(texts, pa.string())).to_pylist()
    assert [[word for word in row if word] for row in words] == [t.split() for t in texts]


def test_nfkc_is_skipped_only_where_it_changes_nothing() -> None:
    every = pa.array([chr(cp) for low, high in prep._NFKC_SAFE_RANGES
                      for cp in range(low, high + 1) if not 0xD800 <= cp < 0xE000])
    skipped = every.filter(pc.invert(pc.match_substring_regex(every, prep._nfkc_suspects())))
    assert len(skipped) > 5000  # the filter does skip most characters
    assert "\ufe0f" in skipped.to_pylist()  # the emoji presentation selector, in most emoji
    # Each skipped character, alone and after a letter it could combine with, is left
    # alone by Python's NFKC and by Arrow's (which prepare runs).
    for texts in (skipped, pc.binary_join_element_wise("a", skipped, "")):
        assert pc.utf8_normalize(texts, form="NFKC").equals(texts)
        values = texts.to_pylist()
        assert [unicodedata.normalize("NFKC", t) for t in values] == values


def test_control_removal_and_arabic_folding_skip_only_rows_they_leave_alone() -> None:
    """``prepare`` runs them on the rows their patterns match: every other character,
    alone or inside a word, is left alone by the step."""
    every = pa.array([chr(cp) for cp in range(0x110000) if not 0xD800 <= cp < 0xE000])
    steps = ((prep._CONTROLS, lambda a: pc.replace_substring_regex(a, prep._CONTROLS, "")),
             (prep._ARABIC_FOLDED, prep._fold_arabic))
    for texts in (every, pc.binary_join_element_wise("ب", every, "a", "")):
        for pattern, step in steps:
            skipped = texts.filter(pc.invert(pc.match_substring_regex(texts, pattern)))
            assert step(skipped).equals(skipped)


def test_arabic_folding_is_normalize_fold_arabic() -> None:
    texts = ["x" + chr(cp) + "ب" + chr(cp) for cp in range(0x0590, 0x0710)]
    assert prep._fold_arabic(pa.array(texts)).to_pylist() == list(
        map(normalize.fold_arabic, texts))
    sliced = pa.array(["أَ", "إ", "aـb"]).slice(1)
    assert prep._on_rows(sliced, prep._ARABIC_FOLDED, prep._fold_arabic).to_pylist() == [
        "ا", "ab"]


MENTION_TEXT = st.lists(st.sampled_from(
    ["@", "@", "a", "Z", "0", "_", ".", " ", "\n", ":", "-", "é", "\u0301", "ب", "١", "،",
     "\u200b", "🔥", "@@", "x@y", "\t", "“", "…", "\u2066", "\u206f", "\u2070", "¥", "ÿ"]),
    max_size=12).map("".join)


@FAST
@given(texts=st.lists(MENTION_TEXT, min_size=1, max_size=10))
def test_mention_masking_is_the_regex(texts: list[str]) -> None:
    arr = pa.array(texts, pa.string())
    expected = pc.replace_substring_regex(arr, prep._MENTION, r"\1" + prep.MENTION_TOKEN)
    assert prep._masked_mentions(arr).to_pylist() == expected.to_pylist()


def test_general_punctuation_holds_no_letter_digit_or_mark() -> None:
    """Why ``_ASCII_MENTION`` may decide the rows with General Punctuation around an '@'."""
    block = pa.array([chr(cp) for cp in range(0x2000, 0x2070)])
    assert not pc.any(pc.match_substring_regex(block, r"[\pL\pN\pM_.@]")).as_py()
    assert not [ch for ch in block.to_pylist() if unicodedata.category(ch)[0] in "LNM"]


@FAST
@given(texts=st.lists(TEXT, max_size=8))
def test_prepare_equals_every_step_on_every_row(texts: list[str]) -> None:
    texts = [t.encode("utf-8", "replace").decode("utf-8") for t in texts]
    arr = pc.fill_null(pa.array(texts, pa.string()), "")
    full = pc.utf8_normalize(arr, form="NFKC")
    full = pc.replace_substring_regex(full, prep._CONTROLS, "")
    for entity, char in prep._ENTITIES:
        full = pc.replace_substring(full, entity, char)
    full = pc.replace_substring_regex(full, prep._URL, prep.URL_TOKEN)
    full = pc.replace_substring_regex(full, prep._MENTION, r"\1" + prep.MENTION_TOKEN)
    full = pc.replace_substring_regex(full, prep._RETWEET, "", max_replacements=1)
    full = prep._fold_arabic(full)
    assert prep.prepare(arr).to_pylist() == full.to_pylist()


# ------------------------------------------------------------------ posts by the batch

GOOD = [
    {"id": "a1", "text": "Paris #ParisIsBurning https://t.co/x @demo_user", "lang": "fr",
     "created_at": "2015-11-14T10:00:00Z", "platform": "twitter", "author": "demo"},
    {"id": "a2", "text": "عاجل #باريس", "lang": "AR", "platform": "Telegram", "label": "Neutral "},
    {"post_id": "a3", "id": "ignored", "text": "x", "created_at": "2015-11-14T10:00:00+01:00",
     "retweet_of": "a1", "reply_to": "", "group": "g"},
    {"id": "a4", "text": "no time", "created_at": "", "platform": "myspace", "author": ""},
    {"id": "a5", "text": "naive time", "created_at": "2015-11-14T10:00:00.250"},
    {"id": "a6", "text": "RT @Demo_x: shared http://WWW.X.org/a/", "retweet_of": "a1"},
    {"id": "a7", "text": "RT @y: z", "retweet_of": "12", "retweet_of_author": "given"},
    {"id": "a8", "text": "RT @not_a_retweet: no retweet_of"},
    {"id": "a10", "text": "RT @José_1: non-ASCII handle", "retweet_of": "a1"},
    {"id": "a11", "text": "RT @" + "h" * 51 + ": too long", "retweet_of": "a1"},
    {"id": "a12", "text": "RT @a b: no colon after the handle", "retweet_of": "a1"},
    {"id": "a9", "text": "#الدولة_الإسلامية #ParisIsBurning x#y #parisisburning ＃Ｔａｇ",
     "lang": "ar"},
]
ODD = [  # each goes the per-record way, inside an otherwise vectorised batch
    {"id": "b1", "text": "twitter time", "created_at": "Sat Nov 14 10:00:00 +0000 2015"},
    {"id": "b2", "text": "before twitter", "created_at": "1999-01-01T00:00:00Z"},
    {"id": "b3", "text": "detect my language please, it is written in English"},
    {"post_id": "", "id": "b4", "text": "empty post_id is no id"},
    {"id": "b5", "text": None},
    {"id": "b6", "text": "bad label", "label": "bogus"},
    {"id": "b7", "text": "x" * 100_001},
    {"id": "b8", "text": "from the future", "created_at": "9999-12-31T23:00:00-14:00"},
    {"id": "b9", "text": "tomorrow plus", "created_at": "2099-01-01T00:00:00Z"},
]


def _lines(records: list[object]) -> list[tuple[int, bytes]]:
    return [(i + 1, json.dumps(r, ensure_ascii=False).encode() + b"\n")
            for i, r in enumerate(records)]


def _stable(reject: Rejected) -> dict[str, object]:
    """A reject without the clock reading a time-window reason quotes."""
    return {**reject.to_dict(), "reason": reject.reason.split(" .. ")[0]}


def _reference(items: list[tuple[int, bytes]]) -> tuple[pa.Table, list[Rejected]]:
    posts, rejects = [], []
    for line, payload in items:
        for item in decode("src.jsonl", line, payload):
            (rejects if isinstance(item, Rejected) else posts).append(item)
    return posts_table(posts), rejects


@pytest.mark.parametrize(
    ("records", "vectorised"),
    [
        (GOOD, len(GOOD)),
        (GOOD + ODD + GOOD[:1], len(GOOD) + 2),  # + b3: its language is detected in place
        ([{"id": 5, "text": "int ids"}, {"id": 6, "text": "x", "author": 7}], 2),
        # Arrow cannot parse these batches as one table: every record goes per record.
        ([{"id": 5, "text": "x"}, {"id": "s", "text": "mixed id types"}], 0),
        ([{"id": "v1", "text": "x", "user": {"id": 1}, "entities": {}}], 0),
        ([{"data": [{"id": "1", "text": "a v2 page"}]}], 0),
        ([{"id": "u", "text": "given urls", "urls": ["https://a.b/c"]}], 0),
        ([["not", "an", "object"], {"id": "n", "text": "x"}], 0),
    ],
)
def test_decode_batch_equals_per_record_decoding(records: list[object], vectorised: int) -> None:
    items = _lines(records)
    batch = decode_batch("src.jsonl", items)
    expected, rejects = _reference(items)
    assert batch.table.to_pylist() == expected.to_pylist()
    assert [_stable(r) for r in batch.rejects] == [_stable(r) for r in rejects]
    assert batch.read == expected.num_rows + len(rejects)
    assert batch.vectorised == vectorised


def test_a_malformed_line_is_one_reject_and_the_rest_is_kept() -> None:
    items = _lines(GOOD)
    items.insert(2, (3, b'{"id": "broken", "text": \n'))
    items.append((9, b'{"id": "bad-utf8", "text": "caf\xe9"}\n'))
    batch = decode_batch("src.jsonl", items)
    expected, rejects = _reference(items)
    assert batch.table.to_pylist() == expected.to_pylist()
    assert [(r.line, r.reason) for r in batch.rejects] == [(r.line, r.reason) for r in rejects]
    assert [r.line for r in batch.rejects] == [3]
    assert batch.table.column("post_id").to_pylist()[-1] == "bad-utf8"


# ------------------------------------------------------------------ scores and output


def test_fused_scores_equal_the_matrix_product(trained_model: object) -> None:
    model = trained_model
    rng = np.random.default_rng(0)  # a post of ~45,000 distinct n-grams: counted by sorting
    long_text = "".join(rng.choice(list("abcdefgh   "), 12_000))
    texts = pa.array(["Paris brûle #ParisIsBurning", "", "عاجل: باريس", "İSTANBUL ΣΑΣ", None,
                      "word " * 300, "a  b\t\tc https://t.co/x @user", long_text])
    prepared = prep.prepare(texts, model.params["mask_urls"], model.params["mask_mentions"])
    fused = decision_scores(prepared, model.params, model.scoring_table_)
    rows, index = model.scoring_table_
    weights = rows[index, 1:]  # the dense weights, rebuilt here only
    matrix = np.asarray(features(texts, model.params, model.scoring_table_) @ weights)
    np.testing.assert_allclose(fused, matrix, rtol=1e-5, atol=1e-6)
    assert np.all(fused[1] == 0) and np.all(fused[4] == 0)


@pytest.mark.parametrize("classes", [2, 4])
def test_fused_scores_equal_the_matrix_product_for_other_class_counts(
    trained_model: object, classes: int
) -> None:
    # Three classes take the register-sum path; any other count the general loop.
    model = trained_model
    rows, index = model.scoring_table_
    idf = np.split(rows[index, 0], 2)  # the dense idf of both blocks, rebuilt here only
    coef = np.random.default_rng(classes).normal(size=(classes, len(index)))
    texts = pa.array(["Paris brûle #ParisIsBurning", "", "عاجل: باريس", "word " * 300])
    prepared = prep.prepare(texts, model.params["mask_urls"], model.params["mask_mentions"])
    scores = decision_scores(prepared, model.params, fused.scoring_table(idf, coef))
    matrix = np.asarray(features(texts, model.params, idf) @ coef.T)
    assert scores.shape == (4, classes)
    np.testing.assert_allclose(scores, matrix, rtol=1e-5, atol=1e-6)


def test_hash_count_counts_like_sorting_and_gives_up_on_piled_keys() -> None:
    rng = np.random.default_rng(1)
    keys = rng.integers(0, 1 << 20, 3000).astype(np.int64)
    keys[1000:1500] = keys[:500]  # duplicates
    slots, positions = np.empty(fused._TABLE_SIZE, np.int64), np.empty(fused._TABLE_SIZE, np.int32)
    indices, values = np.empty(3000, np.int32), np.empty(3000, np.float64)
    m = fused._hash_count(keys, 3000, slots, positions, indices, values)
    distinct, counts = np.unique(keys, return_counts=True)
    assert m == len(distinct)
    assert dict(zip(indices[:m].tolist(), values[:m].tolist(), strict=True)) == dict(
        zip(distinct.tolist(), counts.astype(float).tolist(), strict=True))
    # Distinct keys sharing their low bits (crafted text could do this): no quadratic probing.
    piled = (np.arange(1, 200, dtype=np.int64) << 14) | 5
    assert fused._hash_count(piled, len(piled), slots, positions, indices, values) == -1


def test_compact_table_keeps_every_row_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    dense = np.zeros((5000, 4), np.float32)
    dense[:, 0] = rng.choice([1.5, 2.25, 7.0], 5000)  # weightless columns: idf only
    dense[::7, 1:] = rng.normal(size=(len(dense[::7]), 3))  # weighted, all distinct
    dense[3, 1], dense[4, 1] = 0.0, -0.0  # equal as floats, other bits: kept apart
    dense[4, 0] = dense[3, 0]
    table = fused.scoring_table([dense[:, 0]], dense[:, 1:].T)
    assert table.index.dtype == np.uint16
    assert table.rows[table.index].tobytes() == dense.tobytes()
    assert len(table.rows) == len(np.unique(dense.view(np.uint32), axis=0))
    assert table.index[3] != table.index[4]
    # first-appearance order: the first row is row 0, and ids grow as rows first appear
    assert table.index[0] == 0 and np.all(np.diff(np.maximum.accumulate(table.index)) <= 1)


def test_compact_table_indexes_by_uint32_past_65536_distinct_rows() -> None:
    dense = np.random.default_rng(4).normal(size=(80_000, 4)).astype(np.float32)
    dense[70_000:] = dense[:10_000]
    table = fused.scoring_table([dense[:, 0]], dense[:, 1:].T)
    assert table.index.dtype == np.uint32 and len(table.rows) == 70_000
    assert table.rows[table.index].tobytes() == dense.tobytes()


def test_scores_do_not_change_with_the_index_width(trained_model: object) -> None:
    model = trained_model
    rows, index = model.scoring_table_
    # a model trained on little data: most columns share a few rows
    assert len(rows) < len(index) / 20
    texts = pa.array(["Paris brûle #ParisIsBurning", "عاجل: باريس", "word " * 300, ""])
    prepared = prep.prepare(texts, model.params["mask_urls"], model.params["mask_mentions"])
    narrow = decision_scores(prepared, model.params, model.scoring_table_)
    wide = decision_scores(prepared, model.params,
                           fused.ScoringTable(rows, index.astype(np.uint32)))
    assert narrow.tobytes() == wide.tobytes()
    with pytest.raises(TypeError, match="ScoringTable"):
        decision_scores(prepared, model.params, rows[index])


@pytest.fixture(scope="module")
def trained_model(tiny_corpus: object) -> object:
    from swarmlens.classifier.model.estimator import StanceClassifier
    from swarmlens.classifier.model.linear import LinearStanceModel

    texts, labels = tiny_corpus
    fitted = StanceClassifier(calibration_folds=0).fit(texts, labels)
    return LinearStanceModel.from_arrays(*fitted.to_arrays())


def test_jsonl_output_round_trips_every_string(trained_model: object) -> None:
    odd = ['a"b\\c', "line\nbreak", "tab\there", "\x00\x1f", "sep\u2028\u2029", "é💥", ""]
    posts = posts_table([])
    rows = [
        {"post_id": s or "empty", "platform": "other", "text": s, "lang": "und",
         "created_at": None, "hashtags": [s, "x"], "urls": [], "domains": [],
         "mentions": [], "author": s or None, "retweet_of": None, "reply_to": None}
        for s in odd
    ]
    posts = pa.Table.from_pylist(rows, schema=posts.schema)
    table = score_table(trained_model, posts, "m-1")
    lines = jsonl_bytes(table).split(b"\n")
    assert lines[-1] == b"" and len(lines) == len(odd) + 1
    decoded = [json.loads(line) for line in lines[:-1]]
    assert [d["post_id"] for d in decoded] == [r["post_id"] for r in rows]
    assert [d["hashtags"] for d in decoded] == [r["hashtags"] for r in rows]
    assert [d["author"] for d in decoded] == [r["author"] for r in rows]
    assert set(decoded[0]) == set(OUTPUT_SCHEMA.names)
    scores = table.column("scores").to_pylist()
    assert [d["scores"] for d in decoded] == [
        {k: round(v, 6) for k, v in s.items()} for s in scores
    ]
    assert all("\u2028" not in line.decode() for line in lines)


def _json_text(value: str | None) -> str:
    """The oracle of a string: json.dumps, and U+2028 / U+2029 escaped as well."""
    if value is None:
        return "null"
    dumped = json.dumps(value, ensure_ascii=False)
    return dumped.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _iso_seconds(micros: int | None) -> str:
    """The oracle of a time: ISO 8601 seconds and 'Z', the microseconds cut (toward zero,
    as Arrow's unsafe cast to seconds cuts them)."""
    if micros is None:
        return "null"
    seconds = micros // 10**6 if micros >= 0 else -(-micros // 10**6)
    moment = datetime(1970, 1, 1) + timedelta(seconds=seconds)
    return f'"{moment.isoformat(timespec="seconds")}Z"'


def _json_line(row: dict, table_row: int, table: pa.Table) -> bytes:
    """The reference line: json.dumps for every string (U+2028/9 escaped as well), the
    scores as Arrow formats them (rounded to 1e-6), the time by Python's datetime."""
    parts = []
    for field in OUTPUT_SCHEMA:
        value = row[field.name]
        if field.name == "scores":
            numbers = [pc.cast(pc.round(pc.cast(table.column("scores").combine_chunks().field(
                label), pa.float64()), 6), pa.string())[table_row].as_py() for label in LABELS]
            encoded = "{" + ",".join(f'"{label}":{number}' for label, number in
                                     zip(LABELS, numbers, strict=True)) + "}"
        elif field.name == "created_at":
            encoded = _iso_seconds(table.column("created_at").cast(pa.int64())[table_row].as_py())
        elif pa.types.is_list(field.type):
            encoded = "null" if value is None else "[" + ",".join(map(_json_text, value)) + "]"
        else:
            encoded = _json_text(value)
        parts.append(f"{json.dumps(field.name)}:{encoded}")
    return ("{" + ",".join(parts) + "}\n").encode()


# Characters a writer may get wrong: every control, quotes, backslashes, the line and
# paragraph separators (and U+2027 / U+2026 / U+2019, whose UTF-8 starts as theirs does),
# NEL, DEL, a BOM, right-to-left text and marks, combining marks, emoji (4-byte UTF-8).
_ADVERSARIAL = [*map(chr, range(0x20)), '"', "\\", "/", "\u2028", "\u2029", "\u2027", "\u2026",
                "\u2019", "\x85", "\x7f", "\ufeff", "\u200f", "\u202e", "\u05d0", "\u0628",
                "e\u0301", "\U0001f4a5", "\U0001f469\u200d\U0001f692", "\U0010ffff", "a", " "]
_ANY_TEXT = st.one_of(
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=12),
    st.lists(st.sampled_from(_ADVERSARIAL), max_size=12).map("".join),
)


@FAST
@given(values=st.lists(st.tuples(_ANY_TEXT, st.one_of(st.none(), _ANY_TEXT),
                                 st.one_of(st.none(), st.lists(st.one_of(st.none(), _ANY_TEXT),
                                                               max_size=3))),
                       min_size=1, max_size=6),
       start=st.integers(0, 2), split=st.integers(0, 6))
def test_jsonl_lines_equal_json_dumps(values: list, start: int, split: int) -> None:
    rows = [{"post_id": a, "label": "neutral",
             "scores": {"supportive": 0.1234567, "opposing": 1e-7, "neutral": 0.8765433},
             "model_version": "m\u2028", "lang": "und", "hashtags": tags, "domains": [],
             "created_at": None if i % 2 else 1_447_459_200_000_000, "platform": "other",
             "author": b, "retweet_of": None, "retweet_of_author": b, "reply_to": a,
             "urls": [a], "mentions": tags, "hashtag_forms": None}
            for i, (a, b, tags) in enumerate(values)]
    whole = pa.Table.from_pylist(rows, schema=OUTPUT_SCHEMA)
    # Slices (offsets into every buffer) and several chunks, as batches may come.
    table = pa.concat_tables([whole.slice(0, split), whole.slice(split)])
    table = table.slice(min(start, len(rows) - 1))
    expected = b"".join(_json_line(row, i, table) for i, row in enumerate(table.to_pylist()))
    assert jsonl_bytes(table) == expected
    assert jsonl_lines(table) == pa.py_buffer(expected)


@pytest.mark.parametrize("unit", ["\x01", '"', "\\", "\u2028", "é", ""])
def test_jsonl_round_trips_the_costliest_strings(unit: str) -> None:
    value = unit * 50
    rows: list[dict] = [{name: None for name in OUTPUT_SCHEMA.names} | {
        "post_id": value, "label": value, "lang": value, "platform": value,
        "model_version": value, "scores": {label: 1e-7 for label in LABELS},
        "hashtags": [value] * 5, "urls": [], "mentions": [value, None]} for _ in range(7)]
    rows[-1]["mentions"] = ["x" * 5000]  # a long plain string last
    table = pa.Table.from_pylist(rows, schema=OUTPUT_SCHEMA)
    lines = jsonl_bytes(table)
    assert lines == b"".join(_json_line(row, i, table) for i, row in enumerate(table.to_pylist()))
    decoded = [json.loads(line) for line in lines.splitlines()]
    assert [d["post_id"] for d in decoded] == [value] * 7
    assert decoded[0]["hashtags"] == [value] * 5 and decoded[0]["mentions"] == [value, None]
    assert decoded[-1]["mentions"] == ["x" * 5000]


def test_jsonl_escapes_every_control_and_line_separator_as_json_dumps() -> None:
    odd = "".join(map(chr, range(0x20))) + '"\\\u2028\u2029\u2027\x7f\u00e9💥'
    rows = [{name: None for name in OUTPUT_SCHEMA.names} | {
        "post_id": odd, "label": "neutral", "lang": "und", "platform": "other",
        "model_version": "m", "scores": {label: 0.5 for label in LABELS}, "hashtags": [odd]}]
    table = pa.Table.from_pylist(rows, schema=OUTPUT_SCHEMA)
    assert jsonl_bytes(table) == _json_line(table.to_pylist()[0], 0, table)
    assert json.loads(jsonl_bytes(table))["post_id"] == odd


def test_jsonl_of_no_rows_is_empty() -> None:
    assert jsonl_bytes(OUTPUT_SCHEMA.empty_table()) == b""


def test_a_bad_line_sends_only_its_neighbourhood_per_record() -> None:
    records: list[object] = [{"id": f"p{i}", "text": f"post {i} #tag"} for i in range(1000)]
    items = _lines(records)
    items[700] = (701, b'{"id": "p700", "text": "cut off\n')
    batch = decode_batch("src.jsonl", items)
    expected, rejects = _reference(items)
    assert batch.table.to_pylist() == expected.to_pylist()
    assert [(r.line, r.reason) for r in batch.rejects] == [(r.line, r.reason) for r in rejects]
    assert batch.read == 1000 and len(batch.rejects) == 1
    assert batch.vectorised >= 1000 - 2 * 64


@FAST
@given(moments=st.lists(st.one_of(st.none(), st.integers(-62_135_596_800_000_000,
                                                         253_402_300_799_999_999),
                                  st.integers(-10**6, 10**6),
                                  st.integers(1_136_073_600_000_000, 4_102_444_800_000_000)),
                        min_size=1, max_size=20))
def test_jsonl_created_at_equals_strftime(moments: list[int | None]) -> None:
    # Years 1 to 9999, before 1970 too: what pc.strftime writes, and Python's datetime.
    column = pa.array(moments, pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    seconds = pc.cast(column, pa.timestamp("s", tz="UTC"), safe=False)
    strftime = pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%SZ").to_pylist()
    rows = [{name: None for name in OUTPUT_SCHEMA.names} for _ in moments]
    table = pa.Table.from_pylist(rows, schema=OUTPUT_SCHEMA).set_column(
        OUTPUT_SCHEMA.get_field_index("created_at"), "created_at", column)
    written = [json.loads(line)["created_at"] for line in jsonl_bytes(table).splitlines()]
    assert written == strftime
    assert [json.dumps(w) for w in written] == [_iso_seconds(m) for m in moments]
