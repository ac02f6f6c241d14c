"""/v1/datasets: attach, list and detach scored Parquet datasets counted in the volumes."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from swarmlens.serve.deps import ReadKey, StoreDep, WriteKey
from swarmlens.serve.schemas import DatasetInfo, DatasetRequest, DatasetResponse

router = APIRouter(prefix="/v1", tags=["datasets"])


@router.post("/datasets", response_model=DatasetResponse, dependencies=[WriteKey])
def attach(body: DatasetRequest, store: StoreDep) -> DatasetResponse:
    """Attach (or refresh) the output directory or file of `swarmlens score`, read in place.
    A post id counts once: rows whose id the store already counts (ingested, or in a
    dataset attached earlier) are not counted again (``duplicates``)."""
    return DatasetResponse(**store.attach(Path(body.path)))


@router.get("/datasets", response_model=list[DatasetInfo], dependencies=[ReadKey])
def listing(store: StoreDep) -> list[DatasetInfo]:
    """Attached datasets, oldest first, with their ids and whether their files are there."""
    return [DatasetInfo(**d) for d in store.datasets()]


@router.delete("/datasets/{dataset_id}", response_model=DatasetInfo, dependencies=[WriteKey])
def detach(dataset_id: str, store: StoreDep) -> DatasetInfo:
    """Stop counting a dataset (its files are left alone); the ids it counted go to the
    next attached dataset holding them."""
    return DatasetInfo(**store.detach(dataset_id))
