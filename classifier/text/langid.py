"""Offline language identification: CLD2 first, lingua where CLD2 is unsure.

A language the source already provides is kept (``resolve_lang``); detection
only fills the gaps. CLD2 (``pycld2``, Google's Compact Language Detector 2, compiled
into its wheel) answers in about 11 us a post; lingua (its models ship inside its
wheel) takes 200-300 us a post. So CLD2 decides when it calls its answer reliable and the
answer is one of the languages this domain sees (``DETECT_LANGUAGES``); otherwise (short
or mixed texts, other languages: about 3% of dev posts) lingua decides among those
languages alone, as it did for every post before. On the dev posts whose source gave a
language, this agrees with the source on 95.4% of them, lingua alone on 91.2%, and a
Telegram or VK archive (no ``lang`` at all) no longer spends most of its scoring time here.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from functools import lru_cache

import pycld2
import regex
from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from swarmlens.classifier.text.normalize import without_lone_surrogates

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
_THREE_LETTERS = regex.compile(r"\p{L}(?:.*?\p{L}){2}", regex.DOTALL)
# ASCII constructs only, so the standard library's engine (three times faster here) reads
# it exactly as ``regex`` would.
_NOISE = re.compile(r"(?:https?://|www\.)\S+|\S+\.[a-z]{2,4}/\S*|[#@]\S+|^RT\b")
# Characters CLD2 refuses as "invalid UTF-8" (C0 controls but tab, newline, form feed and
# carriage return; DEL; C1 controls): blanked before it reads the text.
_CLD2_REFUSES = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_CLD2_CODES = {"iw": "he", "jw": "jv", "in": "id"}
"""CLD2's old ISO 639-1 codes, as the codes lingua and ``DETECT_LANGUAGES`` use."""
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
    # A few hundred characters settle the language; the detectors' cost grows with length.
    body = _NOISE.sub(" ", text[:_DETECT_CHARS])
    # A lone surrogate (a JSON body may carry "\ud800") cannot be encoded as UTF-8, which
    # both detectors need: it reads as U+FFFD, as the readers store it.
    body = without_lone_surrogates(body)
    if not _THREE_LETTERS.search(body):
        return UNDETERMINED
    found = _cld2(body)
    if found is not None:
        return found
    language = detector().detect_language_of(body)
    if language is None:
        return UNDETERMINED
    return language.iso_code_639_1.name.lower()


DETECTING = threading.RLock()
"""Held by the thread that detects the languages of many posts (``detect_all``) or decodes
many records one by one (which detects). ``detect`` is Python around C calls that release
the GIL (CLD2): two threads detecting at once hand the GIL back and forth on every post,
and went slower together than one alone (a 100k-post archive without ``lang``, 2 scoring
threads: 9.3 s against 8.5 s with one; with this lock 6.2 s, the other thread scoring
meanwhile without the GIL)."""


def detect_all(texts: Iterable[str]) -> list[str]:
    """``detect`` of each text, one thread of the process at a time (see ``DETECTING``)."""
    with DETECTING:
        return [detect(text) for text in texts]


_DETECTABLE = frozenset(DETECT_LANGUAGES)


def _cld2(body: str) -> str | None:
    """CLD2's language of ``body`` when CLD2 calls it reliable and it is one of
    ``DETECT_LANGUAGES``; else None (lingua decides)."""
    try:
        reliable, _, details = pycld2.detect(_CLD2_REFUSES.sub(" ", body), bestEffort=True)
    except pycld2.error:  # anything else it refuses: lingua reads every string
        return None
    code = details[0][1].split("-")[0].lower()
    code = _CLD2_CODES.get(code, code)
    return code if reliable and code in _DETECTABLE else None


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


def resolve_langs(given: Iterable[object], texts: Iterable[str]) -> list[str]:
    """``resolve_lang`` of each (tag, text) pair, the missing ones detected by ``detect_all``."""
    tags = [normalize_lang(code) for code in given]
    texts = list(texts)
    found = iter(detect_all([t for tag, t in zip(tags, texts, strict=True) if tag is None]))
    return [tag or next(found) for tag in tags]
