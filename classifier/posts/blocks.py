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

from swarmlens.classifier.posts.rejects import Rejected

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
    handle: IO[bytes], position: object, records: int, source: str = ""
) -> Iterator[tuple[int, LineBlock | Rejected]]:
    """(first line, block) for every ``records`` records of an open JSONL stream.

    handle: the stream past any byte-order mark (``sources`` opens it, plain or gzip).
    position: a ``sources.ReadPosition``; its ``line`` is kept at the last whole line
        read, so that a stream error raised from here can say where it struck. The
        lines read before such an error are handed on first.
    records: records per block (the last block of the file may hold fewer).
    source: the file's name, for the reject of a line over ``MAX_LINE_BYTES``.

    Memory stays bounded whatever the stream holds: a line over ``MAX_LINE_BYTES`` is read
    past in pieces and comes as one ``Rejected`` (line number, reason), never joined;
    blank lines before a block's first record are only counted; and a block whose bytes
    pass ``MAX_BLOCK_BYTES`` is handed on early, the next one taking the records it
    lacked, so that blocks still end every ``records`` records (where batch jobs cut
    their chunks). Lines within one piece are shorter than any cap: only a line begun in
    an earlier piece is measured, so there is no check per line.
    """
    reader = _BlockReader(records, source)
    failure: Exception | None = None
    while failure is None:
        piece, failure = _piece(handle)
        if not piece:
            break
        yield from reader.feed(piece)
        position.line = reader.next_line - 1  # type: ignore[attr-defined]
    if failure is not None:  # hand on the lines read before it, then let the caller say
        yield from reader.flush()
        raise failure
    yield from reader.finish()


MAX_LINE_BYTES = 64 << 20
"""Bytes of one JSONL line (64 MiB): a longer line is one reject, read past in pieces and
never held whole (a gzip bomb of one endless line). A line of the largest API record (a
Twitter v2 page of 500 tweets with its includes) is a few MB. At least two pieces
(``2 * PIECE_BYTES``), so that a line too long is always one begun in an earlier piece."""
MAX_BLOCK_BYTES = 256 << 20
"""Bytes of one block (256 MiB) before it is handed on early: records scattered among
millions of blank lines, or pages of megabytes each, never pile up in memory."""


class _BlockReader:
    """The state of ``jsonl_blocks``: the open block, the line begun, the line numbers."""

    def __init__(self, records: int, source: str) -> None:
        self.records = records
        self.source = source
        self.parts: list[bytes] = []  # the open block's lines
        self.size = 0  # bytes in ``parts``
        self.held = 0  # records in ``parts``
        self.early = 0  # records of the current ``records`` handed on early
        self.first_line = 1  # line number of the open block's first line
        self.next_line = 1  # line number of the first line not yet cut
        self.tail: list[bytes] = []  # the line begun but not ended (kept in pieces: a
        self.tail_size = 0  # long line is joined once, not once per piece)
        self.overlong = 0  # line number of a line over MAX_LINE_BYTES being read past

    def feed(self, piece: bytes) -> Iterator[tuple[int, LineBlock | Rejected]]:
        if self.overlong:
            end = piece.find(b"\n")
            if end < 0:
                return  # still inside the over-long line: dropped
            yield from self._reject_overlong()
            piece = piece[end + 1 :]
        elif self.tail:
            end = piece.find(b"\n")
            if self.tail_size + (end if end >= 0 else len(piece)) > MAX_LINE_BYTES:
                self.tail, self.tail_size = [], 0
                self.overlong = self.next_line
                if end < 0:
                    return
                yield from self._reject_overlong()
                piece = piece[end + 1 :]
        cut = piece.rfind(b"\n") + 1
        if not cut:
            if piece:
                self.tail.append(piece)
                self.tail_size += len(piece)
            return
        whole = b"".join([*self.tail, piece[:cut]])
        self.tail = [piece[cut:]] if cut < len(piece) else []
        self.tail_size = len(piece) - cut
        yield from self._lines(whole)

    def _lines(self, whole: bytes) -> Iterator[tuple[int, LineBlock]]:
        if whole[:1].isspace() and not whole.strip():
            # A piece of blank lines only (a megabyte: no archive has such runs, a gzip bomb
            # of newlines does): the open block is handed on early, and the blank lines are
            # counted, at C speed, never kept.
            yield from self._hand_on(self.next_line, early=True)
            self.next_line += whole.count(b"\n")
            self.first_line = self.next_line
            return
        ends, is_record = line_table(whole)
        cumulative = np.cumsum(is_record)
        start = used = 0  # bytes and records of ``whole`` already in blocks
        while True:
            wanted = self.records - self.early - self.held
            last = int(np.searchsorted(cumulative, used + wanted))
            if last >= len(cumulative):  # the block stays open
                rest = int(cumulative[-1]) - used
                if rest == 0 and self.held == 0:  # blank lines only: their count is enough
                    self.first_line = self.next_line + len(ends)
                    break
                self.parts.append(whole[start:])
                self.size += len(whole) - start
                self.held += rest
                if self.size > MAX_BLOCK_BYTES:
                    yield from self._hand_on(self.next_line + len(ends), early=True)
                break
            stop = int(ends[last]) + 1
            self.parts.append(whole[start:stop])
            self.held += wanted
            yield from self._hand_on(self.next_line + last + 1, early=False)
            used += wanted
            start = stop
        self.next_line += len(ends)

    def _hand_on(self, next_first: int, early: bool) -> Iterator[tuple[int, LineBlock]]:
        """Yield the open block (if it holds a record); the next one starts at line
        ``next_first``. ``early``: the block holds fewer records than asked for."""
        if self.held:
            yield self.first_line, LineBlock(self.first_line, b"".join(self.parts), self.held)
        self.early = (self.early + self.held) % self.records if early else 0
        self.parts, self.size, self.held = [], 0, 0
        self.first_line = next_first

    def _reject_overlong(self) -> Iterator[tuple[int, LineBlock | Rejected]]:
        line, self.overlong = self.overlong, 0
        yield from self._hand_on(line + 1, early=True)
        self.early = (self.early + 1) % self.records  # the reject is one of the records
        self.next_line = line + 1
        reason = (f"line is longer than {MAX_LINE_BYTES:,} bytes (the limit of one record); "
                  "it was read past, not kept")
        yield line, Rejected(self.source, line, reason, "")

    def flush(self) -> Iterator[tuple[int, LineBlock | Rejected]]:
        """The lines read so far (before a stream error): the open block, an over-long
        line being read past."""
        if self.overlong:
            yield from self._reject_overlong()
        elif self.held:
            yield self.first_line, LineBlock(self.first_line, b"".join(self.parts), self.held)

    def finish(self) -> Iterator[tuple[int, LineBlock | Rejected]]:
        """The end of the stream: the open block with the last line, if not ended."""
        if self.overlong:
            yield from self._reject_overlong()
            return
        last_line = b"".join(self.tail)
        held = self.held
        if last_line:  # a last line without its b"\n": one is added, and the block says so
            if not self.held and not last_line.strip():
                return
            self.parts.append(last_line + b"\n")
            held += bool(last_line.strip())
        if held:
            yield self.first_line, LineBlock(self.first_line, b"".join(self.parts), held,
                                             bool(last_line))


def _piece(handle: IO[bytes]) -> tuple[bytes, Exception | None]:
    """About ``PIECE_BYTES`` of the stream, and the error that stopped reading, if any.

    Read by ``read1()``: what one inner read produced (what the line reader's buffer
    takes at a time), so a stream error loses what it would lose line by line, no more.
    """
    pieces: list[bytes] = []
    size = 0
    while size < PIECE_BYTES:
        try:
            got = handle.read1(PIECE_BYTES)  # type: ignore[attr-defined]
        except Exception as exc:  # the caller's reader decides what is a stream error
            return b"".join(pieces), exc
        if not got:
            break
        pieces.append(got)
        size += len(got)
    return b"".join(pieces), None
