"""POST /v1/audits: store audit labels, a uniform sample of one hashtag's posts labelled by
people, so that ``GET /v1/hashtags/{tag}/estimate`` can correct the model's counts."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter

from swarmlens.serve.deps import ReadKey, StoreDep, WriteKey, aware
from swarmlens.serve.schemas import AuditList, AuditRequest, AuditResponse
from swarmlens.serve.services import estimates

router = APIRouter(prefix="/v1", tags=["audits"])


@router.post("/audits", response_model=AuditResponse, dependencies=[WriteKey])
def store_audit(body: AuditRequest, store: StoreDep) -> AuditResponse:
    """Store the labels of an audit (``swarmlens annotate pull`` writes them: post id,
    label, annotator). Idempotent: sending the same labels again changes nothing, and a
    post's corrected label replaces the old one. ``hashtag``, ``start`` and ``end`` are the
    sampled window, fixed by the first write (another window under the same ``audit_id``
    is E021, 409). The sample must be uniform over the hashtag's posts in that window
    (``swarmlens annotate push --strategy audit``)."""
    return estimates.store_audit(store, body)


# Unset fields are left out: ``truth`` is there only for a simulated audit stored with one.
@router.get(
    "/audits", response_model=AuditList, response_model_exclude_unset=True, dependencies=[ReadKey]
)
def list_audits(
    hashtag: str, store: StoreDep, start: datetime | None = None, end: datetime | None = None
) -> AuditList:
    """The audits of ``hashtag`` whose window covers [start, end): the ones
    ``GET /v1/hashtags/{tag}/estimate`` uses, whether they are simulated, and for a
    simulated audit stored with one its population's ``truth`` (a synthetic corpus only)."""
    return estimates.covering_audits(store, hashtag, aware(start, "start"), aware(end, "end"))
