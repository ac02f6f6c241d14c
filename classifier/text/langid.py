"""Offline language identification with lingua (its models ship inside the wheel).

A language the source already provides is kept (``resolve_lang``); detection
only fills the gaps. Detection is restricted to the languages this domain sees
(``DETECT_LANGUAGES``): fewer candidates is both faster and more
accurate on short posts.
"""

from __future__ import annotations

from functools import lru_cache

import regex
from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

DETECT_LANGUAGES: tuple[str, ...] = (
    "ar",
    "en",
    "fr",
    "ru",
    "de",
    "es",
    "it",
    "nl",
    "tr",
    "fa",
    "ur",
    "id",
    "ms",
    "uk",
    "bs",
    "sq",
    "sv",
    "da",
    "pt",
    "he",
)
"""Languages lingua chooses between when a source gives none."""

UNDETERMINED = "und"
_DETECT_CHARS = 600
_LETTER = regex.compile(r"\p{L}")
_NOISE = regex.compile(r"(?:https?://|www\.)\S+|\S+\.[a-z]{2,4}/\S*|[#@]\S+|^RT\b")
_LANG_CODE = regex.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")


@lru_cache(maxsize=1)
def detector() -> LanguageDetector:
    """The lingua detector over ``DETECT_LANGUAGES``, built once per process."""
    languages = [Language.from_iso_code_639_1(IsoCode639_1.from_str(c)) for c in DETECT_LANGUAGES]
    return LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()


@lru_cache(maxsize=20_000)
def detect(text: str) -> str:
    """ISO 639-1 code of the language of ``text``, or 'und' when it cannot be told.

    text: the post text. URLs, hashtags and mentions are ignored, since they
    are language-neutral and often in another language than the post.
    """
    # A few hundred characters settle the language; lingua's cost grows with length.
    body = _NOISE.sub(" ", text[:_DETECT_CHARS])
    if len(_LETTER.findall(body)) < 3:
        return UNDETERMINED
    language = detector().detect_language_of(body)
    if language is None:
        return UNDETERMINED
    return language.iso_code_639_1.name.lower()


@lru_cache(maxsize=4096)
def _normalize_code(code: str) -> str | None:
    code = code.strip()
    if not _LANG_CODE.match(code):
        return None
    primary = code.split("-")[0].split("_")[0].lower()
    if primary in {"und", "qme", "qht", "qam", "qct", "zxx", "art"}:
        return None
    return primary


def normalize_lang(code: object) -> str | None:
    """A source-provided language tag as a lower-case primary subtag, or None.

    code: what the source gave ('en', 'AR', 'fr-FR', 'und', None...). Twitter's
    'und', 'qme' (media only) and similar non-languages map to None.
    """
    if not isinstance(code, str):
        return None
    return _normalize_code(code)


def resolve_lang(given: object, text: str) -> str:
    """The language of a post: the source's own tag when usable, else detection."""
    return normalize_lang(given) or detect(text)
