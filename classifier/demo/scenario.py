"""The November 2015 scenario as numbers: period, classes, mixes and the posting plan.

Holds the period and 10-minute bins, the three classes and their shares, the
per-class language and platform mixes, retweet and reply rates, the intensity
curves of each class around the Paris attacks (2015-11-13 about 21:00 UTC) and
``plan``, which turns them into a number of posts per bin.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from swarmlens.classifier.vocab import LABELS

__all__ = [
    "ATTACK",
    "BIN_SECONDS",
    "CLASS_SHARE",
    "END",
    "LABELS",
    "LANGS",
    "LANG_CUM",
    "LANG_SHARE",
    "NEU",
    "OPP",
    "P_REPLY",
    "P_RETWEET",
    "START",
    "SUP",
    "TELEGRAM_SHARE",
    "Bin",
    "flood_probability",
    "plan",
]

ATTACK = datetime(2015, 11, 13, 21, 0, tzinfo=UTC)
START = datetime(2015, 11, 10, 0, 0, tzinfo=UTC)
END = datetime(2015, 11, 21, 0, 0, tzinfo=UTC)
BIN_SECONDS = 600

SUP, OPP, NEU = 0, 1, 2
CLASS_SHARE = (0.30, 0.40, 0.30)
LANGS = ("ar", "en", "fr", "ru", "de", "tr", "es", "fa", "id", "it")

# Per-class language mixes; weighted together by CLASS_SHARE they give about
# ar 30%, en 30%, fr 20%, ru 10%, others 10%. Supporters lean Arabic, news
# leans English/French, which is why the mix drifts over time. Key order
# matters: it is the order of the cumulative table the generator draws from.
LANG_SHARE: tuple[dict[str, float], ...] = (
    {
        "ar": 0.50,
        "en": 0.20,
        "fr": 0.10,
        "ru": 0.10,
        "tr": 0.03,
        "fa": 0.025,
        "id": 0.025,
        "de": 0.02,
    },
    {
        "ar": 0.25,
        "en": 0.35,
        "fr": 0.25,
        "ru": 0.08,
        "de": 0.015,
        "es": 0.015,
        "tr": 0.01,
        "it": 0.01,
        "fa": 0.01,
        "id": 0.01,
    },
    {
        "ar": 0.18,
        "en": 0.35,
        "fr": 0.25,
        "ru": 0.12,
        "de": 0.02,
        "es": 0.02,
        "it": 0.015,
        "tr": 0.015,
        "fa": 0.015,
        "id": 0.015,
    },
)
# In 2015 supporters moved to Telegram channels; opponents stayed on Twitter.
TELEGRAM_SHARE = (0.30, 0.03, 0.12)
# Retweet probability of a Twitter post: about 15% of the whole corpus once
# Telegram posts (never retweets) are counted in.
P_RETWEET = 0.185
P_REPLY = 0.07


def _cumulative(shares: dict[str, float]) -> tuple[tuple[str, ...], list[float]]:
    """(languages, cumulative probabilities) of one language mix, for bisect draws.

    shares: language -> weight; the last cumulative value is forced to 1.0 so
    a draw in [0, 1) always lands on a language despite rounding.
    """
    langs = tuple(shares)
    total = sum(shares.values())
    acc = 0.0
    cum = []
    for lang in langs:
        acc += shares[lang] / total
        cum.append(acc)
    cum[-1] = 1.0
    return langs, cum


LANG_CUM = tuple(_cumulative(shares) for shares in LANG_SHARE)


def _sup_intensity(t: float) -> float:
    """Relative posting rate of supporters.

    t: hours since the attacks began (negative before).
    """
    if t < 0.25:
        return 0.006
    dt = t - 0.25
    # Tags appear within the first hour, peak after ~3 h and decay over days.
    return 0.006 + (1.0 - math.exp(-dt / 0.8)) * (math.exp(-dt / 8.0) + 0.12 * math.exp(-dt / 72.0))


def _opp_intensity(t: float) -> float:
    """Relative posting rate of opponents.

    t: hours since the attacks began (negative before).
    """
    if t < 0.5:
        return 0.006
    solidarity = 0.25 * (1.0 - math.exp(-(t - 0.5) / 1.5)) * math.exp(-(t - 0.5) / 36.0)
    flood = 0.0
    if t >= 2.5:
        # Counter-flooding organises a few hours in and peaks the next day
        # (about 15:00 UTC on 14 Nov), then fades slowly.
        ramp = 1.0 - math.exp(-(t - 2.5) / 3.0)
        if t < 18.0:
            peak = math.exp(-0.5 * ((t - 18.0) / 8.0) ** 2)
        else:
            peak = math.exp(-(t - 18.0) / 30.0)
        flood = ramp * peak
    return 0.006 + solidarity + flood


def _neu_intensity(t: float) -> float:
    """Relative posting rate of news accounts.

    t: hours since the attacks began (negative before).
    """
    if t < 0.2:
        return 0.05
    dt = t - 0.2
    # Saint-Denis police operation on the morning of 18 Nov (t ~ 104 h).
    saint_denis = 0.25 * math.exp(-0.5 * ((t - 106.0) / 4.0) ** 2)
    return 0.05 + 0.9 * math.exp(-dt / 5.0) + 0.35 * math.exp(-dt / 60.0) + 0.08 + saint_denis


def flood_probability(t: float) -> float:
    """Chance that an opposing post is written into a supporters' hashtag.

    t: hours since the attacks began.
    """
    if t < 2.5:
        return 0.12
    return 0.12 + 0.63 * (1.0 - math.exp(-(t - 2.5) / 4.0))


Bin = tuple[int, str, int, float, float, float]
"""(count, 'YYYY-MM-DDTHH:' prefix, first minute, hours since the attack at bin
start, P(supportive), P(supportive or opposing))."""


def plan(n_posts: int) -> list[Bin]:
    """Posts per 10-minute bin and the class mix of each bin.

    n_posts: total number of posts; the counts sum to exactly this.
    Returns one ``Bin`` per 10 minutes of the period, in time order.
    """
    n_bins = int((END - START).total_seconds()) // BIN_SECONDS
    curves = (_sup_intensity, _opp_intensity, _neu_intensity)
    raw: list[list[float]] = [[], [], []]
    starts = []
    for b in range(n_bins):
        start = START + timedelta(seconds=b * BIN_SECONDS)
        starts.append(start)
        mid_hours = (start - ATTACK).total_seconds() / 3600.0 + BIN_SECONDS / 7200.0
        hour = start.hour + start.minute / 60.0
        # Mild day/night rhythm, quietest around 03:00 UTC.
        diurnal = 0.8 + 0.2 * math.cos(2.0 * math.pi * (hour - 15.0) / 24.0)
        for c, curve in enumerate(curves):
            raw[c].append(curve(mid_hours) * diurnal)
    totals = [sum(r) for r in raw]
    bins: list[Bin] = []
    cumulative = 0.0
    assigned = 0
    for b, start in enumerate(starts):
        w = [CLASS_SHARE[c] * raw[c][b] / totals[c] for c in range(3)]
        weight = w[0] + w[1] + w[2]
        cumulative += weight
        # Cumulative rounding: exact total, no per-bin drift.
        upto = n_posts if b == n_bins - 1 else round(n_posts * cumulative)
        count = max(0, upto - assigned)
        assigned += count
        bins.append(
            (
                count,
                start.strftime("%Y-%m-%dT%H:"),
                start.minute,
                (start - ATTACK).total_seconds() / 3600.0,
                w[0] / weight,
                (w[0] + w[1]) / weight,
            )
        )
    return bins
