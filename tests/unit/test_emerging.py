"""Emerging hashtags on planted posts: many accounts beat one account's flood, a brand-new
tag scores finite, and the figures follow the documented Poisson test."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest
from scipy.stats import poisson

from swarmlens.classifier.analytics import bursts, queries
from swarmlens.classifier.errors import QueryError
from swarmlens.classifier.vocab import LABELS, OUTPUT_SCHEMA

END = datetime(2016, 1, 2, tzinfo=UTC)
WINDOWS = queries.EMERGING_BASELINE_WINDOWS


def _post(i: int, author: str | None, tag: str, t: datetime) -> dict:
    return {
        "post_id": f"p{i}",
        "label": LABELS[i % len(LABELS)],
        "scores": dict.fromkeys(LABELS, 1 / len(LABELS)),
        "model_version": "test",
        "lang": "en",
        "hashtags": [tag],
        "domains": [],
        "created_at": t,
        "platform": "twitter",
        "author": author,
    }


def _planted() -> list[dict]:
    """One-hour windows ending at END; the 28 hours before are the baseline.

    steady: 10 accounts every hour, baseline and recent alike.
    crowd: 2 accounts an hour in the baseline, then 200 distinct accounts in the last hour.
    flood: brand-new, one account posting 500 times in the last hour.
    fresh: brand-new, 8 distinct accounts in the last hour.
    """
    rows: list[dict] = []

    def add(author: str | None, tag: str, t: datetime) -> None:
        rows.append(_post(len(rows), author, tag, t))

    recent = END - timedelta(hours=1)
    for hour in range(WINDOWS + 1):
        start = recent - timedelta(hours=hour)
        for a in range(10):
            add(f"steady{a}", "steady", start + timedelta(minutes=5 * a + 1))
        if hour:
            for a in range(2):
                add(f"crowd{(hour * 2 + a) % 7}", "crowd", start + timedelta(minutes=30 + a))
    for a in range(200):
        add(f"crowd-new{a}", "crowd", recent + timedelta(seconds=10 * a + 5))
    for k in range(500):
        add("spammer", "flood", recent + timedelta(seconds=7 * k + 1))
    for a in range(8):
        add(f"fresh{a}", "fresh", recent + timedelta(minutes=3 * a + 2))
    return rows


@pytest.fixture(scope="module")
def con():
    connection = queries.connect()
    connection.register("planted", pa.Table.from_pylist(_planted(), schema=OUTPUT_SCHEMA))
    yield connection
    connection.close()


def _emerging(con, **kwargs) -> dict:
    kwargs.setdefault("posts", "planted")
    return queries.emerging_hashtags(
        queries.post_counts("planted"), window_hours=1, end=END, con=con, **kwargs
    )


def test_many_accounts_rank_first_and_one_account_does_not_rank(con) -> None:
    result = _emerging(con)
    names = [h["hashtag"] for h in result["hashtags"]]
    assert names[:2] == ["crowd", "fresh"]
    assert "flood" not in names  # one account < min_recent = 5 distinct accounts
    crowd = result["hashtags"][0]
    assert (crowd["accounts"], crowd["recent"]) == (200, 200)
    assert crowd["baseline_accounts"] == pytest.approx(2.0)
    assert crowd["baseline_per_window"] == pytest.approx(2.0)
    steady = next(h for h in result["hashtags"] if h["hashtag"] == "steady")
    assert steady["burst_score"] < 1.0
    # Even when one account is enough to be listed, 500 posts by it stay below both.
    loose = _emerging(con, min_recent=1)["hashtags"]
    order = [h["hashtag"] for h in loose]
    assert order.index("flood") > order.index("crowd")
    assert order.index("flood") > order.index("fresh")
    flood = loose[order.index("flood")]
    assert (flood["accounts"], flood["recent"]) == (1, 500)
    # Counting posts (no authors) is what a single account fakes: the flood comes first.
    by_posts = _emerging(con, posts=None, min_recent=1)["hashtags"]
    assert by_posts[0]["hashtag"] == "flood"


def test_brand_new_tag_scores_finite_and_follows_the_formula(con) -> None:
    result = _emerging(con)
    # Baseline rates of the tags seen there: steady 10, crowd 2 accounts an hour.
    rate = float(np.median([10.0, 2.0]))
    assert result["prior_accounts_per_window"] == pytest.approx(rate)
    fresh = next(h for h in result["hashtags"] if h["hashtag"] == "fresh")
    expected = rate / (WINDOWS + 1)
    assert fresh["baseline_accounts"] == 0 and fresh["accounts"] == 8
    assert fresh["expected_accounts"] == pytest.approx(expected, rel=1e-3)
    p = poisson.sf(7, expected)
    assert fresh["p_value"] == pytest.approx(p, rel=1e-3)
    assert math.isfinite(fresh["burst_score"]) and fresh["burst_score"] == pytest.approx(
        -math.log10(p), abs=1e-3
    )
    crowd = result["hashtags"][0]
    assert crowd["expected_accounts"] == pytest.approx((2 * WINDOWS + rate) / (WINDOWS + 1), 1e-3)
    assert crowd["burst_score"] == pytest.approx(
        -math.log10(poisson.sf(199, crowd["expected_accounts"])), rel=1e-3
    )


def test_empty_and_invalid() -> None:
    con = queries.connect()
    con.register("nothing", pa.Table.from_pylist([], schema=OUTPUT_SCHEMA))
    empty = queries.emerging_hashtags(queries.post_counts("nothing"), con=con, posts="nothing")
    assert empty["hashtags"] == [] and empty["window"] is None
    with pytest.raises(QueryError, match="window_hours"):
        queries.emerging_hashtags(queries.post_counts("nothing"), window_hours=0, con=con)


def test_tail_stays_finite_and_ordered_where_it_underflows() -> None:
    log_p = bursts.log10_p_values([5, 500, 1000, 3], [0.001, 0.001, 0.001, 10.0])
    assert np.isfinite(log_p).all() and (log_p <= 0).all()
    assert log_p[0] > log_p[1] > log_p[2]  # more accounts: a smaller p-value
    assert log_p[3] == pytest.approx(math.log10(poisson.sf(2, 10.0)))
    # The bound is tight: where sf is still representable it agrees with it.
    k, mu = 40, 0.01
    exact = math.log10(poisson.sf(k - 1, mu))
    bound = (poisson.logpmf(k, mu) - math.log1p(-mu / (k + 1))) / math.log(10)
    assert bound == pytest.approx(exact, abs=1e-6)
    assert bursts.prior_rate([], 28) == pytest.approx(1 / 28)
    assert bursts.prior_rate([0.01, 0.02], 28) == pytest.approx(1 / 28)
