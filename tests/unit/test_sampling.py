"""Tests of annotation.sampling: which posts annotators label next."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import pytest

from swarmlens.annotation import sampling
from swarmlens.annotation.near_duplicates import NEAR_DUPLICATE_JACCARD, dedupe_key, shingles
from swarmlens.annotation.sampling import STRATEGIES, select
from swarmlens.classifier.posts.post import Post

CLASSES = np.array(["neutral", "opposing", "supportive"], dtype=object)


class FakeModel:
    """predict_proba from a table: text -> margin between the top two labels."""

    classes_ = CLASSES

    def __init__(self, margin_of: dict[str, float], default: float = 0.9) -> None:
        self.margin_of = margin_of
        self.default = default
        self.calls = 0

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        rows = []
        for text in texts:
            m = self.margin_of.get(text, self.default)
            # top two: (1 + m) / 2 - eps and (1 - m) / 2 - eps; the third gets 2 * eps
            rows.append([(1 + m) / 2 - 0.01, (1 - m) / 2 - 0.01, 0.02])
        return np.array(rows)


def post(i: int, text: str, hashtags: list[str] | None = None) -> Post:
    return Post(post_id=str(i), platform="twitter", text=text, lang="en", hashtags=hashtags or [])


DISTINCT = [
    "police cordon in the tenth arrondissement says the prefecture",
    "french president to address the nation at nine",
    "border controls reinstated interior ministry says",
    "flights from paris running with delays airport says",
    "not in my name these murderers do not speak for islam",
    "report these accounts and do not share their propaganda",
    "daesh are criminals and paris stands together",
    "solidarity with the families of the victims tonight",
    "glory to the soldiers who struck france",
    "baqiya wa tatamaddad remaining and expanding",
    "metro reopens partially this morning according to the operator",
    "the football match at the stadium was evacuated",
    "a vigil is planned at the square on sunday evening",
    "hospitals call for blood donors after the attacks",
    "schools stay closed on monday in the capital",
    "the prosecutor gives a press conference at noon",
    "a third suspect has been identified by investigators",
    "tourists cancel trips as museums close their doors",
    "cartoonists respond with drawings of the eiffel tower",
    "mosques across the country condemn the violence",
]
SLOGAN = "the caliphate remains"
SLOGAN_VARIANTS = [
    SLOGAN,
    "RT @soldier1: the caliphate remains",
    "RT @Another_Acct: The Caliphate remains!! http://t.co/abc123",
    "the caliphate remains!!!",
    "@someone the caliphate remains",
    "THE CALIPHATE REMAINS #",
    "the caliphate remains.",
    "the caliphate remainss",  # a typo: not an exact duplicate, but a near one
]


def duplicate_pool() -> tuple[list[Post], FakeModel]:
    """20 copies / retweets of one slogan (most uncertain) and 20 distinct texts."""
    texts = [SLOGAN_VARIANTS[i % len(SLOGAN_VARIANTS)] for i in range(20)] + DISTINCT
    margin_of = {t: 0.0 for t in SLOGAN_VARIANTS}
    margin_of.update({t: 0.1 + 0.02 * k for k, t in enumerate(DISTINCT)})
    return [post(i, t) for i, t in enumerate(texts)], FakeModel(margin_of)


def hashtag_pool() -> list[Post]:
    posts = []
    for tag, count in (("big", 30), ("medium", 10), ("small", 5), ("", 5)):
        for k in range(count):
            posts.append(
                post(len(posts), f"{tag or 'plain'} post number {k}", [tag] if tag else [])
            )
    return posts


def shingle_jaccard(a: str, b: str) -> float:
    x = set(shingles(dedupe_key(a)))
    y = set(shingles(dedupe_key(b)))
    return len(x & y) / len(x | y)


# -- arguments -----------------------------------------------------------------------


def test_unknown_strategy_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="unknown sampling strategy 'bald'") as info:
        select([post(0, "x")], 1, "bald")
    for name in STRATEGIES:
        assert name in str(info.value)


@pytest.mark.parametrize("strategy", sorted(sampling.NEEDS_MODEL))
def test_strategies_needing_a_model_refuse_to_run_without_one(strategy: str) -> None:
    with pytest.raises(ValueError, match="needs a fitted model"):
        select([post(0, "x")], 1, strategy)


@pytest.mark.parametrize("strategy", ["random", "hashtag-stratified", "typical"])
def test_strategies_without_model_run_without_one(strategy: str) -> None:
    assert sorted(select([post(i, f"text {i}") for i in range(5)], 3, strategy)) != []


def test_negative_n_is_an_error() -> None:
    with pytest.raises(ValueError, match="n must be >= 0"):
        select([post(0, "x")], -1, "random")


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_n_zero_and_empty_pool_give_nothing(strategy: str) -> None:
    model = FakeModel({})
    assert select([post(0, "x")], 0, strategy, model=model) == []
    assert select([], 5, strategy, model=model) == []


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_n_larger_than_pool_returns_every_post_once(strategy: str) -> None:
    posts, model = duplicate_pool()
    chosen = select(posts, 1000, strategy, model=model, seed=3)
    assert sorted(chosen) == list(range(len(posts)))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_returns_n_distinct_valid_indices(strategy: str) -> None:
    posts, model = duplicate_pool()
    chosen = select(posts, 12, strategy, model=model, seed=1)
    assert len(chosen) == 12
    assert len(set(chosen)) == 12
    assert all(isinstance(i, int) and 0 <= i < len(posts) for i in chosen)


# -- determinism ----------------------------------------------------------------------


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_same_seed_same_selection(strategy: str) -> None:
    posts, model = duplicate_pool()
    posts += hashtag_pool()
    first = select(posts, 15, strategy, model=model, seed=7)
    second = select(posts, 15, strategy, model=model, seed=7)
    assert first == second


def test_random_depends_on_the_seed_and_is_uniform_ish() -> None:
    posts = [post(i, f"text {i}") for i in range(100)]
    assert select(posts, 10, "random", seed=0) != select(posts, 10, "random", seed=1)
    counts = Counter(i for seed in range(200) for i in select(posts, 10, "random", seed=seed))
    # 2,000 draws over 100 posts: every post expected 20 times.
    assert len(counts) == 100
    assert max(counts.values()) < 45


def test_uncertainty_ties_are_broken_by_the_seed() -> None:
    posts = [post(i, f"text {i}") for i in range(10)]
    model = FakeModel({}, default=0.5)  # every post equally uncertain
    firsts = {select(posts, 1, "uncertainty", model=model, seed=s)[0] for s in range(20)}
    assert len(firsts) > 3


# -- uncertainty ----------------------------------------------------------------------


def test_uncertainty_picks_the_lowest_margins_in_order() -> None:
    margins = [0.9, 0.05, 0.7, 0.3, 0.01, 0.8, 0.2, 0.6]
    posts = [post(i, f"post {i}") for i in range(len(margins))]
    model = FakeModel({f"post {i}": m for i, m in enumerate(margins)})
    assert select(posts, 3, "uncertainty", model=model) == [4, 1, 6]


def test_margin_uses_the_top_two_probabilities_whatever_the_column_order() -> None:
    class Columns:
        classes_ = CLASSES

        def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
            table = {
                "a": [0.1, 0.45, 0.45],  # margin 0
                "b": [0.6, 0.1, 0.3],  # margin 0.3
                "c": [0.34, 0.33, 0.33],  # margin 0.01
                "d": [0.05, 0.05, 0.9],  # margin 0.85
            }
            return np.array([table[t] for t in texts])

    posts = [post(i, t) for i, t in enumerate("abcd")]
    assert select(posts, 4, "uncertainty", model=Columns()) == [0, 2, 1, 3]


# -- diversity ------------------------------------------------------------------------


def test_retweets_and_formatting_share_a_dedupe_key() -> None:
    keys = {dedupe_key(t) for t in SLOGAN_VARIANTS[:-1]}
    assert keys == {"the caliphate remains"}
    assert dedupe_key("the caliphate remains") != dedupe_key("the caliphate has fallen")
    assert dedupe_key("🐱") != dedupe_key("🔥")


def test_uncertainty_alone_piles_up_duplicates_in_this_pool() -> None:
    posts, model = duplicate_pool()
    chosen = select(posts, 10, "uncertainty", model=model)
    assert all(posts[i].text in SLOGAN_VARIANTS for i in chosen)  # the problem diversity fixes


@pytest.mark.parametrize("seed", range(5))
def test_diversity_never_returns_two_near_duplicates_when_alternatives_exist(seed: int) -> None:
    posts, model = duplicate_pool()
    chosen = select(posts, 15, "diversity", model=model, seed=seed)
    assert len(chosen) == 15
    slogans = [i for i in chosen if posts[i].text in SLOGAN_VARIANTS]
    assert len(slogans) == 1
    texts = [posts[i].text for i in chosen]
    for a in range(len(texts)):
        for b in range(a + 1, len(texts)):
            assert shingle_jaccard(texts[a], texts[b]) <= NEAR_DUPLICATE_JACCARD
    # The distinct texts follow in uncertainty order.
    assert [posts[i].text for i in chosen[1:]] == DISTINCT[:14]


def test_diversity_skips_near_duplicates_that_are_not_exact() -> None:
    a = "glory to the soldiers of the caliphate in paris"
    b = "glory to the soldiers of the caliphate in paris tonight"
    assert dedupe_key(a) != dedupe_key(b)
    assert shingle_jaccard(a, b) > NEAR_DUPLICATE_JACCARD
    posts = [post(0, a), post(1, b), post(2, DISTINCT[0]), post(3, DISTINCT[1])]
    model = FakeModel({a: 0.0, b: 0.01, DISTINCT[0]: 0.2, DISTINCT[1]: 0.3})
    assert select(posts, 3, "diversity", model=model) == [0, 2, 3]


def test_diversity_looks_beyond_the_first_candidates_before_repeating() -> None:
    # 40 copies are the most uncertain: the first window (5 x 2 = 10) holds only copies.
    texts = [SLOGAN] * 40 + DISTINCT[:3]
    model = FakeModel({SLOGAN: 0.0, DISTINCT[0]: 0.5, DISTINCT[1]: 0.6, DISTINCT[2]: 0.7})
    posts = [post(i, t) for i, t in enumerate(texts)]
    chosen = select(posts, 2, "diversity", model=model)
    assert [posts[i].text for i in chosen] == [SLOGAN, DISTINCT[0]]


def test_diversity_fills_with_duplicates_when_too_few_distinct_texts() -> None:
    posts = [post(i, SLOGAN_VARIANTS[i % 3]) for i in range(9)] + [post(9, DISTINCT[0])]
    model = FakeModel({t: 0.0 for t in SLOGAN_VARIANTS})
    chosen = select(posts, 5, "diversity", model=model)
    assert len(chosen) == 5 and len(set(chosen)) == 5
    # The two distinct texts come first, then the duplicates fill the rest.
    assert posts[chosen[0]].text in SLOGAN_VARIANTS and chosen[1] == 9


# -- hashtag-stratified ---------------------------------------------------------------


@pytest.mark.parametrize("with_model", [False, True])
def test_hashtag_stratified_covers_every_stratum_first(with_model: bool) -> None:
    posts = hashtag_pool()
    model = FakeModel({}, default=0.5) if with_model else None
    chosen = select(posts, 4, "hashtag-stratified", model=model)
    strata = {(posts[i].hashtags or [""])[0] for i in chosen}
    assert strata == {"big", "medium", "small", ""}


def test_hashtag_stratified_gives_big_hashtags_more_but_not_all() -> None:
    posts = hashtag_pool()
    chosen = select(posts, 20, "hashtag-stratified", seed=2)
    counts = Counter((posts[i].hashtags or [""])[0] for i in chosen)
    assert counts["big"] > counts["medium"] > counts["small"] >= 1
    assert counts[""] >= 1
    assert counts["big"] < 20 * 30 / 50 + 3  # roughly proportional, not winner-takes-all


def test_hashtag_stratified_uses_uncertainty_within_a_hashtag() -> None:
    posts = hashtag_pool()
    target = next(p for p in posts if p.hashtags == ["small"] and p.text.endswith("3"))
    model = FakeModel({target.text: 0.0}, default=0.8)
    chosen = select(posts, 4, "hashtag-stratified", model=model)
    assert posts.index(target) in chosen


def test_posts_with_several_hashtags_are_picked_once() -> None:
    posts = [post(i, f"both {i}", ["a", "b"]) for i in range(3)]
    chosen = select(posts, 10, "hashtag-stratified")
    assert sorted(chosen) == [0, 1, 2]


# -- with the real classifier ------------------------------------------------------------


def test_every_strategy_runs_with_the_real_classifier(
    tiny_corpus: tuple[list[str], list[str]],
) -> None:
    from swarmlens.classifier.model.estimator import StanceClassifier

    texts, labels = tiny_corpus
    model = StanceClassifier().fit(texts, labels)
    posts = [
        post(i, t, [w[1:].lower() for w in t.split() if w.startswith("#")])
        for i, t in enumerate(texts)
    ]
    for strategy in STRATEGIES:
        chosen = select(posts, 10, strategy, model=model, seed=0)
        assert len(chosen) == 10 and len(set(chosen)) == 10
    # The corpus is the same 18 texts three times: diversity takes each text once at most.
    chosen = select(posts, 18, "diversity", model=model)
    assert len({posts[i].text for i in chosen}) == 18


def test_diversity_fill_prefers_near_duplicates_to_exact_ones() -> None:
    typo = "the caliphate remainss"
    posts = [post(i, SLOGAN) for i in range(3)] + [post(3, typo)]
    model = FakeModel({SLOGAN: 0.0, typo: 0.05})
    chosen = select(posts, 2, "diversity", model=model)
    assert posts[chosen[0]].text == SLOGAN and chosen[1] == 3


# -- margin (breaking ties), entropy -------------------------------------------------------


class TableModel:
    """predict_proba from a table: text -> probability row."""

    classes_ = CLASSES

    def __init__(self, rows: dict[str, list[float]]) -> None:
        self.rows = rows

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([self.rows[t] for t in texts])


def test_margin_picks_the_smallest_margins_in_order() -> None:
    margin_of = {t: 0.05 * k for k, t in enumerate(reversed(DISTINCT))}
    posts = [post(i, t) for i, t in enumerate(DISTINCT)]
    model = FakeModel(margin_of)
    chosen = select(posts, 4, "margin", model=model, seed=5)
    assert [posts[i].text for i in chosen] == list(reversed(DISTINCT))[:4]
    assert chosen == select(posts, 4, "uncertainty", model=model, seed=5)


def test_margin_and_entropy_disagree_where_the_literature_says_they_do() -> None:
    # torn between two labels: margin 0, entropy ln 2; spread over three: margin 0.2, entropy ~1.05
    model = TableModel(
        {"torn": [0.5, 0.5, 0.0], "spread": [0.2, 0.4, 0.4], "sure": [0.9, 0.05, 0.05]}
    )
    posts = [post(0, "sure"), post(1, "spread"), post(2, "torn")]
    assert select(posts, 1, "margin", model=model) == [2]
    assert select(posts, 1, "entropy", model=model) == [1]
    assert select(posts, 3, "entropy", model=model) == [1, 2, 0]


# -- typical (cold start) and margin-diverse: clustering on embeddings ---------------------

CENTRES = {
    "a": np.array([1.0, 0.0, 0.0]),
    "b": np.array([0.0, 1.0, 0.0]),
    "c": np.array([0.0, 0.0, 1.0]),
}


def clustered_pool(monkeypatch: pytest.MonkeyPatch) -> tuple[list[Post], dict[str, np.ndarray]]:
    """Three tight clusters (sizes 9, 7, 5) in a 3-d embedding; in each, 'X centre' sits on
    the centre and 'X member k' in pairs on either side of it, further and further out."""
    vectors: dict[str, np.ndarray] = {}
    for name, size in (("a", 9), ("b", 7), ("c", 5)):
        vectors[f"{name} centre"] = CENTRES[name].copy()
        for k in range(1, size):
            sign = 1 if k % 2 else -1  # symmetric, so the centroid stays on the centre
            offset = sign * 0.02 * ((k + 1) // 2)
            vectors[f"{name} member {k}"] = CENTRES[name] + offset * (
                np.arange(3) != "abc".index(name)
            )
    monkeypatch.setattr(sampling, "embed", lambda posts: np.array([vectors[p.text] for p in posts]))
    texts = list(vectors)
    np.random.default_rng(1).shuffle(texts)
    return [post(i, t) for i, t in enumerate(texts)], vectors


def test_typical_picks_the_post_nearest_each_cluster_centre(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    posts, _ = clustered_pool(monkeypatch)
    chosen = select(posts, 3, "typical", seed=0)
    # largest cluster first, and from each the post on its centre
    assert [posts[i].text for i in chosen] == ["a centre", "b centre", "c centre"]
    assert select(posts, 3, "typical", seed=0, model=FakeModel({})) == chosen  # model ignored


def test_typical_counts_duplicates_as_weight_but_picks_a_text_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Nine retweets of one slogan and three distinct texts: the slogan is the typical post,
    # picked once; with n = 4 every distinct text comes before any second copy.
    points = {
        SLOGAN: [1.0, 0.0],
        DISTINCT[0]: [0.0, 1.0],
        DISTINCT[1]: [0.6, 0.8],
        DISTINCT[2]: [0.8, 0.6],
    }
    monkeypatch.setattr(
        sampling, "embed", lambda posts: np.array([points[dedupe_key(p.text)] for p in posts])
    )
    texts = [SLOGAN_VARIANTS[i % 7] for i in range(9)] + DISTINCT[:3]
    posts = [post(i, t) for i, t in enumerate(texts)]
    chosen = select(posts, 1, "typical")
    assert dedupe_key(posts[chosen[0]].text) == SLOGAN
    chosen = select(posts, 4, "typical")
    assert len({dedupe_key(posts[i].text) for i in chosen}) == 4


def test_margin_diverse_takes_the_most_uncertain_post_of_each_cluster(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    posts, _ = clustered_pool(monkeypatch)
    # Cluster a holds all the most uncertain posts: plain margin would take only from it.
    margin_of = {p.text: (0.01 if p.text.startswith("a") else 0.5) for p in posts}
    margin_of["a member 3"] = 0.001
    margin_of["b member 2"] = 0.2
    margin_of["c member 1"] = 0.3
    model = FakeModel(margin_of)
    assert {posts[i].text[0] for i in select(posts, 3, "margin", model=model)} == {"a"}
    chosen = select(posts, 3, "margin-diverse", model=model, seed=0)
    assert [posts[i].text for i in chosen] == ["a member 3", "b member 2", "c member 1"]


def test_margin_diverse_never_picks_near_duplicates_when_alternatives_exist() -> None:
    posts, model = duplicate_pool()  # the 20 most uncertain posts are one slogan
    for seed in range(3):
        chosen = select(posts, 8, "margin-diverse", model=model, seed=seed)
        keys = [dedupe_key(posts[i].text) for i in chosen]
        pairs = [(a, b) for k, a in enumerate(keys) for b in keys[k + 1 :]]
        assert all(shingle_jaccard(a, b) <= NEAR_DUPLICATE_JACCARD for a, b in pairs)
        assert sum(SLOGAN in k for k in keys) == 1


def test_embed_is_normalised_deterministic_and_puts_paraphrases_close() -> None:
    posts = [
        post(0, "paris stands together tonight"),
        post(1, "RT @x: Paris stands together tonight! http://t.co/1"),
        post(2, "glory to the soldiers of the caliphate"),
        post(3, ""),
    ]
    vectors = sampling.embed(posts)
    assert vectors.shape == (4, 256)
    assert np.allclose(np.linalg.norm(vectors[:3], axis=1), 1.0)
    assert np.array_equal(vectors, sampling.embed(posts))
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]

# -- margin-balanced -----------------------------------------------------------------------


OPPOSING_TEXTS = [
    "shame on the killers",
    "no cause justifies murdering concert goers",
    "terrorists betray every faith",
    "we will not be afraid of them",
]
SUPPORTIVE_TEXTS = [
    "a blessed raid on the crusaders",
    "the lions struck the city of sin",
    "victory belongs to the state",
    "may god accept the martyrs",
]


def balanced_pool() -> tuple[list[Post], TableModel]:
    """The 20 most uncertain posts are one author's, all predicted neutral; the opposing
    and supportive posts the model predicts are surer, each by another author."""
    posts: list[Post] = []
    proba_of: dict[str, list[float]] = {}

    def add(text: str, row: list[float], author: str) -> None:
        posts.append(
            Post(post_id=str(len(posts)), platform="twitter", text=text, lang="en", author=author)
        )
        proba_of[text] = row

    for k in range(20):  # margins 0.01 .. 0.20, one author
        m = 0.01 * (k + 1)
        add(f"{DISTINCT[k]} neutral", [0.5 + m / 2, 0.5 - m / 2, 0.0], "prolific")
    for k, text in enumerate(OPPOSING_TEXTS):  # predicted opposing, margins 0.30 .. 0.60
        m = 0.3 + 0.1 * k
        add(text, [(1 - m) / 2, (1 + m) / 2, 0.0], f"o{k}")
    for k, text in enumerate(SUPPORTIVE_TEXTS):  # predicted supportive, margins 0.35 .. 0.65
        m = 0.35 + 0.1 * k
        add(text, [(1 - m) / 2, 0.0, (1 + m) / 2], f"s{k}")
    add("another neutral post by someone else", [0.6, 0.4, 0.0], "n1")  # margin 0.2
    return posts, TableModel(proba_of)


def test_margin_balanced_shares_the_batch_among_predicted_labels_and_authors() -> None:
    posts, model = balanced_pool()
    # Plain margin sampling spends the whole batch on the prolific author's neutral posts.
    assert {posts[i].author for i in select(posts, 6, "margin", model=model)} == {"prolific"}
    chosen = select(posts, 6, "margin-balanced", model=model, seed=0)
    texts = {posts[i].text for i in chosen}
    # Two per predicted label, each label's most uncertain ones, one post per author:
    # the prolific author's most uncertain post, then the other neutral author's.
    assert texts == {
        f"{DISTINCT[0]} neutral",
        "another neutral post by someone else",
        *OPPOSING_TEXTS[:2],
        *SUPPORTIVE_TEXTS[:2],
    }
    assert posts[chosen[0]].text == f"{DISTINCT[0]} neutral"  # best first


def test_margin_balanced_fills_with_the_skipped_posts_when_the_pool_runs_short() -> None:
    posts, model = balanced_pool()
    chosen = select(posts, len(posts), "margin-balanced", model=model, seed=0)
    assert sorted(chosen) == list(range(len(posts)))
    chosen = select(posts, 12, "margin-balanced", model=model, seed=0)
    # 10 authors: the two extra posts are the prolific author's next most uncertain ones.
    prolific = [posts[i].text for i in chosen if posts[i].author == "prolific"]
    assert sorted(prolific) == sorted(f"{DISTINCT[k]} neutral" for k in range(3))


def test_margin_balanced_never_picks_near_duplicates_when_alternatives_exist() -> None:
    posts, model = duplicate_pool()  # the 20 most uncertain posts are one slogan
    chosen = select(posts, 8, "margin-balanced", model=model, seed=0)
    keys = [dedupe_key(posts[i].text) for i in chosen]
    assert sum(SLOGAN in k for k in keys) == 1
