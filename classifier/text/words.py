"""The model's word tokens as a registered spaCy tokenizer (``swarmlens.word_tokenizer.v1``).

A word token is a maximal run of Unicode ``\\w`` characters (Python ``re`` semantics:
``str.isalnum()`` or ``_``) at least two code points long: exactly scikit-learn's
default ``token_pattern`` ``(?u)\\b\\w\\w+\\b``. Lowercasing is per code point
(``ch.lower()`` for each ``ch``): that equals ``str.lower()`` except for the
context-dependent Greek final sigma, which a per-code-point table cannot know about
(and merging σ/ς is what a hashed feature wants anyway).

The definition lives in ``swarmlens.classifier.text.tokens`` (``word_tokens``), which
the hashing kernel reproduces, so featurizing never imports spaCy.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.vocab import Vocab

from swarmlens.classifier.text.tokens import word_tokens

WORD_TOKENIZER_NAME = "swarmlens.word_tokenizer.v1"

class WordTokenizer:
    """A spaCy tokenizer whose tokens are ``word_tokens(text)`` (everything else dropped).

    Off the hot path: every Doc adds its strings to the vocab, which is fine for
    explanations and tests, not for scoring millions of posts.
    """

    def __init__(self, vocab: Vocab, lowercase: bool = False) -> None:
        """vocab: the pipeline's vocab; lowercase: see ``word_tokens``."""
        self.vocab = vocab
        self.lowercase = lowercase

    def __call__(self, text: str) -> Doc:
        """A Doc holding the word tokens of ``text``, separated by single spaces."""
        words = word_tokens(text, self.lowercase)
        return Doc(self.vocab, words=words, spaces=[True] * len(words))

    # spaCy calls these when a pipeline is saved or loaded; there is no state to keep
    # beyond the config (which holds `lowercase`).
    def to_bytes(self, **_: Any) -> bytes:
        return b""

    def from_bytes(self, _data: bytes, **_: Any) -> WordTokenizer:
        return self

    def to_disk(self, _path: str | Path, **_: Any) -> None:
        return None

    def from_disk(self, _path: str | Path, **_: Any) -> WordTokenizer:
        return self


@spacy.registry.tokenizers(WORD_TOKENIZER_NAME)
def create_word_tokenizer(lowercase: bool = False) -> Callable[[Language], WordTokenizer]:
    """spaCy registry factory: ``(nlp) -> WordTokenizer``.

    lowercase: lowercase per code point before tokenising (see ``word_tokens``).
    """

    def make(nlp: Language) -> WordTokenizer:
        return WordTokenizer(nlp.vocab, lowercase=lowercase)

    return make
