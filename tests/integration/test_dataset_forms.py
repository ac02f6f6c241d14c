"""``volumes``, ``estimate`` and ``network`` read every output form of ``score`` (a
``.jsonl`` file, a ``.parquet`` file, a directory), as real processes, with the same
answers; anything else is a one-line E001 error with exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swarmlens.classifier.analytics.simulated_audit import write_simulated_audit
from swarmlens.classifier.demo.generator import write_demo_jsonl
from tests.support.processes import swarmlens

pytestmark = pytest.mark.integration
TAG = "#ParisIsBurning"
FORMS = ("scored.jsonl", "scored.parquet", "scored")


@pytest.fixture(scope="module")
def outputs(shared_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small demo archive scored into each form, and an audit of TAG."""
    root = tmp_path_factory.mktemp("forms")
    archive = write_demo_jsonl(root / "demo.jsonl.gz", n_posts=3000)
    for form in FORMS:
        swarmlens(["score", str(archive), "--out", str(root / form), "--workers", "1"],
                  shared_env)
    write_simulated_audit(archive, root / "scored", TAG, root / "audit.jsonl", n=80)
    return root


@pytest.mark.parametrize(
    "command",
    [
        ["volumes", "--hashtag", TAG, "--interval", "day", "--json"],
        ["volumes", "--hashtag", TAG, "--label", "supportive", "--min-score", "0.5", "--json"],
        ["estimate", "--hashtag", TAG, "--audit", "AUDIT", "--json"],
        ["network", "--hashtag", TAG, "--json"],
    ],
    ids=["volumes", "volumes-min-score", "estimate", "network"],
)
def test_every_output_form_gives_the_same_answer(
    shared_env: dict[str, str], outputs: Path, command: list[str]
) -> None:
    args = [str(outputs / "audit.jsonl") if a == "AUDIT" else a for a in command]
    answers = [
        json.loads(swarmlens([args[0], str(outputs / form), *args[1:]], shared_env).stdout)
        for form in FORMS
    ]
    assert answers[0] == answers[1] == answers[2]
    if args[0] == "volumes":
        assert answers[0]["series"]
    else:
        assert answers[0]["posts"] > 0


def test_forms_mix_in_one_command(shared_env: dict[str, str], outputs: Path) -> None:
    # the same posts named twice (JSON lines and Parquet) count twice, as two datasets do
    one = json.loads(swarmlens(["volumes", str(outputs / "scored.jsonl"), "--hashtag", TAG,
                                "--interval", "day", "--json"], shared_env).stdout)
    both = json.loads(swarmlens(["volumes", str(outputs / "scored.jsonl"),
                                 str(outputs / "scored.parquet"), "--hashtag", TAG,
                                 "--interval", "day", "--json"], shared_env).stdout)
    assert [2 * p["total"] for p in one["series"]] == [p["total"] for p in both["series"]]


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("empty", None, "a directory with no Parquet file"),
        ("posts.csv", "post_id,label\n1,neutral\n", "neither JSON lines"),
        ("raw.jsonl", '{"id": "1", "text": "#ParisIsBurning"}\n', "holds no scored posts"),
        ("broken.jsonl", "not json\n", "is not JSON lines"),
        ("torn.jsonl", '{"post_id": "1", "label": "neutral", "scores": {"supportive": 0.1, '
         '"opposing": 0.1, "neutral": 0.8}, "hashtags": ["parisisburning"], '
         '"created_at": "2015-11-14T10:00:00Z"}\n{"post_id": "2", "label"\n',
         "a dataset cannot be read"),
        ("fake.parquet", "PAR1 and then no Parquet at all", "not a readable Parquet file"),
        ("empty.parquet", "", "neither JSON lines"),
    ],
)
def test_anything_else_is_a_one_line_error(
    shared_env: dict[str, str], tmp_path: Path, name: str, content: str | None, says: str
) -> None:
    path = tmp_path / name
    if content is None:
        (path / "day=2015-11-10").mkdir(parents=True)
        (path / "rejects.jsonl").write_text("")
    else:
        path.write_text(content)
    audit = tmp_path / "audit.jsonl"
    audit.write_text('{"post_id": "1", "label": "neutral"}\n')
    for command in (["volumes"], ["estimate", "--audit", str(audit)], ["network"]):
        result = swarmlens([command[0], str(path), "--hashtag", TAG, *command[1:]], shared_env,
                           check=False)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: [E001]"), result.stderr
        assert says in lines[0] and "swarmlens score" in lines[0] and "Traceback" not in lines[0]


def test_an_empty_jsonl_output_is_an_empty_dataset(
    shared_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "nothing.jsonl"
    path.write_text("")
    result = json.loads(swarmlens(["volumes", str(path), "--hashtag", TAG, "--json"],
                                  shared_env).stdout)
    assert result["series"] == []
