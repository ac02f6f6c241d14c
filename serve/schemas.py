"""Request and response models of every endpoint (they make up the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Label = Literal["supportive", "opposing", "neutral"]


class ClassifyItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=256, description="Caller's id, echoed back.")
    text: str = Field(max_length=100_000, description="Post text as published.")
    lang: str | None = Field(
        default=None, max_length=16, description="ISO 639-1 code if known; detected otherwise."
    )


class ClassifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    posts: list[ClassifyItem] = Field(min_length=1, description="1 to max_batch posts.")


class Scores(BaseModel):
    supportive: float
    opposing: float
    neutral: float


class Contribution(BaseModel):
    term: str
    weight: float = Field(description="Share of the label's linear decision score.")


class ClassifyResult(BaseModel):
    id: str
    label: Label
    scores: Scores
    lang: str
    hashtags: list[str]
    explanation: list[Contribution] | None = None


class ClassifyResponse(BaseModel):
    model_version: str
    results: list[ClassifyResult]


class IngestItem(ClassifyItem):
    created_at: datetime = Field(description="Time of posting (ISO 8601; naive means UTC).")
    author: str | None = Field(default=None, max_length=256)
    platform: Literal["twitter", "telegram", "vkontakte", "other"] = "other"
    retweet_of: str | None = Field(default=None, max_length=256)


class IngestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    posts: list[IngestItem] = Field(min_length=1)


class IngestReject(BaseModel):
    index: int
    id: str | None
    reason: str


class IngestResponse(BaseModel):
    model_version: str
    accepted: int
    duplicate: int
    rejected: int
    rejects: list[IngestReject]


class DatasetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, description="Output of `swarmlens score` (directory or file).")


class DatasetResponse(BaseModel):
    path: str
    rows: int
    attached_at: datetime


class VolumePoint(BaseModel):
    t: str = Field(description="ISO start of the UTC bucket.")
    supportive: int | None = None
    opposing: int | None = None
    neutral: int | None = None
    total: int


class VolumeResponse(BaseModel):
    hashtag: str = Field(description="Canonical key the tag was matched by.")
    interval: Literal["hour", "day"]
    exact: bool = Field(description="False when served from hourly, score-binned aggregates.")
    series: list[VolumePoint]
    model_version: str


class TopHashtag(BaseModel):
    hashtag: str
    total: int
    supportive: int
    opposing: int
    neutral: int
    flood_share: float | None = Field(description="opposing / (supportive + opposing).")


class TopHashtagsResponse(BaseModel):
    hashtags: list[TopHashtag]
    model_version: str


class EmergingHashtag(BaseModel):
    hashtag: str
    recent: int
    baseline_per_window: float
    burst_score: float


class Window(BaseModel):
    start: str
    end: str
    hours: int


class EmergingResponse(BaseModel):
    window: Window | None
    hashtags: list[EmergingHashtag]
    model_version: str


class TopDomain(BaseModel):
    domain: str
    total: int
    supportive: int
    opposing: int
    neutral: int


class TopDomainsResponse(BaseModel):
    domains: list[TopDomain]
    model_version: str


class ModelInfo(BaseModel):
    model_version: str
    created_at: str
    labels: list[str]
    n_train: int
    data_fingerprint: str
    metrics: dict[str, Any]


class Info(BaseModel):
    service: str = "swarmlens"
    version: str
    model_version: str
    max_batch: int
    max_body_bytes: int
    max_inflight: int
    writes_need_api_key: bool
    store: dict[str, int]


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Problem(BaseModel):
    detail: str
