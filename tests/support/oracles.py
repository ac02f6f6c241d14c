"""Plain-Python definitions of what the compiled kernels compute, kept as test oracles.

The package holds one implementation of each thing (the fast one); the property tests
check it against these: hashed n-gram terms and counts (``classifier/model/hashing``,
``fused``) and subword pieces (``classifier/model/subwords``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from swarmlens.classifier.model import subwords
from swarmlens.classifier.model.ngrams import CHAR_PREFIX, WORD_PREFIX, HashingSpec
from swarmlens.classifier.text.tokens import WS_RUN, lower_code_points, word_tokens

# ---------------------------------------------------------------- hashed n-grams


def reference_terms(text: str, spec: HashingSpec) -> list[tuple[str, str]]:
    """Every (family, term) of ``text``, family 'c' (char) or 'w' (word), with repeats:
    scikit-learn's ``char`` / ``char_wb`` / word analyzers (see ``hashing``'s docstring).

    text: one post. spec: the hashing spec.
    """
    terms: list[tuple[str, str]] = []
    lo, hi = spec.char_ngram_range
    if hi:
        doc = WS_RUN.sub(" ", lower_code_points(text) if spec.char_lowercase else text)
        if spec.char_mode == "char":
            for n in range(lo, hi + 1):
                terms += [("c", doc[i : i + n]) for i in range(len(doc) - n + 1)]
        else:
            for token in doc.split():
                padded = f" {token} "
                for n in range(lo, hi + 1):
                    if n >= len(padded):  # sklearn: a short token counts once, whole
                        terms.append(("c", padded))
                        break
                    terms += [("c", padded[i : i + n]) for i in range(len(padded) - n + 1)]
    lo, hi = spec.word_ngram_range
    if hi:
        tokens = word_tokens(text, lowercase=spec.word_lowercase)
        for n in range(lo, hi + 1):
            terms += [("w", " ".join(tokens[i : i + n])) for i in range(len(tokens) - n + 1)]
    return terms


def reference_counts(text: str, spec: HashingSpec) -> dict[int, float]:
    """Feature index -> count for ``text``, with sklearn's C MurmurHash3.

    text: one post. spec: the hashing spec.
    """
    from sklearn.utils import murmurhash3_32

    prefixes = {"c": CHAR_PREFIX, "w": WORD_PREFIX}
    mask = spec.n_features - 1
    counts: Counter[int] = Counter()
    for family, term in reference_terms(text, spec):
        key = prefixes[family] + term.encode("utf-8")
        counts[int(murmurhash3_32(key, seed=0, positive=True)) & mask] += 1
    return {index: float(count) for index, count in counts.items()}


# ---------------------------------------------------------------- subword pieces


def reference_pieces(prepared: str, vocab: Mapping[str, int], byte_ids: Sequence[int]) -> list[int]:
    """The pieces ``subwords.pieces`` must find: each word of ``prepared.split()``, as '▁' +
    word, cut greedily into the longest pieces of ``vocab`` (at most 16 code points), a
    character with no piece becoming its UTF-8 bytes' pieces."""
    found: list[int] = []
    for word in prepared.split():
        marked, i = subwords._MARK + word, 0
        while i < len(marked):
            for j in range(min(len(marked), i + subwords._MAX_PIECE), i, -1):
                if (piece := vocab.get(marked[i:j])) is not None:
                    found.append(piece)
                    i = j
                    break
            else:
                found.extend(byte_ids[b] for b in marked[i].encode("utf-8"))
                i += 1
    return found
