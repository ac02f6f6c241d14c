"""Hashed character and word n-gram counts for a batch of posts, compiled with numba.

Semantics (the kernel must agree exactly with ``reference_terms``, ``tests/support/oracles``):

* char n-grams, ``char_mode="char"``: sklearn's ``analyzer="char"``: runs of two or more
  whitespace characters become one space (``re.sub(r"\\s\\s+", " ", doc)``: a lone tab
  or newline stays), then all code point n-grams. ``"char_wb"``: sklearn's
  ``analyzer="char_wb"``: each whitespace-separated token padded with a space each side;
  a padded token shorter than ``min_n`` is emitted once, whole.
* word n-grams: ``word_tokens`` (sklearn's ``(?u)\\b\\w\\w+\\b``) joined by one space.
* lowercasing (per family) is per code point with Python's ``str.lower``
  (``lower_code_points``), done INSIDE the kernel from tables built from Python itself
  ('İ' -> 'i̇', the one multi-code-point case, via an expansion table): no lowercased
  copy of the batch, and no dependence on the Unicode version of Arrow's utf8proc. It
  differs from ``str.lower`` only for the contextual final sigma.
* feature = murmurhash3_32(UTF-8 of prefix + term, seed 0, unsigned) & (n_features - 1),
  prefix ``c\\x1f`` for char n-grams, ``w\\x1f`` for word n-grams.

Kernel: one pass over the Arrow buffers; each post is decoded into a scratch buffer
(whitespace collapsed or padded, lowercased) with ``\\w``/``\\s`` from two-level tables
built once from ``re``; the n-grams starting at a code point share their MurmurHash3
blocks, so each n-gram pays only tail + finalisation; a row's indices are bucket-sorted
and run-length counted; output buffers grow by doubling (one pass, no re-hashing).
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # scipy is imported where a matrix is built: scoring never builds one
    import scipy.sparse as sp

from swarmlens.classifier.kernels import (
    arrow_buffers,
    checked_kernel,
    disk_cached,
    inline_kernel,
    kernel,
)
from swarmlens.classifier.model.ngrams import CHAR_PREFIX, WORD_PREFIX, HashingSpec

__all__ = ["HashingSpec", "featurize"]

# ---------------------------------------------------------------- code point tables

_WORD, SPACE, _LOWER, _EXPAND = 1, 2, 4, 8  # flag bits per code point
_PAGE = 8  # two-level tables: pages of 256 code points, identical pages shared
MAX_DECODED = 0x200000  # utf8_at returns less, whatever the bytes; the tables cover it all


def _two_level(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(page index per 256 code points, distinct pages): ~30 pages instead of 0x110000."""
    rows = values.reshape(-1, 1 << _PAGE)
    first: dict[bytes, int] = {}
    index = np.array([first.setdefault(row.tobytes(), len(first)) for row in rows], np.int32)
    pages = rows[np.unique(index, return_index=True)[1]]  # ids were given in first-seen order
    return index, np.ascontiguousarray(pages)


@disk_cached
def code_point_tables() -> tuple[np.ndarray, ...]:
    """Flag and lowercase tables from Python's own ``re`` and ``str.lower`` (~0.1 s, once)."""
    cps = np.arange(0x110000, dtype=np.uint32)
    cps[0xD800:0xE000] = 0  # surrogates never occur in UTF-8; NUL stands in for them
    everything = cps.tobytes().decode("utf-32-le")
    flags = np.zeros(0x110000, dtype=np.uint8)
    for pattern, bit in ((r"\w+", _WORD), (r"\s+", SPACE)):
        for match in re.finditer(pattern, everything):
            flags[match.start() : match.end()] |= bit
    # One str.lower per 4096-block (C speed), per character only where the length
    # changes (expansions such as 'İ').
    lower, expansions = cps.astype(np.int64), []
    for at in range(0, 0x110000, 4096):
        if len(low := (block := everything[at : at + 4096]).lower()) == len(block):
            lower[at : at + 4096] = np.frombuffer(low.encode("utf-32-le"), np.uint32)
            continue
        for i, mapped in enumerate(ch.lower() for ch in block):
            lower[at + i] = ord(mapped[0])
            if len(mapped) > 1:
                expansions.append((at + i, mapped))
    lower[0x3A3] = ord(chr(0x3A3).lower())  # never the contextual final sigma
    lower[0xD800:0xE000] = np.arange(0xD800, 0xE000)
    changed = lower != np.arange(0x110000)
    flags[changed] |= _LOWER
    delta = np.where(changed, lower - np.arange(0x110000), 0).astype(np.int32)
    exp_cp = np.full(max(1, len(expansions)), -1, np.int32)
    exp_seq = np.zeros((max(1, len(expansions)), 4), np.int32)  # [len, cp, cp, cp]
    for i, (cp, mapped) in enumerate(expansions):
        flags[cp] |= _LOWER | _EXPAND
        exp_cp[i], exp_seq[i, : 1 + len(mapped)] = cp, [len(mapped), *map(ord, mapped)]
    # Past U+10FFFF (only invalid UTF-8 decodes there): no flag, no case. The tables cover
    # every code point ``utf8_at`` can return, so an index into them is never out of range.
    flags = np.concatenate([flags, np.zeros(MAX_DECODED - flags.size, flags.dtype)])
    delta = np.concatenate([delta, np.zeros(MAX_DECODED - delta.size, delta.dtype)])
    return (*_two_level(flags), *_two_level(delta), exp_cp, exp_seq)


@functools.cache
def kernel_tables() -> tuple[np.ndarray, ...]:
    """``code_point_tables`` checked once (kernels index them unchecked), else derived again."""
    for build in (code_point_tables, code_point_tables.__wrapped__):
        fidx, fpages, didx, dpages, exp_cp, exp_seq = tables = build()
        if (fidx.shape == didx.shape == (MAX_DECODED >> _PAGE,) and fidx.min() >= 0
                and didx.min() >= 0 and fidx.max() < len(fpages) and didx.max() < len(dpages)
                and fpages.shape[1:] == dpages.shape[1:] == (1 << _PAGE,)
                and exp_seq.shape == (len(exp_cp), 4) and exp_seq[:, 0].max() <= 3):
            return tables
    raise ValueError("code_point_tables: tables of the wrong shape")


# ---------------------------------------------------------------- numba kernel
# Hash arithmetic is uint64 masked to 32 bits (numba turns mixed signed/unsigned integer
# arithmetic into float64, so every constant is a typed np.uint64). Hot loops take no
# array-passing helper calls and few unpredictable branches: both cost more than hashing.

U = np.uint64
_M32, _C1, _C2, _N1 = U(0xFFFFFFFF), U(0xCC9E2D51), U(0x1B873593), U(0xE6546B64)
_F1, _F2, _HI16, _LO16 = U(0x85EBCA6B), U(0xC2B2AE35), U(0xFFFF0000), U(0xFFFF)
_Z, ONE, _TWO, _THREE, _FIVE, _S3, _S8, _S13, _S15, _S16, _S17, _S19, _S24 = map(
    U, (0, 1, 2, 3, 5, 3, 8, 13, 15, 16, 17, 19, 24))
# MurmurHash3 reads little-endian 4-byte blocks: the 2-byte prefix is the low half of
# the first block of every key.
K_CHAR = U(CHAR_PREFIX[0] | CHAR_PREFIX[1] << 8)
K_WORD = U(WORD_PREFIX[0] | WORD_PREFIX[1] << 8)
PAD = 8  # scratch buffers start at byte 8: a key's first block reads 2 bytes before it
_CP_BYTES, _CP_UNITS = 14, 5  # room ``decode_words`` checks for before each code point


@inline_kernel
def scratch_size(longest):
    """Bytes of a scratch buffer for texts of up to ``longest`` bytes: decoding writes <= 3
    bytes per byte (a one-byte word and its two pad spaces; lowercasing grows a character
    by half at most) after PAD; hashing reads 3 past the end; decode_words checks room."""
    return 3 * longest + 2 * PAD + 16


@inline_kernel
def _mix(k: np.uint64) -> np.uint64:
    k = (k * _C1) & _M32
    k = ((k << _S15) | (k >> _S17)) & _M32
    return (k * _C2) & _M32


@inline_kernel
def _block(h: np.uint64, k: np.uint64) -> np.uint64:
    h ^= _mix(k)
    h = ((h << _S13) | (h >> _S19)) & _M32
    return (h * _FIVE + _N1) & _M32


@inline_kernel
def _fmix(h: np.uint64) -> np.uint64:
    h ^= h >> _S16
    h = (h * _F1) & _M32
    h ^= h >> _S13
    h = (h * _F2) & _M32
    return h ^ (h >> _S16)


@inline_kernel
def _load4(buf, p):
    q = U(p)  # unsigned: numba adds no negative-index wraparound to the loads
    return (U(buf[q]) | (U(buf[q + ONE]) << _S8) | (U(buf[q + _TWO]) << _S16)
            | (U(buf[q + _THREE]) << _S24))


@inline_kernel
def utf8_at(data, p, end):
    """(code point, its length in bytes) of the UTF-8 sequence at data[p], p < end. Never
    reads data[end:] (invalid UTF-8 cut short there is shorter); whatever the bytes, the
    code point is below ``MAX_DECODED`` (a lead byte carries at most 3 bits)."""
    c = np.int64(data[p])
    n = min(1 + (c >= 0xC0) + (c >= 0xE0) + (c >= 0xF0), end - p)
    c &= 0xFF >> (n + (n > 1))
    for q in range(1, n):
        c = (c << 6) | (data[p + q] & 0x3F)
    return c, n


@kernel
def _murmur(buf: np.ndarray) -> np.uint64:
    """MurmurHash3 x86_32 (seed 0, unsigned) of a uint8 array; for tests."""
    h = _Z
    n = buf.size
    for m in range(n >> 2):
        h = _block(h, _load4(buf, 4 * m))
    k = _Z
    for p in range(n & ~3, n):
        k |= U(buf[p]) << (U(p & 3) << _S3)
    if n & 3:
        h ^= _mix(k)
    return _fmix(h ^ U(n))


@checked_kernel
def count_ngrams(buf, starts, ends, eshift, a, b, lo, hi, kpre, mask, keys, nt, hs):
    """Count the n-grams of units a..b-1 (code points or words): the n-gram of units
    i..j is buf[starts[i] : ends[j + eshift]], hashed as prefix (kpre) + bytes. All
    n-grams starting at unit i share their leading blocks, so those are mixed once (hs)
    and each n-gram pays only its tail and finalisation. Every index is appended to
    keys[nt:] (no counting here: random access to a count table costs more than sorting
    later). Returns the new nt. Checks its own bounds (IndexError): the unit range, then per
    start unit the bytes, blocks and keys it touches (starts/ends increase, as written)."""
    if a < b and (a < 0 or lo < 1 or b > starts.size or b - 1 + eshift >= ends.size):
        raise IndexError("count_ngrams: unit range outside the offsets")
    for i in range(a, b):
        jend = min(b, i + hi)
        if i + lo > jend:
            break
        base = starts[i] - 2  # key byte 0 sits at buf[base]
        last = ends[jend - 1 + eshift]
        top = (last - base) >> 2
        if (base < 0 or last + 3 >= buf.size or top >= hs.size
                or nt + jend - (i + lo - 1) > keys.size):
            raise IndexError("count_ngrams: buffers too small for the text")
        hs[0] = _Z
        if top:
            h = _block(_Z, (_load4(buf, base) & _HI16) | kpre)
            hs[1] = h
            for m in range(1, top):
                h = _block(h, _load4(buf, base + 4 * m))
                hs[m + 1] = h
        for j in range(i + lo - 1, jend):
            # Branch-free: the tail bytes are masked (an empty tail mixes to 0, a no-op),
            # and the prefix is patched in only when the key is shorter than one block.
            # Indices are cast to unsigned: numba then adds no negative-index wraparound,
            # a fifth of this loop's instructions.
            klen = ends[U(j + eshift)] - base
            m = klen >> 2
            short = U(m == 0)
            w = _load4(buf, base + 4 * m)
            w = (w & ~(short * _LO16)) | (short * kpre)
            w &= (ONE << (U(klen & 3) << _S3)) - ONE
            keys[U(nt)] = _fmix(hs[U(m)] ^ _mix(w) ^ U(klen)) & mask
            nt += 1
    return nt


@inline_kernel
def _put(c, f, buf, cpo, wflag, nb, ncp):
    """UTF-8-encode code point c (flags f) at buf[nb]; returns (nb, ncp) after it."""
    cpo[ncp] = nb
    wflag[ncp] = f & _WORD
    n = 1 + (c >= 0x80) + (c >= 0x800) + (c >= 0x10000)
    for q in range(n - 1, 0, -1):
        buf[nb + q] = 0x80 | (c & 0x3F)
        c >>= 6
    buf[nb] = c | (((0xF00 >> n) & 0xF0) if n > 1 else 0)  # lead byte: C0, E0, F0
    return nb + n, ncp + 1


@checked_kernel
def decode_words(data, start, end, lower, mode, tabs, buf, cpo, wflag, seg):
    """Decode data[start:end] into buf from byte PAD (UTF-8 again), cpo (byte start of
    each code point, then the end), wflag (\\w per code point), lowercasing if asked.
    mode 0: sklearn 'char' whitespace collapse; 1: 'char_wb' (tokens padded with spaces,
    seg = their first code points); 2: as is. Returns (code points, segments).
    ``scratch_size(end - start)`` bytes suffice; less raises IndexError (checked per code point)."""
    fidx, fpages, didx, dpages, exp_cp, exp_seq = tabs
    nb, ncp, nseg = PAD, 0, 0
    run = 0  # length of the current whitespace run (mode 0), capped at 2
    ws_b, ws_c = 0, 0
    inword = False
    cp_room = min(cpo.size - 1, wflag.size, seg.size)
    if cp_room < 0:
        raise IndexError("decode_words: no room for the code point offsets")
    p = start
    while p < end:
        # at most: an opening space, 3 code points of 4 bytes (an expansion), a closing space
        if nb + _CP_BYTES > buf.size or ncp + _CP_UNITS > cp_room:
            raise IndexError("decode_words: scratch buffers too small for the text")
        c, n = utf8_at(data, p, end)
        f = fpages[fidx[c >> 8], c & 255]
        if mode != 2 and f & SPACE:
            if mode == 0 and run == 0:  # a lone whitespace character stays as it is ...
                ws_b, ws_c, run = nb, ncp, 1
                nb, ncp = _put(c, f, buf, cpo, wflag, nb, ncp)
            elif mode == 0 and run == 1:  # ... a run of two or more becomes one space
                nb, ncp = _put(32, 0, buf, cpo, wflag, ws_b, ws_c)
                run = 2
            elif mode == 1 and inword:  # the space closing a char_wb token
                nb, ncp = _put(32, 0, buf, cpo, wflag, nb, ncp)
                inword = False
            p += n
            continue
        run = 0
        if mode == 1 and not inword:  # the space opening a char_wb token
            seg[nseg] = ncp
            nseg += 1
            nb, ncp = _put(32, 0, buf, cpo, wflag, nb, ncp)
            inword = True
        if lower and f & _EXPAND:  # lowercase is several code points ('İ')
            for j in range(exp_cp.size):
                for q in range(1, (exp_seq[j, 0] + 1) * (exp_cp[j] == c)):
                    d = exp_seq[j, q]
                    nb, ncp = _put(d, fpages[fidx[d >> 8], d & 255], buf, cpo, wflag, nb, ncp)
        elif lower and f & _LOWER:
            c += dpages[didx[c >> 8], c & 255]
            nb, ncp = _put(c, fpages[fidx[c >> 8], c & 255], buf, cpo, wflag, nb, ncp)
        else:  # unchanged (the common case): copy the bytes
            cpo[ncp] = nb
            wflag[ncp] = f & _WORD
            ncp += 1
            for q in range(n):
                buf[nb + q] = data[p + q]
            nb += n
        p += n
    if mode == 1 and inword:
        nb, ncp = _put(32, 0, buf, cpo, wflag, nb, ncp)
    cpo[ncp] = nb
    return ncp, nseg


@kernel
def join_words(buf, cpo, wflag, ncp, out, ts, te):
    """Copy the word tokens (maximal \\w runs of >= 2 code points) into out from byte
    PAD, joined by single spaces, so every word n-gram is one contiguous byte range;
    ts/te get each token's byte span in out. Returns the number of tokens."""
    ntok, nb, i = 0, PAD, 0
    while i < ncp:
        if not wflag[i]:
            i += 1
            continue
        j = i + 1
        while j < ncp and wflag[j]:
            j += 1
        if j - i >= 2:
            out[nb] = 32  # overwritten by the token when it is the first
            nb += ntok > 0
            ts[ntok] = nb
            for p in range(cpo[i], cpo[j]):
                out[nb] = buf[p]
                nb += 1
            te[ntok] = nb
            ntok += 1
        i = j
    return ntok


@kernel
def sort_count(keys, tmp, nt, hist, log2nf, indices, values, pos):
    """Write the distinct keys[:nt] in increasing order with their counts to indices/values
    from pos; returns the new end. Keys are hashes, so a counting sort on their top b bits
    (2**b ~ 2 nt buckets) leaves ~nt/8 inversions, fixed per bucket (insertion, or a sort
    for a crowded bucket); then a branch-free run-length count. Cheaper than a full radix
    sort, a comparison sort or a bitmap walk (all branch-mispredict or pass bound at a few
    hundred keys per row)."""
    b = 1
    while (1 << b) < 2 * nt and b < log2nf:
        b += 1
    shift, nbuckets = max(0, log2nf - b), 1 << min(b, log2nf)
    hist[: nbuckets + 1] = 0
    for t in range(nt):
        hist[(keys[t] >> shift) + 1] += 1
    for d in range(nbuckets):  # hist[d] = first slot of bucket d
        hist[d + 1] += hist[d]
    for t in range(nt):
        d = keys[t] >> shift
        tmp[hist[d]] = keys[t]
        hist[d] += 1
    start = 0
    for d in range(nbuckets):  # only keys sharing a bucket can be out of order
        end = hist[d]  # after the scatter, hist[d] is the end of bucket d
        if end - start > 32:
            # Crafted text can pile many keys into one bucket: keep the worst case n log n.
            tmp[start:end].sort()
        else:
            for t in range(start + 1, end):
                k, u = tmp[t], t
                while u > start and tmp[u - 1] > k:
                    tmp[u] = tmp[u - 1]
                    u -= 1
                tmp[u] = k
        start = end
    prev, run, p = -1, 0, pos - 1
    for t in range(nt):
        same = tmp[t] == prev
        run = run * same + 1
        p += 1 - same
        indices[p], values[p], prev = tmp[t], run, tmp[t]
    return p + 1


@kernel
def _kernel(offsets, data, valid, tabs, char_cfg, word_cfg, n_features, capacity):
    """CSR (indptr, indices, values, nnz) of a batch. offsets: int64 (n + 1) into data
    (UTF-8 bytes); valid: uint8 per row, or empty when there are no nulls; char_cfg:
    (min_n, max_n, mode 0 char / 1 char_wb, lowercase); word_cfg: (min_n, max_n,
    lowercase); capacity: initial size of the output buffers (they grow by doubling)."""
    clo, chi, cmode, clower = char_cfg
    wlo, whi, wlower = word_cfg
    n = offsets.size - 1
    size = scratch_size(np.max(offsets[1:] - offsets[:-1]) if n else 0)
    # size: padding and lowercasing at most double a post's bytes
    cbuf, wbuf, jbuf, cwf, wwf = np.zeros((5, size), np.uint8)
    ccpo, wcpo, seg, ts, te = np.empty((5, size + 1), np.int64)
    hs = np.empty(size, np.uint64)
    # n-grams per row <= code points x n-gram sizes (+ one per short char_wb token)
    keys = np.empty(size * (chi - clo + whi - wlo + 3), np.int64)
    tmp = np.empty_like(keys)
    mask = U(n_features - 1)
    log2nf = 1
    while (1 << log2nf) < n_features:
        log2nf += 1
    hist = np.empty(min(n_features, 4 * keys.size) + 2, np.int64)
    indptr, nnz = np.zeros(n + 1, np.int64), 0
    indices, values = np.empty(max(capacity, 1), np.int32), np.empty(max(capacity, 1), np.float32)
    for r in range(n):
        if valid.size and not valid[r]:
            indptr[r + 1] = nnz
            continue
        nt, ncp = 0, 0
        if chi > 0:
            ncp, nseg = decode_words(data, offsets[r], offsets[r + 1], clower, cmode, tabs,
                                   cbuf, ccpo, cwf, seg)
            if cmode == 0:
                nt = count_ngrams(cbuf, ccpo, ccpo, 1, 0, ncp, clo, chi, K_CHAR, mask, keys, nt, hs)
            for g in range(nseg):  # char_wb: each padded token on its own
                a, b = seg[g], seg[g + 1] if g + 1 < nseg else ncp
                lo = min(clo, b - a)  # sklearn: a short padded token counts once, whole
                nt = count_ngrams(cbuf, ccpo, ccpo, 1, a, b, lo, max(chi, lo), K_CHAR, mask, keys,
                             nt, hs)
        if whi > 0:
            if chi > 0 and clower == wlower:  # reuse: added spaces are never \w
                ntok = join_words(cbuf, ccpo, cwf, ncp, jbuf, ts, te)
            else:
                ncp, _ = decode_words(data, offsets[r], offsets[r + 1], wlower, 2, tabs,
                                    wbuf, wcpo, wwf, seg)
                ntok = join_words(wbuf, wcpo, wwf, ncp, jbuf, ts, te)
            nt = count_ngrams(jbuf, ts, te, 0, 0, ntok, wlo, whi, K_WORD, mask, keys, nt, hs)
        if nnz + nt > indices.size:
            grown = max(2 * indices.size, nnz + nt)
            more_i, more_v = np.empty(grown, np.int32), np.empty(grown, np.float32)
            more_i[:nnz], more_v[:nnz] = indices[:nnz], values[:nnz]
            indices, values = more_i, more_v
        nnz = sort_count(keys, tmp, nt, hist, log2nf, indices, values, nnz)
        indptr[r + 1] = nnz
    return indptr, indices, values, nnz


# ---------------------------------------------------------------- Python entry points


def featurize(
    texts: Any, spec: HashingSpec | None = None, *, _capacity: int | None = None
) -> sp.csr_matrix:
    """Hashed n-gram counts, one row per text: float32 CSR (len(texts), spec.n_features)
    with sorted indices and no duplicates.

    texts: a pyarrow StringArray / LargeStringArray (or ChunkedArray), or a sequence of
        str; nulls count as empty texts.
    spec: what to hash (default ``HashingSpec()``).
    _capacity: initial output buffer size in entries (tests force buffer growth with it).
    """
    spec = spec or HashingSpec()
    offsets, data, valid = arrow_buffers(texts)
    n = offsets.size - 1
    clo, chi = spec.char_ngram_range
    wlo, whi = spec.word_ngram_range
    char_cfg = (clo, chi, int(spec.char_mode == "char_wb"), spec.char_lowercase)
    word_cfg = (wlo, whi, spec.word_lowercase)
    if _capacity is None:  # ~ unique n-grams per input byte on real posts, then doubling
        _capacity = int((offsets[-1] - offsets[0]) * (0.7 * (chi - clo + 1) + 0.3)) + 1024
    indptr, indices, values, nnz = _kernel(offsets, data, valid, kernel_tables(), char_cfg,
                                           word_cfg, spec.n_features, _capacity)
    import scipy.sparse as sp

    if nnz < 2**31 - 1:  # int32 indptr: scipy then keeps our arrays without a copy
        indptr = indptr.astype(np.int32)
    matrix = sp.csr_matrix((values[:nnz], indices[:nnz], indptr), shape=(n, spec.n_features))
    matrix.has_sorted_indices = True
    matrix.has_canonical_format = True
    return matrix
