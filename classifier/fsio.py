"""The one way swarmlens writes a file that must never be seen half-written.

Write to a temporary file beside the target, fsync it, rename it over the target,
fsync the directory. A crash at any moment leaves either the old file or the new one,
never a torn one; a reader never sees a partial file. Batch jobs add a marker written
last (``_chunks/<id>.json``), so "marked done" implies "every file of it is complete".
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat
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


class NotRegularFileError(OSError):
    """A path that must be a regular file is a device, a FIFO, a socket or a directory.

    An OSError, so that every writer's "cannot write PATH: ..." handling says it in one
    line (the CLI's E007, the API's error body); ``strerror`` says what to do."""


def check_regular_target(target: str | Path) -> None:
    """Raise ``NotRegularFileError`` unless ``target`` is absent or a regular file.

    A rename over ``/dev/null`` (or a FIFO, or a symlink to a device such as
    ``/dev/stdout``) would replace the device node with a plain file, and appending to a
    FIFO blocks until someone reads it: outputs go only to regular files. A symlink to a
    regular file is fine (the rename replaces the link); a dangling one too.
    """
    target = Path(target)
    try:
        mode = os.stat(target).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return
    if stat.S_ISREG(mode):
        return
    kind = "a directory" if stat.S_ISDIR(mode) else "a device, FIFO or socket"
    raise NotRegularFileError(
        errno.EEXIST,
        f"not a regular file ({kind}): outputs are written only to regular files; name "
        "a file path",
        str(target),
    )


def read_regular(path: str | Path, limit: int) -> bytes:
    """The bytes of the regular file ``path``, read only when it is at most ``limit`` bytes.

    Raises ``NotRegularFileError`` for a device, FIFO, socket or directory (``/dev/zero``
    would be read forever, a FIFO would block), OSError(EFBIG) over ``limit`` (checked on
    the open file's size before reading, and again on what is read, should it grow), and
    the usual OSError (FileNotFoundError...) otherwise.
    """
    # O_NONBLOCK: opening a FIFO for reading must not wait for a writer; it is refused next.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFileError(
                errno.EINVAL, "not a regular file (a device, FIFO, socket or directory)",
                str(path))
        if info.st_size > limit:
            raise OSError(errno.EFBIG, f"{info.st_size:,} bytes, over the {limit:,}-byte "
                          "limit", str(path))
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"grew over the {limit:,}-byte limit while read", str(path))
    return data


def commit(tmp: Path, target: Path) -> None:
    """Make the finished temporary file ``tmp`` durable and rename it to ``target``.

    Raises ``NotRegularFileError`` (leaving ``tmp`` for the caller to remove) when
    ``target`` is a device, FIFO, socket or directory: never renamed over.
    """
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    check_regular_target(target)
    os.replace(tmp, target)
    _fsync_dir(target.parent)


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write ``target``'s content to; commit it on success.

    On an exception the temporary file is removed and ``target`` is left untouched.
    Raises ``NotRegularFileError`` at once when ``target`` is no regular file.
    """
    target = Path(target)
    check_regular_target(target)
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
