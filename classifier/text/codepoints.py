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

from swarmlens.classifier.kernels import kernel
from swarmlens.classifier.model.hashing import _arrow_buffers, _utf8_at

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


@kernel
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
    return _string_array(*_mapped(offsets, data, mapping))


def _string_array(offsets: np.ndarray, data: np.ndarray) -> pa.Array:
    """A string array (no nulls) from int64 offsets starting at 0 and UTF-8 bytes."""
    size = int(offsets[-1])
    if size >= 2**31:  # beyond int32 offsets: built large, then cast (Arrow says if it fits)
        return pa.Array.from_buffers(pa.large_string(), len(offsets) - 1, [
            None, pa.py_buffer(offsets), pa.py_buffer(data[:size])]).cast(pa.string())
    return pa.Array.from_buffers(pa.string(), len(offsets) - 1, [
        None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data[:size])])


@kernel
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


def masked_mentions(texts: pa.Array, token: str) -> tuple[pa.Array, np.ndarray]:
    """``texts`` (no nulls) with each mention ``(^|[^\\pL\\pN\\pM_.@])@[\\pL\\pN\\pM_]+``
    replaced by its first group and ``token``, decided for rows whose mentions have only
    ASCII around them; and the rows it could not decide (a non-ASCII character where the
    pattern asks whether it is a letter, digit or mark), which the caller hands to RE2.
    Those rows hold their text unchanged here."""
    offsets, data, _ = _arrow_buffers(texts)
    word = np.zeros(128, np.uint8)  # ASCII [\pL\pN\pM_]
    word[[*range(48, 58), *range(65, 91), *range(97, 123), 95]] = 1
    new_offsets, new_data, unsure = _masked_mentions(
        offsets, data, word, np.frombuffer(token.encode(), np.uint8))
    return _string_array(new_offsets, new_data), unsure.astype(bool)


@kernel
def _masked_mentions(offsets, data, word, token):
    n = offsets.size - 1
    grow = token.size  # a match is >= 2 bytes ('@x'); the token adds at most this per match
    out = np.empty(max(1, (offsets[n] - offsets[0]) * (1 + grow // 2) + 1), np.uint8)
    new_offsets = np.zeros(n + 1, np.int64)
    unsure = np.zeros(n, np.uint8)
    nb = 0
    for r in range(n):
        start, end = offsets[r], offsets[r + 1]
        row_start = nb
        p = start
        while p < end:
            b = data[p]
            # A match starts here with '@' (at the text's start) or with the character
            # before an '@'; both need the character after the '@' to be a word character.
            at = -1
            if b == 64 and p == start:
                at = p
            elif p + 1 < end and data[p + 1] == 64:
                if b >= 0x80:  # is it a letter? only RE2 knows its tables
                    if p + 2 < end:
                        unsure[r] = 1
                        break
                elif not word[b] and b != 46 and b != 64:
                    at = p + 1
            if at >= 0 and at + 1 < end:
                q = at + 1
                if data[q] >= 0x80:
                    unsure[r] = 1
                    break
                if word[data[q]]:
                    while q < end and data[q] < 0x80 and word[data[q]]:
                        q += 1
                    if q < end and data[q] >= 0x80:  # does the handle go on?
                        unsure[r] = 1
                        break
                    if at > p:  # keep the character before the '@'
                        out[nb] = b
                        nb += 1
                    for t in range(token.size):
                        out[nb + t] = token[t]
                    nb += token.size
                    p = q
                    continue
            out[nb] = b
            nb += 1
            p += 1
        if unsure[r]:  # copied unchanged; the caller decides the row with RE2
            nb = row_start
            for p in range(start, end):
                out[nb] = data[p]
                nb += 1
        new_offsets[r + 1] = nb
    return new_offsets, out, unsure
