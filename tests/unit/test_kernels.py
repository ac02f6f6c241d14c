"""Kernels: where they live, how calls are typed for the AOT build, stale or broken builds."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from swarmlens.classifier import kernels
from swarmlens.classifier.batch import jsonl  # noqa: F401  (registers its kernel)
from swarmlens.classifier.model import fused, hashing, subwords  # noqa: F401  (registers)
from swarmlens.classifier.text import codepoints, entity_columns  # noqa: F401


def test_every_kernel_lives_in_a_file_the_build_stamp_covers() -> None:
    classifier = Path(kernels.__file__).resolve().parents[1]
    homes = {Path(kernels.sys.modules[k.py_func.__module__].__file__).resolve()
             .relative_to(classifier).as_posix() for k in kernels._KERNELS.values()}
    assert homes and homes <= set(kernels.KERNEL_SOURCES), homes - set(kernels.KERNEL_SOURCES)


def _samples() -> list[object]:
    base = np.arange(24, dtype=np.int64)
    readonly = base.copy()
    readonly.flags.writeable = False
    unaligned = np.frombuffer(bytearray(8 * 4 + 1), np.int64, 4, 1)
    return [
        base, readonly, base[::2], base.reshape(4, 6), np.asfortranarray(base.reshape(4, 6)),
        base.reshape(4, 6)[:, ::2], base.astype(np.int32), base.astype(np.uint8), unaligned,
        np.zeros(0, np.uint8), np.float32(1.5), np.uint64(3), np.bool_(True), np.int64(2),
        np.float64(1.0), True, False,
        3, -(1 << 40), 2.5, (base, base.astype(np.uint8)), (1, 2, True), (1, 2, 3),
    ]


def test_type_keys_tell_apart_exactly_what_numba_compiles_apart() -> None:
    from numba import typeof
    from numba.core.typing.typeof import Purpose

    samples = _samples()
    keys = [kernels.type_key((value,)) for value in samples]
    types = [typeof(value, Purpose.argument) for value in samples]
    assert None not in keys
    for i in range(len(samples)):
        for j in range(len(samples)):
            assert (keys[i] == keys[j]) == (types[i] == types[j]), (samples[i], samples[j])


def test_values_no_export_takes_have_no_key() -> None:
    assert kernels.type_key(([1, 2],)) is None
    assert kernels.type_key(("text",)) is None
    assert kernels.type_key((1 << 70,)) is None
    assert kernels.type_key(((1, [2]),)) is None


def test_the_build_stamp_follows_every_kernel_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = Path(kernels.__file__).resolve().parents[1]
    for source in kernels.KERNEL_SOURCES + kernels._BUILD_SOURCES:
        (tmp_path / source).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(original / source, tmp_path / source)
    monkeypatch.setattr(kernels, "_CLASSIFIER", tmp_path)
    before = kernels.build_stamp()
    assert kernels.build_stamp() == before
    changed = tmp_path / kernels.KERNEL_SOURCES[-1]
    changed.write_bytes(changed.read_bytes() + b"\n")
    assert kernels.build_stamp() != before


def test_a_broken_build_is_reported_and_the_jit_runs_instead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(kernels, "CACHE_DIR", tmp_path)
    monkeypatch.setenv("SWARMLENS_KERNELS", "auto")
    folder = kernels.build_dir()
    folder.mkdir(parents=True)
    (folder / "exports.json").write_text("{not json")
    (folder / "complete").write_text("now")
    kernels._aot_exports.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="swarmlens.classifier.kernels"):
            assert not kernels.aot_loaded()
        assert "cannot be used" in caplog.text and "kernels build" in caplog.text
        # ...and the kernel still answers, from the JIT
        from sklearn.utils import murmurhash3_32

        expected = murmurhash3_32(b"abc", positive=True)
        assert int(hashing._murmur(np.frombuffer(b"abc", np.uint8))) == expected
    finally:
        kernels._aot_exports.cache_clear()


def test_an_unfinished_build_is_never_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kernels, "CACHE_DIR", tmp_path)
    monkeypatch.setenv("SWARMLENS_KERNELS", "auto")
    folder = kernels.build_dir()
    folder.mkdir(parents=True)
    (folder / "exports.json").write_text('{"exports": [{"kernel": "x", "symbol": "k0", '
                                         '"key": []}]}')
    kernels._aot_exports.cache_clear()
    try:
        assert not kernels.aot_loaded()  # no ``complete`` marker: the build crashed
    finally:
        kernels._aot_exports.cache_clear()


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
    fresh = hashing._tables.__wrapped__()
    for a, b in zip(hashing._tables(), fresh, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_a_new_build_keeps_the_latest_builds_of_other_checkouts(tmp_path: Path) -> None:
    from swarmlens.classifier.kernels.aot import prune_other_builds


    new = tmp_path / "new-stamp"
    new.mkdir()
    for age, name in enumerate(["a", "b", "c", "d", "e"]):
        (tmp_path / name).mkdir()
        os.utime(tmp_path / name, (1_000_000 - age, 1_000_000 - age))  # a newest
    (tmp_path / ".e-unfinished").mkdir()
    removed = prune_other_builds(new, keep=3)
    assert sorted(p.name for p in removed) == ["d", "e"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".e-unfinished", "a", "b", "c",
                                                          "new-stamp"]
