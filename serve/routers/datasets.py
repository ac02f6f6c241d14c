"""POST /v1/datasets: attach a scored Parquet dataset so its posts count in the volumes."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from swarmlens.serve.deps import StoreDep, WriteKey
from swarmlens.serve.schemas import DatasetRequest, DatasetResponse

router = APIRouter(prefix="/v1", tags=["datasets"])


@router.post("/datasets", response_model=DatasetResponse, dependencies=[WriteKey])
def attach(body: DatasetRequest, store: StoreDep) -> DatasetResponse:
    """Attach (or refresh) the output directory or file of `swarmlens score`, read in place."""
    return DatasetResponse(**store.attach(Path(body.path)))
