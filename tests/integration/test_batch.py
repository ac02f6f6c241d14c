"""Archive-scale scoring: accounting, resume after SIGKILL, Dask LocalCluster, volumes."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from swarmlens.classifier.analytics import datasets, queries
from swarmlens.classifier.demo.generator import write_demo_jsonl
from tests.support.processes import swarmlens

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def env(shared_env: dict[str, str]) -> dict[str, str]:
    return shared_env


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("batch-in") / "archive.jsonl.gz"
    write_demo_jsonl(path, n_posts=12_000, seed=11)
    return path


def dataset_rows(directory: Path) -> list[tuple]:
    table = pq.read_table(sorted(directory.glob("day=*/part-*.parquet")))
    rows = table.to_pylist()
    return sorted(
        (
            r["post_id"],
            r["label"],
            tuple(r["scores"].values()),
            r["created_at"],
            tuple(r["hashtags"]),
        )
        for r in rows
    )


def test_bad_input_accounting(tmp_path: Path, env: dict[str, str], archive: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    good = [
        json.dumps(
            {
                "id": f"g{i}",
                "text": f"#ParisIsBurning post {i}",
                "created_at": "2015-11-14T10:00:00Z",
            }
        )
        for i in range(300)
    ]
    bad = ["{not json", "[1, 2]", json.dumps({"id": "x1"}), json.dumps({"text": "no id"})]
    (inputs / "a.jsonl").write_text("\n".join(good[:150] + bad + good[150:]) + "\n")
    # The same posts again (an overlapping archive): scored once, counted as duplicates.
    (inputs / "b.jsonl").write_text("\n".join(good[:100]) + "\n")
    payload = gzip.compress(("\n".join(good) + "\n").replace("g", "z").encode())
    (inputs / "c.jsonl.gz").write_bytes(payload[: len(payload) // 2])
    (inputs / "d.csv").write_text("tweet_id,body\n1,hello\n2,world\n")
    (inputs / "e.parquet").write_bytes(b"not parquet at all")
    out = tmp_path / "out"
    result = swarmlens(
        [
            "score",
            str(inputs),
            "--out",
            str(out),
            "--workers",
            "2",
            "--chunk-records",
            "64",
            "--json",
        ],
        env,
    )
    summary = json.loads(result.stdout)
    assert summary["read"] == summary["scored"] + summary["rejected"] + summary["duplicates"]
    assert summary["duplicates"] == 100
    scored_z = summary["scored"] - 300
    assert 0 < scored_z < 300  # rows before the gzip damage were kept
    # 4 bad lines + 1 truncation + 2 CSV rows + 1 unreadable Parquet file
    assert summary["rejected"] == 8
    rejects = [json.loads(x) for x in (out / "rejects.jsonl").read_text().splitlines()]
    assert len(rejects) == 8
    assert {r["reason"].split(" ")[0] for r in rejects} >= {
        "not",
        "expected",
        "missing",
        "truncated",
        "CSV",
        "file",
    }
    assert {(r["source"].rsplit("/", 1)[1], r["line"]) for r in rejects} >= {
        ("a.jsonl", 151),
        ("a.jsonl", 152),
        ("a.jsonl", 153),
        ("a.jsonl", 154),
    }
    table = pq.read_table(sorted(out.glob("day=*/part-*.parquet")))
    assert table.num_rows == summary["scored"]
    assert len(set(table.column("post_id").to_pylist())) == table.num_rows
    assert {
        "post_id",
        "label",
        "scores",
        "model_version",
        "lang",
        "hashtags",
        "domains",
        "created_at",
        "platform",
        "author",
        "retweet_of",
    } <= set(table.column_names)
    assert [s["bytes"] for s in summary["inputs"]] and all(
        len(s["sha256"]) == 64 for s in summary["inputs"] if s["bytes"]
    )


def test_empty_directory_is_a_clear_error(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "empty").mkdir()
    result = swarmlens(
        ["score", str(tmp_path / "empty"), "--out", str(tmp_path / "o")], env, check=False
    )
    assert result.returncode == 2 and "holds no input file" in result.stderr


def test_resume_after_sigkill_gives_identical_dataset(
    tmp_path: Path, env: dict[str, str], archive: Path
) -> None:
    reference = tmp_path / "reference"
    args = ["--chunk-records", "1500", "--workers", "2"]
    swarmlens(["score", str(archive), "--out", str(reference), *args], env)
    out = tmp_path / "killed"
    kills = 0
    for delay in (0.5, 1.5, 3.0):
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "swarmlens.classifier.cli",
                "score",
                str(archive),
                "--out",
                str(out),
                *args,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        # Kill once some (not all) chunks are done, or after `delay` if it is quicker.
        while time.monotonic() < deadline and process.poll() is None:
            markers = list((out / "_chunks").glob("*.json")) if out.exists() else []
            if markers and time.monotonic() - deadline + 120 > delay:
                break
            time.sleep(0.05)
        if process.poll() is None:
            # On a loaded machine the kill can land after the summary was written, while
            # the process is still exiting: that one interrupted nothing.
            interrupted = not (out / "_summary.json").exists()
            os.killpg(process.pid, signal.SIGKILL)
            kills += interrupted
        process.wait()
    assert kills >= 1  # at least one run was killed half-way
    swarmlens(["score", str(archive), "--out", str(out), *args], env)
    assert dataset_rows(out) == dataset_rows(reference)
    assert not list(out.rglob(".*.tmp"))
    summary = json.loads((out / "_summary.json").read_text())
    assert summary["read"] == summary["scored"] == 12_000
    again = swarmlens(["score", str(archive), "--out", str(out), *args], env)
    assert "Nothing to do" in again.stderr


def test_other_job_in_the_same_directory_is_refused(
    tmp_path: Path, env: dict[str, str], archive: Path
) -> None:
    out = tmp_path / "o"
    swarmlens(["score", str(archive), "--out", str(out), "--workers", "1"], env)
    other = tmp_path / "other.jsonl"
    write_demo_jsonl(other, n_posts=50, seed=1)
    result = swarmlens(["score", str(other), "--out", str(out)], env, check=False)
    assert result.returncode == 2 and "another job" in result.stderr


def test_dask_local_cluster_matches_processes(
    tmp_path: Path, env: dict[str, str], archive: Path
) -> None:
    local = tmp_path / "processes"
    dask = tmp_path / "dask"
    swarmlens(
        ["score", str(archive), "--out", str(local), "--workers", "2", "--chunk-records", "4000"],
        env,
    )
    result = swarmlens(
        [
            "score",
            str(archive),
            "--out",
            str(dask),
            "--workers",
            "2",
            "--scheduler",
            "local",
            "--chunk-records",
            "4000",
            "--json",
        ],
        env,
    )
    assert json.loads(result.stdout)["scheduler"] == "local"
    assert dataset_rows(dask) == dataset_rows(local)


def test_volumes_match_independent_counts(
    tmp_path: Path, env: dict[str, str], archive: Path
) -> None:
    out = tmp_path / "scored"
    swarmlens(["score", str(archive), "--out", str(out), "--workers", "2"], env)
    rows = pq.read_table(sorted(out.glob("day=*/part-*.parquet"))).to_pylist()
    expected: Counter = Counter()
    for row in rows:
        if "parisisburning" in row["hashtags"] and row["created_at"] is not None:
            bucket = row["created_at"].strftime("%Y-%m-%dT%H:00:00Z")
            expected[(bucket, row["label"])] += 1
    result = swarmlens(["volumes", str(out), "--hashtag", "#Paris_Is_Burning", "--json"], env)
    series = json.loads(result.stdout)["series"]
    assert json.loads(result.stdout)["hashtag"] == "parisisburning"
    got = Counter(
        {
            (p["t"], label): p[label]
            for p in series
            for label in ("supportive", "opposing", "neutral")
            if p[label]
        }
    )
    assert got == expected
    assert sum(p["total"] for p in series) == sum(expected.values())
    assert any(p["total"] == 0 for p in series)  # empty hours are present
    supportive = queries.volume_series(
        queries.post_counts(datasets.parquet_source([out])),
        "parisisburning",
        interval="day",
        labels=["supportive"],
    )
    assert set(supportive["series"][0]) == {"t", "supportive", "total"}
    table = swarmlens(
        ["volumes", str(out), "--hashtag", "parisisburning", "--interval", "day"], env
    )
    assert "supportive" in table.stdout and "2015-11-14" in table.stdout
    _ = pa  # pyarrow imported for dataset_rows' types
