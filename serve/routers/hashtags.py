"""Hashtag volumes by label, top hashtags and emerging hashtags."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from swarmlens.serve.deps import FiltersDep, ModelDep, ReadKey, StoreDep, aware
from swarmlens.serve.schemas import EmergingResponse, TopHashtagsResponse, VolumeResponse
from swarmlens.serve.services import analytics

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
    """Hashtags whose volume in the last ``window_hours`` (ending at ``end``, default: the
    latest post's hour) is far above their own baseline, the mean per window over the 28
    windows before. burst_score = (recent - baseline) / sqrt(baseline + 1), a Poisson
    z-score with one pseudo-count: a tag new in the window ranks by its volume."""
    return analytics.emerging(store, window_hours, aware(end), limit, min_recent, serving.version)


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
