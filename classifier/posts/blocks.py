"""JSONL by blocks of whole lines: the archive reader, with no Python per line.

``sources.iter_raw`` hands JSONL on line by line, which costs a few microseconds of
Python per record (readline, the generator, a tuple, then pickling the tuples to a
scoring worker), as much as parsing the record. Asked for blocks, it reads a file in
pieces (decompressed), cuts them at line ends with numpy and hands on ``LineBlock``s of
at most N records: one bytes object per block, which Arrow's JSON reader parses whole and
which pickles to a worker as one string. Line numbers, which lines are records (blank
lines are not), the byte-order mark and what a truncated gzip stream leaves are those of
the line-by-line reader, which stays the definition (``LineBlock.lines`` gives a block's
records exactly as it would; the tests compare the two on hostile files).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import numpy as np

PIECE_BYTES = 1 << 20
"""Decompressed bytes gathered before lines are cut: big enough to amortise numpy."""
# bytes.strip() whitespace: a line made only of these is blank, not a record.
_SPACE_CODES = np.frombuffer(b" \t\n\r\x0b\x0c", np.uint8)


@dataclass(frozen=True, slots=True)
class LineBlock:
    """Consecutive whole lines of a JSONL file, not yet parsed.

    first_line: the file's line number (1-based) of the block's first line.
    data: the lines, each ending in b"\\n", blank lines included (they keep the numbering).
    records: how many of the lines are records (not blank).
    """

    first_line: int
    data: bytes
    records: int
    open_end: bool = False  # the file's last line had no b"\n" (``data`` ends in an added one)

    def lines(self) -> list[tuple[int, bytes]]:
        """(line number, line) of each record, as the line-by-line reader gives them."""
        found = []
        for number, line in enumerate(self.data.split(b"\n")[:-1], start=self.first_line):
            if line.strip():
                found.append((number, line + b"\n"))
        if self.open_end and found and found[-1][0] == self.first_line + self.data.count(
                b"\n") - 1:  # the last line is a record: hand it on as it was, unended
            found[-1] = (found[-1][0], found[-1][1][:-1])
        return found

    def split(self, records: int) -> list[LineBlock]:
        """The block as consecutive blocks of at most ``records`` records each."""
        if self.records <= records:
            return [self]
        ends, is_record = line_table(self.data)
        blocks = []
        for first, last, count in _cuts(np.cumsum(is_record), records):
            if not count:  # only blank lines after the last record
                continue
            start = int(ends[first - 1]) + 1 if first else 0
            blocks.append(LineBlock(self.first_line + first,
                                    self.data[start : int(ends[last]) + 1], count,
                                    self.open_end and last == len(ends) - 1))
        return blocks


def line_table(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(offset of each line's b"\\n", whether the line is a record) for whole lines."""
    codes = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(codes == 10)
    starts = np.empty_like(ends)
    starts[:1] = 0
    starts[1:] = ends[:-1] + 1
    # A line is a record when its first byte is not whitespace (the usual case); a line
    # that starts with whitespace is decided by strip(), as the line-by-line reader does.
    is_record = ~np.isin(codes[starts], _SPACE_CODES)
    for line in np.flatnonzero(~is_record & (ends > starts)):
        is_record[line] = bool(data[starts[line] : ends[line]].strip())
    return ends, is_record


def _cuts(cumulative: np.ndarray, records: int) -> Iterator[tuple[int, int, int]]:
    """(first line, last line, records) of each block of ``records`` records; the last
    block takes the lines left (trailing blank lines with it)."""
    first, done = 0, 0
    while first < len(cumulative):
        last = int(np.searchsorted(cumulative, done + records))
        if last >= len(cumulative) - 1:
            yield first, len(cumulative) - 1, int(cumulative[-1]) - done
            return
        yield first, last, records
        first, done = last + 1, done + records


def jsonl_blocks(
    handle: IO[bytes], position: object, records: int
) -> Iterator[tuple[int, LineBlock]]:
    """(first line, block) for every ``records`` records of an open JSONL stream.

    handle: the stream past any byte-order mark (``sources`` opens it, plain or gzip).
    position: a ``sources.ReadPosition``; its ``line`` is kept at the last whole line
        read, so that a stream error raised from here can say where it struck. The
        lines read before such an error are handed on first.
    records: records per block (the last block of the file may hold fewer).
    """
    parts: list[bytes] = []  # the open block's lines
    first_line, held, next_line = 1, 0, 1
    tail: list[bytes] = []  # the line begun but not ended (kept in pieces: a long line
    failure: Exception | None = None  # is joined once, not once per piece)
    while failure is None:
        piece, failure = _piece(handle)
        if not piece:
            break
        cut = piece.rfind(b"\n") + 1
        if not cut:
            tail.append(piece)
            continue
        whole = b"".join([*tail, piece[:cut]])
        tail = [piece[cut:]] if cut < len(piece) else []
        ends, is_record = line_table(whole)
        cumulative = np.cumsum(is_record)
        start = used = 0  # bytes and records of ``whole`` already in blocks
        while True:
            last = int(np.searchsorted(cumulative, used + records - held))
            if last >= len(cumulative):  # the block stays open
                parts.append(whole[start:])
                held += int(cumulative[-1]) - used
                break
            stop = int(ends[last]) + 1
            parts.append(whole[start:stop])
            yield first_line, LineBlock(first_line, b"".join(parts), records)
            used += records - held
            parts, held, start = [], 0, stop
            first_line = next_line + last + 1
        next_line += len(ends)
        position.line = next_line - 1  # type: ignore[attr-defined]
    if failure is not None:  # hand on the lines read before it, then let the caller say
        if held:
            yield first_line, LineBlock(first_line, b"".join(parts), held)
        raise failure
    last_line = b"".join(tail)
    if last_line:  # a last line without its b"\n": one is added, and the block says so
        parts.append(last_line + b"\n")
        held += bool(last_line.strip())
    if held:
        yield first_line, LineBlock(first_line, b"".join(parts), held, bool(last_line))


def _piece(handle: IO[bytes]) -> tuple[bytes, Exception | None]:
    """About ``PIECE_BYTES`` of the stream, and the error that stopped reading, if any.

    Read by ``read1()``: what one inner read produced (what the line reader's buffer
    takes at a time), so a stream error loses what it would lose line by line, no more.
    """
    pieces: list[bytes] = []
    size = 0
    while size < PIECE_BYTES:
        try:
            got = handle.read1()  # type: ignore[attr-defined]
        except Exception as exc:  # the caller's reader decides what is a stream error
            return b"".join(pieces), exc
        if not got:
            break
        pieces.append(got)
        size += len(got)
    return b"".join(pieces), None
