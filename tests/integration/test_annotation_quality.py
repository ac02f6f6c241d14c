"""Overlap, gold, per-annotator quality and language routing against a real Label Studio,
with three simulated annotators (accuracy ~0.95, ~0.75 and random) who label through Label
Studio's own labelling stream (``/api/projects/{id}/next`` from their tab), as people do."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from swarmlens.annotation import workflow
from swarmlens.annotation.cli import app as annotate_app
from swarmlens.annotation.project import choice_result
from swarmlens.annotation.routing import ensure_annotator_view
from swarmlens.annotation.store import parse_langs, save_annotator
from swarmlens.classifier.demo.generator import write_demo_jsonl
from tests.support.labelstudio import LabelStudioServer
from tests.support.processes import swarmlens

pytestmark = pytest.mark.integration
PROJECT = "quality project"
LABELS = ("supportive", "opposing", "neutral")
LANGS = ("ar", "en", "fr")
# email, accuracy (None: random), seconds per label, languages read
CROWD = (
    ("careful@swarmlens.test", 0.95, 9.0, "ar,en,fr"),
    ("hasty@swarmlens.test", 0.75, 6.0, "ar,en,fr"),
    ("random@swarmlens.test", None, 1.5, "ar,en"),
)


@pytest.fixture(scope="module")
def env(
    shared_env: dict[str, str], labelstudio: LabelStudioServer, tmp_path_factory
) -> dict[str, str]:
    return {
        **shared_env,
        "LABEL_STUDIO_URL": labelstudio.url,
        "LABEL_STUDIO_API_KEY": labelstudio.token,
        "SWARMLENS_DATA_DIR": str(tmp_path_factory.mktemp("quality-data")),
    }


def _records(path: Path, langs: tuple[str, ...]) -> list[dict]:
    return [
        r for r in map(json.loads, path.read_text().splitlines()) if r.get("lang") in langs
    ]


def _write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    return path


def answer(who: str, accuracy: float | None, post_id: str, truth: str) -> str:
    """The simulated annotator's label: fixed per (annotator, post), whatever the order."""
    rng = random.Random(f"{who}|{post_id}")
    if accuracy is None:
        return rng.choice(LABELS)
    if rng.random() < accuracy:
        return truth
    return rng.choice([label for label in LABELS if label != truth])


def label_through_stream(
    labelstudio: LabelStudioServer,
    pid: int,
    crowd: list[tuple[str, str, float | None, float, int]],
    truth: dict[str, str],
) -> dict[str, list[dict]]:
    """Each annotator in turn asks Label Studio for their next task (from their tab) and
    labels it, until the stream has nothing left for anyone.

    In turn, not at once: on its default SQLite database Label Studio's task locks do not
    hold between concurrent requests (three annotators at once got 3 of 60 one-annotator
    tasks twice), which would blur what the overlap itself delivers."""
    done: dict[str, list[dict]] = {email: [] for email, *_ in crowd}
    clients = {
        email: httpx.Client(
            base_url=labelstudio.url, headers={"Authorization": f"Token {token}"}, timeout=120
        )
        for email, token, *_ in crowd
    }
    active = list(crowd)
    try:
        while active:
            for member in list(active):
                email, _, accuracy, seconds, view = member
                reply = clients[email].get(f"/api/projects/{pid}/next", params={"view": view})
                if reply.status_code == 404:
                    active.remove(member)
                    continue
                reply.raise_for_status()
                task = reply.json()
                post_id = task["data"]["post_id"]
                label = answer(email, accuracy, post_id, truth[post_id])
                clients[email].post(
                    f"/api/tasks/{task['id']}/annotations/",
                    json={"result": choice_result(label), "lead_time": seconds},
                ).raise_for_status()
                done[email].append(task["data"])
    finally:
        for client in clients.values():
            client.close()
    return done


def test_overlap_gold_quality_and_routing(
    env: dict[str, str], labelstudio: LabelStudioServer, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    pool = _write(
        tmp_path / "pool.jsonl",
        _records(write_demo_jsonl(tmp_path / "demo.jsonl", n_posts=400, seed=5), LANGS),
    )
    gold_records = _records(write_demo_jsonl(tmp_path / "g.jsonl", n_posts=150, seed=11), LANGS)
    for i, record in enumerate(gold_records):
        record["id"] = f"demo-{500000 + i:06d}"  # ids like any other post's
    gold_file = _write(tmp_path / "gold.jsonl", gold_records[:60])
    truth = {r["id"]: r["label"] for r in _records(pool, LANGS) + gold_records}

    run = lambda *args: json.loads(  # noqa: E731
        swarmlens(["annotate", *args, "--project", PROJECT, "--store", str(store), "--json"], env)
        .stdout
    )
    workflow.setup(labelstudio.client(), PROJECT)
    added = run("gold", "add", "--data", str(gold_file))
    assert (added["added"], added["total"], added["rejects"]) == (60, 60, [])

    crowd = []
    for email, accuracy, seconds, _ in CROWD:
        _, token = labelstudio.create_user(email, "crowd-pass-12345")
        crowd.append((email, token, accuracy, seconds))

    pushed = run(
        "push", str(pool), "--n", "100", "--strategy", "random", "--overlap", "0.25",
        "--overlap-k", "2", "--gold-rate", "0.2", "--seed", "7",
    )  # fmt: skip
    assert (pushed["imported"], pushed["gold"], pushed["overlapped"]) == (100, 20, 20)
    ls = labelstudio.client()
    pid = pushed["project_id"]
    tasks = list(ls.tasks.list(project=pid, page_size=500, include="id,data,overlap"))
    gold_ids = {r["id"] for r in gold_records}
    in_gold = [t for t in tasks if t.data["post_id"] in gold_ids]
    plain = [t for t in tasks if t.data["post_id"] not in gold_ids]
    # Gold looks like any task: the same data fields, a pre-annotation, no answer.
    assert len(in_gold) == 20 and {frozenset(t.data) for t in tasks} == {
        frozenset(plain[0].data)
    }
    assert "label" not in plain[0].data
    assert all(t.total_predictions == 1 for t in ls.tasks.list(project=pid, fields="all"))
    positions = sorted(t.id for t in tasks).index
    assert min(positions(t.id) for t in in_gold) < 40  # mixed in, not appended
    assert Counter(t.overlap for t in plain) == {1: 60, 2: 20}

    # Routing: one annotator's languages first -> the others are unrouted.
    emails = [c[0] for c in CROWD]
    run("annotators", "set", emails[0], "--langs", "ar")
    status = run("status")
    assert set(status["routing"]["unrouted"]) == {"en", "fr"}
    views = {emails[0]: run("annotators", "set", emails[0], "--langs", CROWD[0][3])["view_id"]}
    for email, _, _, langs in CROWD[1:]:  # the same, in-process (each CLI call costs seconds)
        views[email] = ensure_annotator_view(ls, pid, email, parse_langs(langs))
        save_annotator(PROJECT, email, parse_langs(langs), store)
    status = workflow.status(ls, PROJECT, store)
    assert status["routing"]["unrouted"] == {}
    assert status["routing"]["annotators"][emails[2]] == ["ar", "en"]
    bad = swarmlens(
        ["annotate", "annotators", "set", "nobody@swarmlens.test", "--langs", "ar",
         "--project", PROJECT, "--store", str(store)], env, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "[E052]" in bad.stderr

    done = label_through_stream(
        labelstudio, pid, [(*member, views[member[0]]) for member in crowd], truth
    )
    assert all(d["lang"] in ("ar", "en") for d in done[emails[2]])  # their tab only

    out = tmp_path / "labels.jsonl"
    pulled = run("pull", "--out", str(out))
    overlap = pulled["overlap"]
    # k labels on the requested share (+-5%), exactly one elsewhere.
    assert overlap["tasks"] == 80 and abs(overlap["marked_share"] - 0.25) <= 0.05
    assert overlap["labels_on_marked"] == {"2": 20} and overlap["complete"] == 20
    assert overlap["unmarked_with_more_than_one"] == 0
    assert pulled["agreement"]["tasks_by_annotations"] == {"0": 0, "1": 60, "2": 20, "3+": 0}

    figures = pulled["annotators"]
    careful, hasty, rand = (figures[e] for e in emails)
    assert careful["gold_n"] == hasty["gold_n"] == 20 and 0 < rand["gold_n"] < 20
    assert careful["gold_accuracy"] > hasty["gold_accuracy"] > rand["gold_accuracy"]
    assert careful["ds_accuracy"] > hasty["ds_accuracy"] > rand["ds_accuracy"]
    assert rand["agreement"] < min(careful["agreement"], hasty["agreement"])
    assert any("gold accuracy" in f or "agreement near chance" in f for f in rand["flags"])
    assert not [f for f in careful["flags"] + hasty["flags"] if "gold" in f]
    assert careful["median_seconds"] == 9.0 and rand["median_seconds"] == 1.5
    assert sum(f["n"] for f in figures.values()) == sum(len(d) for d in done.values())

    # Gold never enters the training file; it is scored only.
    trained = {json.loads(line)["id"] for line in out.read_text().splitlines()}
    assert not trained & gold_ids and pulled["gold_tasks"] == 20
    weighted = workflow.pull(ls, PROJECT, tmp_path / "ds.jsonl", method="dawid-skene", store=store)
    assert weighted.resolution == "dawid-skene" and weighted.examples == 80
    right = lambda path: sum(  # noqa: E731
        json.loads(line)["label"] == truth[json.loads(line)["id"]]
        for line in path.read_text().splitlines()
    )
    assert right(tmp_path / "ds.jsonl") >= right(out)
    table = CliRunner().invoke(
        annotate_app,
        ["pull", "--out", str(out), "--project", PROJECT, "--store", str(store)],
        env={k: env[k] for k in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY", "COLUMNS")},
    )
    assert table.exit_code == 0, table.output
    assert "Annotators" in table.stdout and "random@swarmlens.test" in table.stdout


def test_push_refuses_label_studios_project_wide_overlap(
    env: dict[str, str], labelstudio: LabelStudioServer, tmp_path: Path
) -> None:
    project = "cohort project"
    pid = workflow.setup(labelstudio.client(), project)["project_id"]
    labelstudio.client().projects.update(
        id=pid, maximum_annotations=2, overlap_cohort_percentage=30
    )
    posts = write_demo_jsonl(tmp_path / "p.jsonl", n_posts=30, seed=3)
    result = swarmlens(
        ["annotate", "push", str(posts), "--n", "5", "--strategy", "random", "--overlap",
         "0.2", "--project", project], env, check=False,
    )  # fmt: skip
    assert result.returncode == 2 and "[E051]" in result.stderr
    assert not list(labelstudio.client().tasks.list(project=pid))
