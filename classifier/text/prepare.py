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

import pyarrow as pa
import pyarrow.compute as pc

URL_TOKEN = "xxurl"
MENTION_TOKEN = "xxuser"

# RE2 syntax (Arrow's regex engine): \x{...} escapes, \pL/\pN for Unicode classes.
_CONTROLS = (
    r"[\x{00ad}\x{061c}\x{180e}\x{200b}-\x{200f}\x{202a}-\x{202e}"
    r"\x{2060}-\x{2064}\x{2066}-\x{206f}\x{feff}]"
)
_ARABIC_MARKS = r"[\x{0610}-\x{061a}\x{064b}-\x{065f}\x{0670}\x{06d6}-\x{06ed}\x{0640}]"
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
# Arabic letter variants -> the base letter, one regex pass per target letter.
_ARABIC_FOLD = (
    (r"[\x{0622}\x{0623}\x{0625}\x{0671}]", "\u0627"),  # آ أ إ ٱ -> ا
    (r"[\x{0649}\x{06cc}\x{06d2}]", "\u064a"),  # ى ی ے -> ي
    (r"\x{06a9}", "\u0643"),  # ک -> ك
    (r"\x{06c1}", "\u0647"),  # ہ -> ه
)
_ARABIC = r"[\x{0600}-\x{06ff}]"


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
    # Each step runs on the rows it can change only: most rows need no NFKC, no control
    # removal and no Arabic folding, and a regex replacement costs more than a match.
    arr = _on_rows(arr, _nfkc_suspects(), lambda a: pc.utf8_normalize(a, form="NFKC"))
    arr = _on_rows(arr, _CONTROLS, lambda a: pc.replace_substring_regex(a, _CONTROLS, ""))
    if pc.any(pc.match_substring(arr, "&")).as_py():  # most batches have no entity at all
        for entity, char in _ENTITIES:
            arr = pc.replace_substring(arr, pattern=entity, replacement=char)
    if mask_urls:
        arr = pc.replace_substring_regex(arr, pattern=_URL, replacement=URL_TOKEN)
    if mask_mentions:
        arr = _on_rows(arr, "@", lambda a: pc.replace_substring_regex(
            a, pattern=_MENTION, replacement=r"\1" + MENTION_TOKEN), literal=True)
    arr = pc.replace_substring_regex(arr, pattern=_RETWEET, replacement="", max_replacements=1)
    return _on_rows(arr, _ARABIC, _fold_arabic)


def _fold_arabic(arr: pa.Array) -> pa.Array:
    arr = pc.replace_substring_regex(arr, pattern=_ARABIC_MARKS, replacement="")
    for variants, base in _ARABIC_FOLD:
        arr = pc.replace_substring_regex(arr, pattern=variants, replacement=base)
    return arr


def _on_rows(
    arr: pa.Array, pattern: str, step: Callable[[pa.Array], pa.Array], literal: bool = False
) -> pa.Array:
    """``step`` applied to the rows matching ``pattern`` (a regex, or a plain substring)."""
    match = pc.match_substring if literal else pc.match_substring_regex
    hits = match(arr, pattern)
    count = pc.sum(hits).as_py() or 0
    if count == 0:
        return arr
    if count == len(arr):
        return step(arr)
    return pc.replace_with_mask(arr, hits, step(arr.filter(hits)))


# NFKC changes a text only if it holds a character that NFKC changes on its own, a
# combining mark (reordering, composition), or one of the few other second halves of a
# canonical composition. Rows without one are left alone; the test of this module checks
# the claim against unicodedata and Arrow for every character of the ranges below.
_NFKC_SAFE_RANGES = ((0x0000, 0x07FF), (0x2000, 0x2BFF), (0x1F000, 0x1FAFF))
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
    return "[^" + "".join(rf"\x{{{a:x}}}-\x{{{b:x}}}" for a, b in runs) + "]"
