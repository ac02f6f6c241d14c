"""Code-point kernels for ``prepare``: which rows a step can change, and the Arabic folding.

``prepare`` is defined by Arrow's kernels (``tests/unit/test_columnar.py`` runs every step
on every row as the reference). Two of its costs were regex passes that only *find* rows
(does a text hold a character NFKC or control removal would change?) and five regex
replacements for the Arabic folding. Both are per-code-point questions, answered here by
table lookups in one numba pass over the UTF-8 bytes: a row is flagged when any of its code
points is flagged in the table, and the folding maps each code point (delete, replace or
keep), which is what the regex passes do since none of them looks at a neighbour.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from swarmlens.classifier.model.hashing import _arrow_buffers, _jit, _utf8_at

CODE_POINTS = 0x110000
ARABIC_BLOCK = (0x0600, 0x06FF)


def table_of(ranges: tuple[tuple[int, int], ...]) -> np.ndarray:
    """A uint8 table over every code point: 1 inside one of ``ranges`` (inclusive)."""
    table = np.zeros(CODE_POINTS, np.uint8)
    for low, high in ranges:
        table[low : high + 1] = 1
    return table


def flagged_rows(texts: pa.Array, table: np.ndarray) -> np.ndarray:
    """Bool per row of ``texts`` (no nulls): whether it holds a code point ``table`` flags."""
    offsets, data, _ = _arrow_buffers(texts)
    return _flagged_rows(offsets, data, table).astype(bool)


@_jit
def _flagged_rows(offsets, data, table):
    n = offsets.size - 1
    out = np.zeros(n, np.uint8)
    for r in range(n):
        p, end = offsets[r], offsets[r + 1]
        while p < end:
            b = data[p]
            if b < 0x80:  # ASCII: one byte, no decoding
                if table[b]:
                    out[r] = 1
                    break
                p += 1
                continue
            c, width = _utf8_at(data, p)
            if table[c]:
                out[r] = 1
                break
            p += width
    return out


def mapped(texts: pa.Array, mapping: np.ndarray) -> pa.Array:
    """``texts`` (no nulls) with each code point c of the Arabic block replaced by
    ``mapping[c - 0x600]``: -1 deletes it, any other value is the code point written
    (two UTF-8 bytes, inside the block). Other code points are copied."""
    offsets, data, _ = _arrow_buffers(texts)
    new_offsets, new_data = _mapped(offsets, data, mapping)
    size = int(new_offsets[-1])
    if size >= 2**31:
        return pa.Array.from_buffers(pa.large_string(), len(texts), [
            None, pa.py_buffer(new_offsets), pa.py_buffer(new_data[:size])]).cast(pa.string())
    return pa.Array.from_buffers(pa.string(), len(texts), [
        None, pa.py_buffer(new_offsets.astype(np.int32)), pa.py_buffer(new_data[:size])])


@_jit
def _mapped(offsets, data, mapping):
    n = offsets.size - 1
    out = np.empty(max(1, offsets[n] - offsets[0]), np.uint8)  # mapping never lengthens
    new_offsets = np.zeros(n + 1, np.int64)
    nb = 0
    for r in range(n):
        p, end = offsets[r], offsets[r + 1]
        while p < end:
            b = data[p]
            # the block's code points are the 2-byte sequences with lead byte D8-DB
            if 0xD8 <= b <= 0xDB and p + 1 < end:
                c = ((np.int64(b) & 0x1F) << 6) | (data[p + 1] & 0x3F)
                m = mapping[c - 0x600]
                if m >= 0:
                    out[nb] = 0xC0 | (m >> 6)
                    out[nb + 1] = 0x80 | (m & 0x3F)
                    nb += 2
                p += 2
                continue
            out[nb] = b
            nb += 1
            p += 1
        new_offsets[r + 1] = nb
    return new_offsets, out
