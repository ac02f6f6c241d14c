"""The one way swarmlens writes a file that must never be seen half-written.

Write to a temporary file beside the target, fsync it, rename it over the target,
fsync the directory. A crash at any moment leaves either the old file or the new one,
never a torn one; a reader never sees a partial file. Batch jobs add a marker written
last (``_chunks/<id>.json``), so "marked done" implies "every file of it is complete".
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def temp_path_for(target: Path) -> Path:
    """A temporary name beside ``target`` (same file system, so the rename is atomic).

    Hidden (leading dot) and per process *and host* (``.NAME.HOST.PID.tmp``), so
    concurrent writers never share one, even on storage shared by several machines
    (Dask workers), and dataset readers that skip dot-files never read it.
    """
    return target.with_name(f".{target.name}.{HOST}.{os.getpid()}.tmp")


HOST = socket.gethostname().replace(".", "-") or "localhost"
"""This machine's name as it appears in temporary names (no dots, so names parse)."""


def temp_owner(path: Path) -> tuple[str, int] | None:
    """(host, pid) of the writer of a temporary file ``.NAME.HOST.PID.tmp``, else None."""
    parts = path.name.rsplit(".", 3)
    if len(parts) != 4 or parts[3] != "tmp" or not parts[2].isdigit():
        return None
    return parts[1], int(parts[2])


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; some file systems refuse to open a directory.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def commit(tmp: Path, target: Path) -> None:
    """Make the finished temporary file ``tmp`` durable and rename it to ``target``."""
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, target)
    _fsync_dir(target.parent)


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write ``target``'s content to; commit it on success.

    On an exception the temporary file is removed and ``target`` is left untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(target)
    try:
        yield tmp
        commit(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(target: str | Path, data: bytes) -> None:
    """Replace ``target`` with ``data`` atomically and durably."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: str | Path, text: str) -> None:
    """Replace ``target`` with ``text`` (UTF-8) atomically and durably."""
    atomic_write_bytes(target, text.encode("utf-8"))


def atomic_parquet(target: str | Path, table: Any) -> None:
    """Write a ``pyarrow.Table`` as one zstd-compressed Parquet file, atomically."""
    import pyarrow.parquet as pq  # only writers of Parquet pay for it

    with atomic_path(target) as tmp:
        pq.write_table(table, tmp, compression="zstd")
