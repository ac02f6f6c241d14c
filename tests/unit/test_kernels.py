"""Kernels: where numba caches them (a folder per version of the kernel sources, never the
source tree), and the derived tables cached on disk."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numba
import numpy as np
import pytest

from swarmlens.classifier import kernels
from swarmlens.classifier.model import hashing

_DECLARES = re.compile(r"^@(inline_)?kernel\b|\bnjit\b|^\s*(import|from) numba\b", re.M)


def test_every_kernel_lives_in_a_file_the_cache_folder_is_named_by() -> None:
    """numba does not see a change in a kernel another file calls: the folder's digest
    covers every file that declares one, and only those (others would recompile all)."""
    classifier = Path(kernels.__file__).resolve().parent
    declaring = {path.relative_to(classifier).as_posix()
                 for path in classifier.rglob("*.py")
                 if path.name != "kernels.py" and _DECLARES.search(path.read_text("utf-8"))}
    assert declaring == set(kernels.KERNEL_SOURCES)


def test_the_cache_folder_follows_every_kernel_source(tmp_path: Path) -> None:
    original = Path(kernels.__file__).resolve().parent
    for source in kernels.KERNEL_SOURCES:
        (tmp_path / source).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(original / source, tmp_path / source)
    before = kernels.numba_cache_dir(tmp_path)
    assert before.parent == kernels.CACHE_DIR / "numba"
    assert kernels.numba_cache_dir(tmp_path) == before
    for source in kernels.KERNEL_SOURCES:
        changed = tmp_path / source
        text = changed.read_bytes()
        changed.write_bytes(text + b"\n")
        assert kernels.numba_cache_dir(tmp_path) != before, source
        changed.write_bytes(text)


def test_kernels_are_cached_in_the_user_cache_never_in_the_tree() -> None:
    hashing._murmur(np.frombuffer(b"abc", np.uint8))
    cache = Path(hashing._murmur.stats.cache_path)
    assert cache.is_relative_to(Path(numba.config.CACHE_DIR))
    assert Path(numba.config.CACHE_DIR).parent == kernels.CACHE_DIR / "numba"
    assert list(cache.glob("hashing._murmur-*.nbi"))


def test_a_new_cache_folder_keeps_the_newest_others_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kernels, "CACHE_DIR", tmp_path)
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)  # restored afterwards
    for age, name in enumerate(["a", "b", "c", "d", "e"]):
        (tmp_path / "numba" / name).mkdir(parents=True)
        os.utime(tmp_path / "numba" / name, (1_000_000 - age, 1_000_000 - age))  # a newest
    kernels._use_cache_dir()
    current = Path(os.environ["NUMBA_CACHE_DIR"])
    assert current == kernels.numba_cache_dir()
    assert sorted(p.name for p in (tmp_path / "numba").iterdir()) == ["a", "b", "c"]
    current.mkdir()  # numba made it: nothing more is removed
    kernels._use_cache_dir()
    assert len(list((tmp_path / "numba").iterdir())) == 4


def test_a_numba_cache_dir_set_by_the_user_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    kernels._use_cache_dir()
    assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "mine")


def test_disk_cached_tables_round_trip_and_survive_a_damaged_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kernels, "CACHE_DIR", tmp_path)
    calls = []

    def _table_for_test() -> tuple[np.ndarray, np.ndarray]:
        calls.append(1)
        return np.arange(5, dtype=np.int32), np.ones((2, 3), np.uint8)

    _table_for_test.__module__ = __name__
    first = kernels.disk_cached(_table_for_test)()
    again = kernels.disk_cached(_table_for_test)()  # a new process: from the file
    assert len(calls) == 1
    for a, b in zip(first, again, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    [stored] = (tmp_path / "tables").iterdir()
    stored.write_bytes(b"PK\x03\x04 damaged")
    rebuilt = kernels.disk_cached(_table_for_test)()
    assert len(calls) == 2 and np.array_equal(rebuilt[0], first[0])


def test_cached_code_point_tables_equal_a_fresh_build() -> None:
    fresh = hashing.code_point_tables.__wrapped__()
    for a, b in zip(hashing.code_point_tables(), fresh, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_every_kernel_checks_its_bounds() -> None:
    # Kernels write into buffers sized from user text: a sizing slip must raise, not
    # write past the buffer.
    from swarmlens.classifier.model import fused, hashing, subwords

    kernels = [value for module in (hashing, fused, subwords) for value in vars(module).values()
               if hasattr(value, "targetoptions") and hasattr(value, "py_func")]
    assert len(kernels) >= 10
    assert all(k.targetoptions.get("boundscheck") is True for k in kernels), [
        k.py_func.__name__ for k in kernels if not k.targetoptions.get("boundscheck")]
    with pytest.raises(IndexError):
        hashing.utf8_at(np.zeros(0, np.uint8), 0)
