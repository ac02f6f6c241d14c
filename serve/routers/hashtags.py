"""Hashtag volumes by label, top hashtags and emerging hashtags."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from classifier import queries
from serve.dependencies import aware
from serve.schemas import (
    EmergingResponse,
    TopHashtag,
    TopHashtagsResponse,
    VolumePoint,
    VolumeResponse,
)

router = APIRouter(prefix="/v1/hashtags", tags=["hashtags"])
LabelParam = Annotated[
    list[Literal["supportive", "opposing", "neutral"]] | None,
    Query(description="Repeatable; default all three."),
]


@router.get("/top", response_model=TopHashtagsResponse)
def top(
    request: Request,
    start: datetime | None = None,
    end: datetime | None = None,
    label: LabelParam = None,
    lang: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> TopHashtagsResponse:
    """Hashtags ranked by volume (of the requested labels), with per-label counts and
    flood share = opposing / (supportive + opposing)."""
    store = request.app.state.store
    start, end = aware(start), aware(end)
    relation, _ = store.relation("hashtags", start, end, interval="day", lang=lang)
    rows = queries.top_keys(relation, limit, label, start, end, lang, con=store.cursor())
    return TopHashtagsResponse(
        hashtags=[TopHashtag(hashtag=r.pop("key"), **r) for r in rows],
        model_version=request.app.state.entry.id,
    )


@router.get("/emerging", response_model=EmergingResponse)
def emerging(
    request: Request,
    window_hours: Annotated[int, Query(ge=1, le=24 * 30)] = 6,
    end: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
    min_recent: Annotated[int, Query(ge=1)] = 5,
) -> EmergingResponse:
    """Hashtags whose volume in the last ``window_hours`` (ending at ``end``, default: the
    latest post's hour) is far above their own baseline, the mean per window over the 28
    windows before. burst_score = (recent - baseline) / sqrt(baseline + 1), a Poisson
    z-score with one pseudo-count: a tag new in the window ranks by its volume."""
    store = request.app.state.store
    end = aware(end)
    relation, _ = store.relation("hashtags", None, end)
    result = queries.emerging_hashtags(
        relation, window_hours, end, limit, min_recent, con=store.cursor()
    )
    return EmergingResponse(**result, model_version=request.app.state.entry.id)


@router.get("/{tag}/volume", response_model=VolumeResponse, response_model_exclude_none=True)
def volume(
    request: Request,
    tag: str,
    start: datetime | None = None,
    end: datetime | None = None,
    interval: Literal["hour", "day"] = "hour",
    label: LabelParam = None,
    lang: Annotated[str | None, Query(max_length=16)] = None,
    min_score: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
    exclude_retweets: bool = False,
) -> VolumeResponse:
    """Posts per UTC bucket using ``tag`` (any spelling, with or without '#', any script;
    matched by canonical key), per requested label. Empty buckets are present with zeros;
    an unknown tag gives an empty series. ``min_score`` counts a post for its label only
    if that label's score is at least this."""
    store = request.app.state.store
    start, end = aware(start), aware(end)
    relation, exact = store.relation(
        "hashtags", start, end, min_score, interval, lang, exclude_retweets
    )
    result = queries.volume_series(
        relation,
        tag,
        interval,
        label,
        start,
        end,
        lang,
        min_score,
        exclude_retweets,
        con=store.cursor(),
    )
    return VolumeResponse(
        hashtag=result["hashtag"],
        interval=interval,
        exact=exact,
        series=[VolumePoint(**p) for p in result["series"]],
        model_version=request.app.state.entry.id,
    )
