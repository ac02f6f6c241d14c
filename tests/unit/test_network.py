"""The network: hand-built graphs and planted datasets with known answers (real DuckDB)."""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import networkx as nx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from swarmlens.classifier.analytics import network_sql, queries
from swarmlens.classifier.errors import QueryError
from swarmlens.classifier.network import coordination
from swarmlens.classifier.network.export import MESSAGE_COLUMNS, write_csv, write_graphml
from swarmlens.classifier.network.graph import (
    communities,
    describe,
    in_centralization,
    resilience,
    retweet_graph,
)
from swarmlens.classifier.network.report import NetworkOptions, bounded, build_network
from swarmlens.classifier.network.robustness import robustness
from swarmlens.classifier.vocab import LABELS, OUTPUT_SCHEMA

T0 = datetime(2015, 11, 14, 0, 0, tzinfo=UTC)


def star(hub: str, leaves: list[str]) -> list[tuple[str, str, int]]:
    return [(leaf, hub, 1) for leaf in leaves]


# -- figures on hand-built graphs -----------------------------------------------------------


def test_star_has_centralization_one_and_resilience_zero() -> None:
    graph = retweet_graph(star("hub", [f"a{i}" for i in range(10)]))
    assert in_centralization(graph) == 1.0
    assert resilience(graph) == 0.0


def test_equal_in_degree_has_centralization_zero() -> None:
    cycle = retweet_graph([(f"a{i}", f"a{(i + 1) % 6}", 3) for i in range(6)])
    assert in_centralization(cycle) == 0.0
    complete = retweet_graph([(u, v, 1) for u in "abcde" for v in "abcde" if u != v])
    assert in_centralization(complete) == 0.0
    assert in_centralization(retweet_graph([])) == 0.0


def test_centralization_between_the_extremes() -> None:
    # in-degrees: hub 3, a 1, b 0, c 0 -> (0 + 2 + 3 + 3) / 3^2
    graph = retweet_graph([("a", "hub", 1), ("b", "hub", 1), ("c", "hub", 1), ("b", "a", 1)])
    assert in_centralization(graph) == pytest.approx(8 / 9)


def test_resilience_removes_the_top_five_percent_at_least_one() -> None:
    # 40 accounts -> 2 removed: the two hubs (10 retweets each); 20 retweets among others stay.
    edges = star("h1", [f"x{i}" for i in range(10)]) + star("h2", [f"y{i}" for i in range(10)])
    edges += [(f"z{i}", f"z{(i + 1) % 18}", 1) for i in range(18)]
    edges += [("x0", "y0", 1), ("y1", "x1", 1)]
    graph = retweet_graph(edges)
    assert graph.number_of_nodes() == 40
    assert resilience(graph) == pytest.approx(20 / 40)
    # Fewer than 20 accounts: still one removed.
    assert resilience(retweet_graph([("a", "b", 2), ("c", "d", 1)])) == pytest.approx(1 / 3)
    assert resilience(nx.DiGraph()) is None


def test_weights_add_up_and_self_retweets_are_dropped() -> None:
    graph = retweet_graph([("a", "b", 2), ("a", "b", 3), ("a", "a", 9)])
    assert graph["a"]["b"]["weight"] == 5 and not graph.has_edge("a", "a")


def planted_graph(seed: int = 7) -> tuple[nx.DiGraph, dict[str, set[str]], set[str]]:
    """Three hub clusters (loyal retweeters of one hub each) and a dispersed swarm."""
    rng = random.Random(seed)
    edges: list[tuple[str, str, int]] = []
    clusters = {}
    for h in range(3):
        leaves = [f"fan{h}_{i}" for i in range(15)]
        edges += [(leaf, f"hub{h}", rng.randint(1, 3)) for leaf in leaves]
        clusters[f"hub{h}"] = {f"hub{h}", *leaves}
    swarm = [f"swarm{i}" for i in range(30)]
    for _ in range(8):
        # A random permutation each round: every swarm account retweets and is retweeted
        # about as often as any other (the dispersed, interconnected cluster).
        shuffled = rng.sample(swarm, len(swarm))
        edges += [(a, b, 1) for a, b in zip(swarm, shuffled, strict=True) if a != b]
    return retweet_graph(edges), clusters, set(swarm)


def test_planted_hub_clusters_and_swarm() -> None:
    graph, clusters, swarm = planted_graph()
    groups, method = communities(graph, seed=0, method="louvain")
    assert method == "louvain"
    found = describe(graph, groups)
    for hub, members in clusters.items():
        (community,) = [c for c in found if hub in c.accounts]
        assert community.accounts == members  # the whole cluster, nothing else
        assert community.centralization == 1.0 and community.resilience == 0.0
        assert community.top_accounts == [hub]
    swarm_parts = [c for c in found if c.accounts <= swarm]
    assert sum(len(c.accounts) for c in swarm_parts) == len(swarm)
    whole = graph.subgraph(swarm)
    assert in_centralization(whole) < 0.2 and resilience(whole) > 0.8
    for part in swarm_parts:
        assert part.centralization < 0.4 and part.resilience > 0.6


def test_communities_are_seeded_and_ordered() -> None:
    graph, _, _ = planted_graph()
    first, _ = communities(graph, seed=3, method="louvain")
    again, _ = communities(graph, seed=3, method="louvain")
    assert first == again
    assert [len(c) for c in first] == sorted((len(c) for c in first), reverse=True)
    with pytest.raises(ValueError):
        communities(graph, method="magic")


def test_robustness_targeted_beats_random_on_hubs() -> None:
    graph = retweet_graph(star("hub", [f"a{i}" for i in range(99)]))
    curve = robustness(graph, seed=1)
    assert curve["targeted"][0] == [0, 1.0, 1.0]
    one = next(p for p in curve["targeted"] if p[0] == 1)
    assert one[1] == pytest.approx(0.01) and one[2] == 0.0  # the hub gone: nothing is left
    random_one = next(p for p in curve["random"] if p[0] == 1)
    assert random_one[2] > 0.9
    assert [p[0] for p in curve["targeted"]] == [p[0] for p in curve["random"]]
    assert robustness(nx.DiGraph()) == {"targeted": [], "random": []}


def test_coordination_groups_from_pairs() -> None:
    pairs = [
        ("a", "b", 2, ["u1", "u2"]),
        ("b", "c", 3, ["u1", "u2", "u3"]),
        ("x", "y", 2, ["v1", "v2"]),
    ]
    found = coordination.groups(pairs, 60.0)
    assert found[0] == {
        "accounts": ["a", "b", "c"],
        "urls": ["u1", "u2", "u3"],
        "co_shares": 5,
        "window_s": 60.0,
    }
    assert found[1]["accounts"] == ["x", "y"]


# -- planted datasets through DuckDB ------------------------------------------------------


def row(post_id: str, author: str, at: datetime, **extra: Any) -> dict[str, Any]:
    record = {
        "post_id": post_id,
        "label": extra.pop("label", "neutral"),
        "scores": dict.fromkeys(LABELS, 1 / 3),
        "model_version": "test",
        "lang": "en",
        "hashtags": extra.pop("hashtags", ["paris"]),
        "domains": [],
        "created_at": at,
        "platform": "twitter",
        "author": author,
    }
    record.update(extra)
    return record


def write_dataset(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=OUTPUT_SCHEMA), path / "part.parquet")
    return path


def run(path: Path, hashtag: str = "#Paris", **options: Any) -> Any:
    con = queries.connect()
    source = network_sql.network_source(con, [queries.parquet_source([path])])
    start, end = options.pop("start", None), options.pop("end", None)
    return con, build_network(con, source, hashtag, start, end, NetworkOptions(**options))


def coordinated_archive(tmp_path: Path) -> Path:
    """A group of three pushing three links within seconds, among 40 random sharers who
    post the same links (and a popular one) hours apart."""
    rng = random.Random(5)
    rows = []
    links = [f"https://justpaste.it/c{i}" for i in range(3)]
    n = 0
    for i, link in enumerate(links):
        at = T0 + timedelta(hours=3 * i)
        for j, account in enumerate(["grp_a", "grp_b", "grp_c"]):
            rows.append(row(f"g{n}", account, at + timedelta(seconds=7 * j), urls=[link]))
            n += 1
    for k in range(40):
        for link in [*links, "https://news.example/popular"]:
            at = T0 + timedelta(hours=rng.uniform(0, 96))
            rows.append(row(f"r{n}", f"random_{k}", at, urls=[link]))
            n += 1
    return write_dataset(tmp_path / "coordinated", rows)


def test_coordinated_group_found_without_random_sharers(tmp_path: Path) -> None:
    path = coordinated_archive(tmp_path)
    _, network = run(path)
    group = ["grp_a", "grp_b", "grp_c"]
    groups = network.data["coordination"]
    assert [g["accounts"] for g in groups] == [["grp_a", "grp_b", "grp_c"]]
    assert groups[0]["urls"] == [f"https://justpaste.it/c{i}" for i in range(3)]
    assert groups[0]["co_shares"] == 9 and groups[0]["window_s"] == 60.0
    # The same data with an estimated window: still the group, and a short window.
    _, estimated = run(path, coordination_window=None)
    assert estimated.data["coordination_window_estimated"] is True
    assert 1 <= estimated.data["coordination_window_s"] <= coordination.MAX_ESTIMATED_WINDOW_S
    assert [g["accounts"] for g in estimated.data["coordination"]] == [group]
    assert coordination.estimated_window(None) == 60.0
    assert coordination.estimated_window(0.2) == 1.0 and coordination.estimated_window(9e9) == 600


def test_estimated_window_follows_quick_sharing(tmp_path: Path) -> None:
    # Links each shared by five accounts 0, 5, 10, 15, 20 s after the first: the time to
    # pass half the shares is 10 s for every link.
    rows = [
        row(f"p{u}_{k}", f"acct{k}", T0 + timedelta(hours=u, seconds=5 * k), urls=[f"https://l/{u}"])
        for u in range(10)
        for k in range(5)
    ]
    con, network = run(write_dataset(tmp_path / "quick", rows), coordination_window=None)
    assert network_sql.coordination_window(con, network.posts_table) == 10.0
    assert network.data["coordination_window_s"] == 10.0


def test_links_shared_hours_apart_are_not_coordination(tmp_path: Path) -> None:
    rows = [
        row(f"p{i}", f"acct{i % 5}", T0 + timedelta(hours=2 * i), urls=[f"https://x.org/{i % 2}"])
        for i in range(20)
    ]
    _, network = run(write_dataset(tmp_path / "apart", rows))
    assert network.data["coordination"] == []
    # Retweets repeat their original's link: never a co-share.
    rows = [row("o1", "a", T0, urls=["https://x.org/1"])]
    rows += [
        row(f"rt{i}", f"b{i}", T0 + timedelta(seconds=i), retweet_of="o1", urls=["https://x.org/1"])
        for i in range(5)
    ]
    _, network = run(write_dataset(tmp_path / "rts", rows))
    assert network.data["coordination"] == []


def test_retweeted_author_is_resolved_from_the_data(tmp_path: Path) -> None:
    rows = [
        row("o1", "orig", T0, hashtags=["other"]),
        row("r1", "fan1", T0 + timedelta(minutes=1), retweet_of="o1"),
        row("r2", "fan2", T0 + timedelta(minutes=2), retweet_of="o1", retweet_of_author="orig"),
        row("r3", "fan3", T0 + timedelta(minutes=3), retweet_of="missing"),
        row("r3", "fan3", T0 + timedelta(minutes=3), retweet_of="o1"),  # duplicate id
    ]
    _, network = run(write_dataset(tmp_path / "resolve", rows))
    data = network.data
    assert sorted(network.graph.edges(data="weight")) == [("fan1", "orig", 1), ("fan2", "orig", 1)]
    assert data["posts"] == 3 and data["retweets"] == 3
    assert data["accounts"][0] == {
        "account": "orig",
        "community": 0,
        "in_strength": 2,
        "out_strength": 0,
    }
    assert data["communities"][0]["size"] == 3
    assert data["communities"][0]["labels"] == {"supportive": 0, "opposing": 0, "neutral": 2}


def test_churn_between_windows(tmp_path: Path) -> None:
    rows = [
        row("1", "a", T0 + timedelta(hours=1)),
        row("2", "b", T0 + timedelta(hours=2)),
        row("3", "b", T0 + timedelta(hours=25)),
        row("4", "c", T0 + timedelta(hours=26)),
        row("5", "a", T0 + timedelta(hours=50)),
    ]
    _, network = run(write_dataset(tmp_path / "churn", rows), start=T0)
    windows = network.data["churn"]["windows"]
    assert [(w["active"], w["appeared"], w["new"], w["stopped"]) for w in windows] == [
        (2, 2, 2, 0),
        (2, 1, 1, 1),  # c appears, a stops
        (1, 1, 0, 2),  # a comes back (not new), b and c stop
        (0, 0, 0, 1),
    ]
    assert windows[1]["start"] == "2015-11-15T00:00:00Z"


def test_window_filters_and_errors(tmp_path: Path) -> None:
    rows = [row(str(i), f"a{i}", T0 + timedelta(minutes=20 * i)) for i in range(9)]
    rows.append(row("other", "b", T0, hashtags=["elsewhere"]))
    path = write_dataset(tmp_path / "window", rows)
    _, network = run(path, start=T0 + timedelta(hours=1), end=T0 + timedelta(hours=2))
    assert network.data["start"] == "2015-11-14T01:00:00Z"
    assert network.data["end"] == "2015-11-14T02:00:00Z"
    assert network.data["posts"] == 3  # 60, 80 and 100 minutes in; the end is exclusive
    _, everything = run(path)
    assert everything.data["posts"] == 9
    assert everything.data["start"] == "2015-11-14T00:00:00Z"
    assert everything.data["end"] == "2015-11-14T02:40:01Z"
    with pytest.raises(QueryError):
        run(path, start=T0, end=T0)
    with pytest.raises(QueryError):
        run(path, hashtag="#")
    with pytest.raises(QueryError):
        run(path, churn_hours=0)
    _, empty = run(path, hashtag="#nothing")
    assert empty.data["accounts"] == [] and empty.data["communities"] == []


def test_bounded_keeps_totals() -> None:
    data = {
        "accounts": [{"account": str(i)} for i in range(10)],
        "communities": [{"id": i} for i in range(10)],
        "coordination": [{"accounts": list("abcdef"), "urls": list("uvw")}] * 3,
        "totals": {"accounts": 10},
    }
    cut = bounded(data, accounts=2, communities=3, groups=1, members=2)
    assert len(cut["accounts"]) == 2 and len(cut["communities"]) == 3
    assert cut["coordination"] == [{"accounts": ["a", "b"], "urls": ["u", "v"]}]
    assert cut["totals"] == {"accounts": 10} and len(data["accounts"]) == 10


def test_exports(tmp_path: Path) -> None:
    rows = [row("o1", "orig", T0), row("r1", "fan", T0 + timedelta(minutes=1), retweet_of="o1")]
    path = write_dataset(tmp_path / "small", rows)
    con, network = run(path)
    graphml = write_graphml(network, tmp_path / "out" / "net.graphml")
    loaded = nx.read_graphml(graphml)
    assert loaded.nodes["orig"]["community"] == 0 and loaded.nodes["orig"]["in_strength"] == 1
    files = write_csv(network, con, tmp_path / "csv")
    messages = list(csv.reader(files[0].open()))
    assert messages[0] == list(MESSAGE_COLUMNS)
    assert messages[2] == ["r1", "fan", "fan", "o1", "", "", "1447459260", ""]
    assert files[0].name.startswith("paris_20151114T0000Z_")
    assert files[1].read_text().splitlines() == ["source,target,weight", "fan,orig,1"]
