"""Token features for the stance classifier, computed once per distinct token.

A post becomes a sparse vector of (a) character n-grams inside each token
(like scikit-learn's ``char_wb``) and (b) whole-token unigrams, TF-IDF weighted
and L2-normalised. Every feature belongs to exactly one token, so a post's
counts are the sum of its tokens' counts. ``transform`` exploits that: it maps
each distinct chunk of text to its terms and each distinct term to its feature
row once, caches both, and builds a batch's matrix with one sparse product
(posts x terms) @ (terms x features). Archives repeat the same tokens millions
of times, so this turns per-post Python work into dictionary lookups.

URLs and @mentions are masked (``xxurl`` / ``xxuser``) so the model learns
stance, not link or account style.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import numpy as np
import regex
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from swarmlens.classifier.text.normalize import normalize
from swarmlens.classifier.text.tokenize import tokenize_chunk

URL_TOKEN = "xxurl"
MENTION_TOKEN = "xxuser"
_URL_LIKE = regex.compile(r"^(?:https?://|www\.)|^[\w-]+(?:\.[\w-]+)+/")
# Whole chunks that are a URL or a mention (optionally with a colon, as in
# 'RT @x:') map straight to their masked terms; the same result spaCy's
# tokenizer would give, without creating a lexeme for every unique t.co link.
_URL_CHUNK = regex.compile(r"^(?:https?://|www\.|[\w-]+(?:\.[\w-]+)+/)\S*[\w/]$")
_MENTION_CHUNK = regex.compile(r"^@[A-Za-z0-9_]+(:?)$")
_HASHTAG_PARTS = regex.compile(r"[^\W_]+")
_CACHE_LIMIT = 100_000


def split_hashtag(tag: str) -> list[str]:
    """Word pieces of a normalised hashtag: 'paris_is_burning' -> ['paris', 'is', 'burning']."""
    return _HASHTAG_PARTS.findall(tag)


class TokenFeaturizer(TransformerMixin, BaseEstimator):
    """Texts -> L2-normalised TF-IDF matrix of in-token character n-grams and token unigrams.

    char_ngram_range: (min_n, max_n) of character n-grams taken inside each
        token padded with spaces, as ``char_wb`` does.
    word_features: add one feature per whole token.
    hashtag_words: add the words of a hashtag ('#paris_is_burning' -> 'paris',
        'is', 'burning') as extra terms, so tags and plain text share evidence.
    min_df: keep features seen in at least this many training texts.
    sublinear_tf: use 1 + log(tf) instead of raw counts.
    drop_rt: drop the 'rt' marker of retweets (it says nothing about stance).
    """

    def __init__(
        self,
        char_ngram_range: tuple[int, int] = (2, 5),
        word_features: bool = True,
        hashtag_words: bool = True,
        min_df: int = 1,
        sublinear_tf: bool = True,
        drop_rt: bool = True,
    ) -> None:
        self.char_ngram_range = char_ngram_range
        self.word_features = word_features
        self.hashtag_words = hashtag_words
        self.min_df = min_df
        self.sublinear_tf = sublinear_tf
        self.drop_rt = drop_rt

    # -- per-token work (cached) ---------------------------------------------------

    def _terms_of_chunk(self, chunk: str) -> list[str]:
        if _URL_CHUNK.match(chunk):
            return [URL_TOKEN]
        mention = _MENTION_CHUNK.match(chunk)
        if mention:
            return [MENTION_TOKEN, ":"] if mention.group(1) else [MENTION_TOKEN]
        terms: list[str] = []
        for token in (t for piece in normalize(chunk).split() for t in tokenize_chunk(piece)):
            if token.startswith("@") and len(token) > 1:
                terms.append(MENTION_TOKEN)
            elif _URL_LIKE.match(token):
                terms.append(URL_TOKEN)
            elif self.drop_rt and token == "rt":
                continue
            else:
                terms.append(token)
                if self.hashtag_words and token[0] in "#＃" and len(token) > 1:
                    terms.extend(split_hashtag(token[1:]))
        return terms

    def terms(self, text: str) -> list[str]:
        """The terms (normalised, masked tokens) the model sees for ``text``.

        Normalisation works chunk by chunk (whitespace never changes under it),
        so it is cached along with tokenisation.
        """
        return [t for chunk in text.split() for t in self._terms_of_chunk(chunk)]

    def _feature_names_of_term(self, term: str) -> list[str]:
        low, high = self.char_ngram_range
        names = [f"w:{term}"] if self.word_features else []
        padded = f" {term} "
        for n in range(low, high + 1):
            if n > len(padded):
                break
            names.extend("c:" + padded[i : i + n] for i in range(len(padded) - n + 1))
        return names

    def _cache(self) -> _TermCache:
        cache = self.__dict__.get("_term_cache")
        if cache is None or len(cache.rows) >= _CACHE_LIMIT:
            cache = self.__dict__["_term_cache"] = _TermCache()
        return cache

    def _chunk_ids(self, chunk: str, cache: _TermCache) -> tuple[int, ...]:
        ids = []
        for term in self._terms_of_chunk(chunk):
            index = cache.term_ids.get(term)
            if index is None:
                index = cache.term_ids[term] = len(cache.rows)
                cache.rows.append(self._term_row(term))
                cache.terms.append(term)
            ids.append(index)
        found = cache.chunks[chunk] = tuple(ids)
        return found

    def _term_row(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        counts: dict[int, int] = {}
        vocab = self.vocabulary_
        for name in self._feature_names_of_term(term):
            index = vocab.get(name)
            if index is not None:
                counts[index] = counts.get(index, 0) + 1
        return (
            np.fromiter(counts.keys(), dtype=np.int32, count=len(counts)),
            np.fromiter(counts.values(), dtype=np.float32, count=len(counts)),
        )

    # -- estimator API -----------------------------------------------------------------

    def fit(self, X: Sequence[str], y: object = None) -> TokenFeaturizer:
        """Learn the vocabulary and IDF weights from texts ``X``."""
        document_frequency: dict[str, int] = {}
        for text in X:
            for name in {n for term in self.terms(text) for n in self._feature_names_of_term(term)}:
                document_frequency[name] = document_frequency.get(name, 0) + 1
        kept = sorted(name for name, df in document_frequency.items() if df >= self.min_df)
        self.vocabulary_ = {name: index for index, name in enumerate(kept)}
        self.feature_names_ = np.array(kept, dtype=object)
        df = np.array([document_frequency[name] for name in kept], dtype=np.float64)
        n_docs = len(X)
        self.idf_ = (np.log((1.0 + n_docs) / (1.0 + df)) + 1.0).astype(np.float32)
        self.n_features_ = len(kept)
        self.__dict__.pop("_term_cache", None)
        return self

    def transform(self, X: Sequence[str]) -> sp.csr_matrix:
        """Sparse TF-IDF matrix (len(X) x n_features_), rows L2-normalised."""
        check_is_fitted(self, "vocabulary_")
        cache = self._cache()
        chunks = cache.chunks
        ids: list[int] = []
        indptr = np.zeros(len(X) + 1, dtype=np.int64)
        get = chunks.get
        for row, text in enumerate(X):
            parts = text.split()
            start = len(ids)
            try:
                ids.extend(chain.from_iterable(map(get, parts)))
            except TypeError:  # a chunk not seen before (None): fill the cache
                del ids[start:]
                for chunk in parts:
                    found = get(chunk)
                    ids.extend(found if found is not None else self._chunk_ids(chunk, cache))
            indptr[row + 1] = len(ids)
        all_ids = np.array(ids, dtype=np.int64)
        unique, inverse = np.unique(all_ids, return_inverse=True)
        # Order the batch's terms by their text, not by cache id: cache ids depend on
        # what this process saw before, and float sums depend on the order of terms.
        # Sorted by text, a post gets bit-identical scores whatever came before it
        # (a resumed batch job must reproduce an uninterrupted one exactly).
        by_text = sorted(
            range(len(unique)), key=[cache.terms[i] for i in unique.tolist()].__getitem__
        )
        position = np.empty(len(unique), dtype=np.int64)
        position[by_text] = np.arange(len(unique))
        inverse = position[inverse]
        unique = unique[by_text]
        doc_term = sp.csr_matrix(
            (np.ones(len(all_ids), dtype=np.float32), inverse.astype(np.int32), indptr),
            shape=(len(X), len(unique)),
        )
        doc_term.sum_duplicates()
        rows = [cache.rows[i] for i in unique.tolist()]
        lengths = np.fromiter((len(r[0]) for r in rows), dtype=np.int64, count=len(rows))
        term_indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=term_indptr[1:])
        if rows:
            indices = np.concatenate([r[0] for r in rows])
            data = np.concatenate([r[1] for r in rows])
        else:
            indices = np.zeros(0, dtype=np.int32)
            data = np.zeros(0, dtype=np.float32)
        term_feature = sp.csr_matrix(
            (data, indices, term_indptr), shape=(len(rows), self.n_features_)
        )
        matrix = (doc_term @ term_feature).tocsr()
        if self.sublinear_tf:
            np.log(matrix.data, out=matrix.data)
            matrix.data += 1.0
        matrix.data *= self.idf_[matrix.indices]
        row_of = np.repeat(np.arange(len(X)), np.diff(matrix.indptr))
        norms = np.sqrt(np.bincount(row_of, weights=matrix.data**2, minlength=len(X)))
        norms[norms == 0] = 1.0
        matrix.data /= norms[row_of].astype(np.float32)
        return matrix

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return self.feature_names_

    def __getstate__(self) -> dict[str, object]:
        # Caches are rebuilt on demand; pickling them would bloat the artifact.
        state = self.__dict__.copy()
        state.pop("_term_cache", None)
        return state


class _TermCache:
    """Chunk -> term ids and term id -> feature row, for one fitted featurizer."""

    __slots__ = ("chunks", "rows", "term_ids", "terms")

    def __init__(self) -> None:
        self.chunks: dict[str, tuple[int, ...]] = {}
        self.term_ids: dict[str, int] = {}
        self.terms: list[str] = []
        self.rows: list[tuple[np.ndarray, np.ndarray]] = []
