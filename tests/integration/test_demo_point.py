"""`swarmlens demo` makes the product's point (issue 24): on the demo's top hashtag,
classify-and-count is off the true flood share, and the (simulated) audit's estimate is
nearer, its interval covering the truth. Real processes: the CLI with the default model
(trained on the synthetic TRAINING corpus, not the demo archive it scores)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.support.processes import swarmlens


@pytest.fixture(scope="module")
def demo_run(shared_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("demo-point") / "demo-output"
    swarmlens(["demo", "--dir", str(workdir), "--top", "5"], shared_env)
    return workdir


def test_demo_shows_raw_count_audited_estimate_and_truth(
    demo_run: Path, shared_env: dict[str, str]
) -> None:
    answer = json.loads(swarmlens(["demo", "--dir", str(demo_run), "--json"], shared_env).stdout)
    figures = answer["flood_share_of_top_hashtag"]
    assert answer["synthetic"] is True
    assert figures["hashtag"] == answer["top_hashtags"][0]["hashtag"]
    flood = figures["flood_share"]
    raw, estimate, truth = flood["classify_and_count"], flood["audited_estimate"], flood["truth"]
    assert flood["truth_is_simulated"] is True
    # The model never saw the demo's confusable posts: its count is visibly off...
    assert abs(raw - truth) >= 0.05, flood
    # ...and the audit corrects it: the truth is inside the interval, the estimate nearer.
    assert flood["low"] <= truth <= flood["high"], flood
    assert abs(estimate - truth) < abs(raw - truth), flood
    assert raw == answer["top_hashtags"][0]["flood_share"] or abs(
        raw - answer["top_hashtags"][0]["flood_share"]) < 1e-3

    # The audit file carries the truth of the whole audited population, marked simulated.
    text = Path(answer["simulated_audit"]["path"]).read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == answer["simulated_audit"]["audited"] == 100
    for line in lines:
        assert line["simulated"] is True and line["truth"]["simulated"] is True
        assert line["truth"]["flood_share"] == truth
        assert line["truth"]["posts"] == figures["posts"]


def test_demo_closing_lines_say_all_three(demo_run: Path, shared_env: dict[str, str]) -> None:
    out = swarmlens(["demo", "--dir", str(demo_run)], shared_env).stdout
    tail = out[out.index("Flood share of #"):]
    assert "classify-and-count" in tail
    assert "audited estimate" in tail and "SIMULATED audit" in tail and "95% interval" in tail
    assert "truth (SYNTHETIC corpus" in tail
    assert tail.count("points from the truth") == 2


def test_no_demo_probability_is_exactly_0_or_1(demo_run: Path) -> None:
    """All 6,000 demo posts, scored by the CLI as a user's would be (float32 scores). Needs
    ``LinearStanceModel.predict_proba`` to end with ``evidence.answer``."""
    parts = sorted((demo_run / "scored").rglob("*.parquet"))
    table = pa.concat_tables(pq.read_table(p, columns=["scores"]) for p in parts).column("scores")
    assert len(table) == 6000
    for label in ("supportive", "opposing", "neutral"):
        values = table.combine_chunks().field(label).to_numpy()
        assert (values > 0).all() and (values < 1).all(), label


def test_evaluate_on_synthetic_posts_says_so(
    shared_env: dict[str, str], tmp_path: Path
) -> None:
    data = tmp_path / "synthetic.jsonl"
    swarmlens(["demo-data", "--out", str(data), "--n", "300", "--seed", "7"], shared_env)
    report = json.loads(swarmlens(["evaluate", "--data", str(data), "--json"], shared_env).stdout)
    assert report["synthetic_data"] == {"posts": 300, "share": 1.0}
    assert report["model_synthetic"] is True
    assert any("SYNTHETIC generator" in note for note in report["notes"])
    shown = swarmlens(["evaluate", "--data", str(data)], shared_env)
    assert "on 300 SYNTHETIC posts" in shown.stdout
    assert "say nothing about real posts" in shown.stderr
