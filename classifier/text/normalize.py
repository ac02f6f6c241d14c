"""Text normalisation for matching: one function per concern, composed by ``normalize``.

Why: the same hashtag or word arrives in many spellings (full-width letters,
invisible joiners pasted from other apps, Arabic written with or without
diacritics, tatweel used for emphasis, Persian keyboards producing ی/ک).
Matching, counting and the classifier must see one form.
"""

from __future__ import annotations

import re
import unicodedata

# Zero-width and bidirectional control characters: invisible, yet they split
# words and defeat matching (RLM/LRM are common in Arabic posts). Soft hyphen, BOM.
CONTROL_RANGES = ((0x00AD, 0x00AD), (0x061C, 0x061C), (0x180E, 0x180E), (0x200B, 0x200F),
                  (0x202A, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F), (0xFEFF, 0xFEFF))
# Arabic harakat, Quranic marks and superscript alef; tatweel (kashida).
ARABIC_MARK_RANGES = ((0x0610, 0x061A), (0x064B, 0x065F), (0x0670, 0x0670),
                      (0x06D6, 0x06ED), (0x0640, 0x0640))
ARABIC_FOLD = {
    "\u0622": "\u0627",  # آ -> ا
    "\u0623": "\u0627",  # أ -> ا
    "\u0625": "\u0627",  # إ -> ا
    "\u0671": "\u0627",  # ٱ -> ا
    "\u0649": "\u064a",  # ى (alef maqsura) -> ي
    "\u06cc": "\u064a",  # ی (Persian yeh) -> ي
    "\u06d2": "\u064a",  # ے (Urdu yeh barree) -> ي
    "\u06a9": "\u0643",  # ک (keheh) -> ك
    "\u06c1": "\u0647",  # ہ (heh goal) -> ه
}
"""Arabic letter variants -> the base letter. These three sets are the one definition:
``prepare`` (Arrow regex classes) and ``entity_columns`` build theirs from them."""


def _char_class(ranges: tuple[tuple[int, int], ...]) -> re.Pattern[str]:
    return re.compile("[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in ranges) + "]")


_CONTROLS = _char_class(CONTROL_RANGES)
_ARABIC_MARKS = _char_class(ARABIC_MARK_RANGES)
_ARABIC_FOLD = str.maketrans(ARABIC_FOLD)
_WHITESPACE = re.compile(r"\s+")


def strip_controls(text: str) -> str:
    """Remove zero-width and bidi control characters.

    text: any string.
    """
    return _CONTROLS.sub("", text)


def fold_arabic(text: str) -> str:
    """Remove Arabic diacritics and tatweel, unify alef variants, fold yeh/kaf variants.

    text: any string; non-Arabic characters pass through unchanged.
    """
    return _ARABIC_MARKS.sub("", text).translate(_ARABIC_FOLD)


def clean(text: str) -> str:
    """NFKC and control removal: the display-preserving clean-up done on every input.

    Case, diacritics and spacing are kept so the text still reads as posted.
    text: any string (lone surrogates from broken input are replaced).
    """
    if text.isascii():
        return strip_controls(text)
    text = text.encode("utf-8", "replace").decode("utf-8")
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return strip_controls(text)


def normalize(text: str) -> str:
    """Full normalisation for matching: clean, fold Arabic, casefold, collapse spaces.

    text: any string. Idempotent: ``normalize(normalize(t)) == normalize(t)``.
    """
    folded = fold_arabic(clean(text)).casefold()
    # casefold can produce sequences that NFKC composes differently; re-run both
    # so the function is idempotent on every input.
    folded = fold_arabic(strip_controls(unicodedata.normalize("NFKC", folded)))
    return _WHITESPACE.sub(" ", folded).strip()


_SURROGATE = re.compile("[\ud800-\udfff]")


def without_lone_surrogates(text: str) -> str:
    """``text`` with each lone surrogate (a JSON escape such as ``"\\ud800"`` that pairs
    with nothing) replaced by U+FFFD: such a string cannot be encoded as UTF-8, so no
    output, Arrow table or rejects file could hold it."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text
