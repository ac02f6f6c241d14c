"""Issue 26, "jobs that die on one record" and the careless operator, as real CLI processes:
a hostile record is one reject in every output mode, an output is written only to a
regular file, a model file swapped for a device is refused unread, and no command ends
in a traceback."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import shutil
import stat
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.support.processes import swarmlens

pytestmark = pytest.mark.integration

MAX_LINE_BYTES = 64 << 20  # posts.blocks.MAX_LINE_BYTES, the documented cap (README)
OK = {"id": "ok", "text": "#ParisIsBurning fine", "created_at": "2015-11-14T10:00:00Z"}


def _jsonl(path: Path, records: list[dict]) -> Path:
    # json.dumps writes a lone surrogate as the ASCII escape "\ud800", as the APIs do.
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _clean_exit(result: object, code: int = 0) -> None:
    stderr = result.stderr  # type: ignore[attr-defined]
    assert result.returncode == code, stderr  # type: ignore[attr-defined]
    assert "Traceback" not in stderr


def _rejects(out: Path) -> dict[int, str]:
    path = out / "rejects.jsonl" if out.is_dir() else out.with_name(
        out.name.split(".")[0] + ".rejects.jsonl")
    return {r["line"]: r["reason"] for r in map(json.loads, path.read_text().splitlines())}


@pytest.mark.parametrize("target", ["out.jsonl", "out.parquet", "outdir"])
def test_a_lone_surrogate_in_an_id_or_handle_is_a_reject(
    tmp_path: Path, shared_env: dict[str, str], target: str
) -> None:
    status = {"id_str": "5", "full_text": "#ParisIsBurning tw",
              "created_at": "Sat Nov 14 10:00:00 +0000 2015",
              "user": {"screen_name": "u\ud800", "id_str": "9"}}
    records = [OK, *({**OK, "id": f"x-{field}", field: "a\ud800"}
                     for field in ("author", "retweet_of", "reply_to")),
               {**OK, "id": "a\ud800"}, status,
               {**OK, "id": "text", "text": "#ParisIsBurning \udc00 kept"}]
    source = _jsonl(tmp_path / "in.jsonl", records)
    out = tmp_path / target
    result = swarmlens(["score", str(source), "--out", str(out), "--workers", "1", "--json"],
                       shared_env, check=False)
    _clean_exit(result)
    summary = json.loads(result.stdout)
    assert (summary["scored"], summary["rejected"]) == (2, 5)
    rejects = _rejects(out)
    assert sorted(rejects) == [2, 3, 4, 5, 6]
    assert all("lone surrogate" in reason for reason in rejects.values())


def test_deep_json_and_nanosecond_parquet_are_read(
    tmp_path: Path, shared_env: dict[str, str]
) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    deep = "[" * 1_000 + "]" * 1_000  # a 2 KB file: RecursionError before
    (inputs / "deep.json").write_text(f'{{"id": "deep", "text": {deep}}}')
    (inputs / "deep.jsonl").write_text(json.dumps(OK) + f'\n{{"id": "d2", "text": {deep}}}\n')
    nanos = pa.array([1447495200_123456789, 1447498800_000000000], pa.int64())
    pq.write_table(pa.table({"id": ["ns1", "ns2"], "text": ["#ParisIsBurning a", "b"],
                             "created_at": nanos.cast(pa.timestamp("ns"))}),
                   inputs / "times.parquet")
    for target in ("out.jsonl", "out.parquet"):
        out = tmp_path / target
        result = swarmlens(["score", str(inputs), "--out", str(out), "--workers", "1",
                            "--json"], shared_env, check=False)
        _clean_exit(result)
        summary = json.loads(result.stdout)
        assert (summary["scored"], summary["rejected"]) == (3, 2), target
    scored = pq.read_table(tmp_path / "out.parquet").to_pylist()
    times = {r["post_id"]: r["created_at"] for r in scored}
    assert times["ns1"] == dt.datetime(2015, 11, 14, 10, 0, 0, 123456, tzinfo=dt.UTC)


def test_a_line_over_the_cap_is_one_reject(tmp_path: Path, shared_env: dict[str, str]) -> None:
    # A gzip bomb in small: 65 MiB of zeros as one line in a 64 KB file, between records.
    source = tmp_path / "bomb.jsonl.gz"
    with gzip.open(source, "wb", compresslevel=1) as handle:
        handle.write(json.dumps(OK).encode() + b"\n")
        for _ in range((MAX_LINE_BYTES >> 20) + 1):
            handle.write(b"\0" * (1 << 20))
        handle.write(b"\n" + json.dumps({**OK, "id": "after"}).encode() + b"\n")
    out = tmp_path / "out.jsonl"
    result = swarmlens(["score", str(source), "--out", str(out), "--json"], shared_env,
                       check=False)
    _clean_exit(result)
    assert json.loads(result.stdout)["scored"] == 2
    rejects = _rejects(out)
    assert list(rejects) == [2] and f"longer than {MAX_LINE_BYTES:,} bytes" in rejects[2]


def test_network_over_a_post_dated_9999(tmp_path: Path, shared_env: dict[str, str]) -> None:
    records = [{"id": f"p{i}", "text": "#ParisIsBurning x", "author": f"a{i % 3}",
                "retweet_of": "p0" if i else None, "retweet_of_author": "a0" if i else None,
                "created_at": f"2015-11-14T1{i}:00:00Z"} for i in range(6)]
    dataset = tmp_path / "scored.parquet"
    swarmlens(["score", str(_jsonl(tmp_path / "in.jsonl", records)), "--out", str(dataset)],
              shared_env)
    # Another tool wrote the dataset: `score` itself rejects a post from year 9999.
    table = pq.read_table(dataset)
    times = table.column("created_at").to_pylist()
    times[-1] = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
    index = table.schema.get_field_index("created_at")
    pq.write_table(table.set_column(index, table.schema.field(index),
                                    pa.array(times, table.schema.field(index).type)), dataset)
    result = swarmlens(["network", str(dataset), "--hashtag", "#ParisIsBurning", "--json"],
                       shared_env, check=False)
    _clean_exit(result)
    assert json.loads(result.stdout)["end"].startswith("9999-12-31")


def _device(path: Path) -> None:
    """A character device node like /dev/null (1, 3) at ``path``; a FIFO where mknod of a
    device is not allowed (no CAP_MKNOD)."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        os.mkfifo(path)


def _still_special(path: Path) -> bool:
    mode = path.lstat().st_mode
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


@pytest.mark.parametrize("option", ["--out-jsonl", "--out-parquet", "--rejects", "--graphml"])
def test_an_output_on_a_device_node_is_refused(
    tmp_path: Path, shared_env: dict[str, str], option: str
) -> None:
    device = tmp_path / {"--out-jsonl": "o.jsonl", "--out-parquet": "o.parquet"}.get(
        option, "node")
    _device(device)
    source = _jsonl(tmp_path / "in.jsonl", [OK])  # no rejects: --rejects was deleted before
    if option == "--graphml":
        dataset = tmp_path / "scored.parquet"
        swarmlens(["score", str(source), "--out", str(dataset)], shared_env)
        args = ["network", str(dataset), "--hashtag", "#ParisIsBurning", "--graphml",
                str(device)]
    elif option == "--rejects":
        args = ["score", str(source), "--out", str(tmp_path / "o.jsonl"), "--rejects",
                str(device)]
    else:
        args = ["score", str(source), "--out", str(device)]
    result = swarmlens(args, shared_env, check=False)
    _clean_exit(result, 2)
    assert "[E007]" in result.stderr and "not a regular file" in result.stderr
    assert _still_special(device)


def test_a_model_swapped_for_dev_zero_is_refused_unread(
    tmp_path: Path, shared_env: dict[str, str]
) -> None:
    models = tmp_path / "models"
    shutil.copytree(shared_env["SWARMLENS_MODELS_DIR"], models)
    manifest = json.loads((models / "manifest.json").read_text())
    (current,) = [m for m in manifest["models"] if m["id"] == manifest["current"]]
    artifact = models / current["path"]
    artifact.unlink()
    artifact.symlink_to("/dev/zero")  # read whole before: ~23 GB, then OOM-killed
    env = {**shared_env, "SWARMLENS_MODELS_DIR": str(models)}
    source = _jsonl(tmp_path / "in.jsonl", [OK])
    result = swarmlens(["score", str(source), "--out", str(tmp_path / "o.jsonl")], env,
                       check=False)
    _clean_exit(result, 2)
    assert "[E005]" in result.stderr and "outside the registry" in result.stderr


def test_a_deeply_nested_audit_line_is_one_error(
    tmp_path: Path, shared_env: dict[str, str]
) -> None:
    dataset = tmp_path / "scored.parquet"
    swarmlens(["score", str(_jsonl(tmp_path / "in.jsonl", [OK])), "--out", str(dataset)],
              shared_env)
    audit = tmp_path / "audit.jsonl"
    audit.write_text('{"id": "ok", "label": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    result = swarmlens(["estimate", str(dataset), "--hashtag", "#ParisIsBurning", "--audit",
                        str(audit)], shared_env, check=False)
    _clean_exit(result, 2)
    assert "[E020]" in result.stderr and len(result.stderr.strip().splitlines()) == 1
