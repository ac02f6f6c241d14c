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

from swarmlens.classifier.analytics import datasets, network_sql, queries
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
from swarmlens.classifier.network.report import NetworkOptions, bounded, build_network, drawing
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
    source = network_sql.network_source(con, [datasets.parquet_source([path])])
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
    groups = network.data["coordination"]["groups"]
    assert [g["accounts"] for g in groups] == [["grp_a", "grp_b", "grp_c"]]
    assert groups[0]["urls"] == [f"https://justpaste.it/c{i}" for i in range(3)]
    assert groups[0]["co_shares"] == 9 and groups[0]["window_s"] == 60.0
    # The same data with an estimated window: still the group, and a short window.
    _, estimated = run(path, coordination_window=None)
    assert estimated.data["coordination_window_estimated"] is True
    assert 1 <= estimated.data["coordination_window_s"] <= coordination.MAX_ESTIMATED_WINDOW_S
    assert [g["accounts"] for g in estimated.data["coordination"]["groups"]] == [group]
    link = estimated.data["coordination"]["by"]["link"]
    assert [g["accounts"] for g in link["groups"]] == [group] and link["pairs"] == 3
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
    assert network.data["coordination"]["groups"] == []
    # Retweets repeat their original's link: never a co-share.
    rows = [row("o1", "a", T0, urls=["https://x.org/1"])]
    rows += [
        row(f"rt{i}", f"b{i}", T0 + timedelta(seconds=i), retweet_of="o1", urls=["https://x.org/1"])
        for i in range(5)
    ]
    _, network = run(write_dataset(tmp_path / "rts", rows))
    assert network.data["coordination"]["groups"] == []


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
        "coordination": {
            "window_s": 60.0,
            "groups": [{"accounts": list("abcdef"), "urls": list("uvw")}] * 3,
            "by": {"retweet": {"pairs": 9, "groups": [{"accounts": list("abc"),
                                                      "items": list("xyz")}] * 3}},
        },
        "totals": {"accounts": 10},
    }
    cut = bounded(data, accounts=2, communities=3, groups=1, members=2)
    assert len(cut["accounts"]) == 2 and len(cut["communities"]) == 3
    assert cut["coordination"]["groups"] == [{"accounts": ["a", "b"], "urls": ["u", "v"]}]
    assert cut["coordination"]["by"] == {
        "retweet": {"pairs": 9, "groups": [{"accounts": ["a", "b"], "items": ["x", "y"]}]}
    }
    assert cut["coordination"]["window_s"] == 60.0
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


# -- coordination beyond links (co-retweet, co-reply, co-similar-text) ----------------------


def co_action_archive(tmp_path: Path, field: str) -> Path:
    """Three accounts retweeting (or replying to) the same three posts within seconds,
    among 30 accounts doing the same to the same posts hours apart; one of the group also
    acts once with an outsider."""
    rng = random.Random(7)
    originals = [row(f"o{i}", f"src{i}", T0 + timedelta(hours=5 * i)) for i in range(3)]
    rows = list(originals)
    for i in range(3):
        at = T0 + timedelta(hours=5 * i, minutes=1)
        for j, account in enumerate(["grp_a", "grp_b", "grp_c"]):
            rows.append(row(f"g{i}{j}", account, at + timedelta(seconds=9 * j), **{field: f"o{i}"}))
        for k in range(30):
            later = at + timedelta(hours=rng.uniform(1, 96))
            rows.append(row(f"r{i}_{k}", f"random_{k}", later, **{field: f"o{i}"}))
    rows.append(row("once", "outsider", T0 + timedelta(minutes=1, seconds=2), **{field: "o0"}))
    return write_dataset(tmp_path / field, rows)


@pytest.mark.parametrize(("field", "kind"), [("retweet_of", "retweet"), ("reply_to", "reply")])
def test_co_retweets_and_co_replies(tmp_path: Path, field: str, kind: str) -> None:
    con, network = run(co_action_archive(tmp_path, field))
    coord = network.data["coordination"]
    assert set(coord["by"]) == {"link", "retweet", "reply", "text"}
    found = coord["by"][kind]
    assert found["available"] is True and found["window_s"] == 60.0
    assert found["pairs"] == 3 and found["accounts"] == 3
    assert found["groups"] == [
        {"accounts": ["grp_a", "grp_b", "grp_c"], "co_actions": 9, "items": ["o0", "o1", "o2"]}
    ]
    other = "reply" if kind == "retweet" else "retweet"
    assert coord["by"][other]["pairs"] == 0 and coord["by"]["link"]["groups"] == []
    assert network.data["totals"][f"coordination_{kind}"] == 1
    assert network.data["totals"][f"coordination_{kind}_pairs"] == 3
    # One co-action with the outsider: a pair only from one.
    pairs = network_sql.co_action_pairs(con, network.posts_table, kind, 60.0, 1)
    assert ("grp_a", "outsider", 1, ["o0"]) in pairs and len(pairs) == 6
    _, loose = run(co_action_archive(tmp_path / "again", field), min_co_shares=1)
    assert loose.data["coordination"]["by"][kind]["groups"][0]["accounts"] == [
        "grp_a", "grp_b", "grp_c", "outsider"
    ]
    # A short window splits the group: 9 s apart, pairs within 5 s are none.
    _, short = run(co_action_archive(tmp_path / "short", field), coordination_window=5)
    assert short.data["coordination"]["by"][kind]["pairs"] == 0


def test_retweets_are_no_replies_and_no_shares(tmp_path: Path) -> None:
    # A retweet of a reply carries the reply's reply_to: it is not itself a reply.
    rows = []
    for i in range(2):
        for j, account in enumerate("ab"):
            rows.append(row(f"x{i}{j}", account, T0 + timedelta(hours=i, seconds=j),
                            retweet_of=f"r{i}", reply_to=f"o{i}", urls=[f"https://l/{i}"]))
    _, network = run(write_dataset(tmp_path / "rtreply", rows))
    by = network.data["coordination"]["by"]
    assert by["retweet"]["pairs"] == 1 and by["reply"]["pairs"] == 0 and by["link"]["pairs"] == 0


def test_retweet_edge_from_the_retweeted_author_alone(tmp_path: Path) -> None:
    # 'RT @user:' texts give retweet_of_author without retweet_of (issue 22, item 3).
    rows = [
        row("o1", "orig", T0, urls=["https://x.org/1"]),
        row("r1", "fan1", T0 + timedelta(seconds=5), retweet_of_author="orig",
            urls=["https://x.org/1"]),
        row("r2", "fan2", T0 + timedelta(seconds=9), retweet_of_author="orig",
            urls=["https://x.org/1"]),
        row("r3", "fan2", T0 + timedelta(seconds=12), retweet_of_author="other",
            urls=["https://x.org/2"]),
        row("p4", "fan1", T0 + timedelta(seconds=13), urls=["https://x.org/2"]),
    ]
    con, network = run(write_dataset(tmp_path / "rtauthor", rows))
    assert sorted(network.graph.edges(data="weight")) == [
        ("fan1", "orig", 1), ("fan2", "orig", 1), ("fan2", "other", 1)
    ]
    assert network.data["retweets"] == 3
    # Their links are the original's, never shares; without the post, no co-retweet.
    by = network.data["coordination"]["by"]
    assert by["link"]["pairs"] == 0 and by["retweet"]["pairs"] == 0
    assert network_sql.co_action_pairs(con, network.posts_table, "link", 60, 1) == []
    assert network_sql.co_action_pairs(con, network.posts_table, "retweet", 60, 1) == []
    # The toolkit's CSV marks them as reposts (a key of their own), so it agrees.
    files = write_csv(network, con, tmp_path / "csv")
    messages = {r["message_id"]: r for r in csv.DictReader(files[0].open())}
    assert messages["r1"]["repost_id"] == "rt:r1" and messages["o1"]["repost_id"] == ""
    assert messages["p4"]["repost_id"] == "" and messages["p4"]["urls"] == "https://x.org/2"


def with_text(path: Path, rows: list[dict[str, Any]]) -> Path:
    """A dataset with a 'text' column beside the scored columns (scored outputs keep none)."""
    path.mkdir(parents=True, exist_ok=True)
    schema = OUTPUT_SCHEMA.append(pa.field("text", pa.string()))
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path / "part.parquet")
    return path


def test_co_similar_text_only_where_texts_exist(tmp_path: Path) -> None:
    _, scored = run(co_action_archive(tmp_path, "retweet_of"))
    text = scored.data["coordination"]["by"]["text"]
    assert text["available"] is False and "no text" in text["reason"] and text["groups"] == []
    slogan = "the caliphate is rising join the brothers now in {} today"
    rows = []
    for i, place in enumerate(["raqqa", "mosul", "sirte"]):
        at = T0 + timedelta(hours=3 * i)
        rows += [
            row(f"a{i}", "bot_a", at, text=slogan.format(place) + " https://t.co/x1"),
            row(f"b{i}", "bot_b", at + timedelta(seconds=20),
                text="@someone " + slogan.format(place).upper()),
            # Near-identical: one word more than the slogan's ten distinct (10/11 >= 0.8).
            row(f"c{i}", "bot_c", at + timedelta(seconds=30),
                text=slogan.format(place) + " quickly!!"),
            # The same text hours later: not coordination.
            row(f"d{i}", "late", at + timedelta(hours=2), text=slogan.format(place)),
            # A retweet repeats the text: never a co-similar-text.
            row(f"e{i}", "rter", at + timedelta(seconds=10), retweet_of=f"a{i}",
                text="RT @bot_a: " + slogan.format(place)),
            # Short texts never match.
            row(f"f{i}", "short_1", at, text="join now"),
            row(f"g{i}", "short_2", at, text="join now"),
        ]
    rows.append(row("h", "other", T0 + timedelta(seconds=5), text="a different thing said here"))
    con, network = run(with_text(tmp_path / "texts", rows))
    text = network.data["coordination"]["by"]["text"]
    assert text["available"] is True and text["pairs"] == 3
    (group,) = text["groups"]
    assert group["accounts"] == ["bot_a", "bot_b", "bot_c"] and group["co_actions"] == 9
    assert group["items"] == sorted(f"{x}{i}" for x in "abc" for i in range(3))
    assert network_sql.similar_text_pairs(con, network.posts_table, 60, 1, 0.95) == [
        ("bot_a", "bot_b", 3, ["a0", "a1", "a2", "b0", "b1", "b2"])
    ]
    # The CSV carries the texts for the toolkit's co-similar-text.
    files = write_csv(network, con, tmp_path / "csv")
    messages = {r["message_id"]: r for r in csv.DictReader(files[0].open())}
    assert messages["b0"]["message"].startswith("@someone THE CALIPHATE")
    assert messages["e0"]["repost_id"] == "a0"


def test_retweets_known_by_text_are_co_retweets(tmp_path: Path) -> None:
    # Without retweet_of, the retweeted author and the text tell which post was retweeted.
    rows = []
    for i in range(2):
        at = T0 + timedelta(hours=i)
        for j, account in enumerate("abc"):
            rows.append(row(f"r{i}{j}", account, at + timedelta(seconds=j),
                            retweet_of_author="orig",
                            text=f"RT @orig: message number {i} https://t.co/{j}"))
    con, network = run(with_text(tmp_path / "rttext", rows))
    retweet = network.data["coordination"]["by"]["retweet"]
    assert retweet["pairs"] == 3 and retweet["groups"][0]["co_actions"] == 6
    files = write_csv(network, con, tmp_path / "csv")
    ids = {r["message_id"]: r["repost_id"] for r in csv.DictReader(files[0].open())}
    assert ids["r00"] == ids["r01"] != ids["r10"] and ids["r00"].startswith("rt:orig:")


def test_bad_coordination_options(tmp_path: Path) -> None:
    path = write_dataset(tmp_path / "opts", [row("1", "a", T0)])
    with pytest.raises(QueryError):
        run(path, min_co_shares=0)
    with pytest.raises(QueryError):
        run(path, text_similarity=0)


def test_queries_spill_outside_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DuckDB's in-memory default is '.tmp' in the working directory: the network's temp
    # table of a big hashtag left a '.tmp/' folder in the user's project.
    monkeypatch.chdir(tmp_path)
    con = queries.connect()
    spill = Path(con.execute("SELECT current_setting('temp_directory')").fetchone()[0])
    assert spill.is_absolute() and tmp_path not in spill.parents
    con.execute("SET memory_limit = '32MB'; SET preserve_insertion_order = false")
    con.execute("CREATE TEMP TABLE big AS SELECT range AS i, repeat('x', 64) AS s "
                "FROM range(3000000)")  # over the limit: it spills
    assert con.execute("SELECT count(*) FROM big").fetchone()[0] == 3_000_000
    con.close()
    assert list(tmp_path.iterdir()) == []



def test_the_drawing_does_not_depend_on_the_order_retweets_were_read_in() -> None:
    # The graph is built from query rows, whose order a parallel scan does not fix: the
    # layout, fed nodes in the graph's own order, moved from one run to the next.
    rng = random.Random(3)
    pairs = {(f"acct{rng.randrange(60)}", f"hub{rng.randrange(6)}") for _ in range(300)}
    edges = [(u, v, rng.randrange(1, 4)) for u, v in sorted(pairs)]
    graph = retweet_graph(edges)
    described = describe(graph, communities(graph, seed=0)[0])
    community_of = {a: i for i, c in enumerate(described) for a in c.accounts}
    drawn = drawing(graph, described, community_of, seed=0)
    shuffled = edges[:]
    rng.shuffle(shuffled)
    assert drawing(retweet_graph(shuffled), described, community_of, seed=0) == drawn
    assert drawing(retweet_graph(edges[::-1]), described, community_of, seed=0) == drawn
    assert len(drawn["nodes"]) > 10 and drawn["edges"]
