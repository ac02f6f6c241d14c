"""Hashtag volumes by label, top and emerging hashtags, and a hashtag's network."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from swarmlens.classifier.network.report import NetworkOptions
from swarmlens.serve.deps import FiltersDep, ModelDep, ReadKey, StoreDep, aware
from swarmlens.serve.network_schemas import NetworkResponse
from swarmlens.serve.schemas import (
    EmergingResponse,
    EstimateResponse,
    TopHashtagsResponse,
    VolumeResponse,
)
from swarmlens.serve.services import analytics, estimates
from swarmlens.serve.services import network as network_service
from swarmlens.serve.services.work import Job

QUERY_THREADS = 4
"""Volume queries running at once (DuckDB uses one thread per query here)."""

router = APIRouter(prefix="/v1/hashtags", tags=["hashtags"], dependencies=[ReadKey])


@router.get("/top", response_model=TopHashtagsResponse)
def top(
    store: StoreDep,
    serving: ModelDep,
    where: FiltersDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> TopHashtagsResponse:
    """Hashtags ranked by volume (of the requested labels), with per-label counts and
    flood share = opposing / (supportive + opposing)."""
    return analytics.top_hashtags(store, where, limit, serving.version)


@router.get("/emerging", response_model=EmergingResponse)
def emerging(
    store: StoreDep,
    serving: ModelDep,
    window_hours: Annotated[int, Query(ge=1, le=24 * 30)] = 6,
    end: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
    min_recent: Annotated[int, Query(ge=1)] = 5,
) -> EmergingResponse:
    """Hashtags taken up by far more accounts in the last ``window_hours`` (ending at
    ``end``, default: the end of the latest post's hour) than in the 28 windows before.
    burst_score = -log10 p_value, p_value = P(X >= accounts) with X ~ Poisson of the
    baseline's distinct accounts per window smoothed by a prior (the typical tag's rate,
    worth one window), so a brand-new tag scores finite. ``accounts`` are distinct
    authors: a single account posting many times counts once. ``min_recent`` is the
    least number of distinct accounts in the window; ``recent`` and
    ``baseline_per_window`` give the posts."""
    return analytics.emerging(
        store, window_hours, aware(end, "end"), limit, min_recent, serving.version
    )


@router.get("/{tag}/volume", response_model=VolumeResponse, response_model_exclude_none=True)
async def volume(
    tag: str,
    request: Request,
    store: StoreDep,
    serving: ModelDep,
    where: FiltersDep,
    interval: Literal["hour", "day"] = "hour",
    min_score: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
    exclude_retweets: bool = False,
) -> Response:
    """Posts per UTC bucket using ``tag`` (any spelling, with or without '#', any script;
    matched by canonical key), per requested label. Empty buckets are present with zeros;
    an unknown tag gives an empty series. ``min_score`` counts a post for its label only
    if that label's score is at least this."""
    # Answered from the cache on the event loop when it can be; otherwise on a worker
    # thread, at most QUERY_THREADS at once so the admitted queries do not queue on the GIL.
    version = serving.version
    state = request.app.state
    if getattr(state, "volume_limiter", None) is None:
        # Made here, inside the server's event loop, once per app.
        state.volume_limiter = anyio.CapacityLimiter(QUERY_THREADS)
        state.volume_answers = analytics.AnswerCache()
    key = (
        store.generation, tag, interval, where.start, where.end,
        tuple(where.labels or ()), where.lang, min_score, exclude_retweets, version,
    )  # fmt: skip
    answer = state.volume_answers.get(key)
    if answer is None and analytics.answers_at_once(
        store, where, interval, min_score, exclude_retweets
    ):
        # A couple of milliseconds of numpy: cheaper on the event loop than a thread hop.
        answer = analytics.volume_json(
            store, tag, where, interval, min_score, exclude_retweets, version
        )
        state.volume_answers.put(key, answer)
    if answer is None:
        answer = await anyio.to_thread.run_sync(
            analytics.volume_json,
            store, tag, where, interval, min_score, exclude_retweets, version,
            limiter=state.volume_limiter,
        )  # fmt: skip
        state.volume_answers.put(key, answer)
    return Response(answer, media_type="application/json")


@router.get("/{tag}/estimate", response_model=EstimateResponse, response_model_exclude_unset=True)
def estimate(
    tag: str,
    store: StoreDep,
    start: datetime | None = None,
    end: datetime | None = None,
    interval: Annotated[
        Literal["hour", "day"] | None,
        Query(description="Also give per-bucket audited shares (see `series`)."),
    ] = None,
) -> EstimateResponse:
    """Label shares of ``tag`` in [start, end): classify-and-count (``count``, ``share``)
    and, where a stored audit of the tag covers the window (``POST /v1/audits``), the
    audited estimate by prediction-powered inference with its 95% interval (``estimate``,
    ``low``, ``high``; null when unaudited). ``flood_share`` = opposing / (supportive +
    opposing), its interval by the delta method.

    With ``interval``, ``series`` gives per-bucket audited shares. They ASSUME the model's
    error rates are constant over the audit window: each bucket's mean probability is
    corrected by the whole audit's mean error (100 audited posts cannot measure each hour's
    error), and they carry no interval."""
    return estimates.estimate(store, tag, aware(start, "start"), aware(end, "end"), interval)


@router.get("/{tag}/network", response_model=NetworkResponse)
async def network(
    tag: str,
    request: Request,
    store: StoreDep,
    serving: ModelDep,
    start: datetime | None = None,
    end: datetime | None = None,
    coordination_window: Annotated[
        float | None,
        Query(gt=0, le=86_400, description="seconds; omit for 60, or see 'estimate'"),
    ] = None,
    estimate_window: Annotated[
        bool, Query(description="estimate the coordination window from the data (CooRnet)")
    ] = False,
    min_co_actions: Annotated[
        int, Query(ge=1, le=1000, description="distinct items a coordinated pair co-acts on")
    ] = 2,
    churn_hours: Annotated[int, Query(ge=1, le=24 * 30)] = 24,
) -> NetworkResponse:
    """The retweet network of ``tag``'s posts in [start, end): communities (Louvain, or
    Leiden when installed) with their stance mix, centralization and resilience; the
    robustness curve (targeted vs random removal); coordination (accounts posting the
    same links, retweeting or replying to the same posts, or posting near-identical texts
    where texts are kept, within the window, on at least ``min_co_actions`` distinct
    items: ``coordination.by``); churn between windows; and
    a layout of the largest communities. Lists are bounded; ``totals`` has full counts.

    Runs in the network pool: at most ``network_workers`` at once (503 E040 beyond a
    short queue), stopped after ``network_timeout`` seconds (503 E041), when the client
    disconnects, or when the server shuts down."""
    window = None if estimate_window else (coordination_window or 60.0)
    options = NetworkOptions(window, min_co_actions, churn_hours=churn_hours)
    since, until, version = aware(start, "start"), aware(end, "end"), serving.version
    tables = await anyio.to_thread.run_sync(network_service.sources, store)

    def work(job: Job) -> NetworkResponse:
        return network_service.network(store, tag, since, until, options, version, tables, job)

    return await request.app.state.pools.network.run(work, request.receive)
