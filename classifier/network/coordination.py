"""Coordinated link sharing: groups of accounts that keep posting the same links together.

After CooRnet / CooRTweet: two accounts co-share a link when both post it within the
coordination window (default 60 s, or estimated from the data as CooRnet does); a pair
that co-shares at least ``MIN_CO_SHARES`` links is an edge, and the connected groups of
that graph are the coordinated groups. A link that many accounts post hours apart makes
no pair: popularity alone is not coordination. The pairs come from DuckDB
(``analytics.network_sql.coshare_pairs``); this module only groups them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import networkx as nx

DEFAULT_WINDOW_S = 60.0
MIN_CO_SHARES = 2
MAX_ESTIMATED_WINDOW_S = 600.0
"""CooRnet's estimate follows the data: where a link's shares spread over days it gives
hours, and a window of hours makes mere popularity look like coordination. The estimate
is kept within [1 s, 10 min] (the seed article: links pushed 'within minutes')."""


def estimated_window(found: float | None) -> float:
    """The coordination window from CooRnet's estimate (``network_sql.coordination_window``),
    bounded to [1, ``MAX_ESTIMATED_WINDOW_S``] s; ``DEFAULT_WINDOW_S`` when there is none."""
    if found is None:
        return DEFAULT_WINDOW_S
    return float(min(MAX_ESTIMATED_WINDOW_S, max(1.0, round(found))))


def groups(pairs: Iterable[tuple[str, str, int, list[str]]], window_s: float) -> list[dict]:
    """Coordinated groups from (account, account, links co-shared, links) pairs.

    Each group: accounts (sorted), urls (every link its pairs co-shared, sorted),
    co_shares (co-shared links summed over its pairs) and window_s; largest first.
    """
    graph = nx.Graph()
    for a, b, count, urls in pairs:
        graph.add_edge(a, b, co_shares=int(count), urls=list(urls))
    out: list[dict[str, Any]] = []
    for members in nx.connected_components(graph):
        sub = graph.subgraph(members)
        urls = sorted({u for _, _, links in sub.edges(data="urls") for u in links})
        out.append(
            {
                "accounts": sorted(members),
                "urls": urls,
                "co_shares": int(sub.size(weight="co_shares")),
                "window_s": window_s,
            }
        )
    out.sort(key=lambda g: (-len(g["accounts"]), -g["co_shares"], g["accounts"][0]))
    return out
