"""Questions asked of scored posts, answered by DuckDB. The CLI and the API share them.

Every query runs over a *counts relation* with the columns

    key (hashtag key or domain), t (TIMESTAMPTZ), label, lang, retweet (BOOLEAN),
    score (the label's score, or the lower edge of its score bin), n (posts)

``post_counts`` builds one from scored posts (a Parquet dataset or a table:
one row per post and key, n = 1). The API also keeps pre-aggregated relations
of the same shape (hourly buckets, score bins of ``SCORE_BIN``), which answer
the same queries without scanning every post. Both give the same counts
whenever the range is hour-aligned and ``min_score`` is a multiple of the bin.

The SQL of a hashtag's network (retweet edges, link co-shares, churn) is in
``network_sql``, beside this module.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from swarmlens.classifier.analytics import bursts, tag_forms
from swarmlens.classifier.errors import QueryError
from swarmlens.classifier.posts.post import FUTURE_SKEW, check_query_time
from swarmlens.classifier.text.entities import canonical_hashtag
from swarmlens.classifier.vocab import FLOOD_PAIR, LABELS

INTERVALS = {"hour": "1 HOUR", "day": "1 DAY"}
MAX_BUCKETS = 100_000
"""A series longer than this is refused: ask for a shorter range or a coarser interval."""
SCORE_BIN = 0.05
"""Width of the score bins in pre-aggregated relations."""
EMERGING_BASELINE_WINDOWS = 28
"""Burst baseline: this many windows before the recent one (7 days of 6-hour windows)."""



def connect(database: str = ":memory:", read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection working in UTC (bucket boundaries are UTC hours and days)."""
    con = duckdb.connect(database, read_only=read_only)
    if database == ":memory:":
        # An in-memory database spills big intermediates (the network's temp table of a
        # hashtag's posts) to '.tmp' in the working directory by default: a folder left
        # in the user's project. Spill to a private folder of the system's temp instead.
        spill = Path(tempfile.gettempdir()) / f"swarmlens-duckdb-{os.getpid()}"
        con.execute("SET temp_directory = ?", [str(spill)])
    con.execute("SET TimeZone = 'UTC'")
    # DuckDB draws a progress bar on stdout for long queries, which would corrupt --json.
    con.execute("SET enable_progress_bar = false")
    return con


_LABEL_SCORE = "CASE label " + " ".join(f"WHEN '{x}' THEN scores.{x}" for x in LABELS) + " END"


def post_counts(source: str, column: str = "hashtags") -> str:
    """Counts relation (one row per post and key) over scored posts in ``source``.

    column: 'hashtags' or 'domains'.
    """
    return (
        f"(SELECT unnest({column}) AS key, created_at AS t, label, lang, "
        f"retweet_of IS NOT NULL AS retweet, {_LABEL_SCORE} AS score, 1 AS n "
        f"FROM {source} WHERE created_at IS NOT NULL)"
    )


def aggregate_counts(source: str, column: str = "hashtags") -> str:
    """SELECT producing the pre-aggregated form (hourly, score bins) of ``post_counts``."""
    return f"""
        SELECT key, date_trunc('hour', t) AS t, label, lang, retweet,
               floor(score / {SCORE_BIN}) * {SCORE_BIN} AS score, sum(n)::BIGINT AS n
        FROM {post_counts(source, column)}
        GROUP BY ALL
    """


def aggregate_is_exact(
    start: datetime | None, end: datetime | None, min_score: float | None
) -> bool:
    """Whether hourly, binned aggregates give exactly the counts of a raw scan."""

    def aligned(moment: datetime | None) -> bool:
        return moment is None or (moment.minute, moment.second, moment.microsecond) == (0, 0, 0)

    on_bin = min_score is None or math.isclose(
        round(min_score / SCORE_BIN) * SCORE_BIN, min_score, abs_tol=1e-9
    )
    return aligned(start) and aligned(end) and on_bin


def _label_list(labels: Sequence[str] | None) -> list[str]:
    chosen = list(dict.fromkeys(labels)) if labels else list(LABELS)
    unknown = [label for label in chosen if label not in LABELS]
    if unknown:
        raise QueryError(f"unknown label(s) {', '.join(unknown)}; use {', '.join(LABELS)}")
    return chosen


def _filters(
    labels: list[str],
    start: datetime | None,
    end: datetime | None,
    lang: str | None,
    min_score: float | None,
    exclude_retweets: bool,
) -> tuple[list[str], dict[str, Any]]:
    _in_range("start", start)
    _in_range("end", end)
    if start is not None and end is not None and start >= end:
        raise QueryError("start must be before end")
    where = ["label IN $labels"]
    params: dict[str, Any] = {"labels": labels}
    if start is not None:
        where.append("t >= $start")
        params["start"] = start
    if end is not None:
        where.append("t < $end")
        params["end"] = end
    if lang:
        where.append("lang = $lang")
        params["lang"] = lang
    if exclude_retweets:
        where.append("NOT retweet")
    if min_score is not None:
        # The small tolerance makes a bin edge count as reached despite float rounding.
        where.append("score >= $min_score - 1e-9")
        params["min_score"] = min_score
    return where, params


def check_volume_query(
    interval: str, labels: Sequence[str] | None, start: datetime | None, end: datetime | None
) -> list[str]:
    """The labels a volume query counts, after the checks ``volume_series`` makes
    (interval, labels, range); for other code answering the same question."""
    if interval not in INTERVALS:
        raise QueryError(f"interval must be one of {', '.join(INTERVALS)}, not {interval!r}")
    chosen = _label_list(labels)
    _filters(chosen, start, end, None, None, False)
    return chosen


def volume_series(
    relation: str,
    hashtag: str,
    interval: str = "hour",
    labels: Sequence[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    lang: str | None = None,
    min_score: float | None = None,
    exclude_retweets: bool = False,
    con: duckdb.DuckDBPyConnection | None = None,
) -> dict[str, Any]:
    """Posts per time bucket using ``hashtag``, per label.

    relation: a counts relation (``post_counts(...)`` or a pre-aggregated table).
    hashtag: any spelling, with or without '#'; matched by canonical key.
    interval: 'hour' or 'day' (UTC buckets). labels: labels to count (default all).
    start / end: range [start, end) (default: first and last bucket with a post).
    lang: only posts in this language. min_score: count a post for its label
    only if that label's score is at least this. exclude_retweets: skip retweets.
    Returns {'hashtag': key, 'interval', 'series': [{'t', <label>: n..., 'total'}]},
    with empty buckets present as zeros; total sums the requested labels.
    """
    if interval not in INTERVALS:
        raise QueryError(f"interval must be one of {', '.join(INTERVALS)}, not {interval!r}")
    chosen = _label_list(labels)
    where, params = _filters(chosen, start, end, lang, min_score, exclude_retweets)
    key = canonical_hashtag(hashtag)
    result: dict[str, Any] = {"hashtag": key, "interval": interval, "series": []}
    if not key:
        return result
    con = con or connect()
    where.insert(0, "key = $key")
    params.update(key=key, unit=interval)
    lo = "date_trunc($unit, $start::TIMESTAMPTZ)::TIMESTAMP" if start is not None else "min(b)"
    hi = (
        "date_trunc($unit, $end::TIMESTAMPTZ - INTERVAL 1 MICROSECOND)::TIMESTAMP"
        if end is not None
        else "max(b)"
    )
    selected = (
        "SELECT date_trunc($unit, t)::TIMESTAMP AS b, label, n "
        f"FROM {relation} WHERE {' AND '.join(where)}"
    )
    if start is not None and end is not None:
        # Both ends given: the buckets are known without asking the data (one query less).
        span: tuple | None = (
            _bucket(start, interval),
            _bucket(end - timedelta(microseconds=1), interval),
        )
    else:
        span = con.execute(f"WITH p AS ({selected}) SELECT {lo}, {hi} FROM p", params).fetchone()
    if span is None or span[0] is None or span[1] is None:
        return result
    step_seconds = 3600 if interval == "hour" else 86400
    buckets = (span[1] - span[0]).total_seconds() / step_seconds + 1
    if buckets > MAX_BUCKETS:
        raise QueryError(
            f"the range holds {int(buckets)} {interval} buckets (limit {MAX_BUCKETS}); "
            "narrow start/end or use interval=day"
        )
    counts = ", ".join(
        f"coalesce(sum(p.n) FILTER (WHERE p.label = '{x}'), 0)::BIGINT AS {x}" for x in chosen
    )
    rows = con.execute(
        f"""
        WITH p AS ({selected}),
        g AS (SELECT unnest(generate_series($lo::TIMESTAMP, $hi::TIMESTAMP,
                                            INTERVAL {INTERVALS[interval]})) AS b)
        SELECT strftime(g.b, '%Y-%m-%dT%H:%M:%SZ') AS t, {counts}
        FROM g LEFT JOIN p ON p.b = g.b
        GROUP BY g.b ORDER BY g.b
        """,
        {**params, "lo": span[0], "hi": span[1]},
    ).fetchall()
    for t, *values in rows:
        point: dict[str, Any] = {"t": t, **dict(zip(chosen, values, strict=True))}
        point["total"] = sum(values)
        result["series"].append(point)
    return result


def top_keys(
    relation: str,
    limit: int = 10,
    labels: Sequence[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    lang: str | None = None,
    exclude_retweets: bool = False,
    con: duckdb.DuckDBPyConnection | None = None,
) -> list[dict[str, Any]]:
    """Keys (hashtags or domains) by number of posts, with per-label counts.

    Counts are over the requested labels (default all). Each item: key, total,
    one count per label (all three, for context), and flood_share =
    opposing / (supportive + opposing), None when neither occurs.
    """
    chosen = _label_list(labels)
    where, params = _filters(list(LABELS), start, end, lang, None, exclude_retweets)
    params.update(chosen=chosen, limit=limit)
    per_label = ", ".join(
        f"coalesce(sum(n) FILTER (WHERE label = '{x}'), 0)::BIGINT AS {x}" for x in LABELS
    )
    con = con or connect()
    rows = con.execute(
        f"""
        SELECT key, coalesce(sum(n) FILTER (WHERE label IN $chosen), 0)::BIGINT AS total,
               {per_label}
        FROM {relation} WHERE {" AND ".join(where)}
        GROUP BY key HAVING total > 0 ORDER BY total DESC, key LIMIT $limit
        """,
        params,
    ).fetchall()
    out = []
    for key, total, *counts in rows:
        item: dict[str, Any] = {
            "key": key,
            "total": total,
            **dict(zip(LABELS, counts, strict=True)),
        }
        counter, message = FLOOD_PAIR
        stance = item[message] + item[counter]
        item["flood_share"] = round(item[counter] / stance, 4) if stance else None
        out.append(item)
    return out


def top_hashtags(
    source: str, limit: int = 10, con: duckdb.DuckDBPyConnection | None = None
) -> list[dict[str, Any]]:
    """Top hashtags of scored posts in ``source`` (a table expression), for the CLI; each
    with its ``display`` spelling (``tag_forms``)."""
    con = con or connect()
    rows = top_keys(post_counts(source), limit=limit, con=con)
    forms = tag_forms.form_counts(source) if tag_forms.has_forms(con, source) else None
    return tag_forms.with_display([{"hashtag": r.pop("key"), **r} for r in rows], con, forms)


def emerging_hashtags(
    relation: str,
    window_hours: int = 6,
    end: datetime | None = None,
    limit: int = 20,
    min_recent: int = 5,
    con: duckdb.DuckDBPyConnection | None = None,
    posts: str | None = None,
    forms: str | None = None,
) -> dict[str, Any]:
    """Hashtags taken up by far more accounts in the last window than their baseline.

    The recent window is the ``window_hours`` before ``end`` (default: the end of the
    latest post's hour); the baseline is the ``EMERGING_BASELINE_WINDOWS`` windows of
    the same length before it. Per tag:

    * ``accounts``: distinct authors in the recent window (a post without an author
      counts as its own account); ``baseline_accounts``: mean distinct authors per
      baseline window. ``recent`` and ``baseline_per_window`` are the same in posts.
    * ``expected_accounts`` = (baseline accounts summed + prior_rate) / (windows + 1):
      the baseline smoothed by a Gamma (pseudo-count) prior worth one window, whose
      mean ``prior_rate`` is the typical tag's rate (the median accounts per window of
      the tags seen in the baseline, at least 1 / windows). A brand-new tag expects
      prior_rate / (windows + 1), not zero.
    * ``p_value`` = P(X >= accounts), X ~ Poisson(expected_accounts): a one-sided
      Poisson test, as in Twitter's *Trend Detection in Social Data* (2015);
      ``burst_score`` = -log10 p_value (finite: see ``bursts.log10_p_values``).

    Tags rank by burst_score, then accounts, then posts. Tags with fewer than
    ``min_recent`` distinct accounts in the window, or no more than expected, are left
    out: one account posting 500 times is one account and never outranks a tag posted
    by many. ``posts`` is a table expression of scored posts (``post_id``, ``author``,
    ``hashtags``, ``created_at``) to count accounts from; without it each post counts as
    an account (the relation has no authors). ``relation`` gives the post counts;
    ``forms`` (a ``tag_forms`` relation) the spellings each tag's ``display`` is chosen from.
    """
    if window_hours < 1:
        raise QueryError("window_hours must be at least 1")
    _in_range("end", end)
    con = con or connect()
    if end is None:
        # Naive UTC out of DuckDB: fetching a TIMESTAMPTZ would need pytz. Posts dated
        # past any possible posting time (stored before times were bounded) are ignored.
        cap = datetime.now(UTC) + FUTURE_SKEW
        latest = con.execute(
            f"SELECT max(t)::TIMESTAMP FROM {relation} WHERE t <= $cap", {"cap": cap}
        ).fetchone()
        if latest is None or latest[0] is None:
            return {"window": None, "hashtags": []}
        # Include the latest post's hour whole in the recent window.
        end = latest[0].replace(minute=0, second=0, microsecond=0, tzinfo=UTC)
        end += timedelta(hours=1)
    windows = EMERGING_BASELINE_WINDOWS
    recent_start = end - timedelta(hours=window_hours)
    params = {
        "e": end,
        "r": recent_start,
        "b": recent_start - timedelta(hours=window_hours * windows),
        "seconds": window_hours * 3600,
    }
    # Window of a moment: -1 the recent one, 0..windows-1 the baseline ones going back.
    window = (
        "CASE WHEN t >= $r THEN -1 "
        "ELSE ceil((epoch($r::TIMESTAMPTZ) - epoch(t)) / $seconds) - 1 END"
    )
    if posts is None:
        per_window = (
            f"SELECT key, {window} AS w, sum(n) AS m FROM {relation} "
            "WHERE t >= $b AND t < $e GROUP BY key, w"
        )
    else:
        per_window = f"""
            SELECT key, {window} AS w, count(DISTINCT author) AS m FROM (
                SELECT unnest(hashtags) AS key, created_at AS t,
                       coalesce(author, 'post:' || post_id) AS author
                FROM {posts} WHERE created_at >= $b AND created_at < $e)
            GROUP BY key, w"""
    rows = con.execute(
        f"""
        WITH c AS (
            SELECT key, coalesce(sum(n) FILTER (WHERE t >= $r), 0) AS recent,
                   coalesce(sum(n) FILTER (WHERE t < $r), 0) AS base
            FROM {relation} WHERE t >= $b AND t < $e GROUP BY key
        ), a AS ({per_window}
        ), per AS (
            SELECT key, coalesce(sum(m) FILTER (WHERE w < 0), 0) AS accounts,
                   coalesce(sum(m) FILTER (WHERE w >= 0), 0) AS base_accounts
            FROM a GROUP BY key
        ), typical AS (SELECT median(base_accounts) AS m FROM per WHERE base_accounts > 0)
        SELECT key, accounts::BIGINT, base_accounts::BIGINT, coalesce(recent, 0)::BIGINT,
               coalesce(base, 0)::BIGINT, typical.m::DOUBLE
        FROM per LEFT JOIN c USING (key), typical
        WHERE accounts >= $min_recent
        """,
        {**params, "min_recent": min_recent},
    ).fetchall()
    typical = rows[0][5] if rows else None
    if typical is None:
        # The median over tags is only fetched with a candidate; ask for it alone.
        typical = con.execute(
            f"WITH a AS ({per_window}) SELECT median(s) FROM "
            "(SELECT sum(m) AS s FROM a WHERE w >= 0 GROUP BY key)",
            params,
        ).fetchone()[0]
    rate = bursts.prior_rate([] if typical is None else [typical / windows], windows)
    found = []
    if rows:
        accounts = np.array([r[1] for r in rows], dtype=float)
        expected = bursts.expected_counts([r[2] for r in rows], windows, rate)
        log_p = bursts.log10_p_values(accounts, expected)
        for row, mu, lp in zip(rows, expected, log_p, strict=True):
            key, acc, base_acc, recent, base, _ = row
            if acc > mu:
                found.append((-lp, acc, recent, key, base_acc, base, mu))
    found.sort(key=lambda f: (-f[0], -f[1], -f[2], f[3]))
    start = end - timedelta(hours=window_hours)
    shown = tag_forms.displays(con, forms, (f[3] for f in found[:limit]))
    return {
        "window": {"start": _iso(start), "end": _iso(end), "hours": window_hours},
        "prior_accounts_per_window": round(rate, 4),
        "hashtags": [
            {
                "hashtag": key,
                "display": shown[key],
                "recent": recent,
                "baseline_per_window": round(base / windows, 3),
                "burst_score": round(float(score), 3),
                "accounts": acc,
                "baseline_accounts": round(base_acc / windows, 3),
                "expected_accounts": round(float(mu), 4),
                "p_value": float(f"{10.0 ** -score:.4g}"),
            }
            for score, acc, recent, key, base_acc, base, mu in found[:limit]
        ],
    }


def hashtag_window(
    key: str, start: datetime | None, end: datetime | None
) -> tuple[list[str], dict[str, Any]]:
    """WHERE clauses and parameters: scored posts of hashtag ``key`` dated in [start, end)."""
    if start is not None and end is not None and start >= end:
        raise QueryError("start must be before end")
    where = ["list_contains(hashtags, $key)", "created_at IS NOT NULL"]
    params: dict[str, Any] = {"key": key}
    for name, op, moment in (("start", ">=", start), ("end", "<", end)):
        if moment is not None:
            where.append(f"created_at {op} ${name}")
            params[name] = moment
    return where, params


def hashtag_posts(
    source: str,
    hashtag: str,
    start: datetime | None = None,
    end: datetime | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> dict[str, Any]:
    """Every scored post using ``hashtag`` in [start, end): the population an audit samples
    and an estimate covers (``estimate``, ``annotate push --strategy audit``, the API).

    source: a table expression of scored posts (``parquet_source(...)``, ``posts``, or a
    UNION ALL of them). A post id counts once. Returns {'hashtag': key, 'post_id',
    'label', 'model_version', 't' (lists), 'scores' (N x len(LABELS) floats)}, ordered
    by post id so that a seeded sample of it is reproducible.
    """
    where, params = hashtag_window(key := canonical_hashtag(hashtag), start, end)
    scores = ", ".join(f"scores.{x}::DOUBLE AS {x}" for x in LABELS)
    con = con or connect()
    rows = con.execute(
        f"""
        SELECT post_id, label, model_version,
               strftime(created_at, '%Y-%m-%dT%H:%M:%SZ') AS t, {scores}
        FROM {source} WHERE {" AND ".join(where)}
        QUALIFY row_number() OVER (PARTITION BY post_id ORDER BY created_at) = 1
        ORDER BY post_id
        """,
        params,
    ).fetchall()
    return {
        "hashtag": key,
        "post_id": [r[0] for r in rows],
        "label": [r[1] for r in rows],
        "model_version": [r[2] for r in rows],
        "t": [r[3] for r in rows],
        "scores": [list(r[4:]) for r in rows],
    }
def _in_range(name: str, moment: datetime | None) -> None:
    try:
        check_query_time(name, moment)
    except ValueError as exc:
        raise QueryError(str(exc)) from None


def _bucket(moment: datetime, interval: str) -> datetime:
    """Start of the UTC bucket holding ``moment``, as a naive UTC datetime."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    moment = moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if interval == "day" else moment


def _iso(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
