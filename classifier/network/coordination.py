"""Coordinated behaviour: groups of accounts that keep doing the same thing together.

After CooRnet / CooRTweet and QUT's coordination-network-toolkit: two accounts co-act when
both do the same thing within the coordination window (default 60 s, or estimated from
the data as CooRnet does). ``KINDS``: post the same link (co-link), retweet the same post
(co-retweet), reply to the same post (co-reply), post near-identical texts (co-similar-text,
only where the data keeps texts). A pair that co-acts on at least ``MIN_CO_SHARES``
distinct items is an edge, and the connected groups of that graph are the coordinated
groups. A link that many accounts post hours apart makes no pair: popularity alone is not
coordination. The pairs come from DuckDB (``analytics.network_sql``); this module only
groups them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import networkx as nx

DEFAULT_WINDOW_S = 60.0
MIN_CO_SHARES = 2
TEXT_SIMILARITY = 0.8
"""Jaccard similarity of two prepared texts' word sets from which they are near-identical."""
KINDS = {
    "link": "links posted",
    "retweet": "posts retweeted",
    "reply": "posts replied to",
    "text": "near-identical posts",
}
"""The kinds of co-action (``coordination.by``) and what their items are."""
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


def kind_summary(
    pairs: Iterable[tuple[str, str, int, list[str]]], kind: str, window_s: float
) -> dict[str, Any]:
    """One kind of co-action (``coordination.by[kind]``) from its (account, account,
    co-actions, items) pairs: ``pairs`` (how many), ``accounts`` (in any pair) and
    ``groups`` (each: accounts, co_actions summed over its pairs, items; largest first)."""
    pairs = list(pairs)
    found = groups(pairs, window_s)
    return {
        "available": True,
        "items": KINDS[kind],
        "window_s": window_s,
        "pairs": len(pairs),
        "accounts": len({a for a, b, _, _ in pairs} | {b for _, b, _, _ in pairs}),
        "groups": [
            {"accounts": g["accounts"], "co_actions": g["co_shares"], "items": g["urls"]}
            for g in found
        ],
    }


def unavailable(kind: str, window_s: float, reason: str) -> dict[str, Any]:
    """A kind of co-action the data cannot show (no texts): empty, with the reason."""
    return {**kind_summary([], kind, window_s), "available": False, "reason": reason}
