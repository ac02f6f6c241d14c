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

_DECLARES = re.compile(r"^@(inline_|checked_)?kernel\b|\bnjit\b|^\s*(import|from) numba\b", re.M)


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


def test_tables_the_kernels_index_unchecked_are_checked_first(monkeypatch) -> None:
    fresh = hashing.code_point_tables.__wrapped__()
    damaged = (fresh[0][:100], *fresh[1:])  # a page index too short for invalid UTF-8
    monkeypatch.setattr(hashing, "code_point_tables", lambda: damaged)
    hashing.code_point_tables.__wrapped__ = lambda: fresh
    hashing.kernel_tables.cache_clear()
    try:
        tables = hashing.kernel_tables()
    finally:
        hashing.kernel_tables.cache_clear()
    assert tables is fresh
    assert tables[0].size == hashing.MAX_DECODED >> 8


def test_every_kernel_is_bounds_checked_by_numba_or_by_itself() -> None:
    # Kernels write into buffers sized from user text: a sizing slip must raise, not
    # write past the buffer. numba checks every access, except in the few hot kernels
    # that check their own writes (``kernels.checked_kernel``).
    from swarmlens.classifier.model import fused, subwords

    compiled = {value.py_func.__name__: value for module in (hashing, fused, subwords)
                for value in vars(module).values()
                if hasattr(value, "targetoptions") and hasattr(value, "py_func")}
    assert len(compiled) >= 10
    unchecked = {name for name, k in compiled.items() if not k.targetoptions.get("boundscheck")}
    assert unchecked == set(kernels.CHECKED_KERNELS)
    with pytest.raises(IndexError):
        hashing.utf8_at(np.zeros(0, np.uint8), 0, 1)


def test_self_checking_kernels_on_hostile_text_equal_plain_python() -> None:
    """Compiled without numba's checks, and as plain Python (numpy checks every index):
    invalid, truncated and odd UTF-8 gives the same results, and never an IndexError."""
    import json
    import subprocess
    import sys

    runs = []
    for disable in ("0", "1"):
        env = {**os.environ, "NUMBA_DISABLE_JIT": disable, "PYTHONWARNINGS": "ignore"}
        done = subprocess.run([sys.executable, "-m", "tests.support.hostile_kernels"], env=env,
                              capture_output=True, text=True, timeout=600,
                              cwd=Path(__file__).resolve().parents[2])
        assert done.returncode == 0, done.stderr[-2000:]
        runs.append(json.loads(done.stdout))
    compiled, plain = runs
    assert set(compiled) == set(plain) and len(compiled) == 5
    for name in compiled:
        assert compiled[name] == plain[name], name
    assert any(value != 0 for row in compiled["pooled"] for value in row)


def test_a_self_checking_kernel_raises_on_a_short_buffer() -> None:
    from swarmlens.classifier.model import fused, subwords
    from tests.support.hostile_kernels import tiny_vocabulary

    tabs = hashing.code_point_tables()
    data = np.frombuffer("İSTANBUL brûle 🔥 a a a".encode(), np.uint8)
    end = data.size
    right = hashing.scratch_size(end)
    buf, flags = np.zeros(right, np.uint8), np.zeros(right, np.uint8)
    cpo, seg = np.zeros(right + 1, np.int64), np.zeros(right + 1, np.int64)
    ncp, nseg = hashing.decode_words(data, 0, end, True, 1, tabs, buf, cpo, flags, seg)
    assert ncp > end // 2 and nseg == 6
    for short in (right // 3, 2 * PAD_BYTES):
        with pytest.raises(IndexError):
            hashing.decode_words(data, 0, end, True, 1, tabs, np.zeros(short, np.uint8), cpo,
                                 flags, seg)
    keys, hs = np.zeros(4 * right, np.int64), np.zeros(right, np.uint64)
    args = (buf, cpo, cpo, 1, 0, ncp, 1, 3, hashing.K_CHAR, np.uint64(1023))
    nt = hashing.count_ngrams(*args, keys, 0, hs)
    assert nt > ncp
    with pytest.raises(IndexError):
        hashing.count_ngrams(*args, np.zeros(nt - 1, np.int64), 0, hs)
    with pytest.raises(IndexError):
        hashing.count_ngrams(*args, keys, 0, np.zeros(2, np.uint64))
    with pytest.raises(IndexError):
        hashing.count_ngrams(buf[:40], *args[1:], keys, 0, hs)
    slots, positions = np.zeros(1 << 12, np.int64), np.zeros(1 << 12, np.int32)
    with pytest.raises(IndexError):
        fused._hash_count(keys, nt, slots, positions, np.zeros(nt - 1, np.int32),
                          np.zeros(nt, np.float64))
    table = tiny_vocabulary()
    fidx, fpages, *_ = tabs
    ids, words = np.zeros(4 * end + 4, np.int64), np.zeros(4 * end + 4, np.int64)
    segment_args = (data, 0, end, fidx, fpages, table.table_keys, table.table_ids,
                    table.piece_bytes, table.piece_offsets, table.byte_ids)
    m = subwords._segment(*segment_args, np.zeros(end + 8, np.uint8), np.zeros(end + 2, np.int64),
                          ids, words)
    assert m > 6
    with pytest.raises(IndexError):
        subwords._segment(*segment_args, np.zeros(end + 8, np.uint8),
                          np.zeros(end + 2, np.int64), ids[: m - 1], words[: m - 1])
    with pytest.raises(IndexError):
        subwords._segment(*segment_args, np.zeros(8, np.uint8), np.zeros(end + 2, np.int64),
                          ids, words)


PAD_BYTES = hashing.PAD
