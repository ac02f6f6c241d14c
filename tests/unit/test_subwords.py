"""The subword vector family: the compiled longest match equals its Python definition, the
pooled vectors equal numpy's, explanations stay exact, artifacts round-trip."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarmlens.classifier.model import artifact, subwords
from swarmlens.classifier.model.estimator import StanceClassifier
from swarmlens.classifier.model.linear import LinearStanceModel
from swarmlens.classifier.text.prepare import prepare
from tests.support.explanations import assert_explanations_add_up
from tests.support.oracles import reference_pieces


@pytest.fixture(scope="module")
def vectors() -> subwords.SubwordTable:
    return subwords.load_wordllama()


@pytest.fixture(scope="module")
def vocab() -> dict[str, int]:
    path = resources.files("wordllama") / "tokenizers" / "l2_supercat_tokenizer_config.json"
    return json.loads(path.read_text(encoding="utf-8"))["model"]["vocab"]


SAMPLES = [
    "Glory to the soldiers of the caliphate #ParisIsBurning xxurl",
    "باريس تشتعل الدولة الإسلامية #باريس_تشتعل",
    "Париж горит, ИГИЛ 🇫🇷🔥 le terrorisme ne passera pas",
    "   leading and trailing\tspaces\u00a0and\u2003unicode\u3000ones  ",
    "ALLCAPS MixedCase lowercase 12345 !!!??? \U0001f600\U0001f9d1\u200d\U0001f680",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math letters and a lone \ufffd replacement",
    "",
    "a",
    "x" * 300,
]
_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from([*"abcdeEFG xyz.,!#@_-'\"\t\n\u00a0\u2003", "é", "ß", "İ"]),
        st.characters(min_codepoint=0x600, max_codepoint=0x6FF),  # Arabic
        st.characters(min_codepoint=0x400, max_codepoint=0x4FF),  # Cyrillic
        st.characters(min_codepoint=0x1F300, max_codepoint=0x1F6FF),  # emoji: byte pieces
        st.characters(blacklist_categories=("Cs",)),
    ),
    max_size=80,
)


def _kernel_ids(text: str, vectors: subwords.SubwordTable) -> list[int]:
    return [piece for piece, _ in subwords.pieces(text, vectors)]


@pytest.mark.parametrize("text", SAMPLES)
def test_longest_match_follows_its_definition(text, vectors, vocab) -> None:
    expected = reference_pieces(text, vocab, vectors.byte_ids.tolist())
    assert _kernel_ids(text, vectors) == expected
    if text.strip():
        assert expected  # a non-blank text always has pieces


@settings(max_examples=300, deadline=None)
@given(text=_TEXT)
def test_longest_match_follows_its_definition_on_any_text(text, vectors, vocab) -> None:
    assert _kernel_ids(text, vectors) == reference_pieces(text, vocab, vectors.byte_ids.tolist())


def test_pieces_are_real_vocabulary_pieces(vectors) -> None:
    found = subwords.pieces("the caliphate", vectors)
    assert [vectors.piece(p) for p, _ in found][:2] == ["\u2581the", "\u2581cal"]
    assert {word for _, word in found} == {0, 1}


def test_pooled_rows_are_sums_over_sqrt_pieces(vectors) -> None:
    texts = [*SAMPLES, "#ParisIsBurning"]
    prepared = prepare(texts)
    got = subwords.pooled(prepared, vectors)
    for row, text in enumerate(prepared.to_pylist()):
        ids = _kernel_ids(text, vectors)
        total = vectors.rows[ids].astype(np.float64).sum(axis=0)
        expected = total / np.sqrt(len(ids)) if ids else np.zeros_like(total)
        np.testing.assert_allclose(got[row], expected, rtol=1e-9, atol=1e-9)
    # a batch never changes a row (resumed jobs rely on it)
    alone = subwords.pooled(prepare([texts[1]]), vectors)
    assert np.array_equal(alone[0], got[1])


def test_repeated_words_pool_as_they_would_alone(vectors) -> None:
    # Each distinct word of a call is segmented once and its sum reused; with 256-d rows
    # the kernel keeps 2,048 words, so 3,000 distinct ones also cover the full table.
    words = [f"w{i}x{i * 7 % 13}" for i in range(3000)] + ["the", "caliphate", "#Paris"]
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(words, size=12)) for _ in range(400)] + SAMPLES
    prepared = prepare(texts)
    batch = subwords.pooled(prepared, vectors)
    for row in [*range(0, 400, 37), *range(400, len(texts))]:
        alone = subwords.pooled(prepared.slice(row, 1), vectors)
        assert np.array_equal(alone[0], batch[row]), texts[row]
        ids = _kernel_ids(prepared[row].as_py(), vectors)
        expected = vectors.rows[ids].astype(np.float64).sum(axis=0) / np.sqrt(max(len(ids), 1))
        np.testing.assert_allclose(batch[row], expected, rtol=1e-9, atol=1e-9)


def test_vector_arrays_round_trip_and_refuse_inconsistency(vectors) -> None:
    arrays = vectors.with_rows(vectors.rows[:, :3]).to_arrays()
    again = subwords.SubwordTable.from_arrays(arrays)
    text = "Glory to the caliphate ⚔️"
    assert _kernel_ids(text, again) == _kernel_ids(text, vectors)
    broken = {**arrays, "vectors.byte_ids": arrays["vectors.byte_ids"][:10]}
    with pytest.raises(ValueError):
        subwords.SubwordTable.from_arrays(broken)
    offsets = arrays["vectors.piece_offsets"].copy()
    offsets[5] = offsets[4]  # an empty piece
    with pytest.raises(ValueError):
        subwords.SubwordTable.from_arrays({**arrays, "vectors.piece_offsets": offsets})
    # The segmentation kernels read the hash table unchecked: a table naming a piece
    # past the rows, or not a power of two, is refused however it is built.
    ids = again.table_ids.copy()
    ids[np.flatnonzero(ids >= 0)[0]] = again.rows.shape[0]
    fields = (again.piece_bytes, again.piece_offsets, again.byte_ids, again.rows)
    with pytest.raises(ValueError):
        subwords.SubwordTable(*fields, again.table_keys, ids)
    with pytest.raises(ValueError):
        subwords.SubwordTable(*fields, again.table_keys[:-1], again.table_ids[:-1])
    # Overlapping pieces hold more prefixes than bytes: refused before the hash table is
    # built (it would fill up, and a probe of a full table never ends).
    starts_and_ends = [v for i in range(1, 8) for v in (i, 8)]
    overlapping = {"vectors.piece_bytes": np.arange(8, dtype=np.uint8),
                   "vectors.piece_offsets": np.array([0, 8, *starts_and_ends]),
                   "vectors.byte_ids": np.zeros(256, np.int32),
                   "vectors.piece_weights": np.zeros((15, 3), np.float32)}
    with pytest.raises(ValueError):
        subwords.SubwordTable.from_arrays(overlapping)


@pytest.fixture(scope="module")
def with_vectors(tiny_corpus) -> StanceClassifier:
    texts, labels = tiny_corpus
    return StanceClassifier(vectors_weight=0.5, n_features=2**16).fit(texts, labels)


def test_the_vector_block_changes_scores(with_vectors, tiny_corpus) -> None:
    texts, labels = tiny_corpus
    without = StanceClassifier(vectors_weight=0.0, n_features=2**16).fit(texts, labels)
    probe = ["they will never divide us, solidarity with Paris"]
    assert with_vectors.coef_.shape[1] == 2 * 2**16 + vectors_dims(with_vectors)
    assert not np.allclose(with_vectors.decision_function(probe), without.decision_function(probe))


def vectors_dims(model: StanceClassifier) -> int:
    return model.featurizer_.vectors_.dims


def test_scores_equal_the_matrix_product(with_vectors, tiny_corpus) -> None:
    """Folding the vectors into per-piece weights changes no score (beyond rounding)."""
    texts = [*tiny_corpus[0], "", "ПАРИЖ горит 🔥 باريس"]
    matrix = with_vectors.transform_texts(texts)
    expected = np.asarray(matrix @ with_vectors.coef_.T) + with_vectors.intercept_
    np.testing.assert_allclose(with_vectors.decision_function(texts), expected, atol=1e-5)
    assert with_vectors.piece_weights_.rows.shape == (32000, 3)


def test_explanations_stay_exact_with_vectors(with_vectors) -> None:
    assert_explanations_add_up(
        with_vectors, "Glory to the soldiers!! Пусть горит #ParisIsBurning باقية xxurl")


def test_a_saved_model_scores_bit_identically(with_vectors, tiny_corpus) -> None:
    texts, _ = tiny_corpus
    data = artifact.to_bytes(*with_vectors.to_arrays())
    restored = LinearStanceModel.from_arrays(*artifact.from_bytes(data))
    assert np.array_equal(restored.predict_proba(texts), with_vectors.predict_proba(texts))
    assert restored.explain(texts[0], top=3) == with_vectors.explain(texts[0], top=3)
    assert artifact.to_bytes(*with_vectors.to_arrays()) == data  # deterministic bytes


def test_models_saved_before_the_vectors_still_load(tiny_corpus) -> None:
    texts, labels = tiny_corpus
    old = StanceClassifier(vectors_weight=0.0, n_features=2**16).fit(texts, labels)
    arrays, config = old.to_arrays()
    params = {k: v for k, v in config["params"].items() if k != "vectors_weight"}
    legacy = {**config, "architecture": "hashed-ngram-nbsvm-calibrated.v1", "params": params}
    restored = LinearStanceModel.from_arrays(arrays, legacy)
    assert np.array_equal(restored.predict_proba(texts), old.predict_proba(texts))


def test_the_vectors_load_from_the_wheel_without_network(monkeypatch) -> None:
    """wordllama's own loader would fetch the tokenizer from the hub: ours reads files."""
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("no network at run time")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    subwords.load_wordllama.cache_clear()
    table = subwords.load_wordllama()
    assert table.rows.shape == (32000, 256) and table.piece(table.byte_ids[0x41]) == "<0x41>"
