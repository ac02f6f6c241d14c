"""Output records as JSON lines, assembled by one compiled pass over the Arrow buffers.

A line is a fixed sequence of parts (the field order of ``OUTPUT_SCHEMA``): literal keys
and punctuation, strings to quote, lists of strings, and text that is JSON already (the
scores, which Arrow formats, and ``created_at``). ``_layout`` lays the parts out as flat
arrays and ``_lines`` writes every line in one pass, escaping as it copies, so no Python
runs per record and each byte is copied once, into a buffer that ``JsonlEncoder`` keeps
from batch to batch (``OutputWriter`` holds one).

Strings are escaped as ``json.dumps(value, ensure_ascii=False)`` escapes them, and
U+2028 / U+2029 too, because many line readers (``str.splitlines``, JavaScript) take them
for line ends: '"' and '\\' get a backslash, \\b \\t \\n \\f \\r their short escapes, the
other controls ``\\u00xx``, everything else (UTF-8 included) is copied as it is.
``tests/unit/test_columnar.py`` checks every line against ``json.dumps``.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from swarmlens.classifier.kernels import inline_kernel, kernel
from swarmlens.classifier.model.hashing import _arrow_buffers
from swarmlens.classifier.vocab import LABELS, OUTPUT_SCHEMA

_LITERAL, _STRING, _RAW, _LIST = 0, 1, 2, 3  # kinds of part
_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)
# short escapes of the controls json.dumps writes as \b \t \n \f \r (0: \u00xx)
_SHORT = np.zeros(32, np.uint8)
_SHORT[[8, 9, 10, 12, 13]] = np.frombuffer(b"btnfr", np.uint8)


@inline_kernel
def _quoted(out, nb, data, a, b, short, hexdigits):
    """Write data[a:b] (UTF-8) as a JSON string at out[nb] (at most 6 (b - a) + 2
    bytes); returns the end."""
    out[nb] = 34
    nb += 1
    p = a
    while p < b:
        c = data[p]
        if c >= 0x20 and c != 0x22 and c != 0x5C and c != 0xE2:  # the common case
            out[nb] = c
            nb += 1
        elif c == 0x22 or c == 0x5C:
            out[nb] = 0x5C
            out[nb + 1] = c
            nb += 2
        elif c == 0xE2:
            if p + 2 < b and data[p + 1] == 0x80 and (data[p + 2] == 0xA8 or data[p + 2] == 0xA9):
                out[nb], out[nb + 1], out[nb + 2] = 0x5C, 0x75, 0x32  # \u2
                out[nb + 3], out[nb + 4] = 0x30, 0x32  # 02
                out[nb + 5] = 0x38 if data[p + 2] == 0xA8 else 0x39  # 8 / 9
                nb += 6
                p += 3
                continue
            out[nb] = c
            nb += 1
        elif short[c]:
            out[nb] = 0x5C
            out[nb + 1] = short[c]
            nb += 2
        else:
            out[nb], out[nb + 1], out[nb + 2], out[nb + 3] = 0x5C, 0x75, 0x30, 0x30  # \u00
            out[nb + 4] = hexdigits[c >> 4]
            out[nb + 5] = hexdigits[c & 15]
            nb += 6
        p += 1
    out[nb] = 34
    return nb + 1


@inline_kernel
def _null(out, nb):
    out[nb], out[nb + 1], out[nb + 2], out[nb + 3] = 0x6E, 0x75, 0x6C, 0x6C  # null
    return nb + 4


@kernel
def _lines(n, kinds, refs, literals, literal_bounds, data, bounds, valid, lists, list_valid,
           short, hexdigits, out):
    """The bytes of n JSON lines, and their length. Each line is the parts kinds[k] /
    refs[k] in order:

    * _LITERAL: literal refs[k], literals[literal_bounds[refs[k], 0] : ...[refs[k], 1]];
    * _STRING / _RAW: string refs[k] + row, quoted / copied as it is (JSON already);
    * _LIST: the strings lists[refs[k] + row] .. lists[refs[k] + row + 1] - 1, quoted,
      as a JSON array, or null when list_valid[refs[k] + row] is 0.

    String s is data[bounds[s, 0] : bounds[s, 1]], or null when valid[s] is 0.
    out: where the lines go, as large as they may be at most (``_Layout.capacity``).
    Returns the number of bytes written, or -1 when out was too small (the kernel runs
    without bounds checks: each value checks its worst case before it is written)."""
    nb = 0
    for row in range(n):
        for k in range(kinds.size):
            kind, ref = kinds[k], refs[k]
            if kind == _LITERAL:
                a, b = literal_bounds[ref, 0], literal_bounds[ref, 1]
                if nb + b - a > out.size:
                    return -1
                for p in range(a, b):  # byte loops: a slice would cost more than a copy
                    out[nb] = literals[p]
                    nb += 1
            elif kind == _LIST:
                at = ref + row
                if nb + 4 > out.size:
                    return -1
                if not list_valid[at]:
                    nb = _null(out, nb)
                    continue
                out[nb] = 91  # [
                nb += 1
                for item in range(lists[at], lists[at + 1]):
                    a, b = bounds[item, 0], bounds[item, 1]
                    if nb + 6 * (b - a) + 8 > out.size:
                        return -1
                    if item > lists[at]:
                        out[nb] = 44  # ,
                        nb += 1
                    if valid[item]:
                        nb = _quoted(out, nb, data, a, b, short, hexdigits)
                    else:
                        nb = _null(out, nb)
                out[nb] = 93  # ]
                nb += 1
            else:
                s = ref + row
                a, b = bounds[s, 0], bounds[s, 1]
                if nb + 6 * (b - a) + 4 > out.size:
                    return -1
                if not valid[s]:
                    nb = _null(out, nb)
                elif kind == _RAW:
                    for p in range(a, b):
                        out[nb] = data[p]
                        nb += 1
                else:
                    nb = _quoted(out, nb, data, a, b, short, hexdigits)
    return nb


class _Layout:
    """The parts of a batch's lines, laid out as the flat arrays ``_lines`` reads."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.kinds: list[int] = []
        self.refs: list[int] = []
        self.literals: list[bytes] = []
        self.bounds: list[np.ndarray] = []  # per string array: (start, end) of each string
        self.valid: list[np.ndarray] = []
        self.data: list[np.ndarray] = []
        self.strings = 0  # strings laid out so far
        self.data_size = 0
        self.lists: list[np.ndarray] = []
        self.list_valid: list[np.ndarray] = []
        self.list_slots = 0

    def literal(self, text: str) -> None:
        if self.kinds and self.kinds[-1] == _LITERAL:  # one literal between two values
            self.literals[-1] += text.encode()
            return
        self.kinds.append(_LITERAL)
        self.refs.append(len(self.literals))
        self.literals.append(text.encode())

    def _strings(self, values: pa.Array) -> int:
        """Lay out a string array; returns the number of its first string."""
        offsets, data, valid = _arrow_buffers(values)
        first = self.strings
        self.bounds.append(np.stack([offsets[:-1], offsets[1:]], axis=1) + self.data_size)
        self.valid.append(valid if len(valid) else np.ones(len(values), np.uint8))
        self.data.append(data)
        self.strings += len(values)
        self.data_size += data.size
        return first

    def column(self, values: pa.Array, raw: bool = False) -> None:
        """A string column, quoted (or, ``raw``, copied: text that is JSON already)."""
        self.kinds.append(_RAW if raw else _STRING)
        self.refs.append(self._strings(values))

    def list_column(self, lists: pa.ListArray) -> None:
        """A list<string> column (``values`` ignores a slice's offset; ``offsets`` not)."""
        first = self._strings(lists.values)
        self.kinds.append(_LIST)
        self.refs.append(self.list_slots)
        self.lists.append(lists.offsets.to_numpy().astype(np.int64) + first)
        valid = lists.is_valid().to_numpy(zero_copy_only=False).astype(np.uint8)
        self.list_valid.append(np.append(valid, 0))  # one slot per offset
        self.list_slots += self.n + 1

    def capacity(self) -> int:
        """Bytes the lines may take at most: the literals of every line, the string bytes
        with room for their escapes (a control becomes 6 bytes, '"' and '\\' 2, U+2028
        and U+2029 6 instead of 3), per string its quotes or 'null' and a comma, per list
        its brackets or 'null'. Counted, not assumed: huge hostile texts must not make it
        huge. The kernel runs without bounds checks, so this must hold (tests check it);
        it checks each value's worst case (6 bytes a byte) before writing it, hence the
        room for the longest string at the end."""
        literal_bytes = sum(len(literal) for literal in self.literals)
        longest = max((int((b[:, 1] - b[:, 0]).max()) for b in self.bounds if len(b)), default=0)
        escapes = sum(5 * int(np.count_nonzero(d < 0x20)) + int(np.count_nonzero(d == 0x22))
                      + int(np.count_nonzero(d == 0x5C)) + 3 * int(np.count_nonzero(d == 0xE2))
                      for d in self.data)
        return (literal_bytes * self.n + self.data_size + escapes + 6 * self.strings
                + 4 * self.list_slots + 6 * longest + 16)

    def render(self, out: np.ndarray) -> int:
        """Write the lines into ``out`` (uint8, at least ``capacity()`` long); returns
        their length."""
        sizes = np.array([len(literal) for literal in self.literals], np.int64)
        literal_bounds = np.stack([np.cumsum(sizes) - sizes, np.cumsum(sizes)], axis=1)
        literals = np.frombuffer(b"".join(self.literals), np.uint8)
        bounds = np.concatenate(self.bounds) if self.bounds else np.zeros((1, 2), np.int64)
        data = np.concatenate(self.data) if self.data else np.zeros(1, np.uint8)
        valid = np.concatenate(self.valid) if self.valid else np.zeros(1, np.uint8)
        lists = np.concatenate(self.lists) if self.lists else np.zeros(1, np.int64)
        list_valid = np.concatenate(self.list_valid) if self.list_valid else np.zeros(1, np.uint8)
        size = _lines(self.n, np.array(self.kinds, np.int64), np.array(self.refs, np.int64),
                      literals, literal_bounds, data, bounds.astype(np.int64), valid, lists,
                      list_valid, _SHORT, _HEX, out)
        if size < 0:  # capacity() is an upper bound: this would be a bug, never bad input
            raise RuntimeError("JSONL buffer smaller than the lines: capacity() is wrong")
        return size


class JsonlEncoder:
    """Encodes output tables as JSON lines into a buffer it keeps: a file of many batches
    reuses the same memory (a fresh buffer per batch would cost its page faults again)."""

    def __init__(self) -> None:
        self._buffer = np.empty(0, np.uint8)

    def encode(self, table: pa.Table) -> memoryview:
        """The JSON lines of ``table`` (created_at as ISO 8601 'Z', scores rounded to
        1e-6): a view of the buffer, valid until the next call."""
        if table.num_rows == 0:
            return memoryview(b"")
        layout = _layout(table)
        if self._buffer.size < (need := layout.capacity()):
            self._buffer = np.empty(need, np.uint8)
        return memoryview(self._buffer)[: layout.render(self._buffer)]


def jsonl_bytes(table: pa.Table) -> bytes:
    """Output records as JSON lines (created_at as ISO 8601 'Z', scores rounded to 1e-6)."""
    return bytes(JsonlEncoder().encode(table))


def _layout(table: pa.Table) -> _Layout:
    """The parts of ``table``'s lines: its fields in ``OUTPUT_SCHEMA`` order."""
    table = table.combine_chunks()
    layout = _Layout(table.num_rows)
    for number, field in enumerate(OUTPUT_SCHEMA):
        column = table.column(field.name).chunk(0)
        layout.literal(("{" if number == 0 else ",") + json.dumps(field.name) + ":")
        if field.name == "scores":
            for j, label in enumerate(LABELS):
                layout.literal(("{" if j == 0 else ",") + json.dumps(label) + ":")
                rounded = pc.round(pc.cast(column.field(label), pa.float64()), 6)
                layout.column(pc.cast(rounded, pa.string()), raw=True)
            layout.literal("}")
        elif field.name == "created_at":
            layout.column(iso_seconds(column), raw=True)
        elif pa.types.is_list(field.type):
            layout.list_column(column)
        else:
            layout.column(column.cast(pa.string()))
    layout.literal("}\n")
    return layout


def iso_seconds(column: pa.Array) -> pa.Array:
    """'"YYYY-MM-DDTHH:MM:SSZ"' of each UTC timestamp ('null' for nulls), built with
    integer arithmetic on the whole column (strftime costs a microsecond a row)."""
    micros = pc.fill_null(column.cast(pa.int64()), 0).to_numpy()
    if len(micros) == 0 or micros.min() < 0 or micros.max() >= _YEAR_10000_MICROS:
        seconds = pc.cast(column, pa.timestamp("s", tz="UTC"), safe=False)  # 4-digit years
        text = pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%SZ")
        return pc.fill_null(pc.binary_join_element_wise('"', text, '"', ""), "null")
    secs = micros // 1_000_000
    days, clock = np.divmod(secs, 86_400)
    # Civil date from days since 1970-01-01 (H. Hinnant's algorithm, proleptic Gregorian).
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1_460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    out = np.frombuffer(b'"0000-00-00T00:00:00Z"' * len(micros), np.uint8).reshape(-1, 22).copy()
    for col, value, width in ((1, year, 4), (6, month, 2), (9, day, 2), (12, clock // 3600, 2),
                              (15, clock // 60 % 60, 2), (18, clock % 60, 2)):
        for k in range(width):
            out[:, col + width - 1 - k] += (value // 10**k % 10).astype(np.uint8)
    offsets = np.arange(0, 22 * len(micros) + 1, 22, dtype=np.int32)
    text = pa.Array.from_buffers(pa.string(), len(micros),
                                 [None, pa.py_buffer(offsets), pa.py_buffer(out)])
    return pc.if_else(pc.is_valid(column), text, "null")


_YEAR_10000_MICROS = 253_402_300_800_000_000  # 10000-01-01T00:00:00Z
