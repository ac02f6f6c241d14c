"""Text preparation for the model, vectorised with Arrow's string kernels (no per-post Python).

The model sees the text as posted, case kept (case is a signal: ALL-CAPS slogans, proper
names), with only what hides the same word under other bytes removed: NFKC, zero-width and
bidi controls, Arabic diacritics and tatweel, Arabic letter variants; URLs and @mentions
become ``xxurl`` / ``xxuser`` so the model learns stance, not a source's link or account
style. Matching (hashtag keys) still uses the case-folded ``normalize.normalize``.

Training, scoring and explanations all prepare text with ``prepare``: one definition.
"""

from __future__ import annotations

from collections.abc import Sequence

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
_URL = r"(?i)(?:https?:/*|www\.|pic\.twitter\.com/)\S*"
_RETWEET = r"^RT\s+"  # a retweet marker at the start says nothing about stance
# The HTML entities that social-media exports leave in text ('&amp;' above all).
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#39;", "'"), ("&#039;", "'"),
             ("&amp;", "&"))
_MENTION = r"@[\pL\pN_]+"
_ARABIC_FOLD = (
    ("\u0622", "\u0627"),
    ("\u0623", "\u0627"),
    ("\u0625", "\u0627"),
    ("\u0671", "\u0627"),
    ("\u0649", "\u064a"),
    ("\u06cc", "\u064a"),
    ("\u06d2", "\u064a"),
    ("\u06a9", "\u0643"),
    ("\u06c1", "\u0647"),
)


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
    arr = pc.utf8_normalize(arr, form="NFKC")
    arr = pc.replace_substring_regex(arr, pattern=_CONTROLS, replacement="")
    for entity, char in _ENTITIES:
        arr = pc.replace_substring(arr, pattern=entity, replacement=char)
    if mask_urls:
        arr = pc.replace_substring_regex(arr, pattern=_URL, replacement=URL_TOKEN)
    if mask_mentions:
        arr = pc.replace_substring_regex(arr, pattern=_MENTION, replacement=MENTION_TOKEN)
    arr = pc.replace_substring_regex(arr, pattern=_RETWEET, replacement="", max_replacements=1)
    arr = pc.replace_substring_regex(arr, pattern=_ARABIC_MARKS, replacement="")
    for variant, base in _ARABIC_FOLD:
        arr = pc.replace_substring(arr, pattern=variant, replacement=base)
    return arr
