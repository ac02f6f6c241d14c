"""``swarmlens estimate`` as a real process on the scored demo corpus."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from swarmlens.classifier.analytics import datasets, queries
from swarmlens.classifier.analytics.simulated_audit import demo_labels, write_simulated_audit
from swarmlens.classifier.vocab import LABELS
from tests.support.processes import swarmlens

pytestmark = pytest.mark.integration
TAG = "ParisIsBurning"


@pytest.fixture(scope="module")
def audit(demo_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("audit") / "audit.jsonl"
    write_simulated_audit(demo_dataset.parent / "demo.jsonl.gz", demo_dataset, TAG, path, n=100)
    return path


def test_estimate_json_covers_the_demo_truth(
    shared_env: dict[str, str], demo_dataset: Path, audit: Path
) -> None:
    report = json.loads(
        swarmlens(
            [
                "estimate",
                str(demo_dataset),
                "--hashtag",
                f"#{TAG}",
                "--audit",
                str(audit),
                "--json",
            ],
            shared_env,
        ).stdout
    )
    population = queries.hashtag_posts(datasets.parquet_source([demo_dataset]), TAG)
    labels = demo_labels(demo_dataset.parent / "demo.jsonl.gz")  # once, not once per post
    truth = Counter(labels[i] for i in population["post_id"])
    assert set(report) == {
        "hashtag",
        "start",
        "end",
        "posts",
        "audited",
        "model_version",
        "labels",
        "flood_share",
        "simulated",
    }
    assert report["simulated"] is True  # the demo's labels, not annotators'
    assert (report["hashtag"], report["posts"], report["audited"]) == (
        "parisisburning",
        len(population["post_id"]),
        100,
    )
    assert report["model_version"].startswith("default-")
    for label in LABELS:
        row = report["labels"][label]
        assert row["count"] == population["label"].count(label)
        assert row["share"] == pytest.approx(row["count"] / report["posts"], abs=1e-4)
        assert row["low"] <= truth[label] / report["posts"] <= row["high"]
    flood = report["flood_share"]
    true_flood = truth["opposing"] / (truth["opposing"] + truth["supportive"])
    assert flood["low"] <= true_flood <= flood["high"]
    assert flood["low"] <= flood["estimate"] <= flood["high"]

    table = swarmlens(
        ["estimate", str(demo_dataset), "--hashtag", TAG, "--audit", str(audit)], shared_env
    ).stdout
    assert "classify-and-count" in table and "audited estimate" in table
    assert f"audited: 100 of {report['posts']:,}" in table


def test_a_stray_audited_post_is_a_clear_error(
    shared_env: dict[str, str], demo_dataset: Path, audit: Path
) -> None:
    # A window holding only part of the audited posts: the first one outside is named.
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    population = queries.hashtag_posts(datasets.parquet_source([demo_dataset]), TAG)
    when = dict(zip(population["post_id"], population["t"], strict=True))
    ordered = sorted(records, key=lambda r: when[r["id"]])
    cut = when[ordered[len(ordered) // 2]["id"]]
    stray = next(r["id"] for r in records if when[r["id"]] < cut)
    result = swarmlens(
        [
            "estimate",
            str(demo_dataset),
            "--hashtag",
            TAG,
            "--audit",
            str(audit),
            "--start",
            cut,
            "--json",
        ],
        shared_env,
        check=False,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert "[E020]" in result.stderr and repr(stray) in result.stderr
    other = swarmlens(
        ["estimate", str(demo_dataset), "--hashtag", "paris", "--audit", str(audit)],
        shared_env,
        check=False,
    )
    assert other.returncode == 2 and "[E020]" in other.stderr and "#paris" in other.stderr


@pytest.mark.parametrize("stratify", ["lang", "label"])
def test_an_active_stratified_audit_written_to_a_file_is_weighted(
    shared_env: dict[str, str], demo_dataset: Path, tmp_path: Path, stratify: str
) -> None:
    sample = tmp_path / "sample.jsonl"
    archive = demo_dataset.parent / "demo.jsonl.gz"
    swarmlens(
        [
            "annotate",
            "push",
            str(archive),
            "--strategy",
            "audit",
            "--design",
            "active",
            "--stratify",
            stratify,
            "--dataset",
            str(demo_dataset),
            "--hashtag",
            TAG,
            "--n",
            "120",
            "--out",
            str(sample),
        ],
        shared_env,
    )
    records = [json.loads(line) for line in sample.read_text().splitlines()]
    assert len(records) == 120 and all(r["label"] is None and r["text"] for r in records)
    assert all(0 < r["probability"] <= 1 and r["stratum"] for r in records)
    assert len({r["probability"] for r in records}) > 1
    population = queries.hashtag_posts(datasets.parquet_source([demo_dataset]), TAG)
    if stratify == "label":  # the stratum is the label the model gave the post
        predicted = dict(zip(population["post_id"], population["label"], strict=True))
        assert all(r["stratum"] == predicted[r["id"]] for r in records)
        assert len({r["stratum"] for r in records}) == len(LABELS)
    truth = demo_labels(archive)
    sample.write_text("".join(json.dumps({**r, "label": truth[r["id"]]}) + "\n" for r in records))
    report = json.loads(
        swarmlens(
            ["estimate", str(demo_dataset), "--hashtag", TAG, "--audit", str(sample), "--json"],
            shared_env,
        ).stdout
    )
    shares = Counter(truth[i] for i in population["post_id"])
    assert report["audited"] == 120
    for label in LABELS:
        row = report["labels"][label]
        assert row["low"] <= shares[label] / report["posts"] <= row["high"]
