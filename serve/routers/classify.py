"""POST /v1/classify: labels, scores and (optionally) explanations for posts."""

from __future__ import annotations

from fastapi import APIRouter, Query

from swarmlens.serve.deps import MetricsDep, ModelDep, ReadKey, SettingsDep
from swarmlens.serve.schemas import ClassifyRequest, ClassifyResponse
from swarmlens.serve.services import classify as service

router = APIRouter(prefix="/v1", tags=["classify"], dependencies=[ReadKey])


@router.post("/classify", response_model=ClassifyResponse, response_model_exclude_none=True)
def classify(
    body: ClassifyRequest,
    serving: ModelDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    explain: bool = Query(False, description="Add each post's top contributing terms."),
) -> ClassifyResponse:
    """Classify 1 to ``max_batch`` posts; results come back in input order."""
    service.check_batch(settings, len(body.posts))
    if explain:
        service.check_explain(settings, [post.text for post in body.posts])
    return service.classify(body.posts, serving, metrics, explain)
