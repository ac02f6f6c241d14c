"""Text preparation for the model, vectorised with Arrow's string kernels (no per-post Python).

The model sees the text as posted, case kept (case is a signal: ALL-CAPS slogans, proper
names), with only what hides the same word under other bytes removed: NFKC, zero-width and
bidi controls, Arabic diacritics and tatweel, Arabic letter variants; URLs and @mentions
become ``xxurl`` / ``xxuser`` so the model learns stance, not a source's link or account
style. Matching (hashtag keys) still uses the case-folded ``normalize.normalize``.

Training, scoring and explanations all prepare text with ``prepare``: one definition.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from swarmlens.classifier.kernels import disk_cached
from swarmlens.classifier.text.normalize import ARABIC_FOLD, ARABIC_MARK_RANGES, CONTROL_RANGES

URL_TOKEN = "xxurl"
MENTION_TOKEN = "xxuser"


def _re2_class(ranges: tuple[tuple[int, int], ...]) -> str:
    """An RE2 character class of code-point ranges (inclusive)."""
    return "[" + "".join(rf"\x{{{a:04x}}}" + (rf"-\x{{{b:04x}}}" if b != a else "")
                         for a, b in ranges) + "]"


# RE2 syntax (Arrow's regex engine): \x{...} escapes, \pL/\pN for Unicode classes.
# Controls and Arabic marks are removed, Arabic letter variants folded: the sets are
# ``normalize``'s.
_CONTROLS = _re2_class(CONTROL_RANGES)
_ARABIC_MARKS = _re2_class(ARABIC_MARK_RANGES)
# URLs, truncated ones too ('https:/…', 'https://t.co/ab…'), and scheme-less pic.twitter.com/.
# RE2's \s is ASCII only: the class below also stops a URL at Unicode line and space
# separators that NFKC leaves alone.
_NOT_SPACE = r"[^\s\x{0b}\x{1c}-\x{1f}\x{85}\x{1680}\x{2028}\x{2029}]"
_URL = r"(?i)(?:https?:/*|www\.|pic\.twitter\.com/)" + _NOT_SPACE + "*"
_RETWEET = r"^RT\s+"  # a retweet marker at the start says nothing about stance
# The HTML entities that social-media exports leave in text ('&amp;' above all).
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#39;", "'"), ("&#039;", "'"),
             ("&amp;", "&"))
# Not inside a word or an e-mail address ('john@x.com' stays); marks belong to the handle.
_MENTION = r"(^|[^\pL\pN\pM_.@])@[\pL\pN\pM_]+"
# RE2 compiles _MENTION's letter classes in ~3 ms, on every call. Its ASCII twin gives the
# same on the rows where no character before an '@' or after a handle is outside ASCII
# and General Punctuation (U+2000-U+206F: no letter, digit or mark), most rows: handles
# are ASCII on these networks. The others take _MENTION.
_ASCII_MENTION = r"(^|[^A-Za-z0-9_.@])@[A-Za-z0-9_]+"
_OTHER = r"[^\x00-\x7f\x{2000}-\x{206f}]"
_MENTION_BY_OTHER = _OTHER + "@|@[A-Za-z0-9_]*" + _OTHER
# Arabic letter variants -> the base letter, one regex pass per target letter.
_ARABIC_FOLD = tuple(
    (_re2_class(tuple((ord(v), ord(v)) for v, b in ARABIC_FOLD.items() if b == base)), base)
    for base in dict.fromkeys(ARABIC_FOLD.values()))
# Every character the Arabic folding changes: the rows without one are left alone.
_ARABIC_FOLDED = _re2_class(tuple(sorted(
    ARABIC_MARK_RANGES + tuple((ord(v), ord(v)) for v in ARABIC_FOLD))))


def as_arrow(texts: Sequence[str | None] | pa.Array | pa.ChunkedArray) -> pa.Array:
    """Texts as one Arrow string array (None stays null)."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if isinstance(texts, pa.Array):
        return texts if pa.types.is_string(texts.type) else texts.cast(pa.string())
    values = list(texts)
    try:
        return pa.array(values, type=pa.string())
    except UnicodeEncodeError:
        # Lone surrogates (from broken JSON escapes) cannot be UTF-8: replace them, as the
        # readers do, rather than refuse the batch.
        return pa.array(
            [v if v is None else v.encode("utf-8", "replace").decode("utf-8") for v in values],
            type=pa.string(),
        )


def prepare(
    texts: Sequence[str | None] | pa.Array | pa.ChunkedArray,
    mask_urls: bool = True,
    mask_mentions: bool = True,
) -> pa.Array:
    """The text the model sees, for a whole batch at once.

    texts: post texts (a list, or an Arrow string array as read from a file).
    mask_urls / mask_mentions: replace URLs by ``xxurl`` and @mentions by ``xxuser``.
    Returns an Arrow string array, nulls as empty strings.

    Steps, chosen by group-aware and leave-one-source-out checks (bench/accuracy.py): NFKC,
    controls removed, HTML entities decoded, URLs and mentions masked, a leading ``RT``
    dropped, Arabic diacritics and tatweel removed, Arabic letter variants unified.
    """
    arr = pc.fill_null(as_arrow(texts), "")
    # NFKC, control removal and the Arabic folding run on the rows they can change only:
    # most rows have none of those characters, and a regex match costs less than the step.
    arr = _on_rows(arr, _nfkc_suspects(), lambda a: pc.utf8_normalize(a, form="NFKC"))
    arr = _on_rows(arr, _CONTROLS, lambda a: pc.replace_substring_regex(a, _CONTROLS, ""))
    # Entities and mentions too: one pass finds the rows with a '&' or an '@' (a few in a
    # hundred, a third), the replacements run on those.
    arr = _on_rows(arr, "&", _decoded_entities)
    if mask_urls:
        arr = pc.replace_substring_regex(arr, pattern=_URL, replacement=URL_TOKEN)
    if mask_mentions:
        arr = _on_rows(arr, "@", _masked_mentions)
    arr = pc.replace_substring_regex(arr, pattern=_RETWEET, replacement="", max_replacements=1)
    return _on_rows(arr, _ARABIC_FOLDED, _fold_arabic)


def _decoded_entities(arr: pa.Array) -> pa.Array:
    for entity, char in _ENTITIES:
        arr = pc.replace_substring(arr, pattern=entity, replacement=char)
    return arr


def _masked_mentions(arr: pa.Array) -> pa.Array:
    """``_MENTION`` replaced by its first group and ``MENTION_TOKEN`` on every row."""
    masked = pc.replace_substring_regex(arr, _ASCII_MENTION, r"\1" + MENTION_TOKEN)
    return _on_rows(arr, _MENTION_BY_OTHER,
                    lambda a: pc.replace_substring_regex(a, _MENTION, r"\1" + MENTION_TOKEN),
                    masked)


def _fold_arabic(arr: pa.Array) -> pa.Array:
    arr = pc.replace_substring_regex(arr, pattern=_ARABIC_MARKS, replacement="")
    for variants, base in _ARABIC_FOLD:
        arr = pc.replace_substring_regex(arr, pattern=variants, replacement=base)
    return arr


def _on_rows(arr: pa.Array, pattern: str, step: Callable[[pa.Array], pa.Array],
             other: pa.Array | None = None) -> pa.Array:
    """``step`` of the rows matching the regex ``pattern``; ``other`` (default ``arr``) on
    the other rows."""
    other = arr if other is None else other
    hits = pc.match_substring_regex(arr, pattern)
    count = pc.sum(hits).as_py() or 0
    if count == 0:
        return other
    if count == len(arr):
        return step(arr)
    return pc.replace_with_mask(other, hits, step(arr.filter(hits)))


# NFKC changes a text only if it holds a character that NFKC changes on its own, a
# combining mark (reordering, composition), or one of the few other second halves of a
# canonical composition. Rows without one are left alone; the test of this module checks
# the claim against unicodedata and Arrow for every character of the ranges below.
# Variation selectors are there because emoji carry U+FE0F: without them one post in six
# of an ordinary stream went through NFKC for nothing.
_NFKC_SAFE_RANGES = ((0x0000, 0x07FF), (0x2000, 0x2BFF), (0xFE00, 0xFE0F), (0x1F000, 0x1FAFF))
_NONZERO_CCC_SECONDS = (
    0x9BE, 0x9D7, 0xB3E, 0xB56, 0xB57, 0xBBE, 0xBD7, 0xCC2, 0xCD5, 0xCD6, 0xD3E, 0xD57,
    0xDCF, 0xDDF, 0xFB5, 0xFB7, 0x102E, 0x1B35, 0x11127, 0x1133E, 0x11357, 0x114B0,
    0x114BA, 0x114BD, 0x115AF, 0x11930,
)


def nfkc_stable(cp: int) -> bool:
    """Whether NFKC leaves character ``cp`` alone wherever it stands (see above)."""
    ch = chr(cp)
    return (
        not 0xD800 <= cp < 0xE000
        and unicodedata.normalize("NFKC", ch) == ch
        and unicodedata.combining(ch) == 0
        and cp not in _NONZERO_CCC_SECONDS
        and not 0x1161 <= cp <= 0x1175
        and not 0x11A8 <= cp <= 0x11C2
    )


@cache
def _nfkc_suspects() -> str:
    """RE2 class of every character outside the NFKC-stable part of the safe ranges."""
    return "[^" + "".join(rf"\x{{{a:x}}}-\x{{{b:x}}}" for a, b in _nfkc_stable_runs()) + "]"


@cache
def _nfkc_stable_runs() -> tuple[tuple[int, int], ...]:
    """Runs (inclusive) of the characters NFKC leaves alone wherever they stand."""
    return tuple((int(a), int(b)) for a, b in _nfkc_stable_array())


@disk_cached
def _nfkc_stable_array() -> np.ndarray:
    """``_nfkc_stable_runs`` as an (n, 2) array (0.2 s to derive: cached on disk)."""
    stable = [cp for low, high in _NFKC_SAFE_RANGES for cp in range(low, high + 1)
              if nfkc_stable(cp)]
    # Arrow's utf8proc may know a newer Unicode than Python does (U+209D 'ʷ'-like letters
    # gained compatibility mappings): keep only what Arrow leaves alone too, alone and
    # after a letter.
    alone = pa.array([chr(cp) for cp in stable])
    after = pa.array(["a" + chr(cp) for cp in stable])
    same = pc.and_(pc.equal(pc.utf8_normalize(alone, form="NFKC"), alone),
                   pc.equal(pc.utf8_normalize(after, form="NFKC"), after))
    stable = [cp for cp, keep in zip(stable, same.to_pylist(), strict=True) if keep]
    runs: list[list[int]] = []
    for cp in stable:
        if runs and cp == runs[-1][1] + 1:
            runs[-1][1] = cp
        else:
            runs.append([cp, cp])
    return np.array(runs, np.int64).reshape(-1, 2)
