"""The numba featurizer agrees exactly with its pure-Python reference (and sklearn)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import scipy.sparse as sp
import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.utils import murmurhash3_32

from swarmlens.classifier import kernels
from swarmlens.classifier.model import explain, hashing
from swarmlens.classifier.model.hashing import featurize
from swarmlens.classifier.model.ngrams import HashingSpec
from swarmlens.classifier.text.tokens import lower_code_points, word_tokens
from swarmlens.classifier.text.words import WORD_TOKENIZER_NAME
from tests.support.oracles import reference_counts, reference_terms

SPECS = [
    HashingSpec(),
    HashingSpec(char_mode="char_wb", char_lowercase=True),
    HashingSpec(char_mode="char_wb", char_ngram_range=(2, 4), word_ngram_range=(0, 0)),
    HashingSpec(char_ngram_range=(3, 5), word_lowercase=False, word_ngram_range=(1, 3)),
    HashingSpec(char_ngram_range=(0, 0), word_ngram_range=(2, 2)),
    HashingSpec(char_lowercase=True, word_lowercase=True, n_features=2**12),
    HashingSpec(char_mode="char_wb", char_ngram_range=(5, 7), n_features=16),
    HashingSpec(char_ngram_range=(1, 1), word_ngram_range=(1, 1), n_features=2**24),
]

# Pieces of real-looking posts: Arabic with diacritics and tatweel, combining marks,
# emoji sequences, odd whitespace, characters whose lowercase is special (İ, Σ, ẞ, K).
_PIECES = [
    "#باريس_تشتعل", "بَارِيسُ", "اللّٰه", "ـــ", "Paris", "PARIS", "café", "cafe\u0301", "İstanbul",
    "ΟΔΟΣ", "ẞ", "\u212a", "Москва", "ёЁ", "🔥", "👨‍👩‍👧", "🇫🇷", "👍🏽", "http://t.co/x1Y",
    "@demo_user", "RT", "l'été", "a", "1", "_", "x_y", "٣٤", " ", "  ", "\t", "\n", "\u00a0",
    "\u3000", "\u2028", "\x1f", "\u200d", "\ufe0f", ".", "!?", "’", "«", "»", "-",
]
TEXT = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(_PIECES), max_size=25).map("".join),
    st.text(alphabet=st.sampled_from("".join(_PIECES)), max_size=60),
)
FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="session", autouse=True)
def _warm() -> None:
    """Compile (or load from the numba cache) once per session."""
    featurize(["warm up"])
    hashing._murmur(np.zeros(3, np.uint8))


def rows_as_dicts(matrix: sp.csr_matrix) -> list[dict[int, float]]:
    out = []
    for i in range(matrix.shape[0]):
        lo, hi = matrix.indptr[i], matrix.indptr[i + 1]
        indices = matrix.indices[lo:hi]
        assert np.all(np.diff(indices) > 0), "indices sorted, no duplicates"
        out.append(dict(zip(indices.tolist(), matrix.data[lo:hi].tolist(), strict=True)))
    return out


@FAST
@given(texts=st.lists(TEXT, max_size=6), spec=st.sampled_from(SPECS))
def test_featurize_equals_reference(texts: list[str], spec: HashingSpec) -> None:
    matrix = featurize(texts, spec)
    assert matrix.shape == (len(texts), spec.n_features)
    assert matrix.dtype == np.float32
    assert rows_as_dicts(matrix) == [reference_counts(t, spec) for t in texts]


@FAST
@given(text=TEXT, spec=st.sampled_from(SPECS))
def test_explanations_enumerate_the_reference_ngrams(text: str, spec: HashingSpec) -> None:
    """``explain.occurrences`` (n-grams with their positions) finds the same features."""
    found = Counter(index for index, _ in explain.occurrences(text, spec))
    assert {index: float(n) for index, n in found.items()} == reference_counts(text, spec)


@FAST
@given(key=st.binary(max_size=80))
def test_kernel_murmurhash_equals_sklearn(key: bytes) -> None:
    ours = int(hashing._murmur(np.frombuffer(key, np.uint8)))
    assert ours == murmurhash3_32(key, seed=0, positive=True)


@pytest.fixture(scope="module")
def nlps() -> dict[bool, spacy.Language]:
    out = {}
    for lowercase in (False, True):
        nlp = spacy.blank("xx")
        nlp.tokenizer = spacy.registry.tokenizers.get(WORD_TOKENIZER_NAME)(lowercase)(nlp)
        out[lowercase] = nlp
    return out


@FAST
@given(texts=st.lists(TEXT, min_size=1, max_size=5), lowercase=st.booleans())
def test_kernel_tokens_equal_spacy_tokenizer(
    nlps: dict[bool, spacy.Language], texts: list[str], lowercase: bool
) -> None:
    offsets, data, _ = kernels.arrow_buffers(texts)
    kernel: list[list[str]] = [[] for _ in texts]
    for row, token in _kernel_tokens(offsets, data, hashing.code_point_tables(), lowercase):
        kernel[row].append(bytes(token).decode("utf-8"))
    spacy_tokens = [[t.text for t in nlps[lowercase](text)] for text in texts]
    assert kernel == spacy_tokens == [word_tokens(t, lowercase) for t in texts]


@FAST
@given(text=TEXT)
def test_reference_has_sklearn_semantics(text: str) -> None:
    for mode in ("char", "char_wb"):
        spec = HashingSpec(char_mode=mode, char_ngram_range=(1, 4), word_ngram_range=(0, 0))
        analyzer = HashingVectorizer(analyzer=mode, ngram_range=(1, 4), lowercase=False)
        ours = sorted(term for _, term in reference_terms(text, spec))
        assert ours == sorted(analyzer.build_analyzer()(text))
    spec = HashingSpec(char_ngram_range=(0, 0), word_ngram_range=(1, 3), word_lowercase=True)
    analyzer = HashingVectorizer(ngram_range=(1, 3), lowercase=False).build_analyzer()
    ours = sorted(term for _, term in reference_terms(text, spec))
    assert ours == sorted(analyzer(lower_code_points(text)))


def test_code_point_tables_equal_python() -> None:
    flag_index, flag_pages, delta_index, delta_pages, exp_cp, exp_seq = hashing.code_point_tables()
    cps = np.array([c for c in range(0x110000) if not 0xD800 <= c < 0xE000])
    chars = [chr(c) for c in cps]
    flags = flag_pages[flag_index[cps >> 8], cps & 255]
    is_word = np.array([c.isalnum() or c == "_" for c in chars])
    assert np.array_equal((flags & hashing._WORD) != 0, is_word)
    assert np.array_equal((flags & hashing.SPACE) != 0, np.array([c.isspace() for c in chars]))
    lowered = [c.lower() for c in chars]
    single = np.array([len(m) == 1 for m in lowered])
    expected = np.array([ord(m) if len(m) == 1 else -1 for m in lowered])
    lower = cps + delta_pages[delta_index[cps >> 8], cps & 255]
    assert np.array_equal(lower[single], expected[single])
    expansions = {
        int(c): "".join(map(chr, s[1 : 1 + s[0]])) for c, s in zip(exp_cp, exp_seq, strict=True)
    }
    multi = {int(c): m for c, m, one in zip(cps, lowered, single, strict=True) if not one}
    assert expansions == multi


def test_empty_null_and_odd_arrays() -> None:
    spec = HashingSpec()
    assert featurize([], spec).shape == (0, spec.n_features)
    assert featurize(pa.chunked_array([], pa.string()), spec).shape == (0, spec.n_features)
    # A null slot whose offsets still cover bytes must read as empty.
    data = b"abc"
    offsets = pa.py_buffer(np.array([0, 3, 3], np.int32).tobytes())
    validity = pa.py_buffer(np.packbits([0, 1], bitorder="little").tobytes())
    array = pa.Array.from_buffers(pa.string(), 2, [validity, offsets, pa.py_buffer(data)], 1)
    assert rows_as_dicts(featurize(array, spec)) == [{}, {}]
    texts = ["Paris brûle 🔥", None, "", "  ", "x", "باريس تشتعل"]
    expected = [reference_counts(t or "", spec) for t in texts]
    for variant in (
        texts,
        pa.array(texts, pa.string()),
        pa.array(texts, pa.large_string()),
        pa.array(texts, pa.string_view()),
        pa.chunked_array([texts[:2], texts[2:]], pa.string()),
    ):
        assert rows_as_dicts(featurize(variant, spec)) == expected
    sliced = pa.array(["zzz", *texts], pa.string())[1:]
    assert rows_as_dicts(featurize(sliced, spec)) == expected


def test_batch_larger_than_buffer_growth() -> None:
    rng = np.random.default_rng(0)
    pieces = np.array(_PIECES, dtype=object)
    texts = [" ".join(rng.choice(pieces, rng.integers(0, 30))) for _ in range(3000)]
    texts[17] = "long " * 2000  # one row far larger than the typical ones
    spec = HashingSpec()
    grown = featurize(texts, spec, _capacity=1)  # doubles from 1 entry ~20 times
    assert grown.nnz > 2**19
    default = featurize(pa.array(texts), spec)
    assert (grown != default).nnz == 0
    assert np.array_equal(grown.indptr, default.indptr)
    rows = rows_as_dicts(grown)
    for i in [*range(0, 3000, 97), 17, 2999]:
        assert rows[i] == reference_counts(texts[i], spec)


def test_spec_json_round_trip_and_validation() -> None:
    spec = HashingSpec(char_mode="char_wb", char_ngram_range=(2, 4), n_features=2**18)
    assert HashingSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    with pytest.raises(ValueError):
        HashingSpec(n_features=1000)
    with pytest.raises(ValueError):
        HashingSpec(word_ngram_range=(0, 2))
    with pytest.raises(ValueError):
        HashingSpec(char_ngram_range=(3, 2))


def test_numba_cache_stays_out_of_the_tree() -> None:
    import numba

    cache = Path(numba.config.CACHE_DIR).resolve()
    package = Path(hashing.__file__).resolve().parent
    assert not cache.is_relative_to(package.parents[1])  # the working tree
    assert not cache.is_relative_to(Path(np.__file__).resolve().parents[1])  # site-packages
    assert not list(package.glob("__pycache__/*.nbi"))


def _kernel_tokens(offsets, data, tabs, lower) -> list[tuple[int, np.ndarray]]:
    """(row, UTF-8 bytes) of every word token the kernels see."""
    out = []
    for r in range(offsets.size - 1):
        size = hashing.scratch_size(offsets[r + 1] - offsets[r])
        buf, jbuf, wf = np.zeros((3, size), np.uint8)
        cpo, seg, ts, te = np.empty((4, size + 1), np.int64)
        ncp, _ = hashing.decode_words(data, offsets[r], offsets[r + 1], lower, 2, tabs, buf,
                                      cpo, wf, seg)
        for t in range(hashing.join_words(buf, cpo, wf, ncp, jbuf, ts, te)):
            out.append((r, jbuf[ts[t] : te[t]].copy()))
    return out
