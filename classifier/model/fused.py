"""Decision scores straight from text: n-gram hashing, TF-IDF and the linear product fused.

``linear.features`` builds the model's input as a sparse matrix (hashed counts per family,
TF-IDF, L2 per family, blocks side by side) and multiplies it by the weights. Scoring only
needs the product, so this kernel computes it row by row as the counts come out of a
per-post hash table (the matrix path sorts instead: CSR wants sorted columns), never
materialising the matrix: one pass over the text for both
families (they share the decoded, lowercased buffer when their case settings agree), no
CSR buffers, no TF-IDF pass, no scipy product. The matrix path stays for training and
explanations; ``tests/unit/test_fused.py`` checks both give the same scores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from swarmlens.classifier.kernels import kernel
from swarmlens.classifier.model.hashing import (
    _K_CHAR,
    _K_WORD,
    _ONE,
    _PAD,
    _U,
    _arrow_buffers,
    _join_words,
    _ngrams,
    _normalize,
    _sort_count,
    _tables,
)

_LOG_TF = np.log(np.maximum(np.arange(256, dtype=np.float64), 1.0)) + 1.0  # 1 + log(count)


@kernel
def _accumulate(indices, values, m, packed, offset, sublinear, weight, out, r):
    """Add one family's L2-normalised TF-IDF row (m distinct buckets) times the weights:
    out[r] += weight * (x / |x|) @ W, with x = tf * idf per bucket.
    packed[offset + i] = (idf, weight of class 0, class 1, ...) of bucket i: one memory
    access per bucket, which is what this loop waits on. The products are summed in the
    same pass as |x|^2 and scaled once at the end; with three classes (the usual case)
    the sums stay in registers, instead of a load and a store of out[r] per bucket."""
    k = packed.shape[1] - 1
    norm2 = s0 = s1 = s2 = 0.0
    for t in range(m):
        v = values[t]
        if sublinear:  # counts are small integers: a table saves a log call per n-gram
            c = np.int64(v)
            v = _LOG_TF[c] if c < _LOG_TF.size else np.log(v) + 1.0
        row = _U(offset + indices[t])  # unsigned: no negative-index wraparound
        v *= packed[row, 0]
        norm2 += v * v
        if k == 3:
            s0 += v * packed[row, 1]
            s1 += v * packed[row, 2]
            s2 += v * packed[row, 3]
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
            s += values[t] * packed[offset + indices[t], c + 1]
        out[r, c] += s * scale


_MAX_PROBES = 32
"""Linear-probing steps allowed per key in ``_hash_count``; beyond, the row is sorted."""
_TABLE_SIZE = 1 << 16
"""Entries of the counting table: a post with more than half as many n-grams is sorted."""


@kernel
def _hash_count(keys, nt, slots, positions, indices, values):
    """The distinct keys[:nt] with their counts in indices/values (first-seen order), by an
    open-addressing table (``slots``, ``positions``: 2**b >= 2 nt entries, which stay in L1/L2
    for a post) - a third of the cost of sorting. Returns the number of distinct keys, or
    -1 when a key needed more than ``_MAX_PROBES`` steps: keys are unkeyed hashes, so
    crafted text could pile them onto one slot, and the caller then sorts instead (worst
    case n log n, never n squared)."""
    size = 16
    while size < 2 * nt:
        size *= 2
    if size > slots.size:
        return -1
    low = _U(size - 1)  # unsigned slots: numba adds no negative-index wraparound
    slots[:size] = -1
    m = 0
    for t in range(nt):
        k = keys[t]
        s = _U(k) & low
        steps = 0
        while slots[s] != -1 and slots[s] != k:
            s = (s + _ONE) & low
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
            values[_U(positions[s])] += 1.0
    return m


@kernel
def _distinct(keys, tmp, nt, hist, log2nf, indices, values, slots, positions):
    m = _hash_count(keys, nt, slots, positions, indices, values)
    return m if m >= 0 else _sort_count(keys, tmp, nt, hist, log2nf, indices, values, 0)


@kernel
def _score_kernel(offsets, data, valid, tabs, char_cfg, word_cfg, n_features, packed,
                  sublinear, word_weight):
    """Decision scores without intercept, float64 (n, classes); see ``decision_scores``."""
    clo, chi, cmode, clower = char_cfg
    wlo, whi, wlower = word_cfg
    n = offsets.size - 1
    out = np.zeros((n, packed.shape[1] - 1), np.float64)
    size = 3 * np.max(offsets[1:] - offsets[:-1]) + 2 * _PAD if n else 2 * _PAD
    cbuf, wbuf, jbuf, cwf, wwf = np.zeros((5, size), np.uint8)
    ccpo, wcpo, seg, ts, te = np.empty((5, size + 1), np.int64)
    hs = np.empty(size, np.uint64)
    keys = np.empty(size * (chi - clo + whi - wlo + 3), np.int64)
    tmp = np.empty_like(keys)
    indices, values = np.empty(keys.size, np.int32), np.empty(keys.size, np.float64)
    mask = _U(n_features - 1)
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
            ncp, nseg = _normalize(data, offsets[r], offsets[r + 1], clower, cmode, tabs,
                                   cbuf, ccpo, cwf, seg)
            if cmode == 0:
                nt = _ngrams(cbuf, ccpo, ccpo, 1, 0, ncp, clo, chi, _K_CHAR, mask, keys, nt, hs)
            for g in range(nseg):
                a, b = seg[g], seg[g + 1] if g + 1 < nseg else ncp
                lo = min(clo, b - a)
                nt = _ngrams(cbuf, ccpo, ccpo, 1, a, b, lo, max(chi, lo), _K_CHAR, mask, keys,
                             nt, hs)
            m = _distinct(keys, tmp, nt, hist, log2nf, indices, values, slots, positions)
            _accumulate(indices, values, m, packed, 0, sublinear, 1.0, out, r)
        if whi > 0:
            if chi > 0 and clower == wlower:
                ntok = _join_words(cbuf, ccpo, cwf, ncp, jbuf, ts, te)
            else:
                ncp, _ = _normalize(data, offsets[r], offsets[r + 1], wlower, 2, tabs,
                                    wbuf, wcpo, wwf, seg)
                ntok = _join_words(wbuf, wcpo, wwf, ncp, jbuf, ts, te)
            nt = _ngrams(jbuf, ts, te, 0, 0, ntok, wlo, whi, _K_WORD, mask, keys, 0, hs)
            m = _distinct(keys, tmp, nt, hist, log2nf, indices, values, slots, positions)
            # the word block always follows the char block (see ``linear.feature_specs``)
            _accumulate(indices, values, m, packed, n_features, sublinear, word_weight, out, r)
    return out


def pack(idf: Sequence[np.ndarray], coef: np.ndarray) -> np.ndarray:
    """The scoring table: row j = (idf of column j, weight of column j for each class).

    idf: the idf vector of each family (char block first); coef: (classes, columns).
    """
    table = np.empty((coef.shape[1], coef.shape[0] + 1), np.float32)
    table[:, 0] = np.concatenate([np.asarray(v, np.float32) for v in idf])
    table[:, 1:] = coef.T
    return table


def decision_scores(
    prepared: Sequence[str] | pa.Array, params: Mapping[str, Any], packed: np.ndarray
) -> np.ndarray:
    """``features(texts) @ coef.T`` for texts already through ``prepare``, fused.

    prepared: the prepared texts (Arrow string array or strings). params: the model's
    feature parameters. packed: ``pack(idf, coef)``.
    Returns float64 (len(texts), classes), intercept not added.
    """
    offsets, data, valid = _arrow_buffers(prepared)
    char = tuple(params["char_ngram_range"]) != (0, 0)
    words = tuple(params["word_ngram_range"]) != (0, 0)
    clo, chi = params["char_ngram_range"] if char else (0, 0)
    wlo, whi = params["word_ngram_range"] if words else (0, 0)
    char_cfg = (clo, chi, int(params["char_mode"] == "char_wb"), params["char_lowercase"])
    word_cfg = (wlo, whi, params["word_lowercase"])
    return _score_kernel(offsets, data, valid, _tables(), char_cfg, word_cfg,
                         int(params["n_features"]), packed, bool(params["sublinear_tf"]),
                         float(params["word_weight"]))
