"""Questions asked of scored posts, answered by DuckDB. The CLI and the API share them.

Every query runs over a *counts relation* with the columns

    key (hashtag key or domain), t (TIMESTAMPTZ), label, lang, retweet (BOOLEAN),
    score (the label's score, or the lower edge of its score bin), n (posts)

``post_counts`` builds one from scored posts (a Parquet dataset or a table:
one row per post and key, n = 1). The API also keeps pre-aggregated relations
of the same shape (hourly buckets, score bins of ``SCORE_BIN``), which answer
the same queries without scanning every post. Both give the same counts
whenever the range is hour-aligned and ``min_score`` is a multiple of the bin.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

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
    con.execute("SET TimeZone = 'UTC'")
    return con


def parquet_source(paths: Sequence[str | Path]) -> str:
    """A DuckDB table expression over scored Parquet files or dataset directories."""
    files: list[str] = []
    for path in paths:
        p = Path(path)
        files.append(str(p / "**" / "*.parquet") if p.is_dir() else str(p))
    quoted = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    return f"read_parquet([{quoted}], hive_partitioning = false, union_by_name = true)"


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
    """Top hashtags of scored posts in ``source`` (a table expression), for the CLI."""
    rows = top_keys(post_counts(source), limit=limit, con=con)
    return [{"hashtag": r.pop("key"), **r} for r in rows]


def emerging_hashtags(
    relation: str,
    window_hours: int = 6,
    end: datetime | None = None,
    limit: int = 20,
    min_recent: int = 5,
    con: duckdb.DuckDBPyConnection | None = None,
) -> dict[str, Any]:
    """Hashtags whose volume in the last window is far above their own baseline.

    The recent window is the ``window_hours`` before ``end`` (default: the latest
    post). The baseline is the mean count per window over the
    ``EMERGING_BASELINE_WINDOWS`` windows before it. The burst score is a
    Poisson z-score with one pseudo-count, (recent - baseline) / sqrt(baseline + 1):
    a tag never seen before that suddenly has 50 posts scores ~50, a tag that
    always has ~50 scores ~0. Tags with fewer than ``min_recent`` recent posts
    are left out (noise).
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
    params = {
        "end": end,
        "recent": f"{window_hours} hours",
        "base": f"{window_hours * EMERGING_BASELINE_WINDOWS} hours",
        "windows": EMERGING_BASELINE_WINDOWS,
        "min_recent": min_recent,
        "limit": limit,
    }
    rows = con.execute(
        f"""
        WITH bounds AS (
            SELECT $end::TIMESTAMPTZ AS e,
                   $end::TIMESTAMPTZ - $recent::INTERVAL AS r,
                   $end::TIMESTAMPTZ - $recent::INTERVAL - $base::INTERVAL AS b
        ), c AS (
            SELECT key,
                   sum(n) FILTER (WHERE t >= r AND t < e) AS recent,
                   coalesce(sum(n) FILTER (WHERE t >= b AND t < r), 0) AS base
            FROM {relation}, bounds WHERE t >= b AND t < e GROUP BY key
        )
        SELECT key, recent::BIGINT, base / $windows AS baseline,
               (recent - base / $windows) / sqrt(base / $windows + 1) AS burst
        FROM c WHERE recent >= $min_recent AND recent > base / $windows
        ORDER BY burst DESC, key LIMIT $limit
        """,
        params,
    ).fetchall()
    start = end - timedelta(hours=window_hours)
    return {
        "window": {"start": _iso(start), "end": _iso(end), "hours": window_hours},
        "hashtags": [
            {
                "hashtag": key,
                "recent": recent,
                "baseline_per_window": round(baseline, 3),
                "burst_score": round(burst, 3),
            }
            for key, recent, baseline, burst in rows
        ],
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
