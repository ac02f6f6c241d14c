"""The ``swarmlens`` command as a user runs it: real processes, real files, a temp registry."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from swarmlens.classifier.demo.generator import to_telegram_export, to_twitter_v1, write_demo_jsonl
from tests.support.processes import swarmlens as run

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("cli")
    env = {**os.environ, "SWARMLENS_MODELS_DIR": str(root / "models"), "COLUMNS": "200"}
    write_demo_jsonl(root / "train.jsonl", n_posts=1500, seed=7)
    write_demo_jsonl(root / "test.jsonl.gz", n_posts=400, seed=8)
    return root, env


def test_score_builds_default_model_and_says_so(workspace: tuple[Path, dict[str, str]]) -> None:
    root, env = workspace
    archive = root / "archive.jsonl.gz"
    lines = gzip.decompress((root / "test.jsonl.gz").read_bytes()).decode().splitlines()
    lines.insert(5, "{broken")
    archive.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    result = run(["score", str(archive), "--out", str(root / "out.jsonl"), "--json"], env)
    assert "building the default model" in result.stderr
    summary = json.loads(result.stdout)
    assert (summary["read"], summary["scored"], summary["rejected"]) == (401, 400, 1)
    records = [json.loads(x) for x in (root / "out.jsonl").read_text().splitlines()]
    assert len(records) == 400
    first = records[0]
    assert set(first) >= {
        "post_id",
        "label",
        "scores",
        "model_version",
        "lang",
        "hashtags",
        "created_at",
    }
    assert set(first["scores"]) == {"supportive", "opposing", "neutral"}
    assert abs(sum(first["scores"].values()) - 1) < 1e-3
    assert first["label"] == max(first["scores"], key=first["scores"].get)
    assert first["created_at"].endswith("Z") and first["model_version"].startswith("default-")
    rejects = [json.loads(x) for x in (root / "out.rejects.jsonl").read_text().splitlines()]
    assert rejects == [
        {"source": str(archive), "line": 6, "reason": rejects[0]["reason"], "raw": "{broken"}
    ]
    again = run(["score", str(archive), "--out", str(root / "out2.jsonl")], env)
    assert "building the default model" not in again.stderr


def test_score_parquet_and_directory(workspace: tuple[Path, dict[str, str]]) -> None:
    root, env = workspace
    run(["score", str(root / "test.jsonl.gz"), "--out", str(root / "out.parquet")], env)
    table = pq.read_table(root / "out.parquet")
    assert table.num_rows == 400
    assert table.schema.field("scores").type.num_fields == 3
    run(["score", str(root / "test.jsonl.gz"), "--out", str(root / "outdir")], env)
    parts = sorted((root / "outdir").glob("day=*/part-*.parquet"))
    assert pq.read_table(parts).num_rows == 400
    assert json.loads((root / "outdir" / "_summary.json").read_text())["scored"] == 400
    assert not list((root / "outdir").glob(".*tmp"))


def test_score_twitter_and_telegram_shapes(workspace: tuple[Path, dict[str, str]]) -> None:
    root, env = workspace
    from swarmlens.classifier.demo.generator import generate_demo

    records = list(generate_demo(60, seed=3))
    (root / "v1.jsonl").write_text("\n".join(json.dumps(to_twitter_v1(r)) for r in records))
    (root / "result.json").write_text(json.dumps(to_telegram_export(records), ensure_ascii=False))
    result = run(
        [
            "score",
            str(root / "v1.jsonl"),
            str(root / "result.json"),
            "--out",
            str(root / "mixed.jsonl"),
            "--json",
        ],
        env,
    )
    summary = json.loads(result.stdout)
    assert summary["scored"] == 120 and summary["rejected"] == 0


def test_train_evaluate_models(workspace: tuple[Path, dict[str, str]]) -> None:
    root, env = workspace
    artifact = root / "mine.joblib"
    result = run(
        [
            "train",
            "--data",
            str(root / "train.jsonl"),
            "--out",
            str(artifact),
            "--cv",
            "3",
            "--json",
        ],
        env,
    )
    report = json.loads(result.stdout)
    assert report["n_train"] == 1500 and report["cv"]["cv"]["split"] == "group"
    assert report["cv"]["macro_f1"] > 0.8
    assert artifact.exists() and Path(str(artifact) + ".sha256.json").exists()
    evaluation = json.loads(
        run(
            ["evaluate", "--model", str(artifact), "--data", str(root / "test.jsonl.gz"), "--json"],
            env,
        ).stdout
    )
    assert evaluation["n"] == 400 and evaluation["macro_f1"] > 0.8
    assert set(evaluation["per_class"]) == {"supportive", "opposing", "neutral"}
    assert "ar" in evaluation["per_language"]
    assert len(evaluation["confusion"]["matrix"]) == 3
    assert 0 <= evaluation["calibration_error"] <= 1
    table = run(["evaluate", "--model", str(artifact), "--data", str(root / "test.jsonl.gz")], env)
    assert "macro-F1" in table.stdout and "Per language" in table.stdout
    registered = json.loads(
        run(
            [
                "train",
                "--data",
                str(root / "train.jsonl"),
                "--out",
                str(root / "reg.joblib"),
                "--cv",
                "0",
                "--register",
                "--json",
            ],
            env,
        ).stdout
    )
    listing = json.loads(run(["models", "--json"], env).stdout)
    assert listing["current"] == registered["model_version"]
    assert registered["model_version"] in {m["id"] for m in listing["models"]}
    scored = json.loads(
        run(
            [
                "score",
                str(root / "test.jsonl.gz"),
                "--out",
                str(root / "o3.jsonl"),
                "--model",
                registered["model_version"],
                "--json",
            ],
            env,
        ).stdout
    )
    assert scored["model_version"] == registered["model_version"]


def test_clear_errors(workspace: tuple[Path, dict[str, str]]) -> None:
    root, env = workspace
    bad = root / "bad.jsonl"
    bad.write_text(
        '{"id": "1", "text": "x", "label": "neutral"}\n'
        '{"id": "2", "text": "y", "label": "pro-IS"}\n'
    )
    result = run(["train", "--data", str(bad), "--out", str(root / "x.joblib")], env, check=False)
    assert result.returncode == 2
    assert "line 2" in result.stderr and "unknown label 'pro-IS'" in result.stderr
    one = root / "one.jsonl"
    one.write_text('{"id": "1", "text": "x", "label": "neutral"}\n')
    result = run(["train", "--data", str(one), "--out", str(root / "x.joblib")], env, check=False)
    assert result.returncode == 2 and "only the label 'neutral'" in result.stderr
    tampered = root / "t.joblib"
    run(["train", "--data", str(root / "train.jsonl"), "--out", str(tampered), "--cv", "0"], env)
    tampered.write_bytes(tampered.read_bytes() + b"x")
    result = run(
        [
            "score",
            str(root / "test.jsonl.gz"),
            "--out",
            str(root / "t.jsonl"),
            "--model",
            str(tampered),
        ],
        env,
        check=False,
    )
    assert result.returncode == 2 and "SHA-256" in result.stderr
    empty = root / "empty"
    empty.mkdir()
    result = run(["score", str(empty), "--out", str(root / "e.jsonl")], env, check=False)
    assert result.returncode == 2 and "holds no input file" in result.stderr


def test_an_invalid_setting_is_a_clear_error(workspace: tuple[Path, dict[str, str]]) -> None:
    _, env = workspace
    result = run(["models", "--json"], {**env, "SWARMLENS_LS_RETRY_SECONDS": "-1"}, check=False)
    assert result.returncode == 2
    assert "[E001] invalid setting: SWARMLENS_LS_RETRY_SECONDS" in result.stderr
    assert "Traceback" not in result.stderr
