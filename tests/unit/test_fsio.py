"""The one atomic-write helper: all or nothing, durable, no temporary file left behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from swarmlens.classifier import fsio


def test_writes_replace_the_target_whole(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "file.json"
    fsio.atomic_write_text(target, "first")
    fsio.atomic_write_bytes(target, b"second")
    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.json"]


def test_a_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), fsio.atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash while writing")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]


def test_commit_fsyncs_before_renaming(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(
        os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b))[1]
    )
    fsio.atomic_write_text(tmp_path / "x", "data")
    assert calls[:2] == ["fsync", "replace"]
