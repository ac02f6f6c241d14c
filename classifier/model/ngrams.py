"""What the model's features are: hashed character and word n-grams.

``HashingSpec`` says which n-grams; ``hashing``'s docstring defines them (scikit-learn's
``char`` / ``char_wb`` / word analyzers, hashed with MurmurHash3), and the property tests
check the kernel against that definition in plain Python (``tests/support/oracles.py``).
``explain`` enumerates the same n-grams with their positions, and the spaCy tokenizer
(``text/words``) uses ``word_tokens``. This module imports neither numba nor spaCy.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Literal

# sklearn's default token_pattern; for a str pattern `re` is Unicode-aware by default.
TOKEN_PATTERN = re.compile(r"(?u)\b\w\w+\b")
CHAR_PREFIX = b"c\x1f"
WORD_PREFIX = b"w\x1f"
WS_RUN = re.compile(r"\s\s+")
"""Runs of two or more whitespace characters: sklearn's char analyzers make each one space."""


@dataclass(frozen=True)
class HashingSpec:
    """What to hash. Ranges are inclusive (min_n, max_n); (0, 0) disables a family."""

    char_ngram_range: tuple[int, int] = (1, 5)
    char_mode: Literal["char", "char_wb"] = "char"
    char_lowercase: bool = False
    word_ngram_range: tuple[int, int] = (1, 2)
    word_lowercase: bool = True
    n_features: int = 2**20

    def __post_init__(self) -> None:
        for name in ("char_ngram_range", "word_ngram_range"):
            lo, hi = getattr(self, name)
            if (lo, hi) != (0, 0) and not 1 <= lo <= hi:
                raise ValueError(f"{name} must be (0, 0) or 1 <= min <= max, got {(lo, hi)}")
            object.__setattr__(self, name, (int(lo), int(hi)))  # JSON lists -> tuples
        if self.char_mode not in ("char", "char_wb"):
            raise ValueError(f"char_mode must be 'char' or 'char_wb', got {self.char_mode!r}")
        n = self.n_features
        if not (isinstance(n, int) and 2 <= n <= 2**31 and n & (n - 1) == 0):
            raise ValueError(f"n_features must be a power of two in [2, 2**31], got {n}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (ranges as lists)."""
        out = asdict(self)
        out["char_ngram_range"] = list(self.char_ngram_range)
        out["word_ngram_range"] = list(self.word_ngram_range)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HashingSpec:
        """Inverse of ``to_dict``. data: a dict as written by ``to_dict``."""
        return cls(**data)


# ---------------------------------------------------------------- words
# Kept here, not in text/words.py (which adds the spaCy tokenizer), so that featurizing
# never imports spaCy.


def lower_code_points(text: str) -> str:
    """``text`` lowercased one code point at a time with ``str.lower`` ('İ' -> 'i̇').

    text: any string. Equals ``text.lower()`` except for the contextual final sigma.
    """
    return "".join([ch.lower() for ch in text])


def word_tokens(text: str, lowercase: bool = False) -> list[str]:
    """Word tokens: maximal runs of ``\\w`` (Python ``re``) of >= 2 code points, in order.

    text: any string.
    lowercase: lowercase per code point first (sklearn's order: lowercasing can split a
        token, e.g. 'İ' -> 'i' + U+0307, which is not ``\\w``).
    """
    return TOKEN_PATTERN.findall(lower_code_points(text) if lowercase else text)
