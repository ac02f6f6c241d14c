"""Questions asked of scored datasets, answered by DuckDB straight from Parquet.

The CLI and the API share these functions, so both count the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from classifier.config import LABELS
from classifier.entities import canonical_hashtag
from classifier.errors import SwarmlensError

INTERVALS = {"hour": "1 HOUR", "day": "1 DAY"}
MAX_BUCKETS = 100_000
"""A series longer than this is refused: ask for a shorter range or a coarser interval."""


class QueryError(SwarmlensError):
    """A query's parameters cannot be answered as asked (bad interval, label, range)."""

    code = "E008"


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


def top_hashtags(
    source: str, limit: int = 10, con: duckdb.DuckDBPyConnection | None = None
) -> list[dict[str, Any]]:
    """Hashtags by number of posts, with per-label counts and flood share.

    source: a table expression (``parquet_source``) or table name.
    flood_share = opposing / (supportive + opposing): how much of the
    stance-taking volume of a tag is opposition (None when there is none).
    """
    con = con or connect()
    per_label = ", ".join(
        f"count(*) FILTER (WHERE label = '{label}') AS {label}" for label in LABELS
    )
    rows = con.execute(
        f"""
        SELECT tag AS hashtag, count(*) AS total, {per_label}
        FROM (SELECT unnest(hashtags) AS tag, label FROM {source})
        GROUP BY tag ORDER BY total DESC, tag LIMIT ?
        """,
        [limit],
    ).fetchall()
    out = []
    for tag, total, *counts in rows:
        item: dict[str, Any] = {
            "hashtag": tag,
            "total": total,
            **dict(zip(LABELS, counts, strict=True)),
        }
        stance = item["supportive"] + item["opposing"]
        item["flood_share"] = round(item["opposing"] / stance, 4) if stance else None
        out.append(item)
    return out


def _label_list(labels: Sequence[str] | None) -> list[str]:
    chosen = list(dict.fromkeys(labels)) if labels else list(LABELS)
    unknown = [label for label in chosen if label not in LABELS]
    if unknown:
        raise QueryError(f"unknown label(s) {', '.join(unknown)}; use {', '.join(LABELS)}")
    return chosen


def volume_series(
    source: str,
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

    source: table expression or table name of scored posts.
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
    if start is not None and end is not None and start >= end:
        raise QueryError("start must be before end")
    key = canonical_hashtag(hashtag)
    result: dict[str, Any] = {"hashtag": key, "interval": interval, "series": []}
    if not key:
        return result
    con = con or connect()
    where = ["list_contains(hashtags, $key)", "created_at IS NOT NULL", "label IN $labels"]
    params: dict[str, Any] = {"key": key, "labels": chosen, "unit": interval}
    if start is not None:
        where.append("created_at >= $start")
        params["start"] = start
    if end is not None:
        where.append("created_at < $end")
        params["end"] = end
    if lang:
        where.append("lang = $lang")
        params["lang"] = lang
    if exclude_retweets:
        where.append("retweet_of IS NULL")
    if min_score is not None:
        where.append(
            "CASE label "
            + " ".join(f"WHEN '{label}' THEN scores.{label}" for label in LABELS)
            + " END >= $min_score"
        )
        params["min_score"] = min_score
    counts = ", ".join(f"count(p.label) FILTER (WHERE p.label = '{x}') AS {x}" for x in chosen)
    lo = "date_trunc($unit, $start::TIMESTAMPTZ)::TIMESTAMP" if start is not None else "min(t)"
    hi = (
        "date_trunc($unit, ($end::TIMESTAMPTZ - INTERVAL 1 MICROSECOND))::TIMESTAMP"
        if end is not None
        else "max(t)"
    )
    step = INTERVALS[interval]
    span = con.execute(
        f"""
        WITH p AS (SELECT date_trunc($unit, created_at)::TIMESTAMP AS t
                   FROM {source} WHERE {" AND ".join(where)})
        SELECT {lo}, {hi} FROM p
        """,
        params,
    ).fetchone()
    if span is None or span[0] is None or span[1] is None:
        return result
    buckets = (span[1] - span[0]).total_seconds() / (3600 if interval == "hour" else 86400) + 1
    if buckets > MAX_BUCKETS:
        raise QueryError(
            f"the range holds {int(buckets)} {interval} buckets (limit {MAX_BUCKETS}); "
            "narrow start/end or use interval=day"
        )
    rows = con.execute(
        f"""
        WITH p AS (SELECT date_trunc($unit, created_at)::TIMESTAMP AS t, label
                   FROM {source} WHERE {" AND ".join(where)}),
        b AS (SELECT unnest(generate_series($lo::TIMESTAMP, $hi::TIMESTAMP, INTERVAL {step})) AS t)
        SELECT strftime(b.t, '%Y-%m-%dT%H:%M:%SZ') AS t, {counts}
        FROM b LEFT JOIN p ON p.t = b.t
        GROUP BY b.t ORDER BY b.t
        """,
        {**params, "lo": span[0], "hi": span[1]},
    ).fetchall()
    for t, *values in rows:
        point: dict[str, Any] = {"t": t, **dict(zip(chosen, values, strict=True))}
        point["total"] = sum(values)
        result["series"].append(point)
    return result
