"""Near-duplicate texts, as an annotator sees them: one key per text and the character
trigram Jaccard similarity of keys (``sampling``'s ``diversity`` and the strategies built
on it skip posts an annotator would find already labelled)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import regex
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

from swarmlens.classifier.model.features import MENTION_TOKEN, URL_TOKEN, TokenFeaturizer

NEAR_DUPLICATE_JACCARD = 0.6
"""``diversity`` skips a post whose trigram Jaccard similarity to a chosen one exceeds this."""
_WORDLIKE = regex.compile(r"[\p{L}\p{N}]")
_SHINGLE = 3
_HASH_FEATURES = 2**20
_TERMS = TokenFeaturizer(hashtag_words=False, drop_rt=True)  # .terms() needs no fitting


def dedupe_key(text: str) -> str:
    """The text reduced to what makes two posts the same for an annotator.

    Normalised and tokenised as the classifier does; the retweet marker, URLs,
    mentions, punctuation and the '#' of hashtags are dropped, so
    'RT @x: Same text! http://t.co/1' and 'same text' share a key. A text with no
    words at all keeps its normalised form, so two different emoji-only posts differ.
    """
    terms = _TERMS.terms(text)
    words = [
        t.lstrip("#＃")
        for t in terms
        if t not in (URL_TOKEN, MENTION_TOKEN) and _WORDLIKE.search(t)
    ]
    if words:
        return " ".join(words)
    return " ".join(t for t in terms if t not in (URL_TOKEN, MENTION_TOKEN))


def shingles(key: str) -> list[str]:
    padded = f" {key} "
    if len(padded) <= _SHINGLE:
        return [padded]
    return [padded[i : i + _SHINGLE] for i in range(len(padded) - _SHINGLE + 1)]


_VECTORIZER = HashingVectorizer(
    analyzer=shingles,
    n_features=_HASH_FEATURES,
    alternate_sign=False,
    norm=None,
    binary=True,
)


def shingle_matrix(keys: Sequence[str]) -> sp.csr_matrix:
    matrix = _VECTORIZER.transform(keys).tocsr()
    matrix.data[:] = 1.0
    return matrix


def jaccard(matrix: sp.csr_matrix, sizes: np.ndarray, other: sp.csr_matrix) -> np.ndarray:
    """Jaccard similarity of every row of ``matrix`` with every row of ``other``: (rows x other)."""
    other_sizes = np.asarray(other.getnnz(axis=1), dtype=float)
    inter = (matrix @ other.T).toarray()
    union = sizes[:, None] + other_sizes[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
