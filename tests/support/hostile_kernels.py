"""Run the self-checking kernels (``kernels.CHECKED_KERNELS``) on hostile text and print
their results as JSON. ``tests/unit/test_kernels.py`` runs this once compiled and once with
``NUMBA_DISABLE_JIT=1``, where the kernels are plain Python and numpy checks every index:
an index out of range there is an IndexError, and the compiled results must be the same."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

from swarmlens.classifier.model import fused, hashing, subwords
from swarmlens.classifier.model.ngrams import HashingSpec


def hostile_texts() -> pa.Array:
    """Texts a user can send, and bytes no valid string holds: invalid and truncated UTF-8
    (one at the very end of the data), lead bytes 0xF8-0xFF, long runs, lone marks."""
    rng = np.random.default_rng(7)
    texts = [
        "Paris brûle 🔥 #ParisIsBurning http://t.co/x", "İSTANBUL ΣΑΣ Ⱥ", "a a a a a", "",
        "\u200b\u0301\u0301", "ﷺ ﷽ باريس تشتعل", "x" * 300, " ".join(["ab"] * 80),
        "\t\n\u2028 \u3000", "ǅǈǋ ẞ K Ω",
    ]
    chunks = [t.encode() for t in texts]
    chunks += [bytes(rng.integers(0, 256, int(rng.integers(1, 60)), dtype=np.uint8))
               for _ in range(40)]
    chunks += [b"\xf8\xfc\xff\xfe", b"\xc3", b"ok \xe2\x82", b"\xf0\x9f\x94"]  # cut at the end
    offsets = np.cumsum([0, *map(len, chunks)]).astype(np.int32)
    return pa.Array.from_buffers(pa.string(), len(chunks), [
        None, pa.py_buffer(offsets.tobytes()), pa.py_buffer(b"".join(chunks))])


def tiny_vocabulary() -> subwords.SubwordTable:
    """A small subword table: a few pieces and prefixes of each other, the 256 byte pieces."""
    pieces = ["▁", "▁pa", "▁paris", "ri", "s", "é", "🔥", "▁ab", "ab", "▁a"]
    pieces += [f"<0x{b:02X}>" for b in range(256)]
    encoded = [p.encode() for p in pieces]
    rows = np.random.default_rng(3).normal(size=(len(pieces), 3)).astype(np.float32)
    return subwords.SubwordTable.from_arrays({
        "vectors.piece_bytes": np.frombuffer(b"".join(encoded), np.uint8).copy(),
        "vectors.piece_offsets": np.cumsum([0, *map(len, encoded)]).astype(np.int64),
        "vectors.byte_ids": np.arange(10, 266, dtype=np.int32),
        "vectors.piece_weights": rows,
    })


def main() -> None:
    texts = hostile_texts()
    out: dict[str, list] = {}
    for name, spec in {
        "char_wb lowercased": HashingSpec(char_mode="char_wb", char_lowercase=True,
                                          n_features=2**10),
        "char, words apart": HashingSpec(char_ngram_range=(2, 4), n_features=2**10),
    }.items():
        matrix = hashing.featurize(texts, spec)
        out[name] = [matrix.indptr.tolist(), matrix.indices.tolist(), matrix.data.tolist()]
        params = {"char_ngram_range": spec.char_ngram_range, "word_ngram_range":
                  spec.word_ngram_range, "char_mode": spec.char_mode, "char_lowercase":
                  spec.char_lowercase, "word_lowercase": spec.word_lowercase,
                  "n_features": spec.n_features, "sublinear_tf": True, "word_weight": 0.5}
        rng = np.random.default_rng(5)
        table = fused.scoring_table(
            [rng.random(spec.n_features), rng.random(spec.n_features)],
            rng.normal(size=(3, 2 * spec.n_features)))
        out[name + " scores"] = fused.decision_scores(texts, params, table).tolist()
    out["pooled"] = subwords.pooled(texts, tiny_vocabulary()).tolist()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
