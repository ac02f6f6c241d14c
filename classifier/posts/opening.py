"""Opening input files: plain or gzip (by content, not by name), past a UTF-8 byte order
mark, with the bytes read counted for progress (``ReadPosition``).

The stage below ``sources`` (which splits files into records) and ``documents`` (JSON
documents): it knows bytes, not formats. ``STREAM_ERRORS`` are the exceptions a damaged
gzip stream raises while read, which the readers turn into one reject.
"""

from __future__ import annotations

import gzip
import io
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from isal import igzip, isal_zlib

_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"  # a UTF-8 byte order mark: Windows tools write one; JSON parsers refuse it


@dataclass(slots=True)
class ReadPosition:
    """How far a reader got: last line (or record), so a stream error can say where it
    struck, and bytes of the file read, for progress."""

    line: int = 0
    bytes: int = 0



class _CountingReader(io.RawIOBase):
    """A raw file that records in ``position.bytes`` how far into the file reading got."""

    def __init__(self, path: Path, position: ReadPosition) -> None:
        self._file = path.open("rb", buffering=0)
        self._position = position

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._file.readinto(buffer)
        self._position.bytes += count or 0
        return count  # type: ignore[return-value]

    def close(self) -> None:
        self._file.close()
        super().close()


def open_binary(path: Path, position: ReadPosition | None = None) -> IO[bytes]:
    """Open ``path`` for reading bytes, decompressing gzip when the content is gzip.

    path: the file. position: when given, its ``bytes`` counts the file's
    (compressed) bytes read.
    """
    with path.open("rb") as probe:
        is_gzip = probe.read(2) == _GZIP_MAGIC
    raw = _CountingReader(path, position if position is not None else ReadPosition())
    buffered = io.BufferedReader(raw, buffer_size=1 << 20)
    if is_gzip:
        return io.BufferedReader(_Gunzip(path, buffered), buffer_size=1 << 20)
    return buffered


STREAM_ERRORS = (EOFError, zlib.error, isal_zlib.error, gzip.BadGzipFile)


class _Gunzip(io.RawIOBase):
    """gzip decompressed by ISA-L (3-4x zlib's speed); on a stream error, Python's gzip
    takes over where ISA-L got to. ISA-L drops what it decompressed in the read that met
    the damage (up to a buffer of records, even when only the trailer is damaged); zlib
    hands on every byte before it, so the records kept are those zlib would keep, and
    the error raised is zlib's."""

    def __init__(self, path: Path, compressed: IO[bytes]) -> None:
        self._path = path
        self._fast: IO[bytes] | None = igzip.IGzipFile(fileobj=compressed, mode="rb")
        self._slow: IO[bytes] | None = None
        self._handed_on = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._fast is not None:
            try:
                count = self._fast.readinto(buffer)  # type: ignore[attr-defined]
            except STREAM_ERRORS:
                self._fast.close()
                self._fast = None
                self._slow = gzip.GzipFile(self._path, "rb")
                skip = self._handed_on
                while skip:  # re-inflate what was handed on (zlib errors here propagate)
                    got = self._slow.read(min(skip, 1 << 20))
                    if not got:
                        raise EOFError("compressed file ended early") from None
                    skip -= len(got)
            else:
                self._handed_on += count
                return count
        # read1: one inner read at a time, so the error comes only once nothing is left
        data = self._slow.read1(len(buffer))  # type: ignore[union-attr]
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        for stream in (self._fast, self._slow):
            if stream is not None:
                stream.close()
        super().close()


def skip_bom(handle: IO[bytes]) -> IO[bytes]:
    """``handle`` past a UTF-8 byte order mark at its start, if there is one."""
    if handle.peek(3)[:3] == _BOM:  # type: ignore[attr-defined]
        handle.read(3)
    return handle
