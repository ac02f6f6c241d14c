"""POST /v1/posts: ingest posts, scored on arrival, idempotent by id."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from classifier.errors import RecordError
from classifier.posts import post_from_record
from classifier.scoring import score_batch
from serve.routers.classify import check_batch
from serve.schemas import IngestReject, IngestRequest, IngestResponse
from serve.security import require_key

router = APIRouter(prefix="/v1", tags=["posts"])


@router.post("/posts", response_model=IngestResponse, dependencies=[Depends(require_key)])
def ingest(body: IngestRequest, request: Request) -> IngestResponse:
    """Score and store posts. Re-posting an id counts as a duplicate, never twice."""
    check_batch(request, len(body.posts))
    state = request.app.state
    posts, rejects, seen = [], [], set()
    duplicates_in_request = 0
    for index, item in enumerate(body.posts):
        if item.id in seen:
            duplicates_in_request += 1
            continue
        seen.add(item.id)
        try:
            posts.append(post_from_record(item.model_dump()))
        except RecordError as exc:
            rejects.append(IngestReject(index=index, id=item.id, reason=exc.message))
    accepted: list[str] = []
    duplicate: list[str] = []
    if posts:
        with state.model_lock:
            table = score_batch(state.model, posts, state.entry.id)
        state.metrics.classified.inc(len(posts))
        accepted, duplicate = state.store.add_posts(table)
    return IngestResponse(
        model_version=state.entry.id,
        accepted=len(accepted),
        duplicate=len(duplicate) + duplicates_in_request,
        rejected=len(rejects),
        rejects=rejects,
    )
