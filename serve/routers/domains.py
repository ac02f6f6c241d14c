"""GET /v1/domains/top: link domains shared in posts (justpaste.it, archive.org, t.me ...)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from swarmlens.serve.deps import FiltersDep, ModelDep, ReadKey, StoreDep
from swarmlens.serve.schemas import TopDomainsResponse
from swarmlens.serve.services import analytics

router = APIRouter(prefix="/v1/domains", tags=["domains"], dependencies=[ReadKey])


@router.get("/top", response_model=TopDomainsResponse)
def top_domains(
    store: StoreDep,
    serving: ModelDep,
    where: FiltersDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> TopDomainsResponse:
    """Domains ranked by the number of posts (of the requested labels) linking to them."""
    return analytics.top_domains(store, where, limit, serving.version)
