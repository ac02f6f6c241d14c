"""Hashtag volumes, top and emerging hashtags, top domains: store relations -> queries.

The SQL lives in ``swarmlens.classifier.analytics.queries`` (the same code answers the
CLI's ``volumes``); this module picks the relation the store can answer from (exact posts
or pre-aggregated counts) and shapes the answer for the API.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

import orjson

from swarmlens.classifier.analytics import queries, tag_forms
from swarmlens.classifier.vocab import Label
from swarmlens.serve.schemas import (
    EmergingResponse,
    TopDomain,
    TopDomainsResponse,
    TopHashtag,
    TopHashtagsResponse,
)
from swarmlens.serve.services import volume_index
from swarmlens.serve.store import Store


@dataclass
class Filters:
    """The filters shared by the volume, top-hashtag and top-domain queries."""

    start: datetime | None
    end: datetime | None
    labels: list[Label] | None
    lang: str | None


class AnswerCache:
    """Recent answers as JSON bytes, keyed by the question and the store's generation:
    any write (ingest, attach, detach) bumps the generation, so a stale answer is never
    served; it just ages out. Bounded in bytes (least recently used out first), so the
    server's memory stays flat however many different questions arrive."""

    def __init__(self, max_bytes: int = 16 << 20) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._answers: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            answer = self._answers.get(key)
            if answer is not None:
                self._answers.move_to_end(key)
            return answer

    def put(self, key: tuple, answer: bytes) -> None:
        with self._lock:
            old = self._answers.pop(key, None)
            self._bytes += len(answer) - (len(old) if old is not None else 0)
            self._answers[key] = answer
            while self._bytes > self._max_bytes and self._answers:
                _, dropped = self._answers.popitem(last=False)
                self._bytes -= len(dropped)


_DISPLAYS: OrderedDict[tuple[int, int, str], str] = OrderedDict()
_DISPLAYS_KEPT = 10_000
_DISPLAYS_LOCK = threading.Lock()


def _remember(store: Store, shown: dict[str, str]) -> dict[str, str]:
    """Keep the spellings just looked up, so that the volume fast path (no DuckDB) can
    name them too; keyed by the store's generation, so a write makes them stale."""
    with _DISPLAYS_LOCK:
        for key, form in shown.items():
            _DISPLAYS[(id(store), store.generation, key)] = form
        while len(_DISPLAYS) > _DISPLAYS_KEPT:
            _DISPLAYS.popitem(last=False)
    return shown


def display_of(store: Store, key: str, ask: bool) -> str | None:
    """The spelling to show for ``key``: remembered, else (``ask``) looked up in DuckDB."""
    known = _DISPLAYS.get((id(store), store.generation, key))
    if known is not None or not ask or not key:
        return known
    return _remember(store, tag_forms.displays(store.cursor(), store.tag_forms(), [key]))[key]


def in_memory(
    store: Store, where: Filters, interval: str, min_score: float | None, exclude_retweets: bool
) -> bool:
    """Whether the in-memory index answers this volume query (see ``volume_index``)."""
    return volume_index.answers(where, interval, min_score, exclude_retweets) and bool(
        store.dataset_paths()
    )


def answers_at_once(
    store: Store, where: Filters, interval: str, min_score: float | None, exclude_retweets: bool
) -> bool:
    """Whether the answer is pure in-memory work (index built, no ingested posts to ask
    DuckDB about): then it costs less than a hop to a worker thread."""
    return (
        volume_index.ready(store)
        and not store.has_posts()
        and in_memory(store, where, interval, min_score, exclude_retweets)
    )


def volume_json(
    store: Store,
    tag: str,
    where: Filters,
    interval: str,
    min_score: float | None,
    exclude_retweets: bool,
    model_version: str,
) -> bytes:
    """``volume`` as the JSON bytes of a ``VolumeResponse``, serialised by orjson straight
    from DuckDB's rows: at hundreds of requests a second, a pydantic object per bucket
    cost as much as the query."""
    labels = [str(label) for label in where.labels] if where.labels else None  # str keys
    if in_memory(store, where, interval, min_score, exclude_retweets):
        result = volume_index.volume_series(store, tag, interval, labels, where.start, where.end)
        head = orjson.dumps(
            {"hashtag": result["hashtag"], "display": display_of(store, result["hashtag"], False),
             "interval": interval, "exact": False, "model_version": model_version}
        )  # fmt: skip
        return head[:-1] + b',"series":' + result["series_json"].encode() + b"}"
    relation, exact = store.relation(
        "hashtags", where.start, where.end, min_score, interval, where.lang, exclude_retweets
    )
    result = queries.volume_series(
        relation,
        tag,
        interval,
        labels,
        where.start,
        where.end,
        where.lang,
        min_score,
        exclude_retweets,
        con=store.cursor(),
    )
    return orjson.dumps(
        {
            "hashtag": result["hashtag"],
            "display": display_of(store, result["hashtag"], True),
            "interval": interval,
            "exact": exact,
            "series": result["series"],
            "model_version": model_version,
        }
    )


def _top(store: Store, column: str, where: Filters, limit: int) -> list[dict]:
    relation, _ = store.relation(column, where.start, where.end, interval="day", lang=where.lang)
    return queries.top_keys(
        relation, limit, where.labels, where.start, where.end, where.lang, con=store.cursor()
    )


def top_hashtags(
    store: Store, where: Filters, limit: int, model_version: str
) -> TopHashtagsResponse:
    rows = [{"hashtag": r.pop("key"), **r} for r in _top(store, "hashtags", where, limit)]
    tag_forms.with_display(rows, store.cursor(), store.tag_forms())
    _remember(store, {r["hashtag"]: r["display"] for r in rows})
    return TopHashtagsResponse(
        hashtags=[TopHashtag(**r) for r in rows],
        model_version=model_version,
    )


def top_domains(
    store: Store, where: Filters, limit: int, model_version: str
) -> TopDomainsResponse:
    rows = _top(store, "domains", where, limit)
    return TopDomainsResponse(
        domains=[TopDomain(domain=r.pop("key"), **r) for r in rows], model_version=model_version
    )


def emerging(
    store: Store,
    window_hours: int,
    end: datetime | None,
    limit: int,
    min_recent: int,
    model_version: str,
) -> EmergingResponse:
    relation, _ = store.relation("hashtags", None, end)
    # Distinct accounts come from the posts themselves (the aggregates have no authors);
    # the query reads only the recent and baseline windows of them.
    posts = store.posts_source("post_id, author, hashtags, created_at")
    result = queries.emerging_hashtags(
        relation, window_hours, end, limit, min_recent, con=store.cursor(), posts=posts,
        forms=store.tag_forms(),
    )
    _remember(store, {h["hashtag"]: h["display"] for h in result["hashtags"]})
    return EmergingResponse(**result, model_version=model_version)
