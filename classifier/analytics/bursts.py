"""The burst test behind emerging hashtags: a one-sided Poisson test of a tag's distinct
accounts in the recent window against a prior-smoothed expected count.

The model follows the Poisson model of Hendrickson, Kolb, Lehman and Montague, *Trend
Detection in Social Data* (Twitter, 2015): the count in a window is Poisson with the rate
seen in the windows before it, and a burst is a count that rate makes improbable. Two
changes make it hard to fake and safe on new tags:

* the count is of distinct accounts, not posts: one account posting 500 times is one
  account, so a flood by a single account cannot outrank a tag taken up by many;
* the rate is the posterior mean of a Gamma prior (a pseudo-count prior): a tag with
  ``baseline`` accounts summed over ``windows`` baseline windows has expected count

      expected = (baseline + prior_rate * PRIOR_WINDOWS) / (windows + PRIOR_WINDOWS)

  where ``prior_rate`` is the typical tag's rate (the median accounts per window of the
  tags seen in the baseline, at least one account over the whole baseline). A tag never
  seen before gets ``prior_rate * PRIOR_WINDOWS / (windows + PRIOR_WINDOWS)``: small but
  not zero, so its score is finite and grows with its number of accounts.

The score is ``-log10 p`` with ``p = P(X >= accounts)``, ``X ~ Poisson(expected)``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import poisson

PRIOR_WINDOWS = 1.0
"""Weight of the prior, in windows: it moves a tag with a full baseline very little and
keeps a brand-new tag's expected count above zero."""


def prior_rate(baseline_rates: ArrayLike, windows: int) -> float:
    """The typical tag's accounts per window: the median of the tags seen in the baseline.

    baseline_rates: accounts per window of each tag with any account in the baseline.
    windows: number of baseline windows; the rate is at least one account over them all.
    """
    rates = np.asarray(baseline_rates, dtype=float)
    floor = 1.0 / windows
    if rates.size == 0:
        return floor
    return max(float(np.median(rates)), floor)


def expected_counts(baseline: ArrayLike, windows: int, rate: float) -> NDArray[np.float64]:
    """Posterior-mean accounts per window: (baseline + rate * PRIOR_WINDOWS) / (windows +
    PRIOR_WINDOWS), baseline being the accounts summed over the baseline windows."""
    summed = np.asarray(baseline, dtype=float)
    return (summed + rate * PRIOR_WINDOWS) / (windows + PRIOR_WINDOWS)


def log10_p_values(observed: ArrayLike, expected: ArrayLike) -> NDArray[np.float64]:
    """log10 P(X >= observed), X ~ Poisson(expected): the one-sided Poisson test.

    Where P underflows (a large burst on a tiny expectation), the tail is bounded by its
    first term: pmf(k) <= P(X >= k) <= pmf(k) / (1 - mu / (k + 1)) for k + 1 > mu, and the
    upper bound is used, so the score stays finite and ordered.
    """
    k = np.asarray(observed, dtype=float)
    mu = np.asarray(expected, dtype=float)
    with np.errstate(divide="ignore"):
        log_p = np.log10(poisson.sf(k - 1, mu))
    tiny = ~np.isfinite(log_p)
    if tiny.any():
        kt, mt = k[tiny], mu[tiny]
        log_p[tiny] = (poisson.logpmf(kt, mt) - np.log1p(-mt / (kt + 1))) / np.log(10)
    return np.minimum(log_p, 0.0)
