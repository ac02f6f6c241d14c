"""Files for other tools: GraphML for Gephi, CSV for QUT's coordination-network-toolkit.

File names carry the hashtag and the window, so networks of successive windows written
to one directory sit side by side instead of overwriting each other.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import networkx as nx

from swarmlens.classifier.analytics import network_sql
from swarmlens.classifier.errors import OutputError
from swarmlens.classifier.fsio import atomic_path, atomic_write_text
from swarmlens.classifier.network.report import Network

MESSAGE_COLUMNS = (
    "message_id",
    "user_id",
    "username",
    "repost_id",
    "reply_id",
    "message",
    "timestamp",
    "urls",
)
"""The coordination-network-toolkit's CSV input, in its order."""


def stem(network: Network) -> str:
    """'<tag>_<start>_<end>' with compact UTC stamps, e.g. 'paris_20151113T2100Z_...'."""
    data = network.data

    def stamp(value: str | None) -> str:
        return (value or "all").replace("-", "").replace(":", "").replace("00Z", "Z")

    return f"{data['hashtag']}_{stamp(data['start'])}_{stamp(data['end'])}"


def write_graphml(network: Network, path: Path) -> Path:
    """The retweet graph with each account's community and strengths, and the community's
    centralization and resilience, as GraphML."""
    graph = network.graph.copy()
    figures = {c["id"]: c for c in network.data["communities"]}
    for account, attrs in graph.nodes(data=True):
        community = network.community_of.get(account, -1)
        attrs["community"] = community
        attrs["in_strength"] = int(graph.in_degree(account, weight="weight"))
        attrs["out_strength"] = int(graph.out_degree(account, weight="weight"))
        figure = figures.get(community, {})
        attrs["community_centralization"] = float(figure.get("centralization") or 0.0)
        attrs["community_resilience"] = float(figure.get("resilience") or 0.0)
    try:
        with atomic_path(path) as tmp:
            nx.write_graphml(graph, tmp)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def write_csv(network: Network, con: duckdb.DuckDBPyConnection, directory: Path) -> list[Path]:
    """Three CSV files in ``directory``: '<stem>_messages.csv' (the toolkit's input columns,
    one row per post), '<stem>_retweets.csv' (source, target, weight) and
    '<stem>_accounts.csv' (account, community, in_strength, out_strength)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write to {directory}: {exc.strerror or exc}") from None
    base = directory / stem(network)
    messages = Path(f"{base}_messages.csv")
    with atomic_path(messages) as tmp:
        # DuckDB writes the posts straight to the file: the one table here that grows
        # with the archive rather than with the accounts.
        query = network_sql.message_rows(con, network.posts_table)
        con.execute(f"COPY ({query}) TO '{str(tmp).replace(chr(39), chr(39) * 2)}' "
                    "(HEADER, DELIMITER ',')")
    retweets = Path(f"{base}_retweets.csv")
    atomic_write_text(
        retweets,
        _csv(
            ("source", "target", "weight"),
            ((u, v, w) for u, v, w in network.graph.edges(data="weight")),
        ),
    )
    accounts = Path(f"{base}_accounts.csv")
    atomic_write_text(
        accounts,
        _csv(
            ("account", "community", "in_strength", "out_strength"),
            (
                (a["account"], a["community"], a["in_strength"], a["out_strength"])
                for a in network.data["accounts"]
            ),
        ),
    )
    return [messages, retweets, accounts]


def _csv(header: tuple[str, ...], rows: object) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)  # type: ignore[arg-type]
    return buffer.getvalue()
