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
- ``margin``: breaking ties, by its name in the literature: the same ranking as
  ``uncertainty`` (smallest margin between the top two probabilities first).
- ``entropy``: the posts whose predicted distribution has the highest entropy
  (kept to compare with ``margin``; on three labels it favours posts spread over
  all three over posts torn between two).
- ``margin-diverse``: a batch that is uncertain *and* spread out. The
  ``CLUSTER_FACTOR * n`` smallest-margin posts without near-duplicates (as
  ``diversity`` filters them) are clustered into n groups by k-means on their
  embeddings (``embed``), and each group gives its smallest-margin post, so one
  batch does not spend ten labels on ten phrasings of the same confusion.
- ``margin-balanced``: smallest margin first, in a batch shared equally among the
  labels the model predicts (turn by turn, the label with the fewest picks so far takes
  its most uncertain post left), with at most one post per author (``author``, else
  ``group``; posts with neither count as their own author) and no near-duplicates (as
  ``diversity``). Plain margin sampling spends a batch on whichever boundary is
  currently widest, often one author's twenty posts of the same kind; a test on other
  authors rewards labels spread over labels and authors. Labels the model never predicts
  get no share; when the pool runs short the skipped posts fill the batch (another post
  of a chosen author first, then near-duplicates, then exact ones).
- ``typical``: a cold start that needs no model: k-means with n clusters on the
  embeddings of the distinct texts (weighted by how many posts share each text),
  and from each cluster the distinct text nearest its centre, largest cluster
  first: the posts most representative of the pool, not its outliers.
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
import scipy.sparse as sp

from swarmlens.annotation.near_duplicates import (
    NEAR_DUPLICATE_JACCARD,
    dedupe_key,
    jaccard,
    shingle_matrix,
)
from swarmlens.classifier.batch.scoring import READ_CHUNK_SIZE
from swarmlens.classifier.model import subwords
from swarmlens.classifier.model.linear import prepared_texts
from swarmlens.classifier.posts.post import Post

if TYPE_CHECKING:
    from swarmlens.classifier.model.estimator import StanceClassifier

STRATEGIES: tuple[str, ...] = (
    "uncertainty",
    "diversity",
    "random",
    "hashtag-stratified",
    "margin",
    "entropy",
    "margin-diverse",
    "margin-balanced",
    "typical",
)
"""The strategy names ``select`` accepts."""

NEEDS_MODEL: frozenset[str] = frozenset(
    {"uncertainty", "diversity", "margin", "entropy", "margin-diverse", "margin-balanced"}
)
"""Strategies that cannot run without a fitted model."""

CLUSTER_FACTOR = 5
"""``margin-diverse`` clusters the ``CLUSTER_FACTOR * n`` most uncertain distinct posts."""

KMEANS_BATCH_ABOVE = 20_000
"""Above this many points, k-means runs in mini-batches (``MiniBatchKMeans``)."""

CANDIDATE_FACTOR = 5
"""``diversity`` considers the most uncertain ``CANDIDATE_FACTOR * n`` posts at a time."""


NO_HASHTAG = ""
"""Stratum key of posts without hashtags in ``hashtag-stratified``."""



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
    if strategy == "typical":
        return _typical(posts, n, seed)
    assert model is not None
    if strategy == "entropy":
        return [int(i) for i in entropy_order(posts, model, rng)[:n]]
    if strategy == "margin-balanced":
        return _margin_balanced(posts, n, model, rng)
    order = uncertainty_order(posts, model, rng)
    if strategy in ("uncertainty", "margin"):
        return [int(i) for i in order[:n]]
    if strategy == "margin-diverse":
        return _margin_diverse(posts, n, order, seed)
    return _diverse(posts, n, order)


def probabilities(posts: Sequence[Post], model: Any) -> np.ndarray:
    """``model.predict_proba`` of the posts' texts, read in chunks: (len(posts), classes)."""
    texts = [post.text for post in posts]
    parts = [
        np.asarray(model.predict_proba(texts[start : start + READ_CHUNK_SIZE]), dtype=float)
        for start in range(0, len(texts), READ_CHUNK_SIZE)
    ]
    proba = np.vstack(parts) if parts else np.zeros((0, 2))
    if proba.ndim != 2 or proba.shape[0] != len(posts):
        raise ValueError(f"model.predict_proba returned shape {proba.shape} for {len(posts)} posts")
    return proba


def margins(posts: Sequence[Post], model: Any) -> np.ndarray:
    """Margin between the two highest predicted probabilities of each post (0 = undecided).

    posts: the posts to score. model: anything with ``predict_proba(texts)``.
    """
    proba = probabilities(posts, model)
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


def entropy_order(posts: Sequence[Post], model: Any, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``posts`` from the highest to the lowest predictive entropy.

    Entropies equal to 12 decimals count as equal; ``rng`` breaks the ties.
    """
    proba = np.clip(probabilities(posts, model), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(proba > 0, -proba * np.log(proba), 0.0)
    entropy = np.round(terms.sum(axis=1), 12)
    tiebreak = rng.random(len(posts))
    return np.lexsort((tiebreak, -entropy))


def embed(posts: Sequence[Post]) -> np.ndarray:
    """One L2-normalised vector per post, for clustering: (len(posts), 256) float64.

    The pretrained multilingual subword vectors the classifier ships (wordllama's
    ``l2_supercat_256``, see ``classifier.model.subwords``) pooled over the post's pieces,
    on the text as the model prepares it (URLs and mentions masked). A post with no piece
    gets zeros. No fitting, no network: the same post always gets the same vector.
    """
    texts = [post.text for post in posts]
    if not texts:
        return np.zeros((0, 256))
    prepared = prepared_texts(texts, {"mask_urls": True, "mask_mentions": True})
    vectors = np.asarray(subwords.pooled(prepared, subwords.load_wordllama()), dtype=float)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def kmeans(
    points: np.ndarray, k: int, seed: int, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(cluster of each point, centres) of k-means with ``k`` clusters (k-means++, seeded).

    ``k`` is capped by the number of distinct points. Mini-batches above
    ``KMEANS_BATCH_ABOVE`` points.
    """
    from sklearn.cluster import KMeans, MiniBatchKMeans

    distinct = len(np.unique(np.round(points, 9), axis=0))
    k = max(1, min(k, distinct))
    if len(points) > KMEANS_BATCH_ABOVE:
        algo: Any = MiniBatchKMeans(k, random_state=seed, n_init=3, batch_size=4096)
    else:
        algo = KMeans(k, random_state=seed, n_init=1)
    labels = algo.fit_predict(points, sample_weight=weights)
    return np.asarray(labels), np.asarray(algo.cluster_centers_)


def _typical(posts: Sequence[Post], n: int, seed: int) -> list[int]:
    # One point per distinct text (weighted by its posts), so duplicates neither crowd the
    # clusters nor get picked twice; the first post of a text stands for it.
    first_of: dict[str, int] = {}
    weight: dict[str, int] = {}
    for index, post in enumerate(posts):
        key = dedupe_key(post.text)
        first_of.setdefault(key, index)
        weight[key] = weight.get(key, 0) + 1
    keys = list(first_of)
    reps = [first_of[key] for key in keys]
    weights = np.array([weight[key] for key in keys], dtype=float)
    points = embed([posts[i] for i in reps])
    labels, centres = kmeans(points, n, seed, weights)
    distance = np.linalg.norm(points - centres[labels], axis=1)
    size = np.bincount(labels, weights=weights, minlength=len(centres))
    chosen: list[int] = []
    for cluster in sorted(range(len(centres)), key=lambda c: (-size[c], c)):
        members = np.flatnonzero(labels == cluster)
        if len(members):
            best = members[np.lexsort((members, distance[members]))[0]]
            chosen.append(reps[int(best)])
    if len(chosen) < n:  # fewer clusters than n: the rest nearest their centres, then duplicates
        taken = set(chosen)
        rest = [reps[int(j)] for j in np.lexsort((np.arange(len(reps)), distance))]
        rest += [i for i in range(len(posts)) if i not in set(reps)]
        chosen += [i for i in rest if i not in taken][: n - len(chosen)]
    return chosen[:n]


def _margin_diverse(posts: Sequence[Post], n: int, order: np.ndarray, seed: int) -> list[int]:
    candidates = _diverse(posts, min(len(posts), CLUSTER_FACTOR * n), order, fill=False)
    if len(candidates) <= n:  # too few distinct texts to cluster: as ``diversity``
        return _diverse(posts, n, order)
    rank = {index: r for r, index in enumerate(order.tolist())}
    points = embed([posts[i] for i in candidates])
    labels, _ = kmeans(points, n, seed)
    chosen: list[int] = []
    for cluster in np.unique(labels):  # candidates are in margin order: the first is the best
        chosen.append(candidates[int(np.flatnonzero(labels == cluster)[0])])
    if len(chosen) < n:  # fewer distinct embeddings than n
        taken = set(chosen)
        chosen += [i for i in candidates if i not in taken][: n - len(chosen)]
    return sorted(chosen, key=rank.__getitem__)


def author_key(post: Post) -> str | None:
    """Who wrote the post, for spreading a batch over authors: ``author``, else ``group``."""
    return post.author or post.group


def _margin_balanced(
    posts: Sequence[Post], n: int, model: Any, rng: np.random.Generator
) -> list[int]:
    proba = probabilities(posts, model)
    if proba.shape[1] < 2:  # a one-class model: no margins, no labels to share among
        return [int(i) for i in rng.permutation(len(posts))[:n]]
    top_two = np.argsort(-proba, axis=1, kind="stable")[:, :2]
    rows = np.arange(len(posts))
    margin = np.round(proba[rows, top_two[:, 0]] - proba[rows, top_two[:, 1]], 12)
    kind = top_two[:, 0]  # the share of a post: its predicted label
    order = np.lexsort((rng.random(len(posts)), margin))
    rank = np.empty(len(posts), dtype=int)
    rank[order] = np.arange(len(posts))
    # Each share's most uncertain CANDIDATE_FACTOR * n posts are its candidates.
    window = max(CANDIDATE_FACTOR * n, 1)
    queues = {int(k): order[kind[order] == k][:window] for k in np.unique(kind)}
    candidates = np.concatenate(list(queues.values()))
    row_of = {int(i): r for r, i in enumerate(candidates)}
    keys = [dedupe_key(posts[int(i)].text) for i in candidates]
    matrix = shingle_matrix(keys)
    sizes = np.asarray(matrix.getnnz(axis=1), dtype=float)
    max_sim = np.zeros(len(candidates))
    # The share with the fewest picks goes next; on a tie, the one with fewer posts in the
    # pool (the rarer a predicted label, the more its posts are worth).
    volume = {k: int(np.sum(kind == k)) for k in queues}
    picks = dict.fromkeys(queues, 0)
    cursor = dict.fromkeys(queues, 0)
    chosen: list[int] = []
    taken: set[int] = set()
    chosen_keys: set[str] = set()
    authors: set[str] = set()
    skipped: dict[int, int] = {}  # index -> 0 author already chosen, 1 near-, 2 exact duplicate
    active = set(queues)
    while len(chosen) < n and active:
        share = min(active, key=lambda k: (picks[k], volume[k], k))
        queue = queues[share]
        while cursor[share] < len(queue):
            index = int(queue[cursor[share]])
            cursor[share] += 1
            if index in taken:
                continue
            row = row_of[index]
            author = author_key(posts[index])
            if keys[row] in chosen_keys:
                skipped[index] = 2
            elif max_sim[row] > NEAR_DUPLICATE_JACCARD:
                skipped[index] = 1
            elif author is not None and author in authors:
                skipped[index] = 0
            else:
                chosen.append(index)
                taken.add(index)
                chosen_keys.add(keys[row])
                if author is not None:
                    authors.add(author)
                np.maximum(max_sim, jaccard(matrix, sizes, matrix[row])[:, 0], out=max_sim)
                picks[share] += 1
                break
        else:
            active.discard(share)
    if len(chosen) < n:  # the pool ran short: skipped posts, then the rest, by margin
        rest = sorted(skipped, key=lambda i: (skipped[i], rank[i]))
        rest += [int(i) for i in order if int(i) not in taken and int(i) not in skipped]
        chosen += [i for i in rest if i not in taken][: n - len(chosen)]
    return sorted(chosen, key=lambda i: rank[i])


def _diverse(posts: Sequence[Post], n: int, order: np.ndarray, fill: bool = True) -> list[int]:
    chosen: list[int] = []
    chosen_keys: set[str] = set()
    chosen_rows: list[sp.csr_matrix] = []
    skipped: list[tuple[bool, int]] = []  # (exact duplicate?, index), in uncertainty order
    window = max(CANDIDATE_FACTOR * n, 1)
    for start in range(0, len(order), window):
        batch = order[start : start + window]
        keys = [dedupe_key(posts[int(i)].text) for i in batch]
        matrix = shingle_matrix(keys)
        sizes = np.asarray(matrix.getnnz(axis=1), dtype=float)
        if chosen_rows:
            max_sim = jaccard(matrix, sizes, sp.vstack(chosen_rows).tocsr()).max(axis=1)
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
            np.maximum(max_sim, jaccard(matrix, sizes, row)[:, 0], out=max_sim)
        if len(chosen) == n:
            return chosen
    if not fill:
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
