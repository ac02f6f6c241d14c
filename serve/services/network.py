"""A hashtag's network from everything the store holds: ingested posts and attached datasets.

The work is ``classifier.network`` (the same code as ``swarmlens network``); this module
picks the store's sources and bounds the answer's lists. The API runs ``network`` in the
network pool (``services.work``): on its own DuckDB cursor, which is interrupted when the
job is stopped (time limit, client gone, shutdown).
"""

from __future__ import annotations

from datetime import datetime

from swarmlens.classifier.analytics import datasets, network_sql
from swarmlens.classifier.network.report import NetworkOptions, bounded, build_network
from swarmlens.serve.network_schemas import NetworkResponse
from swarmlens.serve.services.work import Job
from swarmlens.serve.store import Store

MAX_ACCOUNTS = 500
MAX_COMMUNITIES = 100
MAX_GROUPS = 100
MAX_MEMBERS = 100
"""The answer's lists are cut to these sizes; ``totals`` gives the full counts."""


def sources(store: Store) -> list[str]:
    """The table expressions the network reads: the stored posts and attached datasets.
    Called before the job (it reads the store's own state, under its locks)."""
    found = ["posts"]
    paths = store.dataset_paths()
    if paths:
        found.append(datasets.parquet_source(paths))
    return found


def network(
    store: Store,
    tag: str,
    start: datetime | None,
    end: datetime | None,
    options: NetworkOptions,
    model_version: str,
    tables: list[str] | None = None,
    job: Job | None = None,
) -> NetworkResponse:
    """The network of ``tag`` in [start, end), its lists bounded.

    tables: ``sources(store)`` when the caller has them. job: the pool's handle: the
    cursor is interrupted when the job is stopped.
    """
    cursor = store.cursor()
    if job is not None:
        job.on_cancel(cursor.interrupt)
    source = network_sql.network_source(cursor, tables if tables is not None else sources(store))
    result = build_network(cursor, source, tag, start, end, options)
    data = bounded(result.data, MAX_ACCOUNTS, MAX_COMMUNITIES, MAX_GROUPS, MAX_MEMBERS)
    return NetworkResponse(**data, model_version=model_version)
