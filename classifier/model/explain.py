"""Exact explanations: which words of a post pushed it towards a label, and by how much.

The model is linear over hashed n-gram features, so a post's decision score minus the
intercept is the sum over its features of (TF-IDF weight x label weight). Each feature's
share is split among the n-gram occurrences that produced it, and each occurrence's part
among the whitespace-separated words it overlaps (by overlapping characters). The parts of
all words therefore add up exactly to the score. The n-grams are the hashing kernel's (see
``hashing``), enumerated here with their positions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from swarmlens.classifier.model.ngrams import CHAR_PREFIX, WORD_PREFIX, HashingSpec
from swarmlens.classifier.text.tokens import TOKEN_PATTERN, WS_RUN, lower_code_points

Owners = list[tuple[str, float]]
_WORD = re.compile(r"\S+")


def _index(prefix: bytes, term: str, mask: int) -> int:
    from sklearn.utils import murmurhash3_32  # the reference hash; only explanations need it

    return int(murmurhash3_32(prefix + term.encode("utf-8"), seed=0, positive=True)) & mask


def _owners_of(display: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in _WORD.finditer(display)]


def _share(words: list[tuple[int, int, str]], start: int, end: int) -> Owners:
    """The words overlapping [start, end), each with its fraction of the overlap."""
    overlaps = [(w, min(end, e) - max(start, s)) for s, e, w in words if s < end and e > start]
    total = sum(size for _, size in overlaps)
    if not total:  # only whitespace: give it to the nearest word before, else after
        before = [w for s, e, w in words if e <= start]
        after = [w for s, e, w in words if s >= end]
        nearest = before[-1] if before else after[0] if after else "␣"
        return [(nearest, 1.0)]
    return [(w, size / total) for w, size in overlaps]


def _cased_view(text: str, lowercase: bool) -> tuple[str, str]:
    """(text to take n-grams from, text to name words from): same length whenever possible."""
    if not lowercase:
        return text, text
    lowered = lower_code_points(text)
    # 'İ' lowercases to two code points: positions no longer line up, name words lowercased.
    return lowered, text if len(lowered) == len(text) else lowered


def _char_occurrences(text: str, spec: HashingSpec) -> Iterator[tuple[int, Owners]]:
    lo, hi = spec.char_ngram_range
    source, display = _cased_view(text, spec.char_lowercase)
    doc, shown = WS_RUN.sub(" ", source), WS_RUN.sub(" ", display)
    mask = spec.n_features - 1
    words = _owners_of(shown)
    if spec.char_mode == "char":
        for n in range(lo, hi + 1):
            for i in range(len(doc) - n + 1):
                yield _index(CHAR_PREFIX, doc[i : i + n], mask), _share(words, i, i + n)
        return
    for (_, _, word), (_, _, token) in zip(words, _owners_of(doc), strict=False):
        padded = f" {token} "
        for n in range(lo, hi + 1):
            if n >= len(padded):
                yield _index(CHAR_PREFIX, padded, mask), [(word, 1.0)]
                break
            for i in range(len(padded) - n + 1):
                yield _index(CHAR_PREFIX, padded[i : i + n], mask), [(word, 1.0)]


def _word_occurrences(text: str, spec: HashingSpec) -> Iterator[tuple[int, Owners]]:
    lo, hi = spec.word_ngram_range
    source, display = _cased_view(text, spec.word_lowercase)
    tokens = [(m.start(), m.end(), m.group()) for m in TOKEN_PATTERN.finditer(source)]
    words = _owners_of(display)
    mask = spec.n_features - 1
    for n in range(lo, hi + 1):
        for i in range(len(tokens) - n + 1):
            gram = tokens[i : i + n]
            term = " ".join(t for _, _, t in gram)
            parts: dict[str, float] = {}
            for s, e, _ in gram:
                for word, fraction in _share(words, s, e):
                    parts[word] = parts.get(word, 0.0) + fraction / n
            yield _index(WORD_PREFIX, term, mask), list(parts.items())


def occurrences(text: str, spec: HashingSpec) -> list[tuple[int, Owners]]:
    """Every n-gram occurrence of ``text`` under ``spec``: (feature index, owning words).

    text: the prepared post text. spec: the hashing spec of one feature family.
    """
    found: list[tuple[int, Owners]] = []
    if spec.char_ngram_range[1]:
        found += _char_occurrences(text, spec)
    if spec.word_ngram_range[1]:
        found += _word_occurrences(text, spec)
    return found
