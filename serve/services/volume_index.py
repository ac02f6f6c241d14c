"""Hourly volumes per hashtag held in memory, for the common volume query.

At hundreds of requests a second the SQL answer (a scan of the hourly aggregate table:
DuckDB prunes by row group, far coarser than one tag's rows) cost ~30 ms a query over 1M
posts. Here the attached datasets' hourly counts per (tag, label) live in sorted numpy
arrays, built once per change of the datasets; a query is a binary search and a bincount.
Ingested posts (usually few) are added by a small DuckDB query, so writes never force a
rebuild. Only what the aggregates answer exactly is served here: no ``lang``,
``exclude_retweets`` or ``min_score``, hour-aligned ``start`` and ``end`` both given.
"""

from __future__ import annotations

import threading
import weakref
from datetime import UTC, datetime
from typing import Any

import numpy as np

from swarmlens.classifier.analytics import queries
from swarmlens.classifier.errors import QueryError
from swarmlens.classifier.text.entities import canonical_hashtag
from swarmlens.classifier.vocab import LABELS
from swarmlens.serve.store import Store

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class VolumeIndex:
    """Hour, label and count arrays per tag key, over every attached dataset."""

    def __init__(self, store: Store) -> None:
        # Keys come as (key, rows) runs, not one Python string per row: over 10M posts
        # that would be millions of objects held for nothing.
        cursor = store.cursor()
        runs = cursor.execute(
            f"SELECT key, count(*) FROM ({_HOURLY}) GROUP BY key ORDER BY key"
        ).fetchall()
        rows = cursor.execute(f"SELECT h, code, n FROM ({_HOURLY}) ORDER BY key, h").fetchnumpy()
        self.hours = np.asarray(rows["h"], dtype=np.int64)
        self.labels = np.asarray(rows["code"], dtype=np.int8)
        self.counts = np.asarray(rows["n"], dtype=np.int64)
        self.slices: dict[str, tuple[int, int]] = {}
        offset = 0
        for key, count in runs:
            self.slices[key] = (offset, offset + count)
            offset += count


_CODE = "CASE label " + " ".join(f"WHEN '{x}' THEN {i}" for i, x in enumerate(LABELS)) + " END"
_HOURLY = f"""SELECT key, epoch_ms(t) // 3600000 AS h, coalesce({_CODE}, -1) AS code,
    sum(n)::BIGINT AS n FROM agg_tag_hour_total GROUP BY key, h, code"""
"""One row per tag, hour and label over every attached dataset."""


def hour_of(moment: datetime) -> int:
    return int((moment.astimezone(UTC) - _EPOCH).total_seconds() // 3600)


_lock = threading.Lock()
_indexes: weakref.WeakKeyDictionary[Store, tuple[int, VolumeIndex]] = weakref.WeakKeyDictionary()
"""Per store (weakly: a closed store's index goes with it): datasets generation, index."""


def ready(store: Store) -> bool:
    """Whether the index is built for the store's current datasets (building it takes a
    scan of the aggregates: never on the event loop)."""
    cached = _indexes.get(store)
    return cached is not None and cached[0] == store.datasets_generation


def index_for(store: Store) -> VolumeIndex:
    """The store's index, rebuilt when its datasets changed (attach, detach)."""
    version = store.datasets_generation
    cached = _indexes.get(store)
    if cached is not None and cached[0] == version and cached[1] is not None:
        return cached[1]
    with _lock:
        cached = _indexes.get(store)
        if cached is None or cached[0] != version:
            _indexes[store] = (version, VolumeIndex(store))
        return _indexes[store][1]


def answers(where: Any, interval: str, min_score: float | None, exclude_retweets: bool) -> bool:
    """Whether the index answers this query exactly."""
    return (
        where.start is not None
        and where.end is not None
        and not where.lang
        and min_score is None
        and not exclude_retweets
        and queries.aggregate_is_exact(where.start, where.end, None)
    )


def volume_series(
    store: Store, tag: str, interval: str, labels: list[str] | None,
    start: datetime, end: datetime,
) -> dict[str, Any]:  # fmt: skip
    """The same answer as ``queries.volume_series`` for the queries ``answers`` accepts,
    with the series as JSON text (``series_json``) instead of a list of points."""
    chosen = queries.check_volume_query(interval, labels, start, end)
    key = canonical_hashtag(tag)
    result: dict[str, Any] = {"hashtag": key, "interval": interval, "series_json": "[]"}
    if not key:
        return result
    step = 1 if interval == "hour" else 24
    lo_hour, hi_hour = hour_of(start), hour_of(end)  # hour-aligned, [lo, hi)
    first_bucket = lo_hour // step
    last_bucket = (hi_hour - 1) // step
    buckets = last_bucket - first_bucket + 1
    if buckets > queries.MAX_BUCKETS:
        raise QueryError(
            f"the range holds {buckets} {interval} buckets (limit {queries.MAX_BUCKETS}); "
            "narrow start/end or use interval=day"
        )
    codes = [LABELS.index(x) for x in chosen]
    table = np.zeros((len(LABELS), buckets), dtype=np.int64)
    index = index_for(store)
    span = index.slices.get(key)
    if span is not None:
        hours = index.hours[span[0] : span[1]]
        a, b = np.searchsorted(hours, [lo_hour, hi_hour])
        if b > a:
            part = slice(span[0] + a, span[0] + b)
            codes_in = index.labels[part]
            known = codes_in >= 0
            slots = index.hours[part][known] // step - first_bucket
            np.add.at(table, (codes_in[known], slots), index.counts[part][known])
    if store.has_posts():
        live = store.cursor().execute(
            """SELECT epoch_ms(created_at) // 3600000, label, count(*)::BIGINT FROM posts
            WHERE list_contains(hashtags, $key) AND created_at >= $s AND created_at < $e
            GROUP BY ALL""",
            {"key": key, "s": start, "e": end},
        ).fetchall()
        for hour, label, n in live:
            if label in LABELS:
                table[LABELS.index(label), hour // step - first_bucket] += n
    picked = table[codes]
    hours = np.datetime64(first_bucket * step, "h") + np.arange(buckets) * step
    # The points as JSON text straight from the columns: one format per row, no dict per
    # bucket (which cost most of the time of an answer).
    row = "{" + ",".join(['"t":"%s:00:00Z"', *(f'"{x}":%d' for x in chosen), '"total":%d']) + "}"
    rows = zip(
        np.datetime_as_string(hours, unit="h").tolist(),
        *picked.tolist(),
        picked.sum(axis=0).tolist(),
        strict=True,
    )
    result["series_json"] = "[" + ",".join([row % values for values in rows]) + "]"
    return result
