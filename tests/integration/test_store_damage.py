"""The store's file system against a real server (issue 26): a FIFO attached as a dataset,
a damaged DuckDB file at start-up, a data disk that fills up."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import pytest

from swarmlens.classifier.errors import StoreDamagedError, StoreLockedError
from swarmlens.serve.store import DATABASE_NAME, Store
from tests.support.processes import LiveServer, free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(shared_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    live = LiveServer(shared_env, tmp_path_factory.mktemp("store-damage") / "data")
    yield live
    live.stop()


def release(fifo: Path) -> None:
    """Open the FIFO's other end, so a reader blocked on it (before the fix) gets EOF."""
    with contextlib.suppress(OSError):  # no reader is waiting: nothing to release
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


def serve(env: dict[str, str], data: Path, *args: str) -> subprocess.CompletedProcess:
    """``swarmlens serve`` that must stop by itself (an error), within 120 s."""
    command = [sys.executable, "-m", "swarmlens.classifier.cli", "serve", "--port",
               str(free_port()), "--data-dir", str(data), *args]
    try:
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"serve {args} did not stop: {exc.stderr}") from None


def test_a_fifo_is_never_opened_nor_holds_the_write_lock(
    server: LiveServer, demo_dataset: Path, tmp_path: Path
) -> None:
    # Before: the attach hung forever holding the write lock (ingest and audits waited,
    # 45 of them hung the whole server, /healthz included).
    fifo = tmp_path / "x.parquet"
    os.mkfifo(fifo)
    dataset = tmp_path / "dataset"
    day = dataset / "day=2015-11-14"
    day.mkdir(parents=True)
    shutil.copy(sorted(demo_dataset.glob("day=*/*.parquet"))[0], day / "part-0.parquet")
    os.mkfifo(day / "part-1.parquet")
    try:
        refused = httpx.post(server.url + "/v1/datasets", json={"path": str(fifo)}, timeout=30)
        assert refused.status_code == 400 and refused.json()["code"] == "E001"
        missing = httpx.post(server.url + "/v1/datasets",
                             json={"path": str(tmp_path / "nothing.parquet")}, timeout=30)
        assert missing.json()["message"].replace(str(tmp_path / "nothing.parquet"), "P") == (
            refused.json()["message"].replace(str(fifo), "P"))
        inside = httpx.post(server.url + "/v1/datasets", json={"path": str(dataset)}, timeout=30)
        assert inside.status_code == 400 and "part-1.parquet" in inside.json()["message"]
        # The write lock is free: an audit is stored at once.
        audit = {"audit_id": "a1", "hashtag": "x", "labels": [{"post_id": "1", "label": "neutral"}]}
        assert httpx.post(server.url + "/v1/audits", json=audit, timeout=30).status_code == 200
        assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200
    finally:
        release(fifo)
        release(day / "part-1.parquet")


def test_serve_attach_of_a_fifo_is_one_line(shared_env: dict[str, str], tmp_path: Path) -> None:
    fifo = tmp_path / "x.parquet"
    os.mkfifo(fifo)
    try:
        result = serve(shared_env, tmp_path / "data", "--attach", str(fifo))
    finally:
        release(fifo)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: [E001]")
    assert "Traceback" not in result.stderr


def damaged_copies(source: Path, root: Path) -> dict[str, Path]:
    """Data directories holding damaged copies of the store file at ``source``."""
    made: dict[str, Path] = {}

    def copy(name: str) -> Path:
        target = root / name
        target.mkdir()
        shutil.copy(source, target / DATABASE_NAME)
        made[name] = target
        return target / DATABASE_NAME

    size = source.stat().st_size
    os.truncate(copy("truncated"), size // 2)
    with copy("zeroed-header").open("r+b") as handle:
        handle.write(b"\0" * 4096)
    copy("empty").write_bytes(b"")
    (root / "directory").mkdir()
    (root / "directory" / DATABASE_NAME).mkdir()
    made["directory"] = root / "directory"
    # Garbled in the middle: a block of table data, the file otherwise intact. DuckDB opens
    # it and only a query reading the block fails (the server started, /healthz said ok
    # and every query was a 500).
    for offset in range(3 * 4096, size, 256 * 1024):  # DuckDB's blocks, after its headers
        probe = root / "probe.duckdb"
        shutil.copy(source, probe)
        with probe.open("r+b") as handle:
            handle.seek(offset + 512)
            handle.write(os.urandom(1024))
        try:
            duckdb.connect(str(probe)).close()
        except duckdb.Error:
            continue  # metadata: refused at open already
        con = duckdb.connect(str(probe))
        try:
            con.execute("SELECT bit_xor(hash(post_id)), bit_xor(hash(annotator)) "
                        "FROM audit_labels").fetchall()
        except duckdb.Error:
            (root / "garbled").mkdir()
            shutil.move(probe, root / "garbled" / DATABASE_NAME)
            made["garbled"] = root / "garbled"
            break
        finally:
            con.close()
    return made


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    """A good store (50,000 audit labels) and data directories with damaged copies of it."""
    root = tmp_path_factory.mktemp("damaged")
    store = Store(root / "good")
    labels = [(f"post-{i}", "neutral", f"annotator-{i % 7}") for i in range(50_000)]
    store.add_audit("audit", "x", None, None, labels)
    store.close()
    cases = damaged_copies(root / "good" / DATABASE_NAME, root)
    assert set(cases) == {"truncated", "zeroed-header", "empty", "directory", "garbled"}
    return root / "good", cases


def test_a_damaged_store_is_refused_when_opened(
    shared_env: dict[str, str], damaged: tuple[Path, dict[str, Path]]
) -> None:
    # Before: a truncated or garbled file opened (the server started, /healthz said ok,
    # every query was a 500 E019); a zeroed header, an empty file or a directory was a
    # traceback saying "another server probably owns it".
    good, cases = damaged
    for name, data in cases.items():
        with pytest.raises(StoreDamagedError) as refused:
            Store(data)
        message = refused.value.message
        assert "\n" not in message and "probably owns" not in message, (name, message)
        assert "move" in message and str(data / DATABASE_NAME) in message, (name, message)
    Store(good).close()  # the good one still opens
    # A store another server owns is still E009, not "damaged".
    owner = LiveServer(shared_env, good)
    try:
        with pytest.raises(StoreLockedError):
            Store(good)
    finally:
        owner.stop()


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs (root only): a data disk that fills up for real."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_full_disk_is_503_with_retry_after_and_loses_nothing(
    shared_env: dict[str, str], small_disk: Path
) -> None:
    # Before: 500 "unexpected TransactionException: this is a bug" for every write.
    live = LiveServer(shared_env, small_disk / "data")
    accepted, refusals, statuses = 0, [], set()
    try:
        for batch in range(300):
            posts = [
                {"id": f"{batch}-{i}", "created_at": "2015-11-14T10:00:00Z",
                 "text": f"post {batch} {i} #ParisIsBurning " + "words " * 40}
                for i in range(200)
            ]  # fmt: skip
            answer = httpx.post(live.url + "/v1/posts", json={"posts": posts}, timeout=60)
            statuses.add(answer.status_code)
            if answer.status_code == 200:
                accepted += answer.json()["accepted"]
            else:
                refusals.append(answer)
                if len(refusals) >= 3:
                    break
        assert refusals, "the 2 MiB disk never filled"
        assert 500 not in statuses and accepted > 0
        for refused in refusals:
            assert refused.status_code == 503 and refused.json()["code"] == "E046"
            assert refused.headers["retry-after"].isdigit()
            assert "free space" in refused.json()["message"]
        assert httpx.get(live.url + "/healthz", timeout=5).status_code == 200
        # The disk grows: writes go on, and after a restart every acknowledged post is there.
        subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
        posts = [{"id": "after", "created_at": "2015-11-14T10:00:00Z", "text": "after"}]
        answer = httpx.post(live.url + "/v1/posts", json={"posts": posts}, timeout=60)
        assert answer.status_code == 200 and answer.json()["accepted"] == 1
        accepted += 1
    finally:
        live.stop()
    again = LiveServer(shared_env, small_disk / "data")
    try:
        stored = httpx.get(again.url + "/info", timeout=30).json()["store"]["ingested_posts"]
    finally:
        again.stop()
    assert stored == accepted


def test_a_damaged_store_is_one_line_at_start_up(
    shared_env: dict[str, str], damaged: tuple[Path, dict[str, Path]]
) -> None:
    good, cases = damaged
    for name, data in cases.items():
        result = serve(shared_env, data)
        assert result.returncode == 2, (name, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: [E045]"), (name, result.stderr)
        assert "move" in lines[0] and "probably owns" not in lines[0]
    owner = LiveServer(shared_env, good)
    try:
        result = serve(shared_env, good)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1, result.stderr
        assert lines[0].startswith("error: [E009]"), result.stderr
    finally:
        owner.stop()
