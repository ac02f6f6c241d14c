"""Hashtags, URLs, domains and mentions pulled out of post text, in any script."""

from __future__ import annotations

from urllib.parse import urlsplit

import regex

from classifier.normalize import clean, normalize

# A hashtag is '#' (or full-width '＃') followed by letters, marks, digits or '_',
# not glued to a preceding word or '&' (HTML entities like &#39;), and holding
# at least one letter (Twitter does not link '#2015').
_HASHTAG = regex.compile(
    r"(?<![\p{L}\p{M}\p{N}_&#＃])[#＃]([\p{L}\p{M}\p{N}_]*\p{L}[\p{L}\p{M}\p{N}_]*)"
)
_MENTION = regex.compile(r"(?<![\p{L}\p{N}_@.])@([A-Za-z0-9_]{1,32})\b")
# Scheme or www URLs, plus bare links on the domains these networks used to
# dodge link filters (e.g. 'justpaste.it/abc' typed without a scheme).
_URL = regex.compile(
    r"(?:https?://|www\.)[^\s<>\"'«»“”]+"
    r"|(?<![\p{L}\p{N}@./])(?:[a-z0-9-]+\.)+(?:com|org|net|it|me|ly|co|io|ru|fr|info|tv|gl|cc|us|to)"
    r"/[^\s<>\"'«»“”]*",
    regex.IGNORECASE,
)
_TRAILING = ".,;:!?)]}'\"…،؛"
_KEY_DROP = regex.compile(r"[^\p{L}\p{N}]+")


def canonical_hashtag(tag: str) -> str:
    """Canonical key of a hashtag: one key for every spelling of the same tag.

    tag: the hashtag with or without its leading '#'. '#ParisIsBurning',
    'parisisburning' and '#Paris_Is_Burning' share the key 'parisisburning';
    Arabic variants (diacritics, tatweel, alef forms, ى/ي, taa marbuta/heh)
    collapse too. Returns '' when nothing tag-like is left.
    """
    key = _KEY_DROP.sub("", normalize(tag.lstrip("#＃")))
    # Taa marbuta and heh are written interchangeably at the end of words in
    # informal Arabic; only the hashtag key folds them.
    return key.replace("\u0629", "\u0647")


def hashtags(text: str) -> list[str]:
    """Canonical keys of the hashtags in ``text``, in order of first appearance, unique."""
    seen: dict[str, None] = {}
    for match in _HASHTAG.finditer(clean(text)):
        key = canonical_hashtag(match.group(1))
        if key:
            seen.setdefault(key, None)
    return list(seen)


def urls(text: str) -> list[str]:
    """URLs in ``text`` as written, without trailing punctuation, unique, in order."""
    seen: dict[str, None] = {}
    for match in _URL.finditer(clean(text)):
        url = match.group(0).rstrip(_TRAILING)
        if "/" in url or url.lower().startswith("www."):
            seen.setdefault(url, None)
    return list(seen)


def domain(url: str) -> str | None:
    """Host of ``url``, lower-cased, without 'www.' or port; None if there is none.

    t.co and other shorteners are kept as given: they cannot be resolved offline.
    """
    if "://" not in url:
        url = "http://" + url
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host or "." not in host:
        return None
    return host.removeprefix("www.")


def domains(url_list: list[str]) -> list[str]:
    """Unique domains of ``url_list``, in order."""
    seen: dict[str, None] = {}
    for url in url_list:
        host = domain(url)
        if host:
            seen.setdefault(host, None)
    return list(seen)


def mentions(text: str) -> list[str]:
    """Mentioned handles (without '@', lower-cased), unique, in order."""
    seen: dict[str, None] = {}
    for match in _MENTION.finditer(clean(text)):
        seen.setdefault(match.group(1).lower(), None)
    return list(seen)
