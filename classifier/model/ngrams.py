"""What the model's features are: hashed character and word n-grams.

``HashingSpec`` says which n-grams; ``hashing``'s docstring defines them (scikit-learn's
``char`` / ``char_wb`` / word analyzers, hashed with MurmurHash3), and the property tests
check the kernel against that definition in plain Python (``tests/support/oracles.py``).
``explain`` enumerates the same n-grams with their positions. Words are ``text.tokens``'s
``word_tokens``. This module imports neither numba nor spaCy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

CHAR_PREFIX = b"c\x1f"
WORD_PREFIX = b"w\x1f"


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
