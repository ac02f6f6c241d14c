"""Pretrained multilingual subword vectors as one more feature family, scored in numba.

The vectors are wordllama's ``l2_supercat_256`` (32,000 Llama-2 subword pieces x 256,
distilled from large language models), shipped inside the ``wordllama`` wheel: nothing is
downloaded. Its files are read directly (``WordLlama.load`` would look for the tokenizer
in the wrong folder and fetch it from the hub).

A post's vector is the sum of the vectors of its pieces over the square root of their
number (scaled once by the training set's median norm). Pieces are found by
greedy longest match over the vocabulary (``reference_pieces`` in ``tests/support/oracles``
spells it out in plain Python): each whitespace-separated word of the prepared text, with
Llama's word-start mark ``▁`` before it, is cut into the longest piece that matches at
each position, falling back to Llama's byte pieces (``<0xNN>``) for a character the
vocabulary lacks. This is not Llama's BPE merge order (the two agree on most words, not
all), but training and scoring both use it, and it runs in the compiled kernel with no
Python per post or per new token; on dev it did as well as the BPE tokenizer.

The pooling is linear in the piece vectors, so a fitted model folds them into its weights:
each piece gets one weight per label (its vector dotted with the label's weights), and
scoring a post is a sum of (pieces x labels) numbers over sqrt(pieces), with no 256-d
arithmetic and no vectors in the artifact. The same fold makes explanations exact: each
piece's share of a score is its weight over sqrt(pieces), and a piece lies in one word.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import metadata, resources
from typing import Any

import numpy as np
import pyarrow as pa

from swarmlens.classifier.kernels import arrow_buffers, checked_kernel, kernel
from swarmlens.classifier.model.hashing import SPACE, kernel_tables, utf8_at

SOURCE = "wordllama/l2_supercat_256"
_MARK = "\u2581"  # Llama's word-start mark, prepended to every word
_MARK_UTF8 = np.frombuffer(_MARK.encode("utf-8"), np.uint8)
_MAX_PIECE = 16  # code points in the longest piece of the vocabulary
_FNV_OFFSET, _FNV_PRIME = np.uint64(0xCBF29CE484222325), np.uint64(0x100000001B3)


@dataclass(frozen=True, slots=True)
class SubwordTable:
    """A subword vocabulary with one row of numbers per piece.

    piece_bytes / piece_offsets: the UTF-8 of every piece, concatenated (piece i is
        piece_bytes[piece_offsets[i]:piece_offsets[i + 1]]).
    byte_ids: the piece id of each byte value (Llama's ``<0xNN>`` pieces).
    rows: (pieces, k): the pretrained vectors (k = 256) when training; in a fitted model,
        each piece's weight per label (k = labels), the vectors folded into the weights.
    table_keys / table_ids: hash table of the pieces and their prefixes (built on load).
    """

    piece_bytes: np.ndarray
    piece_offsets: np.ndarray
    byte_ids: np.ndarray
    rows: np.ndarray
    table_keys: np.ndarray
    table_ids: np.ndarray

    def __post_init__(self) -> None:
        # The segmentation kernels index with these unchecked (``kernels.checked_kernel``):
        # every piece must lie inside piece_bytes, every id they can read must name a row,
        # and the hash table must be a power of two with room left (so a lookup ends).
        n = self.rows.shape[0] if self.rows.ndim == 2 else 0
        size = self.table_keys.size
        offsets = self.piece_offsets
        if (
            n < 1 or offsets.shape != (n + 1,) or offsets[0] != 0
            or offsets[-1] != self.piece_bytes.size or np.any(np.diff(offsets) < 1)
            or self.byte_ids.shape != (256,)
            or int(self.byte_ids.min()) < 0 or int(self.byte_ids.max()) >= n
            or size < 2 or size & (size - 1) or self.table_ids.shape != (size,)
            or int(self.table_ids.max()) >= n or not (self.table_ids == _ABSENT).any()
            or not np.isfinite(self.rows).all()
        ):
            raise ValueError("subword arrays are inconsistent")

    @property
    def dims(self) -> int:
        return int(self.rows.shape[1])

    def piece(self, i: int) -> str:
        return bytes(self.piece_bytes[self.piece_offsets[i] : self.piece_offsets[i + 1]]).decode(
            "utf-8", "replace")

    def with_rows(self, rows: np.ndarray) -> SubwordTable:
        """The same vocabulary with other rows (the folded weights of a fitted model)."""
        rows = np.ascontiguousarray(rows, np.float32)
        if rows.ndim != 2 or rows.shape[0] != self.rows.shape[0]:
            raise ValueError("one row per piece is needed")
        return SubwordTable(self.piece_bytes, self.piece_offsets, self.byte_ids, rows,
                            self.table_keys, self.table_ids)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """What an artifact stores (the hash table is rebuilt on load)."""
        return {
            "vectors.piece_bytes": self.piece_bytes,
            "vectors.piece_offsets": self.piece_offsets,
            "vectors.byte_ids": self.byte_ids,
            "vectors.piece_weights": self.rows,
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> SubwordTable:
        """Rebuild from ``to_arrays``; raises ValueError when the arrays disagree."""
        piece_bytes = np.ascontiguousarray(arrays["vectors.piece_bytes"], np.uint8)
        offsets = np.ascontiguousarray(arrays["vectors.piece_offsets"], np.int64)
        byte_ids = np.ascontiguousarray(arrays["vectors.byte_ids"], np.int32)
        rows = np.ascontiguousarray(arrays["vectors.piece_weights"], np.float32)
        n = rows.shape[0] if rows.ndim == 2 else -1
        if (n < 1 or offsets.shape != (n + 1,) or offsets[0] != 0
                or offsets[-1] != piece_bytes.size or np.any(np.diff(offsets) < 1)):
            # before the table is built: overlapping pieces could fill it, and then a probe
            # would never end
            raise ValueError("subword arrays are inconsistent")
        keys, ids = _build_table(piece_bytes, offsets)  # the rest is checked on construction
        return cls(piece_bytes, offsets, byte_ids, rows, keys, ids)


@cache
def load_wordllama() -> SubwordTable:
    """wordllama's 256-d vectors and vocabulary, from the files its wheel ships (no network).

    Raises FileNotFoundError naming the missing file when wordllama is not installed.
    """
    from safetensors.numpy import load_file

    root = resources.files("wordllama")
    vocab_file = root / "tokenizers" / "l2_supercat_tokenizer_config.json"
    weights_file = root / "weights" / "l2_supercat_256.safetensors"
    vocab = json.loads(vocab_file.read_text(encoding="utf-8"))["model"]["vocab"]
    embedding = load_file(str(weights_file))["embedding.weight"]
    pieces = sorted(vocab, key=vocab.__getitem__)
    if [vocab[p] for p in pieces] != list(range(len(pieces))) or len(pieces) != len(embedding):
        raise ValueError(f"{vocab_file}: piece ids do not match the {len(embedding)} vectors")
    encoded = [p.encode("utf-8") for p in pieces]
    offsets = np.zeros(len(encoded) + 1, np.int64)
    offsets[1:] = np.cumsum([len(e) for e in encoded])
    byte_ids = np.array([vocab[f"<0x{b:02X}>"] for b in range(256)], np.int32)
    return SubwordTable.from_arrays({
        # a writable copy, as an artifact's arrays are: the kernels see one array type
        "vectors.piece_bytes": np.frombuffer(b"".join(encoded), np.uint8).copy(),
        "vectors.piece_offsets": offsets,
        "vectors.byte_ids": byte_ids,
        "vectors.piece_weights": embedding,
    })


def source_version() -> str:
    """The installed wordllama version (recorded with a model trained on its vectors)."""
    try:
        return f"{SOURCE} (wordllama {metadata.version('wordllama')})"
    except metadata.PackageNotFoundError:
        return SOURCE


# ---------------------------------------------------------------- hash table (numba)


_ABSENT, _PREFIX = -3, -2  # table values besides piece ids


@kernel
def _build_table(piece_bytes, offsets):
    """Open-addressing table of every code point prefix of every piece: the value is the
    piece id when the prefix is a whole piece, else _PREFIX. Longest match then walks
    forward and stops at the first prefix no piece has."""
    n = offsets.size - 1
    size = 1
    while size < 2 * piece_bytes.size:  # there are fewer prefixes than bytes: load < 1/2
        size <<= 1
    keys = np.zeros(size, np.uint64)
    values = np.full(size, _ABSENT, np.int32)
    mask = np.uint64(size - 1)
    for i in range(n):
        a, b = offsets[i], offsets[i + 1]
        h = _FNV_OFFSET
        for p in range(a, b):
            h = (h ^ np.uint64(piece_bytes[p])) * _FNV_PRIME
            if p + 1 < b and (piece_bytes[p + 1] & 0xC0) == 0x80:
                continue  # inside a code point
            slot = h & mask
            while values[slot] != _ABSENT and keys[slot] != h:
                slot = (slot + np.uint64(1)) & mask
            keys[slot] = h
            if p + 1 == b:
                values[slot] = i
            elif values[slot] == _ABSENT:
                values[slot] = _PREFIX
    return keys, values


@checked_kernel
def _lookup(h, keys, values):
    """The table's value for hash h (_ABSENT when no piece starts with those bytes)."""
    mask = np.uint64(keys.size - 1)
    slot = h & mask
    while values[slot] != _ABSENT:
        if keys[slot] == h:
            return values[slot]
        slot = (slot + np.uint64(1)) & mask
    return _ABSENT


@checked_kernel
def _is_piece(buf, start, end, i, piece_bytes, offsets):
    """Whether buf[start:end] is exactly piece i: a hash collision never picks a wrong piece."""
    a, b = offsets[i], offsets[i + 1]
    if b - a != end - start:
        return False
    for q in range(b - a):  # noqa: SIM110  (numba compiles loops, not all() over generators)
        if piece_bytes[a + q] != buf[start + q]:
            return False
    return True


# ---------------------------------------------------------------- segmentation (numba)


@checked_kernel
def _segment(data, start, end, fidx, fpages, keys, ids, piece_bytes, offsets, byte_ids,
             buf, cps, out_ids, out_word):
    """Pieces of data[start:end] (UTF-8) by greedy longest match, word by word: piece ids
    into out_ids and the index of the word each came from into out_word. buf / cps are
    scratch (bytes of '▁' + word, its code point starts). Returns the number of pieces.
    Room is checked before every write (this kernel runs without numba's checks): buf
    needs 3 bytes more than the longest word, cps 2 entries, out_ids / out_word 4 per
    byte of the text; shorter buffers raise IndexError. The table's reads stay in range
    by construction (``SubwordTable`` checks its ids against its rows)."""
    if buf.size < 3 or cps.size < 2 or out_word.size < out_ids.size:
        raise IndexError("_segment: scratch buffers too small")
    npieces, word, p = 0, 0, start
    while p < end:
        # skip whitespace, then take the word [p, q)
        c, n = utf8_at(data, p, end)
        if fpages[fidx[c >> 8], c & 255] & SPACE:
            p += n
            continue
        nb = 3
        buf[0], buf[1], buf[2] = 0xE2, 0x96, 0x81  # '▁'
        cps[0] = 0
        ncp = 1
        q = p
        while q < end:
            c, n = utf8_at(data, q, end)
            if fpages[fidx[c >> 8], c & 255] & SPACE:
                break
            if nb + n > buf.size or ncp + 2 > cps.size:
                raise IndexError("_segment: scratch buffers too small for the word")
            cps[ncp] = nb
            ncp += 1
            for k in range(n):
                buf[nb + k] = data[q + k]
            nb += n
            q += n
        cps[ncp] = nb
        i = 0
        while i < ncp:
            h, best, best_end, j = _FNV_OFFSET, -1, i, i
            while j < ncp and j - i < _MAX_PIECE:
                for b in range(cps[j], cps[j + 1]):
                    h = (h ^ np.uint64(buf[b])) * _FNV_PRIME
                j += 1
                found = _lookup(h, keys, ids)
                if found == _ABSENT:
                    break
                if found >= 0 and _is_piece(buf, cps[i], cps[j], found, piece_bytes, offsets):
                    best, best_end = found, j
            if npieces + 4 > out_ids.size:  # a piece, or a character's 1-4 bytes
                raise IndexError("_segment: piece buffers too small for the text")
            if best >= 0:
                out_ids[npieces], out_word[npieces] = best, word
                npieces += 1
                i = best_end
            else:  # a character the vocabulary lacks: its bytes, as Llama does
                for b in range(cps[i], cps[i + 1]):
                    out_ids[npieces], out_word[npieces] = byte_ids[buf[b]], word
                    npieces += 1
                i += 1
        word += 1
        p = q
    return npieces


_WORD_SLOTS = 1 << 16
"""Most slots of ``_pool_kernel``'s table of the words it has pooled in one call (fewer
when rows are wide, so that the table's sums stay under 8 MB, or the call has few
words); half full, it takes no more."""


@checked_kernel
def _pool_kernel(offsets, data, valid, fidx, fpages, keys, ids, piece_bytes, poffsets,
                 byte_ids, rows):
    """(n, k) float64: for each text, the sum of its pieces' rows over sqrt(pieces).

    A word's pieces never depend on its neighbours, and posts repeat their words
    (retweets, slogans, hashtags): each distinct word is segmented once per call, its
    pieces' rows summed in order from zero, and a text adds its words' sums in text
    order. So a row never depends on the rest of the batch (a repeated word's sum is the
    one it would have alone). Words are told apart by their bytes, not by their hash."""
    n = offsets.size - 1
    if valid.size and valid.size < n:
        raise IndexError("_pool_kernel: fewer validity flags than texts")
    k = rows.shape[1]
    out = np.zeros((n, k), np.float64)
    longest = np.max(offsets[1:] - offsets[:-1]) if n else 0
    buf = np.zeros(longest + 8, np.uint8)
    cps = np.zeros(longest + 2, np.int64)
    out_ids, out_word = np.zeros((2, 4 * longest + 4), np.int64)  # <= 4 byte pieces a byte
    # Room for every word of the call twice over (a word and the space after it take two
    # bytes at least), within _WORD_SLOTS: a post scored alone allocates a small table.
    words_at_most = (offsets[n] - offsets[0]) // 2 + 1 if n else 0
    size = 16
    while size < min(_WORD_SLOTS, (1 << 20) // max(k, 1), 2 * words_at_most):
        size *= 2
    mask = np.uint64(size - 1)
    word_hash = np.zeros(size, np.uint64)
    word_start = np.full(size, -1, np.int64)  # where in data its first copy lies; -1: free
    word_len, word_pieces = np.zeros((2, size), np.int64)
    word_sum = np.zeros((size, k), np.float64)
    words = 0
    sums = np.zeros(k, np.float64)
    for r in range(n):
        if valid.size and not valid[r]:
            continue
        p, end, total = offsets[r], offsets[r + 1], 0
        while p < end:
            c, nb = utf8_at(data, p, end)
            if fpages[fidx[c >> 8], c & 255] & SPACE:
                p += nb
                continue
            h, q = _FNV_OFFSET, p  # the word [p, q) and the hash of its bytes
            while q < end:
                c, nb = utf8_at(data, q, end)
                if fpages[fidx[c >> 8], c & 255] & SPACE:
                    break
                for b in range(q, q + nb):
                    h = (h ^ np.uint64(data[b])) * _FNV_PRIME
                q += nb
            s = h & mask
            while word_start[s] >= 0 and not (
                    word_hash[s] == h and word_len[s] == q - p
                    and _same_bytes(data, word_start[s], p, q - p)):
                s = (s + np.uint64(1)) & mask
            if word_start[s] < 0:  # a new word: its pieces, their rows summed from zero
                m = _segment(data, p, q, fidx, fpages, keys, ids, piece_bytes, poffsets,
                             byte_ids, buf, cps, out_ids, out_word)
                sums[:] = 0.0
                for t in range(m):
                    row = out_ids[t]
                    for d in range(k):
                        sums[d] += rows[row, d]
                if 2 * (words + 1) <= size:  # else the table is full: not kept
                    word_hash[s], word_start[s], word_len[s], word_pieces[s] = h, p, q - p, m
                    word_sum[s] = sums
                    words += 1
                for d in range(k):
                    out[r, d] += sums[d]
                total += m
            else:
                for d in range(k):
                    out[r, d] += word_sum[s, d]
                total += word_pieces[s]
            p = q
        if total:
            scale = 1.0 / np.sqrt(total)
            for d in range(k):
                out[r, d] *= scale
    return out


@kernel
def _same_bytes(data, a, b, length):
    """Whether data[a:a + length] equals data[b:b + length] (both inside data)."""
    for i in range(length):  # noqa: SIM110  (numba compiles loops, not all() over generators)
        if data[a + i] != data[b + i]:
            return False
    return True


def pooled(prepared: Sequence[str] | pa.Array, table: SubwordTable) -> np.ndarray:
    """float64 (len(texts), k): each text's pieces' rows summed, over sqrt(number of pieces).

    prepared: texts already through ``text.prepare.prepare``; a text with no piece (empty)
    gets zeros. With the pretrained vectors as rows this is the feature block; with a
    fitted model's folded weights, it is the block's share of the decision scores.
    Dividing by the square root of the count (not the L2 norm) is what lets the vectors fold
    into one weight per piece and label: on dev both did as well.
    """
    offsets, data, valid = arrow_buffers(prepared)
    fidx, fpages = _tabs()
    return _pool_kernel(offsets, data, valid, fidx, fpages, table.table_keys, table.table_ids,
                        table.piece_bytes, table.piece_offsets, table.byte_ids, table.rows)


def _tabs() -> tuple[np.ndarray, np.ndarray]:
    fidx, fpages, *_ = kernel_tables()
    return fidx, fpages


def pieces(prepared: str, table: SubwordTable) -> list[tuple[int, int]]:
    """(piece id, index of its whitespace-separated word) of one prepared text, in order."""
    data = np.frombuffer(prepared.encode("utf-8"), np.uint8)
    if not data.size:
        return []
    fidx, fpages = _tabs()
    size = data.size
    buf = np.zeros(size + 8, np.uint8)
    cps = np.zeros(size + 2, np.int64)
    out_ids, out_word = np.zeros((2, 4 * size + 4), np.int64)
    m = _segment(data, 0, size, fidx, fpages, table.table_keys, table.table_ids,
                 table.piece_bytes, table.piece_offsets, table.byte_ids, buf, cps,
                 out_ids, out_word)
    return list(zip(out_ids[:m].tolist(), out_word[:m].tolist(), strict=True))


def describe(table: SubwordTable | None, scale: float) -> dict[str, Any] | None:
    """What a model's config records about its vectors (for the record, never read back)."""
    if table is None:
        return None
    return {"source": source_version(), "pieces": int(table.rows.shape[0]),
            "pooling": "sum / sqrt(pieces), divided by the training set's median norm",
            "median_norm": scale}
