"""The network report of one hashtag in one window: what ``swarmlens network --json`` prints
and ``GET /v1/hashtags/{tag}/network`` answers (bounded).

DuckDB reads the hashtag's posts and builds the edge lists (``analytics.network_sql``);
the graph algorithms (communities, centralization, resilience, robustness, coordinated
groups, the drawing's layout) run here, in one process, on a graph of accounts.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import networkx as nx

from swarmlens.classifier.analytics import network_sql
from swarmlens.classifier.errors import QueryError
from swarmlens.classifier.network import coordination
from swarmlens.classifier.network import graph as graphs
from swarmlens.classifier.network.robustness import robustness
from swarmlens.classifier.text.entities import canonical_hashtag
from swarmlens.classifier.vocab import LABELS

DRAW_COMMUNITIES = 6
DRAW_NODES = 240
"""The drawing shows the largest communities, their most retweeted accounts first."""


@dataclass
class NetworkOptions:
    """How the network is computed.

    coordination_window: seconds within which two posts of a link are a co-share; None
        estimates it from the data as CooRnet does (``coordination.estimated_window``).
    min_co_shares: distinct items (links, retweeted posts, posts replied to, similar
        posts) a pair must co-act on to count as coordinated, for every kind.
    text_similarity: Jaccard similarity from which two texts are near-identical.
    churn_hours: width of the windows compared for churn.
    method: 'auto' (Leiden when installed, else Louvain), 'louvain' or 'leiden'.
    seed: seeds Louvain/Leiden, random removal and the drawing's layout.
    """

    coordination_window: float | None = coordination.DEFAULT_WINDOW_S
    min_co_shares: int = coordination.MIN_CO_SHARES
    text_similarity: float = coordination.TEXT_SIMILARITY
    churn_hours: int = 24
    method: str = "auto"
    seed: int = 0
    top_accounts: int = 5


@dataclass
class Network:
    """The report (``data``), with the graph and the posts table kept for exports."""

    data: dict[str, Any]
    graph: nx.DiGraph
    community_of: dict[str, int]
    posts_table: str


def _later(moment: datetime, step: timedelta) -> datetime:
    """``moment + step``, held at the calendar's last instant: a post dated 9999-12-31 (in
    a dataset another tool wrote) must not end the report with an OverflowError."""
    try:
        return moment + step
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC) if step > timedelta(0) else datetime.min.replace(
            tzinfo=UTC)


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_network(
    con: duckdb.DuckDBPyConnection,
    source: str,
    hashtag: str,
    start: datetime | None = None,
    end: datetime | None = None,
    options: NetworkOptions | None = None,
) -> Network:
    """The network of ``hashtag``'s posts in [start, end) of ``source``.

    source: a ``network_sql.network_source`` expression (scored datasets, the store).
    Raises QueryError for an empty tag, a reversed range or bad options.
    """
    options = options or NetworkOptions()
    key = canonical_hashtag(hashtag)
    if not key:
        raise QueryError(f"{hashtag!r} is no hashtag: give letters, with or without '#'")
    if options.churn_hours < 1:
        raise QueryError("churn window must be at least 1 hour")
    if options.coordination_window is not None and options.coordination_window <= 0:
        raise QueryError("coordination window must be positive (or 'auto')")
    if options.min_co_shares < 1:
        raise QueryError("minimum co-actions must be at least 1")
    if not 0 < options.text_similarity <= 1:
        raise QueryError("text similarity must be in (0, 1]")
    if options.method not in graphs.METHODS:
        raise QueryError(f"method must be one of {', '.join(graphs.METHODS)}")
    if options.method == "leiden" and not graphs.leiden_available():
        raise QueryError("Leiden needs the optional extra: pip install 'swarmlens[leiden]'")
    posts = network_sql.create_network_posts(con, source, key, start, end)
    n_posts, n_retweets, first, last = con.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE rt), min(t)::TIMESTAMP,
                   max(t)::TIMESTAMP FROM {posts}"""
    ).fetchone()
    graph = graphs.retweet_graph(network_sql.retweet_edges(con, posts))
    groups, method = graphs.communities(graph, options.seed, options.method)
    described = graphs.describe(graph, groups, options.top_accounts)
    community_of = {a: c.id for c in described for a in c.accounts}
    mix: dict[str, Counter] = defaultdict(Counter)
    for account, label, count in network_sql.account_labels(con, posts):
        mix[account][label] += count
    window = options.coordination_window
    estimated = window is None
    if window is None:
        window = coordination.estimated_window(network_sql.coordination_window(con, posts))
    by = _co_actions(con, posts, window, options)
    in_strength = dict(graph.in_degree(weight="weight"))
    out_strength = dict(graph.out_degree(weight="weight"))
    accounts = sorted(graph, key=lambda a: (-in_strength[a], -out_strength[a], a))
    start_at = start or (first.replace(tzinfo=UTC) if first else None)
    end_at = end or (_later(last.replace(tzinfo=UTC), timedelta(seconds=1)) if last else None)
    data: dict[str, Any] = {
        "hashtag": key,
        "start": _iso(start_at),
        "end": _iso(end_at),
        "posts": int(n_posts),
        "retweets": int(n_retweets),
        "method": method,
        "counts": "classify-and-count: stance mixes count posts under their predicted label",
        "totals": {
            "accounts": graph.number_of_nodes(),
            "retweet_edges": graph.number_of_edges(),
            "communities": len(described),
        },
        "accounts": [
            {
                "account": a,
                "community": community_of[a],
                "in_strength": int(in_strength[a]),
                "out_strength": int(out_strength[a]),
            }
            for a in accounts
        ],
        "communities": [
            {
                "id": c.id,
                "size": len(c.accounts),
                "labels": _labels(mix, c.accounts),
                "centralization": round(c.centralization, 4),
                "resilience": None if c.resilience is None else round(c.resilience, 4),
                "top_accounts": c.top_accounts,
            }
            for c in described
        ],
        "robustness": robustness(graph, options.seed),
        "coordination": {
            "window_s": window,
            "window_estimated": estimated,
            "min_co_actions": options.min_co_shares,
            "groups": by.pop("groups"),
            "by": by,
        },
        "coordination_window_s": window,
        "coordination_window_estimated": estimated,
        "churn": _churn(con, posts, start_at, options.churn_hours),
        "drawing": drawing(graph, described, community_of, options.seed),
    }
    data["totals"]["coordination"] = len(data["coordination"]["groups"])
    for kind, found in by.items():
        data["totals"][f"coordination_{kind}"] = len(found["groups"])
        data["totals"][f"coordination_{kind}_pairs"] = found["pairs"]
    return Network(data, graph, community_of, posts)


def _co_actions(
    con: duckdb.DuckDBPyConnection, posts: str, window: float, options: NetworkOptions
) -> dict[str, Any]:
    """``coordination.by``: each kind of co-action (``coordination.KINDS``), plus under
    'groups' the link groups in their original shape (``coordination.groups``)."""
    k = options.min_co_shares
    link = network_sql.co_action_pairs(con, posts, "link", window, k)
    by: dict[str, Any] = {"groups": coordination.groups(link, window)}
    by["link"] = coordination.kind_summary(link, "link", window)
    for kind in ("retweet", "reply"):
        pairs = network_sql.co_action_pairs(con, posts, kind, window, k)
        by[kind] = coordination.kind_summary(pairs, kind, window)
    if network_sql.texts_available(con, posts):
        pairs = network_sql.similar_text_pairs(con, posts, window, k, options.text_similarity)
        by["text"] = coordination.kind_summary(pairs, "text", window)
    else:
        by["text"] = coordination.unavailable(
            "text", window, "the posts carry no text: scored outputs keep none (a dataset "
            "with a 'text' column gives co-similar-text)",
        )
    return by


def _labels(mix: dict[str, Counter], accounts: set[str]) -> dict[str, int]:
    total: Counter = Counter()
    for account in accounts:
        total.update(mix.get(account, {}))
    return {label: int(total.get(label, 0)) for label in LABELS}


def _churn(
    con: duckdb.DuckDBPyConnection, posts: str, origin: datetime | None, hours: int
) -> dict[str, Any]:
    if origin is None:
        return {"hours": hours, "windows": []}
    origin = origin.replace(minute=0, second=0, microsecond=0)
    rows = network_sql.active_accounts(con, posts, origin, hours)
    step = timedelta(hours=hours)
    return {
        "hours": hours,
        "windows": [
            {
                "start": _iso(_later(origin, w * step)),
                "end": _iso(_later(origin, (w + 1) * step)),
                "active": active,
                "appeared": appeared,
                "new": new,
                "stopped": stopped,
            }
            for w, active, appeared, new, stopped in rows
        ],
    }


def drawing(
    graph: nx.DiGraph,
    described: list[graphs.Community],
    community_of: dict[str, int],
    seed: int = 0,
    communities: int = DRAW_COMMUNITIES,
    nodes: int = DRAW_NODES,
) -> dict[str, Any]:
    """Positions (a seeded spring layout, in [-1, 1]) of the largest communities' most
    retweeted accounts, and the retweets among them, for the dashboard to draw."""
    chosen = described[:communities]
    if not chosen:
        return {"nodes": [], "edges": []}
    per = max(1, nodes // len(chosen))
    strength = dict(graph.in_degree(weight="weight"))
    keep: list[str] = []
    for c in chosen:
        keep += sorted(c.accounts, key=lambda a: (-strength[a], a))[:per]
    # Built node by node in ``keep`` order, edges sorted: ``graph.subgraph`` lists its nodes
    # in set order, which follows the hash seed, and the seeded layout depends on the order
    # it meets nodes in, so positions changed from one process to the next.
    sub = nx.Graph()
    sub.add_nodes_from(keep)
    retweets = sorted(graph.subgraph(keep).edges(data="weight"))
    sub.add_weighted_edges_from(retweets)
    position = nx.spring_layout(sub, seed=seed, iterations=60) if len(sub) > 1 else {}
    index = {a: i for i, a in enumerate(keep)}
    return {
        "nodes": [
            {
                "account": a,
                "community": community_of[a],
                "in_strength": int(strength[a]),
                "x": round(float(position.get(a, (0.0, 0.0))[0]), 3),
                "y": round(float(position.get(a, (0.0, 0.0))[1]), 3),
            }
            for a in keep
        ],
        "edges": [[index[u], index[v], int(w)] for u, v, w in retweets],
    }


def bounded(
    data: dict[str, Any],
    accounts: int = 500,
    communities: int = 100,
    groups: int = 100,
    members: int = 100,
) -> dict[str, Any]:
    """The report with its lists cut to the given sizes (the API's answer); ``totals``
    keeps the full counts, so a reader knows what was left out."""
    out = dict(data)
    out["accounts"] = data["accounts"][:accounts]
    out["communities"] = data["communities"][:communities]
    coord = data["coordination"]
    out["coordination"] = {
        **coord,
        "groups": [
            {**g, "accounts": g["accounts"][:members], "urls": g["urls"][:members]}
            for g in coord["groups"][:groups]
        ],
        "by": {
            kind: {
                **found,
                "groups": [
                    {**g, "accounts": g["accounts"][:members], "items": g["items"][:members]}
                    for g in found["groups"][:groups]
                ],
            }
            for kind, found in coord["by"].items()
        },
    }
    return out
