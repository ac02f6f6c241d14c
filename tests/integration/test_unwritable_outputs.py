"""Real CLI processes: an output that cannot be written is a one-line E007 with
exit status 2, never a traceback; texts cut to the length limit are counted in the summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swarmlens.classifier.posts.post import MAX_TEXT_CHARS
from tests.support.processes import swarmlens

pytestmark = pytest.mark.integration

RECORDS = [
    {"id": "ok1", "text": "#ParisIsBurning fine", "created_at": "2015-11-14T10:00:00Z"},
    {"id": "long", "text": "#ParisIsBurning " + "w" * MAX_TEXT_CHARS,
     "created_at": "2015-11-14T11:00:00Z"},
    {"id": "", "text": "a reject: no id"},
]


def _inputs(root: Path) -> Path:
    root.mkdir()
    path = root / "posts.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    return path


def _refused(result: object, where: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr  # type: ignore[attr-defined]
    stderr = result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    assert "[E007]" in stderr and where in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr


@pytest.mark.parametrize("target", ["out.jsonl", "out.parquet", "outdir"])
def test_an_output_under_a_file_is_an_e007(
    tmp_path: Path, shared_env: dict[str, str], target: str
) -> None:
    posts = _inputs(tmp_path / "in")
    parent = tmp_path / "a-file"
    parent.write_text("")
    result = swarmlens(["score", str(posts), "--out", str(parent / target), "--workers", "1"],
                       shared_env, check=False)
    _refused(result, str(parent))


def test_a_rejects_file_under_a_file_is_an_e007(tmp_path: Path, shared_env: dict[str, str]) -> None:
    posts = _inputs(tmp_path / "in")
    parent = tmp_path / "a-file"
    parent.write_text("")
    result = swarmlens(["score", str(posts), "--out", str(tmp_path / "out.jsonl"),
                        "--rejects", str(parent / "rejects.jsonl")], shared_env, check=False)
    _refused(result, str(parent))


@pytest.mark.skipif(not Path("/sys").is_dir(), reason="needs /sys, which even root cannot write")
@pytest.mark.parametrize("target", ["swarmlens-test.jsonl", "swarmlens-test.parquet",
                                    "swarmlens-test-dir"])
def test_an_unwritable_directory_is_an_e007(
    tmp_path: Path, shared_env: dict[str, str], target: str
) -> None:
    out = Path("/sys") / target
    if out.exists():
        pytest.skip(f"{out} exists")
    posts = _inputs(tmp_path / "in")
    result = swarmlens(["score", str(posts), "--out", str(out), "--workers", "1"], shared_env,
                       check=False)
    _refused(result, "/sys")


@pytest.mark.parametrize("target", ["out.jsonl", "outdir"])
def test_cut_texts_are_counted_in_the_summary(
    tmp_path: Path, shared_env: dict[str, str], target: str
) -> None:
    posts = _inputs(tmp_path / "in")
    out = tmp_path / target
    result = swarmlens(["score", str(posts), "--out", str(out), "--workers", "1", "--json"],
                       shared_env)
    summary = json.loads(result.stdout)
    assert (summary["scored"], summary["rejected"], summary["truncated"]) == (2, 1, 1)
    if out.is_dir():
        assert json.loads((out / "_summary.json").read_text())["truncated"] == 1
