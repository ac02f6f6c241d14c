"""POST /v1/posts: ingest posts, scored on arrival, idempotent by id."""

from __future__ import annotations

from fastapi import APIRouter

from swarmlens.serve.deps import MetricsDep, ModelDep, SettingsDep, StoreDep, WriteKey
from swarmlens.serve.schemas import IngestRequest, IngestResponse
from swarmlens.serve.services import classify as service

router = APIRouter(prefix="/v1", tags=["posts"])


@router.post("/posts", response_model=IngestResponse, dependencies=[WriteKey])
def ingest(
    body: IngestRequest,
    serving: ModelDep,
    store: StoreDep,
    settings: SettingsDep,
    metrics: MetricsDep,
) -> IngestResponse:
    """Score and store posts. Re-posting an id counts as a duplicate, never twice."""
    service.check_batch(settings, len(body.posts))
    return service.ingest(body.posts, serving, store, metrics)
