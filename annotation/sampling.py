"""Choosing which posts annotators label next (active learning).

``select(posts, n, strategy, model=None, seed=0)`` returns indices into
``posts``. Strategies:

- ``uncertainty``: the posts whose two most probable labels are closest
  (smallest margin between the top two calibrated probabilities).
- ``diversity``: uncertainty sampling without the near-duplicates it tends to
  pile up (the same short slogan retweeted a hundred times): walks the most
  uncertain candidates (``CANDIDATE_FACTOR`` x n at a time) and skips any post
  whose text is an exact duplicate, after normalisation, of one already chosen
  (retweet prefix, URLs, mentions, case and punctuation ignored) or whose
  character-trigram Jaccard similarity to one already chosen exceeds
  ``NEAR_DUPLICATE_JACCARD``. When the pool holds fewer than n distinct texts,
  the skipped posts fill the rest, most uncertain first.
- ``random``: a uniform sample.
- ``hashtag-stratified``: picks spread over hashtags. Posts without hashtags
  form a stratum of their own. Round-robin weighted by volume: the first round
  takes one post from every stratum, largest first; later picks go to the
  stratum with the highest ``volume / (2 * picks + 1)`` (Sainte-Laguë), so
  large hashtags get more picks in proportion but small ones are not starved.
  Within a stratum the most uncertain post comes first when a model is given,
  a seeded random one otherwise. A post with several hashtags belongs to each
  of their strata and is picked at most once.

Every strategy is deterministic for a given seed; ties are broken by a random
order drawn from the seed.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import regex
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

from swarmlens.classifier.batch.scoring import READ_CHUNK_SIZE
from swarmlens.classifier.model.features import MENTION_TOKEN, URL_TOKEN, TokenFeaturizer
from swarmlens.classifier.posts.post import Post

if TYPE_CHECKING:
    from swarmlens.classifier.model.estimator import StanceClassifier

STRATEGIES: tuple[str, ...] = ("uncertainty", "diversity", "random", "hashtag-stratified")
"""The strategy names ``select`` accepts."""

NEEDS_MODEL: frozenset[str] = frozenset({"uncertainty", "diversity"})
"""Strategies that cannot run without a fitted model."""

CANDIDATE_FACTOR = 5
"""``diversity`` considers the most uncertain ``CANDIDATE_FACTOR * n`` posts at a time."""

NEAR_DUPLICATE_JACCARD = 0.6
"""``diversity`` skips a post whose trigram Jaccard similarity to a chosen one exceeds this."""

NO_HASHTAG = ""
"""Stratum key of posts without hashtags in ``hashtag-stratified``."""

_WORDLIKE = regex.compile(r"[\p{L}\p{N}]")
_SHINGLE = 3
_HASH_FEATURES = 2**20
_TERMS = TokenFeaturizer(hashtag_words=False, drop_rt=True)  # .terms() needs no fitting


def select(
    posts: Sequence[Post],
    n: int,
    strategy: str,
    model: StanceClassifier | None = None,
    seed: int = 0,
) -> list[int]:
    """Indices into ``posts`` of the (at most ``n``) posts to annotate next, best first.

    posts: the unlabelled pool; only ``text`` (and ``hashtags`` for
        ``hashtag-stratified``) are read.
    n: how many posts to choose; fewer are returned when the pool is smaller.
    strategy: one of ``STRATEGIES``.
    model: a fitted classifier with ``predict_proba`` and ``classes_`` (e.g. a
        ``StanceClassifier``); required by ``uncertainty`` and ``diversity``,
        optional for ``hashtag-stratified`` (orders posts within a hashtag),
        ignored by ``random``.
    seed: seed of the random draws and tie-breaks; the same seed gives the same result.
    Raises ValueError for an unknown strategy, a missing model, or a negative ``n``.
    """
    if strategy not in STRATEGIES:
        raise ValueError(
            f"unknown sampling strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}"
        )
    if strategy in NEEDS_MODEL and model is None:
        raise ValueError(
            f"sampling strategy {strategy!r} needs a fitted model (pass model=...); "
            "'random' and 'hashtag-stratified' work without one"
        )
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ValueError(f"n must be an integer, got {type(n).__name__}")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    n = min(int(n), len(posts))
    if n == 0:
        return []
    rng = np.random.default_rng(seed)
    if strategy == "random":
        return [int(i) for i in rng.permutation(len(posts))[:n]]
    if strategy == "hashtag-stratified":
        order = (
            uncertainty_order(posts, model, rng)
            if model is not None
            else rng.permutation(len(posts))
        )
        return _stratified(posts, n, order)
    assert model is not None
    order = uncertainty_order(posts, model, rng)
    if strategy == "uncertainty":
        return [int(i) for i in order[:n]]
    return _diverse(posts, n, order)


def margins(posts: Sequence[Post], model: Any) -> np.ndarray:
    """Margin between the two highest predicted probabilities of each post (0 = undecided).

    posts: the posts to score. model: anything with ``predict_proba(texts)``.
    """
    texts = [post.text for post in posts]
    parts = [
        np.asarray(model.predict_proba(texts[start : start + READ_CHUNK_SIZE]), dtype=float)
        for start in range(0, len(texts), READ_CHUNK_SIZE)
    ]
    proba = np.vstack(parts) if parts else np.zeros((0, 2))
    if proba.ndim != 2 or proba.shape[0] != len(posts):
        raise ValueError(f"model.predict_proba returned shape {proba.shape} for {len(posts)} posts")
    if proba.shape[1] < 2:  # a one-class model is never uncertain
        return np.ones(len(posts))
    top_two = np.partition(proba, proba.shape[1] - 2, axis=1)[:, -2:]
    return top_two[:, 1] - top_two[:, 0]


def uncertainty_order(posts: Sequence[Post], model: Any, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``posts`` from the most to the least uncertain (smallest margin first).

    posts: the pool. model: anything with ``predict_proba``. rng: breaks ties
    (margins equal to 12 decimals count as equal, so float noise does not decide).
    """
    margin = np.round(margins(posts, model), 12)
    tiebreak = rng.random(len(posts))
    return np.lexsort((tiebreak, margin))


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


def _shingles(key: str) -> list[str]:
    padded = f" {key} "
    if len(padded) <= _SHINGLE:
        return [padded]
    return [padded[i : i + _SHINGLE] for i in range(len(padded) - _SHINGLE + 1)]


_VECTORIZER = HashingVectorizer(
    analyzer=_shingles,
    n_features=_HASH_FEATURES,
    alternate_sign=False,
    norm=None,
    binary=True,
)


def _shingle_matrix(keys: Sequence[str]) -> sp.csr_matrix:
    matrix = _VECTORIZER.transform(keys).tocsr()
    matrix.data[:] = 1.0
    return matrix


def _jaccard(matrix: sp.csr_matrix, sizes: np.ndarray, other: sp.csr_matrix) -> np.ndarray:
    """Jaccard similarity of every row of ``matrix`` with every row of ``other``: (rows x other)."""
    other_sizes = np.asarray(other.getnnz(axis=1), dtype=float)
    inter = (matrix @ other.T).toarray()
    union = sizes[:, None] + other_sizes[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _diverse(posts: Sequence[Post], n: int, order: np.ndarray) -> list[int]:
    chosen: list[int] = []
    chosen_keys: set[str] = set()
    chosen_rows: list[sp.csr_matrix] = []
    skipped: list[tuple[bool, int]] = []  # (exact duplicate?, index), in uncertainty order
    window = max(CANDIDATE_FACTOR * n, 1)
    for start in range(0, len(order), window):
        batch = order[start : start + window]
        keys = [dedupe_key(posts[int(i)].text) for i in batch]
        matrix = _shingle_matrix(keys)
        sizes = np.asarray(matrix.getnnz(axis=1), dtype=float)
        if chosen_rows:
            max_sim = _jaccard(matrix, sizes, sp.vstack(chosen_rows).tocsr()).max(axis=1)
        else:
            max_sim = np.zeros(len(batch))
        for j, index in enumerate(batch.tolist()):
            if len(chosen) == n:
                break
            if keys[j] in chosen_keys:
                skipped.append((True, index))
                continue
            if max_sim[j] > NEAR_DUPLICATE_JACCARD:
                skipped.append((False, index))
                continue
            chosen.append(index)
            chosen_keys.add(keys[j])
            row = matrix[j]
            chosen_rows.append(row)
            np.maximum(max_sim, _jaccard(matrix, sizes, row)[:, 0], out=max_sim)
        if len(chosen) == n:
            return chosen
    # Fewer than n distinct texts: near-duplicates first, exact duplicates last.
    for _, index in sorted(skipped, key=lambda item: item[0])[: n - len(chosen)]:
        chosen.append(index)
    return chosen


def _stratified(posts: Sequence[Post], n: int, order: np.ndarray) -> list[int]:
    strata: dict[str, list[int]] = {}
    for index in order.tolist():
        tags = list(dict.fromkeys(posts[index].hashtags)) or [NO_HASHTAG]
        for tag in tags:
            strata.setdefault(tag, []).append(index)
    volume = {tag: len(members) for tag, members in strata.items()}
    cursor = dict.fromkeys(strata, 0)
    picks = dict.fromkeys(strata, 0)
    taken: set[int] = set()
    chosen: list[int] = []

    def take(tag: str) -> bool:
        members = strata[tag]
        at = cursor[tag]
        while at < len(members) and members[at] in taken:
            at += 1
        cursor[tag] = at
        if at == len(members):
            return False
        taken.add(members[at])
        chosen.append(members[at])
        cursor[tag] = at + 1
        picks[tag] += 1
        return True

    by_volume = sorted(strata, key=lambda tag: (-volume[tag], tag))
    for tag in by_volume:  # the first round: one post from every stratum, largest first
        if len(chosen) == n:
            return chosen
        take(tag)
    heap = [(-volume[tag] / (2 * picks[tag] + 1), -volume[tag], tag) for tag in by_volume]
    heapq.heapify(heap)
    while heap and len(chosen) < n:
        _, _, tag = heapq.heappop(heap)
        if take(tag):
            heapq.heappush(heap, (-volume[tag] / (2 * picks[tag] + 1), -volume[tag], tag))
    return chosen
