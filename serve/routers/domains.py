"""GET /v1/domains/top: link domains shared in posts (justpaste.it, archive.org, t.me ...)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from classifier import queries
from serve.dependencies import aware
from serve.routers.hashtags import LabelParam
from serve.schemas import TopDomain, TopDomainsResponse

router = APIRouter(prefix="/v1/domains", tags=["domains"])


@router.get("/top", response_model=TopDomainsResponse)
def top_domains(
    request: Request,
    start: datetime | None = None,
    end: datetime | None = None,
    label: LabelParam = None,
    lang: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> TopDomainsResponse:
    """Domains ranked by the number of posts (of the requested labels) linking to them."""
    store = request.app.state.store
    start, end = aware(start), aware(end)
    relation, _ = store.relation("domains", start, end, interval="day", lang=lang)
    rows = queries.top_keys(relation, limit, label, start, end, lang, con=store.cursor())
    return TopDomainsResponse(
        domains=[
            TopDomain(
                domain=r["key"], **{k: r[k] for k in ("total", "supportive", "opposing", "neutral")}
            )
            for r in rows
        ],
        model_version=request.app.state.entry.id,
    )
