"""Time bounds of posts and queries, the reject safety net, and temp-file owners."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from swarmlens.classifier.batch.engine import _remove_stale_temp_files
from swarmlens.classifier.errors import RecordError
from swarmlens.classifier.fsio import HOST, temp_owner, temp_path_for
from swarmlens.classifier.posts import readers
from swarmlens.classifier.posts.post import (
    EARLIEST_POST_TIME,
    check_post_time,
    check_query_time,
    post_from_record,
)
from swarmlens.classifier.posts.rejects import Rejected


@pytest.mark.parametrize(
    "value",
    [1e300, -1e300, 10**30, "99999999999999999999", "9999-12-31T23:00-14:00",
     "0001-01-01T00:00+14:00", "9999-12-31T23:59:59Z", "1999-12-31T00:00:00Z", float("inf")],
)
def test_extreme_times_are_record_errors(value: object) -> None:
    with pytest.raises(RecordError, match="created_at"):
        post_from_record({"id": "x", "text": "t", "created_at": value})


def test_time_window_edges() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert check_post_time(EARLIEST_POST_TIME, now) == EARLIEST_POST_TIME
    with pytest.raises(ValueError, match="2006-03-21"):
        check_post_time(datetime(2006, 3, 20, tzinfo=UTC), now)
    with pytest.raises(ValueError, match="2026-01-02"):
        check_post_time(datetime(2026, 1, 3, tzinfo=UTC), now)
    assert post_from_record({"id": "x", "text": "t", "created_at": 1447495200}).created_at


def test_query_times_outside_the_range_are_refused() -> None:
    with pytest.raises(ValueError, match="start must lie between 1970-01-01 and 2100-01-01"):
        check_query_time("start", datetime.fromisoformat("0001-01-01T00:00:00+05:00"))
    assert check_query_time("end", datetime(2015, 1, 1, tzinfo=UTC))


def test_an_unforeseen_failure_is_a_reject(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(record: object, platform: str | None = None) -> None:
        raise ZeroDivisionError("nobody saw this coming")

    monkeypatch.setattr(readers, "post_from_record", boom)
    out = list(readers.decode("src.jsonl", 7, b'{"id": "a", "text": "b"}\n'))
    assert len(out) == 1 and isinstance(out[0], Rejected)
    assert (out[0].line, out[0].raw) == (7, '{"id": "a", "text": "b"}')
    assert "ZeroDivisionError" in out[0].reason


def test_temp_names_carry_the_host(tmp_path: Path) -> None:
    tmp = temp_path_for(tmp_path / "part-1.parquet")
    assert temp_owner(tmp) == (HOST, os.getpid())
    mine_dead = tmp_path / f".a.parquet.{HOST}.999999999.tmp"
    mine_alive = tmp_path / f".b.parquet.{HOST}.{os.getpid()}.tmp"
    # Another machine's writer on shared storage: its PID means nothing here.
    foreign_fresh = tmp_path / f".c.parquet.other-node.{os.getpid() + 1}.tmp"
    foreign_old = tmp_path / ".d.parquet.other-node.1.tmp"
    for path in (mine_dead, mine_alive, foreign_fresh, foreign_old):
        path.write_bytes(b"x")
    old = time.time() - 3 * 86400
    os.utime(foreign_old, (old, old))
    _remove_stale_temp_files(tmp_path)
    assert not mine_dead.exists() and not foreign_old.exists()
    assert mine_alive.exists() and foreign_fresh.exists()


def test_temp_files_of_a_zombie_writer_are_stale(tmp_path: Path) -> None:
    """A worker killed with its parent stays a zombie until reaped (in a container whose
    init does not reap, for good): it can write nothing, so its temp files go."""
    import subprocess

    child = subprocess.Popen(["sleep", "30"])
    try:
        child.kill()
        deadline = time.time() + 5
        while time.time() < deadline:  # killed, not yet reaped: a zombie
            if Path(f"/proc/{child.pid}/stat").read_text().split(") ")[1][0] == "Z":
                break
            time.sleep(0.02)
        zombie = tmp_path / f".z.parquet.{HOST}.{child.pid}.tmp"
        zombie.write_bytes(b"x")
        _remove_stale_temp_files(tmp_path)
        assert not zombie.exists()
    finally:
        child.wait()
