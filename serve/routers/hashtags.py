"""Hashtag volumes by label, top hashtags and emerging hashtags."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from swarmlens.serve.deps import FiltersDep, ModelDep, ReadKey, StoreDep, aware
from swarmlens.serve.schemas import EmergingResponse, TopHashtagsResponse, VolumeResponse
from swarmlens.serve.services import analytics

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
def volume(
    tag: str,
    store: StoreDep,
    serving: ModelDep,
    where: FiltersDep,
    interval: Literal["hour", "day"] = "hour",
    min_score: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
    exclude_retweets: bool = False,
) -> VolumeResponse:
    """Posts per UTC bucket using ``tag`` (any spelling, with or without '#', any script;
    matched by canonical key), per requested label. Empty buckets are present with zeros;
    an unknown tag gives an empty series. ``min_score`` counts a post for its label only
    if that label's score is at least this."""
    return analytics.volume(
        store, tag, where, interval, min_score, exclude_retweets, serving.version
    )
