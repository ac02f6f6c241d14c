"""Tweet-aware tokenisation with spaCy's blank multilingual pipeline.

spaCy's rules are kept, with three changes for social media: '#' is not split
off (hashtags stay whole, as mentions and URLs already do), emoji sequences
(ZWJ families, flags, skin tones) stay one token, and emoji glued to words
are split from them.

spaCy tokenises each whitespace-separated chunk on its own, so the tokens of a
text are the concatenation of the tokens of its chunks. ``tokenize`` uses that
to memoise per distinct chunk: archives repeat the same chunks (hashtags,
slogans, retweets) millions of times, and a dict lookup is ~100x cheaper than
running the tokenizer.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import regex
import spacy
from spacy.language import Language
from spacy.tokenizer import Tokenizer

TOKENIZER_NAME = "swarmlens.tweet_tokenizer.v1"

_EMOJI = (
    r"(?:\p{Regional_Indicator}{2}"
    r"|[\p{Extended_Pictographic}\p{Emoji_Presentation}]"
    r"(?:\p{Emoji_Modifier}|\uFE0F|\u20E3|\u200D[\p{Extended_Pictographic}\p{Emoji_Presentation}]\uFE0F?)*)"
)
_EMOJI_PREFIX = regex.compile("^" + _EMOJI)
_EMOJI_SUFFIX = regex.compile(_EMOJI + "$")
_EMOJI_INFIX = regex.compile(_EMOJI)
_KEEP_WHOLE = regex.compile(r"^[#＃@][\p{L}\p{M}\p{N}_]+$")
_MAX_CACHE = 100_000


def _first(*searches: Callable[[str], regex.Match | None]) -> Callable[[str], regex.Match | None]:
    def search(text: str) -> regex.Match | None:
        for find in searches:
            match = find(text)
            if match is not None:
                return match
        return None

    return search


def _infixes(*finders: Callable[[str], object]) -> Callable[[str], list[regex.Match]]:
    def finditer(text: str) -> list[regex.Match]:
        matches = [m for find in finders for m in find(text)]
        matches.sort(key=lambda m: m.start())
        kept: list[regex.Match] = []
        for match in matches:
            if not kept or match.start() >= kept[-1].end():
                kept.append(match)
        return kept

    return finditer


@spacy.registry.tokenizers(TOKENIZER_NAME)
def create_tweet_tokenizer() -> Callable[[Language], Tokenizer]:
    """spaCy registry factory for the tweet-aware tokenizer (usable from a spaCy config)."""

    def make(nlp: Language) -> Tokenizer:
        defaults = nlp.Defaults
        prefixes = [p for p in defaults.prefixes if p not in ("#", "＃")]
        prefix_re = spacy.util.compile_prefix_regex(prefixes)
        suffix_re = spacy.util.compile_suffix_regex(defaults.suffixes)
        infix_re = spacy.util.compile_infix_regex(defaults.infixes)
        return Tokenizer(
            nlp.vocab,
            rules=defaults.tokenizer_exceptions,
            prefix_search=_first(_EMOJI_PREFIX.search, prefix_re.search),
            suffix_search=_first(_EMOJI_SUFFIX.search, suffix_re.search),
            infix_finditer=_infixes(_EMOJI_INFIX.finditer, infix_re.finditer),
            token_match=_KEEP_WHOLE.match,
            url_match=defaults.url_match,
        )

    return make


@lru_cache(maxsize=1)
def nlp() -> Language:
    """The blank multilingual ('xx') spaCy pipeline with the tweet tokenizer (built once)."""
    return spacy.blank("xx", config={"nlp": {"tokenizer": {"@tokenizers": TOKENIZER_NAME}}})


_chunk_cache: dict[str, tuple[str, ...]] = {}


def tokenize_chunk(chunk: str) -> tuple[str, ...]:
    """Tokens of one whitespace-free chunk, memoised.

    chunk: a string without whitespace (one element of ``str.split()``).
    """
    tokens = _chunk_cache.get(chunk)
    if tokens is None:
        if len(_chunk_cache) >= _MAX_CACHE:
            # spaCy's vocab keeps every string it has seen; rebuilding the
            # pipeline with the cache keeps memory flat on endless archives.
            _chunk_cache.clear()
            nlp.cache_clear()
        tokens = tuple(t.text for t in nlp().tokenizer(chunk) if not t.is_space)
        _chunk_cache[chunk] = tokens
    return tokens


def tokenize(text: str) -> list[str]:
    """Tokens of ``text`` (whitespace dropped), identical to spaCy's tokenizer output.

    text: any string, usually already normalised.
    """
    return [token for chunk in text.split() for token in tokenize_chunk(chunk)]
