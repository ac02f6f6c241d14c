"""POST /v1/datasets: attach a scored Parquet dataset so its posts count in the volumes."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Request

from serve.schemas import DatasetRequest, DatasetResponse
from serve.security import require_key

router = APIRouter(prefix="/v1", tags=["datasets"])


@router.post("/datasets", response_model=DatasetResponse, dependencies=[Depends(require_key)])
def attach(body: DatasetRequest, request: Request) -> DatasetResponse:
    """Attach (or refresh) the output directory or file of `swarmlens score`, read in place."""
    result = request.app.state.store.attach(Path(body.path))
    return DatasetResponse(**result)
