"""POST /v1/classify: labels, scores and (optionally) explanations for posts."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Query, Request

from swarmlens.serve.deps import MetricsDep, ModelDep, ReadKey, SettingsDep
from swarmlens.serve.schemas import ClassifyRequest, ClassifyResponse, Contribution
from swarmlens.serve.services import classify as service
from swarmlens.serve.services.work import Job

router = APIRouter(prefix="/v1", tags=["classify"], dependencies=[ReadKey])


@router.post("/classify", response_model=ClassifyResponse, response_model_exclude_none=True)
async def classify(
    body: ClassifyRequest,
    request: Request,
    serving: ModelDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    explain: bool = Query(False, description="Add each post's top contributing terms."),
) -> ClassifyResponse:
    """Classify 1 to ``max_batch`` posts; results come back in input order.

    Explanations cost far more than labels: they run in the explain pool, on a copy of the
    model, at most ``explain_workers`` at once (503 E040 beyond a short queue), each
    stopped after ``explain_timeout`` seconds (503 E041) or when its client leaves, so
    they never hold up a plain classify."""
    service.check_batch(settings, len(body.posts))
    if not explain:
        return await anyio.to_thread.run_sync(service.classify, body.posts, serving, metrics)
    service.check_explain(settings, [post.text for post in body.posts])
    ready: dict[str, Any] = {}

    async def before() -> None:
        # Once a worker is ours: explanations waiting in line do not use the model.
        ready["scored"] = await anyio.to_thread.run_sync(service.score, body.posts, serving,
                                                         metrics)
        ready["replica"] = await anyio.to_thread.run_sync(serving.replica)

    def work(job: Job) -> list[list[Contribution]]:
        scored, (model, _) = ready["scored"], ready["replica"]
        return service.explain_texts(model, scored.texts, scored.labels)

    explanations = await request.app.state.pools.explain.run(work, request.receive, before)
    serving.give_back(*ready["replica"])  # only a copy that finished cleanly is used again
    return await anyio.to_thread.run_sync(service.respond, body.posts, ready["scored"],
                                          explanations)
