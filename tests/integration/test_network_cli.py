"""``swarmlens network`` as a user runs it, on the scored demo dataset (a real process)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import networkx as nx
import pytest

from tests.support.processes import swarmlens as run

pytestmark = pytest.mark.integration


def test_network_of_the_demo(
    demo_dataset: Path, shared_env: dict[str, str], tmp_path: Path
) -> None:
    graphml = tmp_path / "net.graphml"
    result = run(
        [
            "network", str(demo_dataset), "--hashtag", "#ParisIsBurning", "--json",
            "--graphml", str(graphml), "--csv", str(tmp_path / "csv"),
        ],
        shared_env,
    )
    data = json.loads(result.stdout)
    assert set(data) >= {"hashtag", "start", "end", "accounts", "communities", "robustness",
                         "coordination"}
    assert data["hashtag"] == "parisisburning" and data["retweets"] > 50
    # The demo's planted structure: opponents' hubs (stars) and the supporters' swarm.
    labels = ("supportive", "opposing", "neutral")
    hubs = [c for c in data["communities"]
            if c["size"] >= 8 and max(labels, key=c["labels"].get) == "opposing"]
    assert hubs and any(c["centralization"] == 1.0 and c["resilience"] == 0.0 for c in hubs)
    swarm = [c for c in data["communities"]
             if c["size"] >= 8 and max(labels, key=c["labels"].get) == "supportive"]
    assert swarm and min(c["centralization"] for c in swarm) < 0.3
    assert max(c["resilience"] for c in swarm) > 0.5
    # The relay group pushing the same links within seconds, and nobody else.
    (group,) = data["coordination"]["groups"]
    assert all(a.startswith("demo_relay_") for a in group["accounts"])
    assert len(group["accounts"]) >= 3
    assert any("justpaste.it" in u for u in group["urls"])
    by = data["coordination"]["by"]
    assert set(by) == {"link", "retweet", "reply", "text"}
    assert [g["accounts"] for g in by["link"]["groups"]] == [group["accounts"]]
    assert by["retweet"]["available"] and by["reply"]["available"]
    assert by["text"]["available"] is False and "no text" in by["text"]["reason"]
    assert data["coordination"]["window_s"] == data["coordination_window_s"] == 60.0
    assert data["totals"]["coordination"] == 1
    targeted, random_ = data["robustness"]["targeted"], data["robustness"]["random"]
    assert targeted[-1][2] < random_[-1][2]  # removing hubs costs more than chance
    assert sum(w["new"] for w in data["churn"]["windows"]) > 0
    graph = nx.read_graphml(graphml)
    assert graph.number_of_nodes() == data["totals"]["accounts"]
    messages = next((tmp_path / "csv").glob("*_messages.csv"))
    with messages.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == data["posts"]
    assert list(rows[0]) == ["message_id", "user_id", "username", "repost_id", "reply_id",
                             "message", "timestamp", "urls"]
    # Every retweet is a repost for the toolkit (its links are no shares).
    assert sum(1 for r in rows if r["repost_id"]) == data["retweets"]


def test_network_table_and_errors(demo_dataset: Path, shared_env: dict[str, str]) -> None:
    table = run(["network", str(demo_dataset), "--hashtag", "باريس_تشتعل"], shared_env)
    assert "centralization" in table.stdout and "Coordinated link sharing" in table.stdout
    assert "Coordination by kind" in table.stdout
    loose = run(["network", str(demo_dataset), "--hashtag", "#ParisIsBurning", "--json",
                 "--min-co-actions", "1", "--coordination-window", "30"], shared_env)
    coord = json.loads(loose.stdout)["coordination"]
    assert coord["min_co_actions"] == 1 and coord["window_s"] == 30.0
    bad_min = run(["network", str(demo_dataset), "--hashtag", "x", "--min-co-actions", "0"],
                  shared_env, check=False)
    assert bad_min.returncode == 2 and "min-co-actions" in bad_min.stderr
    bad = run(["network", str(demo_dataset), "--hashtag", "x", "--start", "2015-11-14",
               "--end", "2015-11-13"], shared_env, check=False)
    assert bad.returncode == 2 and "E008" in bad.stderr
    window = run(["network", str(demo_dataset), "--hashtag", "x", "--coordination-window",
                  "soon"], shared_env, check=False)
    assert window.returncode == 2 and "coordination-window" in window.stderr
