"""A record can only ever become a reject, and an output holds each post id once (real
CLI processes)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.support.processes import swarmlens

pytestmark = pytest.mark.integration

GOOD = {"id": "ok1", "text": "#ParisIsBurning fine", "created_at": "2015-11-14T10:00:00Z"}


def hostile_inputs(root: Path) -> Path:
    """One file per defect of issue 11 (2): each holds one good record and one hostile one."""
    root.mkdir()
    lines = [json.dumps(GOOD), '{"id":"t","text":"x","created_at":1e300}',
             '{"id":"old","text":"x","created_at":"1999-01-01T00:00:00Z"}',
             '{"id":"late","text":"x","created_at":"9999-12-31T23:59:59Z"}',
             '{"id":"neg","text":"x","created_at":"0001-01-01T00:00:00+14:00"}']
    (root / "a.jsonl").write_text("\n".join(lines) + "\n")
    huge = "w " * 70_000  # 140,000 characters: over csv's default 128 KiB field limit
    (root / "b.csv").write_text(
        "id,text,created_at\n"
        f'c1,"{huge}",2015-11-14T10:00:00Z\n'
        f'c2,"{"x" * (2 << 20)}",2015-11-14T10:00:00Z\n'
        "c3,after the monster,2015-11-14T11:00:00Z\n"
    )
    export = {
        "name": "chan",
        "messages": [
            {"id": 1, "type": "message", "date_unixtime": "1447495200", "text": "fine"},
            {"id": 2, "type": "message", "date_unixtime": "99999999999999999999", "text": "x"},
        ],
    }
    (root / "c.json").write_text(json.dumps(export))
    return root


@pytest.mark.parametrize("target", ["out.jsonl", "outdir"])
def test_hostile_records_become_rejects(
    tmp_path: Path, shared_env: dict[str, str], target: str
) -> None:
    inputs = hostile_inputs(tmp_path / "in")
    out = tmp_path / target
    for _ in range(2):  # a directory job must also finish when re-run
        result = swarmlens(["score", str(inputs), "--out", str(out), "--workers", "1", "--json"],
                           shared_env, check=False)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
    summary = json.loads(result.stdout)
    assert summary["scored"] == 4  # ok1, c1 (cut to 100,000 chars), c3, chan/1
    assert summary["rejected"] == 6
    rejects_file = out / "rejects.jsonl" if out.is_dir() else tmp_path / "out.rejects.jsonl"
    rejects = [json.loads(line) for line in rejects_file.read_text().splitlines()]
    by_line = {(Path(r["source"]).name, r["line"]): r["reason"] for r in rejects}
    assert "out of range" in by_line[("a.jsonl", 2)]
    assert "outside the possible posting times" in by_line[("a.jsonl", 3)]
    assert "outside the possible posting times" in by_line[("a.jsonl", 4)]
    assert ("a.jsonl", 5) in by_line
    assert "field larger than field limit" in by_line[("b.csv", 3)]
    assert "out of range" in by_line[("c.json", 2)]


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_file_output_holds_each_id_once(
    tmp_path: Path, shared_env: dict[str, str], suffix: str
) -> None:
    first, second = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    records = [{**GOOD, "id": f"p{i}", "text": f"#ParisIsBurning {i}"} for i in range(6)]
    first.write_text("".join(json.dumps(r) + "\n" for r in records[:4]))
    second.write_text("".join(json.dumps(r) + "\n" for r in records[2:]))
    out = tmp_path / f"scored{suffix}"
    result = swarmlens(["score", str(first), str(second), "--out", str(out), "--json"], shared_env)
    if suffix == ".jsonl":
        ids = [json.loads(line)["post_id"] for line in out.read_text().splitlines()]
    else:
        ids = pq.read_table(out).column("post_id").to_pylist()
    assert sorted(ids) == [f"p{i}" for i in range(6)]
    summary = json.loads(result.stdout)
    assert summary["scored"] == 6 and summary["duplicates"] == 2
