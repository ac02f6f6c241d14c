"""The annotation loop against a real Label Studio (started by the test set-up)."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from swarmlens.annotation import workflow
from swarmlens.annotation.project import choice_result
from swarmlens.annotation.tasks import connect
from swarmlens.classifier.demo.generator import write_demo_jsonl
from tests.support.labelstudio import LabelStudioServer
from tests.support.processes import LiveServer, swarmlens

pytestmark = pytest.mark.integration
PROJECT = "paris-2015 stance"
LABELS = ("supportive", "opposing", "neutral")


@pytest.fixture(scope="module")
def env(
    shared_env: dict[str, str],
    labelstudio: LabelStudioServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, str]:
    # retrain registers new current models: work on a copy of the shared registry so the
    # other modules' servers keep serving the default model.
    models = tmp_path_factory.mktemp("annotation-models") / "models"
    shutil.copytree(shared_env["SWARMLENS_MODELS_DIR"], models)
    return {
        **shared_env,
        "SWARMLENS_MODELS_DIR": str(models),
        "LABEL_STUDIO_URL": labelstudio.url,
        "LABEL_STUDIO_API_KEY": labelstudio.token,
        "SWARMLENS_LS_RETRY_SECONDS": "120",
    }


@pytest.fixture(scope="module")
def posts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo_jsonl(tmp_path_factory.mktemp("ann") / "posts.jsonl", n_posts=400, seed=5)


def tasks_of(ls, pid: int) -> list:
    return list(ls.tasks.list(project=pid, page_size=500, fields="all"))


def hand_alpha(units: list[list[str]]) -> float:
    """Krippendorff's alpha (nominal) from the coincidence matrix, written out."""
    pairable = [u for u in units if len(u) >= 2]
    coincidence: Counter = Counter()
    for unit in pairable:
        for i, j in ((i, j) for i in range(len(unit)) for j in range(len(unit)) if i != j):
            coincidence[(unit[i], unit[j])] += 1 / (len(unit) - 1)
    n = sum(coincidence.values())
    totals = Counter()
    for (c, _), value in coincidence.items():
        totals[c] += value
    observed = sum(v for (c, k), v in coincidence.items() if c != k) / n
    expected = sum(totals[c] * totals[k] for c in totals for k in totals if c != k) / (n * (n - 1))
    return 1 - observed / expected


def hand_kappa(a: list[str], b: list[str]) -> float:
    p_o = sum(x == y for x, y in zip(a, b, strict=True)) / len(a)
    p_e = sum((a.count(c) / len(a)) * (b.count(c) / len(b)) for c in LABELS)
    return (p_o - p_e) / (1 - p_e)


def test_setup_is_idempotent(env: dict[str, str]) -> None:
    first = json.loads(swarmlens(["annotate", "setup", "--project", PROJECT, "--json"], env).stdout)
    assert first["created"] is True
    again = json.loads(swarmlens(["annotate", "setup", "--project", PROJECT, "--json"], env).stdout)
    assert (again["created"], again["changed"]) == (False, [])
    ls = connect(env["LABEL_STUDIO_URL"], env["LABEL_STUDIO_API_KEY"])
    project = ls.projects.get(id=first["project_id"])
    assert (
        "flooding" in project.expert_instruction
        and "unicode-bidi:plaintext" in project.label_config
    )


def test_the_whole_loop(
    env: dict[str, str], posts: Path, labelstudio: LabelStudioServer, tmp_path: Path
) -> None:
    ls = labelstudio.client()
    pushed = json.loads(
        swarmlens(
            [
                "annotate",
                "push",
                str(posts),
                "--n",
                "20",
                "--strategy",
                "uncertainty",
                "--project",
                PROJECT,
                "--json",
            ],
            env,
        ).stdout
    )
    assert pushed["imported"] == 20
    pid = pushed["project_id"]
    again = json.loads(
        swarmlens(
            [
                "annotate",
                "push",
                str(posts),
                "--n",
                "10",
                "--strategy",
                "diversity",
                "--project",
                PROJECT,
                "--json",
            ],
            env,
        ).stdout
    )
    assert again["imported"] == 10 and again["already_in_project"] == 20
    tasks = sorted(tasks_of(ls, pid), key=lambda t: t.id)
    ids = [t.data["post_id"] for t in tasks]
    assert len(ids) == 30 == len(set(ids))
    first_version = pushed["model_version"]
    for task in tasks:
        assert set(task.data) >= {"text", "post_id", "posted_at", "lang", "hashtags", "platform"}
    predictions = list(ls.predictions.list(task=tasks[0].id))
    assert predictions[0].model_version == first_version and 0 < predictions[0].score <= 1
    assert ls.projects.get(id=pid).model_version == first_version

    # Two annotators on overlapping tasks: admin labels 0-17, bob 10-25.
    _, bob_token = labelstudio.create_user("bob@swarmlens.test", "bob-password-123")
    bob = labelstudio.client(bob_token)
    admin_votes, bob_votes = {}, {}
    for i, task in enumerate(tasks[:18]):
        admin_votes[i] = LABELS[i % 3]
        ls.annotations.create(id=task.id, result=choice_result(admin_votes[i]))
    for i, task in enumerate(tasks[10:26], start=10):
        bob_votes[i] = LABELS[i % 3] if i % 4 else LABELS[(i + 1) % 3]
        bob.annotations.create(id=task.id, result=choice_result(bob_votes[i]))

    out = tmp_path / "labels.jsonl"
    pulled = json.loads(
        swarmlens(
            ["annotate", "pull", "--out", str(out), "--project", PROJECT, "--json"], env
        ).stdout
    )
    shared = sorted(set(admin_votes) & set(bob_votes))
    ties = [i for i in shared if admin_votes[i] != bob_votes[i]]
    assert pulled["examples"] == 26 - len(ties) and pulled["review"] == len(ties) > 0
    figures = pulled["agreement"]
    units = [[v for v in (admin_votes.get(i), bob_votes.get(i)) if v] for i in range(26)]
    assert figures["alpha"] == pytest.approx(hand_alpha(units))
    assert figures["kappa_pairs"][0]["kappa"] == pytest.approx(
        hand_kappa([admin_votes[i] for i in shared], [bob_votes[i] for i in shared])
    )
    assert figures["kappa_pairs"][0]["shared_tasks"] == len(shared)
    assert figures["tasks_by_annotations"] == {
        "0": 0,
        "1": 26 - len(shared),
        "2": len(shared),
        "3+": 0,
    }
    meta = json.loads(out.with_name(out.name + ".meta.json").read_text())
    assert meta["examples"] == pulled["examples"] and len(meta["fingerprint"]) == 64
    assert len(out.read_text().splitlines()) == pulled["examples"]
    table = swarmlens(["annotate", "pull", "--out", str(out), "--project", PROJECT], env)
    assert "Krippendorff" in table.stdout and "Cohen's kappa" in table.stdout

    # The training file trains a model as is.
    trained = json.loads(
        swarmlens(
            [
                "train",
                "--data",
                str(out),
                "--out",
                str(tmp_path / "m.joblib"),
                "--cv",
                "0",
                "--json",
            ],
            env,
        ).stdout
    )
    assert trained["n_train"] == pulled["examples"]

    extra = write_demo_jsonl(tmp_path / "extra.jsonl", n_posts=300, seed=9)
    result = json.loads(
        swarmlens(
            [
                "annotate",
                "retrain",
                "--out",
                str(tmp_path / "r.jsonl"),
                "--data",
                str(extra),
                "--project",
                PROJECT,
                "--json",
            ],
            env,
        ).stdout
    )
    new_version = result["model_version"]
    assert new_version != first_version and new_version.startswith("annotated-")
    assert result["predictions_pushed"] == 4  # tasks 26-29 have no annotation
    listing = json.loads(swarmlens(["models", "--json"], env).stdout)
    assert listing["current"] == new_version
    open_task = tasks[29]
    versions = {p.model_version for p in ls.predictions.list(task=open_task.id)}
    assert versions == {first_version, new_version}
    assert ls.projects.get(id=pid).model_version == new_version
    status = json.loads(
        swarmlens(["annotate", "status", "--project", PROJECT, "--json"], env).stdout
    )
    assert (status["tasks"], status["annotated"], status["pending"]) == (30, 26, 4)
    assert status["model_version"] == new_version


def test_push_survives_an_outage_without_duplicates(
    env: dict[str, str],
    posts: Path,
    labelstudio: LabelStudioServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from swarmlens.classifier.model.training import ensure_model

    for key in ("SWARMLENS_MODELS_DIR", "SWARMLENS_LS_RETRY_SECONDS"):
        monkeypatch.setenv(key, env[key])
    model, entry = ensure_model(None)
    ls = labelstudio.client()
    workflow.setup(ls, "outage project")
    outage = labelstudio.outage_in_background(4, mode="down")
    report = workflow.push(ls, "outage project", [posts], 15, "random", model, entry.id, seed=3)
    outage.join(120)
    again = workflow.push(ls, "outage project", [posts], 5, "random", model, entry.id, seed=4)
    ids = [t.data["post_id"] for t in tasks_of(ls, report.project_id)]
    assert report.imported == 15 and again.imported == 5
    assert len(ids) == 20 == len(set(ids))


def test_label_studio_uses_our_ml_backend_and_webhook(
    env: dict[str, str], labelstudio: LabelStudioServer, tmp_path: Path
) -> None:
    server = LiveServer({**env, "SWARMLENS_RETRAIN_MIN_LABELS": "3"}, tmp_path / "api")
    try:
        ls = labelstudio.client()
        pid = workflow.setup(ls, "ml backend project")["project_id"]
        served = httpx.get(f"{server.url}/v1/models/current").json()["model_version"]
        ls.ml.create(url=f"{server.url}/labelstudio", project=pid, title="swarmlens")
        created = ls.projects.import_tasks(
            id=pid,
            return_task_ids=True,
            request=[
                {"data": {"text": t, "post_id": f"ml-{i}", "lang": "en"}}
                for i, t in enumerate(
                    [
                        "the State of the Caliphate hits France",
                        "Not in my name #ParisIsBurning",
                        "Police cordon in the 10th arrondissement",
                        "Solidarity with Paris #JeSuisParis",
                    ]
                )
            ],
        )
        task_ids = created.task_ids
        ls.actions.create(
            id="retrieve_tasks_predictions",
            project=pid,
            selected_items={"all": False, "included": task_ids},
        )
        predicted = list(ls.predictions.list(task=task_ids[0]))
        assert predicted and predicted[0].model_version == served
        ours = httpx.post(
            f"{server.url}/v1/classify",
            json={"posts": [{"id": "x", "text": "the State of the Caliphate hits France"}]},
        ).json()
        assert predicted[0].result[0]["value"]["choices"] == [ours["results"][0]["label"]]
        assert predicted[0].score == pytest.approx(
            max(ours["results"][0]["scores"].values()), abs=1e-5
        )
        for task_id, label in zip(task_ids, ("supportive", "opposing", "neutral"), strict=False):
            ls.annotations.create(id=task_id, result=choice_result(label))
        deadline = time.monotonic() + 300
        status = {}
        while time.monotonic() < deadline:
            status = httpx.get(f"{server.url}/labelstudio/status").json()
            if status["last_result"] or status["last_error"]:
                break
            time.sleep(1)
        assert status["last_error"] is None, status
        assert status["last_result"]["model_version"].startswith("annotated-")
        current = httpx.get(f"{server.url}/v1/models/current").json()["model_version"]
        assert current == status["last_result"]["model_version"] != served
    finally:
        server.stop()
        _ = os


def test_audit_push_and_pull(
    env: dict[str, str], labelstudio: LabelStudioServer, demo_dataset: Path, tmp_path: Path
) -> None:
    """An audit: a seeded uniform sample of one hashtag's window, no pre-annotation, its
    own file on pull, kept out of training, and usable by `swarmlens estimate`."""
    from swarmlens.classifier.analytics import datasets, queries
    from swarmlens.classifier.posts.post import parse_time

    project, tag, start, end = "audit project", "ParisIsBurning", "2015-11-13", "2015-11-16"
    swarmlens(["annotate", "setup", "--project", project], env)
    args = [
        "annotate", "push", "--strategy", "audit", "--dataset", str(demo_dataset),
        "--hashtag", tag, "--start", start, "--end", end, "--n", "12", "--seed", "3",
        "--project", project, "--json",
    ]  # fmt: skip
    pushed = json.loads(swarmlens(args, env).stdout)
    population = queries.hashtag_posts(
        datasets.parquet_source([demo_dataset]), tag, parse_time(start), parse_time(end)
    )
    assert (pushed["imported"], pushed["population"], pushed["seed"]) == (
        12, len(population["post_id"]), 3
    )  # fmt: skip
    again = json.loads(swarmlens(args, env).stdout)
    assert (again["imported"], again["already_in_audit"], again["audit_id"]) == (
        0, 12, pushed["audit_id"]
    )  # fmt: skip
    ls = labelstudio.client()
    pid = pushed["project_id"]
    tasks = tasks_of(ls, pid)
    assert len(tasks) == 12
    for task in tasks:
        assert task.data["audit"] == pushed["audit_id"]
        assert task.data["post_id"] in population["post_id"]
        assert (task.data["audit_seed"], task.data["audit_population"]) == (3, pushed["population"])
        assert task.data["text"] and not list(ls.predictions.list(task=task.id))
    # The same post also as a training task: it stays out of training unless asked.
    overlap = tasks[0].data["post_id"]
    plain = ls.projects.import_tasks(
        id=pid,
        return_task_ids=True,
        request=[
            {"data": {"text": "a training copy", "post_id": overlap}},
            {"data": {"text": "another training post", "post_id": "train-only-1"}},
        ],
    ).task_ids
    for i, task in enumerate(tasks):
        ls.annotations.create(id=task.id, result=choice_result(LABELS[i % 3]))
    for task_id in plain:
        ls.annotations.create(id=task_id, result=choice_result("neutral"))

    out = tmp_path / "train.jsonl"
    pulled = json.loads(
        swarmlens(["annotate", "pull", "--out", str(out), "--project", project, "--json"], env)
        .stdout
    )
    audit_file = Path(pulled["audit_file"])
    assert audit_file == tmp_path / "train.audit.jsonl" and pulled["audited"] == 12
    records = [json.loads(line) for line in audit_file.read_text().splitlines()]
    assert {r["id"] for r in records} == {t.data["post_id"] for t in tasks}
    assert all(r["audit"] == pushed["audit_id"] and r["label"] in LABELS for r in records)
    training = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert training == ["train-only-1"]
    swarmlens(
        ["annotate", "pull", "--out", str(out), "--project", project, "--include-audits"], env
    )
    assert overlap in out.read_text()

    report = json.loads(
        swarmlens(
            ["estimate", str(demo_dataset), "--hashtag", tag, "--audit", str(audit_file),
             "--start", start, "--end", end, "--json"],
            env,
        ).stdout
    )  # fmt: skip
    assert (report["audited"], report["posts"]) == (12, pushed["population"])
