"""Decision scores straight from text: n-gram hashing, TF-IDF and the linear product fused.

``linear.features`` builds the model's input as a sparse matrix (hashed counts per family,
TF-IDF, L2 per family, blocks side by side) and multiplies it by the weights. Scoring only
needs the product, so this kernel computes it row by row as the counts come out of a
per-post hash table (the matrix path sorts instead: CSR wants sorted columns), never
materialising the matrix: one pass over the text for both
families (they share the decoded, lowercased buffer when their case settings agree), no
CSR buffers, no TF-IDF pass, no scipy product. Each column's idf and weights are read
from a ``ScoringTable``, which stores each distinct row once. The matrix path stays for
training and explanations; ``tests/unit/test_columnar.py`` checks both give the same scores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa

from swarmlens.classifier.kernels import arrow_buffers, checked_kernel, kernel
from swarmlens.classifier.model.hashing import (
    K_CHAR,
    K_WORD,
    ONE,
    U,
    count_ngrams,
    decode_words,
    join_words,
    kernel_tables,
    scratch_size,
    sort_count,
)

_LOG_TF = np.log(np.maximum(np.arange(256, dtype=np.float64), 1.0)) + 1.0  # 1 + log(count)


@kernel
def _accumulate(indices, values, m, rows, index, offset, sublinear, weight, out, r):
    """Add one family's L2-normalised TF-IDF row (m distinct buckets) times the weights:
    out[r] += weight * (x / |x|) @ W, with x = tf * idf per bucket.
    rows[index[offset + i]] = (idf, weight of class 0, class 1, ...) of bucket i (see
    ``ScoringTable``): what this loop waits on is these two memory accesses per bucket.
    The products are summed in the same pass as |x|^2 and scaled once at the end; with
    three classes (the usual case) the sums stay in registers, instead of a load and a
    store of out[r] per bucket."""
    k = rows.shape[1] - 1
    norm2 = s0 = s1 = s2 = 0.0
    for t in range(m):
        v = values[t]
        if sublinear:  # counts are small integers: a table saves a log call per n-gram
            c = np.int64(v)
            v = _LOG_TF[c] if c < _LOG_TF.size else np.log(v) + 1.0
        row = U(index[U(offset + indices[t])])  # unsigned: no negative-index wraparound
        v *= rows[row, 0]
        norm2 += v * v
        if k == 3:
            s0 += v * rows[row, 1]
            s1 += v * rows[row, 2]
            s2 += v * rows[row, 3]
        else:
            values[t] = v
    if norm2 == 0.0:
        return
    scale = weight / np.sqrt(norm2)
    if k == 3:
        out[r, 0] += s0 * scale
        out[r, 1] += s1 * scale
        out[r, 2] += s2 * scale
        return
    for c in range(k):
        s = 0.0
        for t in range(m):
            s += values[t] * rows[U(index[U(offset + indices[t])]), c + 1]
        out[r, c] += s * scale


_MAX_PROBES = 32
"""Linear-probing steps allowed per key in ``_hash_count``; beyond, the row is sorted."""
_TABLE_SIZE = 1 << 16
"""Entries of the counting table: a post with more than half as many n-grams is sorted."""


@checked_kernel
def _hash_count(keys, nt, slots, positions, indices, values):
    """The distinct keys[:nt] with their counts in indices/values (first-seen order), by an
    open-addressing table (``slots``, ``positions``: 2**b >= 2 nt entries, which stay in L1/L2
    for a post) - a third of the cost of sorting. Returns the number of distinct keys, or
    -1 when a key needed more than ``_MAX_PROBES`` steps: keys are unkeyed hashes, so
    crafted text could pile them onto one slot, and the caller then sorts instead (worst
    case n log n, never n squared)."""
    if nt > keys.size or nt > indices.size or nt > values.size:  # no numba checks here
        raise IndexError("_hash_count: more keys than room for them")
    size = 16
    while size < 2 * nt:
        size *= 2
    if size > slots.size or size > positions.size:
        return -1
    low = U(size - 1)  # unsigned slots: numba adds no negative-index wraparound
    slots[:size] = -1
    m = 0
    for t in range(nt):
        k = keys[t]
        s = U(k) & low
        steps = 0
        while slots[s] != -1 and slots[s] != k:
            s = (s + ONE) & low
            steps += 1
            if steps > _MAX_PROBES:
                return -1
        if slots[s] == -1:
            slots[s] = k
            positions[s] = m
            indices[m] = k
            values[m] = 1.0
            m += 1
        else:
            values[U(positions[s])] += 1.0
    return m


@kernel
def _distinct(keys, tmp, nt, hist, log2nf, indices, values, slots, positions):
    m = _hash_count(keys, nt, slots, positions, indices, values)
    return m if m >= 0 else sort_count(keys, tmp, nt, hist, log2nf, indices, values, 0)


@kernel
def _score_kernel(offsets, data, valid, tabs, char_cfg, word_cfg, n_features, rows, index,
                  sublinear, word_weight):
    """Decision scores without intercept, float64 (n, classes); see ``decision_scores``."""
    clo, chi, cmode, clower = char_cfg
    wlo, whi, wlower = word_cfg
    n = offsets.size - 1
    out = np.zeros((n, rows.shape[1] - 1), np.float64)
    size = scratch_size(np.max(offsets[1:] - offsets[:-1]) if n else 0)
    cbuf, wbuf, jbuf, cwf, wwf = np.zeros((5, size), np.uint8)
    ccpo, wcpo, seg, ts, te = np.empty((5, size + 1), np.int64)
    hs = np.empty(size, np.uint64)
    keys = np.empty(size * (chi - clo + whi - wlo + 3), np.int64)
    tmp = np.empty_like(keys)
    indices, values = np.empty(keys.size, np.int32), np.empty(keys.size, np.float64)
    mask = U(n_features - 1)
    log2nf = 1
    while (1 << log2nf) < n_features:
        log2nf += 1
    hist = np.empty(min(n_features, 4 * keys.size) + 2, np.int64)
    slots = np.empty(_TABLE_SIZE, np.int64)
    positions = np.empty(_TABLE_SIZE, np.int32)
    for r in range(n):
        if valid.size and not valid[r]:
            continue
        ncp = 0
        if chi > 0:
            nt = 0
            ncp, nseg = decode_words(data, offsets[r], offsets[r + 1], clower, cmode, tabs,
                                   cbuf, ccpo, cwf, seg)
            if cmode == 0:
                nt = count_ngrams(cbuf, ccpo, ccpo, 1, 0, ncp, clo, chi, K_CHAR, mask, keys, nt, hs)
            for g in range(nseg):
                a, b = seg[g], seg[g + 1] if g + 1 < nseg else ncp
                lo = min(clo, b - a)
                nt = count_ngrams(cbuf, ccpo, ccpo, 1, a, b, lo, max(chi, lo), K_CHAR, mask, keys,
                             nt, hs)
            m = _distinct(keys, tmp, nt, hist, log2nf, indices, values, slots, positions)
            _accumulate(indices, values, m, rows, index, 0, sublinear, 1.0, out, r)
        if whi > 0:
            if chi > 0 and clower == wlower:
                ntok = join_words(cbuf, ccpo, cwf, ncp, jbuf, ts, te)
            else:
                ncp, _ = decode_words(data, offsets[r], offsets[r + 1], wlower, 2, tabs,
                                    wbuf, wcpo, wwf, seg)
                ntok = join_words(wbuf, wcpo, wwf, ncp, jbuf, ts, te)
            nt = count_ngrams(jbuf, ts, te, 0, 0, ntok, wlo, whi, K_WORD, mask, keys, 0, hs)
            m = _distinct(keys, tmp, nt, hist, log2nf, indices, values, slots, positions)
            # the word block always follows the char block (see ``linear.feature_specs``)
            _accumulate(indices, values, m, rows, index, n_features, sublinear, word_weight,
                        out, r)
    return out


class ScoringTable(NamedTuple):
    """The idf and weights of each hashed column, each distinct row stored once.

    The dense table would have row j = (idf of column j, weight of column j for each
    class). rows: float32 (distinct rows, classes + 1), each distinct row once, in order of
    first appearance. index: uint16 (when there are at most 65,536 distinct rows) or
    uint32, one entry per column: ``rows[index[j]]`` is row j, bit for bit.

    Why: the dense table of a model with 2 x 2**20 hashed columns is 32 MB, and each
    n-gram of a post reads a random row of it, which misses the CPU caches. Most columns
    hold no weight (no training post had their n-grams, or only posts that other columns
    describe as well), so they differ only by their idf: a model trained on the demo
    corpus has ~7,000 distinct rows (110 KB) and a 4 MB index. A model trained on far more
    data has more distinct rows, up to the dense table plus its index.
    """

    rows: np.ndarray
    index: np.ndarray

    def lookup(self, columns: np.ndarray, field: int) -> np.ndarray:
        """One field of each of ``columns``: 0 is the idf, 1 + c the weight for class c."""
        return self.rows[self.index[columns], field]


def scoring_table(idf: Sequence[np.ndarray], coef: np.ndarray) -> ScoringTable:
    """The ``ScoringTable`` of these idf and weights, without building the dense table.

    idf: the idf vector of each family (char block first); coef: (classes, columns).
    """
    idf_bits = np.concatenate([np.asarray(v, np.float32) for v in idf]).view(np.uint32)
    coef_bits = np.ascontiguousarray(coef, np.float32).view(np.uint32)
    if coef_bits.ndim != 2 or coef_bits.shape[1] != idf_bits.size or not idf_bits.size:
        raise ValueError("a scoring table needs one idf and one weight per class per column")
    index, rows = _distinct_rows(idf_bits, coef_bits)
    if len(rows) <= 1 << 16:
        index = index.astype(np.uint16)
    return ScoringTable(rows.view(np.float32), index)


_GOLDEN = U(0x9E3779B97F4A7C15)  # 2**64 / golden ratio: spreads the row hashes


@kernel
def _distinct_rows(idf_bits, coef_bits):
    """(index uint32: the number of each column's row among the distinct rows, rows
    uint32 (distinct, classes + 1): the distinct rows' bits) of the dense table whose row
    j is (idf_bits[j], coef_bits[0, j], coef_bits[1, j]...). An open-addressing table of
    the distinct rows, doubled when half full: it stays small (and in cache) when few
    rows are distinct, which is the case it is for."""
    k, n = coef_bits.shape
    index = np.empty(n, np.uint32)
    rows = np.empty((64, k + 1), np.uint32)
    hashes = np.empty(64, np.uint64)
    size = 1 << 10
    slots = np.full(size, -1, np.int64)
    count = 0
    for j in range(n):
        h = (U(idf_bits[j]) + ONE) * _GOLDEN
        for c in range(k):
            h = (h ^ U(coef_bits[c, j])) * _GOLDEN
        h ^= h >> U(29)
        s = h & U(size - 1)
        found = -1
        while slots[s] != -1:
            d = slots[s]
            if hashes[d] == h and rows[d, 0] == idf_bits[j]:
                same = True
                for c in range(k):
                    same &= rows[d, c + 1] == coef_bits[c, j]
                if same:
                    found = d
                    break
            s = (s + ONE) & U(size - 1)
        if found >= 0:
            index[j] = found
            continue
        if count == hashes.size:
            more_r, more_h = np.empty((2 * count, k + 1), np.uint32), np.empty(2 * count, np.uint64)
            more_r[:count], more_h[:count] = rows, hashes
            rows, hashes = more_r, more_h
        rows[count, 0] = idf_bits[j]
        for c in range(k):
            rows[count, c + 1] = coef_bits[c, j]
        hashes[count], slots[s], index[j] = h, count, count
        count += 1
        if 2 * count > size:  # rehash into a table twice the size
            size *= 2
            slots = np.full(size, -1, np.int64)
            for d in range(count):
                s = hashes[d] & U(size - 1)
                while slots[s] != -1:
                    s = (s + ONE) & U(size - 1)
                slots[s] = d
    return index, rows[:count].copy()


def decision_scores(
    prepared: Sequence[str] | pa.Array, params: Mapping[str, Any], table: ScoringTable
) -> np.ndarray:
    """``features(texts) @ coef.T`` for texts already through ``prepare``, fused.

    prepared: the prepared texts (Arrow string array or strings). params: the model's
    feature parameters. table: ``scoring_table(idf, coef)``.
    Returns float64 (len(texts), classes), intercept not added.
    """
    if not isinstance(table, ScoringTable):
        raise TypeError("decision_scores takes a ScoringTable: scoring_table(idf, coef)")
    offsets, data, valid = arrow_buffers(prepared)
    char = tuple(params["char_ngram_range"]) != (0, 0)
    words = tuple(params["word_ngram_range"]) != (0, 0)
    clo, chi = params["char_ngram_range"] if char else (0, 0)
    wlo, whi = params["word_ngram_range"] if words else (0, 0)
    char_cfg = (clo, chi, int(params["char_mode"] == "char_wb"), params["char_lowercase"])
    word_cfg = (wlo, whi, params["word_lowercase"])
    return _score_kernel(offsets, data, valid, kernel_tables(), char_cfg, word_cfg,
                         int(params["n_features"]), table.rows, table.index,
                         bool(params["sublinear_tf"]), float(params["word_weight"]))
