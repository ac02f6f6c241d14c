"""What the ``swarmlens`` CLI prints, read as a user reads it (real processes).

Issue 24 item 3: tables whole when piped to a file, help written for the help screen, a
simulated audit named as such, and a warning with exit status 3 when an input yields no
post at all.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from swarmlens.classifier.analytics.simulated_audit import write_simulated_audit
from swarmlens.classifier.errors import EXIT_NO_POSTS
from tests.support.processes import swarmlens as run

pytestmark = pytest.mark.integration
TAG = "ParisIsBurning"


def piped_env(env: dict[str, str]) -> dict[str, str]:
    """The environment of ``swarmlens ... > file`` in a plain shell: no COLUMNS set."""
    return {k: v for k, v in env.items() if k != "COLUMNS"}


@pytest.fixture(scope="module")
def audits(demo_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo's simulated audit, and the same labels as if people had given them."""
    root = tmp_path_factory.mktemp("audits")
    simulated = root / "simulated.jsonl"
    write_simulated_audit(demo_dataset.parent / "demo.jsonl.gz", demo_dataset, TAG, simulated,
                          n=100)
    people = root / "people.jsonl"
    lines = [json.loads(line) for line in simulated.read_text().splitlines()]
    assert lines and all(line["simulated"] is True for line in lines)
    people.write_text("".join(
        json.dumps({k: v for k, v in line.items() if k != "simulated"}) + "\n" for line in lines
    ))
    return simulated, people


# -- no posts at all: a warning line and exit status 3 --------------------------------------


@pytest.mark.parametrize("target", ["out.jsonl", "outdir"])
def test_an_input_without_posts_warns_and_exits_3(
    shared_env: dict[str, str], tmp_path: Path, target: str
) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    image = tmp_path / "photo.jsonl"  # a PNG renamed .jsonl
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    for source, rejected in ((empty, 0), (image, None)):
        out = tmp_path / f"{source.stem}-{target}"
        result = run(["score", str(source), "--out", str(out), "--workers", "1"], shared_env,
                     check=False)
        assert result.returncode == EXIT_NO_POSTS == 3, result.stderr
        warnings = [x for x in result.stderr.splitlines() if "no posts" in x]
        assert len(warnings) == 1, result.stderr
        assert warnings[0].startswith("warning: no posts:") and str(source) in warnings[0]
        assert "Traceback" not in result.stderr
        # --json still prints the summary (stdout), with the same warning and status.
        again = run(["score", str(source), "--out", str(tmp_path / f"j-{out.name}"),
                     "--workers", "1", "--json"], shared_env, check=False)
        assert again.returncode == 3
        summary = json.loads(again.stdout)
        assert summary["scored"] == 0 and summary["read"] == summary["rejected"]
        if rejected is not None:
            assert summary["rejected"] == rejected
        else:
            assert summary["rejected"] > 0 and "rejected" in warnings[0]


def test_an_input_with_posts_exits_0(shared_env: dict[str, str], tmp_path: Path) -> None:
    posts = tmp_path / "posts.jsonl"
    posts.write_text(json.dumps({"id": "1", "text": "#ParisIsBurning ok"}) + "\n{broken\n")
    result = run(["score", str(posts), "--out", str(tmp_path / "o.jsonl")], shared_env)
    assert result.returncode == 0 and "no posts" not in result.stderr


# -- tables piped to a file are whole ---------------------------------------------------------


def test_piped_models_table_keeps_every_id_whole(shared_env: dict[str, str]) -> None:
    env = piped_env(shared_env)
    listed = json.loads(run(["models", "--json"], env).stdout)
    table = run(["models"], env).stdout
    assert listed["models"]
    for model in listed["models"]:
        assert model["id"] in table  # e.g. default-e5f836e7-fe67a1ed, not default-e…
        assert model["data_fingerprint"][:12] in table
    assert "…" not in table
    row = next(x for x in table.splitlines() if listed["current"] in x)
    assert row.lstrip().startswith("*")


def test_piped_network_tables_keep_account_names_whole(
    demo_dataset: Path, shared_env: dict[str, str]
) -> None:
    env = piped_env(shared_env)
    command = ["network", str(demo_dataset), "--hashtag", TAG]
    data = json.loads(run([*command, "--json"], env).stdout)
    table = run(command, env).stdout
    assert "…" not in table
    for community in data["communities"][:20]:
        assert ", ".join(community["top_accounts"][:3]) in table
    for group in data["coordination"]["groups"][:20]:
        assert ", ".join(group["accounts"]) in table
    assert max(len(line) for line in table.splitlines()) > 80  # not cut at rich's default


# -- estimate says when its audit is simulated ------------------------------------------------


def test_estimate_names_a_simulated_audit(
    demo_dataset: Path, shared_env: dict[str, str], audits: tuple[Path, Path]
) -> None:
    simulated, people = audits
    env = piped_env(shared_env)
    command = ["estimate", str(demo_dataset), "--hashtag", TAG, "--audit"]
    report = json.loads(run([*command, str(simulated), "--json"], env).stdout)
    assert report["simulated"] is True
    table = run([*command, str(simulated)], env).stdout
    title = next(line for line in table.splitlines() if line.strip())
    assert "SIMULATED audit" in title
    assert "not from people" in table  # the caption says what it means
    assert report["model_version"] in table  # the model id whole, in the caption

    real = json.loads(run([*command, str(people), "--json"], env).stdout)
    assert real["simulated"] is False
    assert {k: v for k, v in real.items() if k != "simulated"} == {
        k: v for k, v in report.items() if k != "simulated"
    }
    assert "SIMULATED" not in run([*command, str(people)], env).stdout


# -- help written for the help screen ---------------------------------------------------------


def _commands(help_text: str) -> dict[str, list[str]]:
    """Rows of the Commands panel: command name -> its summary's lines."""
    panel = help_text.split("Commands", 1)[1]
    rows: dict[str, list[str]] = {}
    current = None
    for line in panel.splitlines():
        match = re.match(r"^│ (\S*)\s+(.*?)\s*│$", line)
        if not match:
            continue
        name, text = match.groups()
        if name:
            current = name
            rows[name] = [text]
        elif current is not None:
            rows[current].append(text)
    return rows


def _description(help_text: str) -> list[list[str]]:
    """The paragraphs of a command's description (between Usage and the first panel)."""
    body = help_text.split("Usage:", 1)[1].split("╭", 1)[0].splitlines()[1:]
    paragraphs: list[list[str]] = [[]]
    for line in body:
        if line.strip():
            paragraphs[-1].append(line.strip())
        elif paragraphs[-1]:
            paragraphs.append([])
    return [p for p in paragraphs if p]


def test_help_reads_right(shared_env: dict[str, str]) -> None:
    width = 200
    env = {**shared_env, "COLUMNS": str(width)}
    top = run(["--help"], env).stdout
    assert "``" not in top
    commands = _commands(top)
    assert {"score", "estimate", "network", "volumes", "demo", "serve", "annotate"} <= set(
        commands
    )
    for name, lines in commands.items():
        assert len(lines) == 1, f"{name}: summary spans {lines}"
        summary = lines[0]
        # One sentence: it ends there and nowhere before.
        assert summary.endswith("."), f"{name}: {summary!r}"
        assert not re.search(r"[.;]\s", summary[:-1]), f"{name}: {summary!r}"
    for name in [*commands, "annotate push", "annotate pull", "annotate review"]:
        text = run([*name.split(), "--help"], env).stdout
        assert "``" not in text, name
        for paragraph in _description(text):
            # Reflowed to the screen: only a paragraph's last line may end short.
            for line in paragraph[:-1]:
                assert len(line) > width - 40, f"{name}: line break mid-sentence: {line!r}"
