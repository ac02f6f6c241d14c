"""A hashtag's network from everything the store holds: ingested posts and attached datasets.

The work is ``classifier.network`` (the same code as ``swarmlens network``); this module
picks the store's sources and bounds the answer's lists.
"""

from __future__ import annotations

from datetime import datetime

from swarmlens.classifier.analytics import datasets, network_sql
from swarmlens.classifier.network.report import NetworkOptions, bounded, build_network
from swarmlens.serve.network_schemas import NetworkResponse
from swarmlens.serve.store import Store

MAX_ACCOUNTS = 500
MAX_COMMUNITIES = 100
MAX_GROUPS = 100
MAX_MEMBERS = 100
"""The answer's lists are cut to these sizes; ``totals`` gives the full counts."""


def network(
    store: Store,
    tag: str,
    start: datetime | None,
    end: datetime | None,
    options: NetworkOptions,
    model_version: str,
) -> NetworkResponse:
    cursor = store.cursor()
    sources = ["posts"]
    paths = store.dataset_paths()
    if paths:
        sources.append(datasets.parquet_source(paths))
    source = network_sql.network_source(cursor, sources)
    result = build_network(cursor, source, tag, start, end, options)
    data = bounded(result.data, MAX_ACCOUNTS, MAX_COMMUNITIES, MAX_GROUPS, MAX_MEMBERS)
    return NetworkResponse(**data, model_version=model_version)
