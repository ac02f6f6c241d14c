"""Word tokens as the model sees them: scikit-learn's token pattern, per-code-point case.

The model's word n-grams (``model.hashing``), its explanations (``model.explain``) and the
registered spaCy tokenizer (``text.words``) all take their words from here. Plain ``re``:
no numba, no spaCy.
"""

from __future__ import annotations

import re

# sklearn's default token_pattern; for a str pattern `re` is Unicode-aware by default.
TOKEN_PATTERN = re.compile(r"(?u)\b\w\w+\b")
WS_RUN = re.compile(r"\s\s+")
"""Runs of two or more whitespace characters: sklearn's char analyzers make each one space."""

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
