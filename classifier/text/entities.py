"""Hashtags, URLs, domains and mentions pulled out of post text, in any script."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import regex

from swarmlens.classifier.text.normalize import clean, normalize, strip_controls

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
# scheme://[user@]host[:port]... ; the host is what domain() reports.
_HOST = regex.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:[^/?#@\s]*@)?([^/?#:\s\[\]]+)", regex.I)
LINK_TRAILING = ".,;:!?)]}'\"…،؛"
"""Punctuation trimmed from the end of a link found in text (it closes the sentence)."""
# A link's host: dot-separated labels ending in a top-level domain of two letters or more
# (or an IDNA 'xn--' one), or an IPv4 address. 'https://', 'https://t' and 'https://t.c',
# what a truncated text leaves of a link, have none.
_LINK_HOST = regex.compile(
    r"(?:[^.]+\.)+(?:\p{L}[\p{L}\p{M}]+|xn--[a-z0-9-]+)|[0-9]{1,3}(?:\.[0-9]{1,3}){3}",
    regex.IGNORECASE,
)
# What a text cut short ends with: '…' (U+2026, '...' once cleaned) or '...'.
_CUT = "..."
_KEY_DROP = regex.compile(r"[^\p{L}\p{N}]+")


@lru_cache(maxsize=200_000)
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


def hashtags(text: str, cleaned: bool = False) -> list[str]:
    """Canonical keys of the hashtags in ``text``, in order of first appearance, unique.

    cleaned: ``text`` already went through ``normalize.clean`` (skips doing it again).
    """
    return list(tagged(text, cleaned))


def tagged(text: str, cleaned: bool = False) -> dict[str, str]:
    """{canonical key: spelling} of the hashtags in ``text``, in order of first appearance.

    The spelling is the tag as first written in the text, without its '#', cleaned
    (NFKC, controls removed) but with its case and letters kept: what a reader should
    see ('ParisIsBurning', 'الدولة_الإسلامية'), where the key is what counts.
    A tag cut by the '…' that ends a truncated text ('... #Re…') is no hashtag.
    cleaned: ``text`` already went through ``normalize.clean`` (it has no '…' left).
    """
    if "#" not in text and "＃" not in text:
        return {}
    cut = not cleaned and strip_controls(text).rstrip().endswith("…")
    return _tags(text if cleaned else clean(text), cut)


def _tags(piece: str, cut: bool) -> dict[str, str]:
    """``tagged`` of a cleaned text; cut: the raw text ended in '…', and a tag that runs
    into the dots that end ``piece`` is a cut one."""
    seen: dict[str, str] = {}
    end = len(piece.rstrip().rstrip(".")) if cut else -1
    for match in _HASHTAG.finditer(piece):
        if match.end() == end:
            continue
        form = match.group(1)
        key = canonical_hashtag(form)
        if key:
            seen.setdefault(key, form)
    return seen


def urls(text: str, cleaned: bool = False) -> list[str]:
    """URLs in ``text`` as written, without trailing punctuation, unique, in order.

    A URL has a host with a top-level domain (``is_link``), and a link that runs into the
    '…' or '...' ending a text was cut short ('... https://t.co/Ab…'): neither is kept.
    cleaned: ``text`` already went through ``normalize.clean``.
    """
    if "/" not in text and "www" not in text.lower():
        return []
    piece = text if cleaned else clean(text)
    return _links(piece, piece.rstrip().endswith(_CUT))


def _links(piece: str, cut: bool) -> list[str]:
    """``urls`` of a cleaned text; cut: ``piece`` ends a text with '...', and a link that
    runs to its end is a cut one."""
    seen: dict[str, None] = {}
    end = len(piece.rstrip()) if cut else -1
    for match in _URL.finditer(piece):
        if match.end() == end:
            continue
        url = match.group(0).rstrip(LINK_TRAILING)
        if ("/" in url or url.lower().startswith("www.")) and is_link(url):
            seen.setdefault(url, None)
    return list(seen)


@lru_cache(maxsize=200_000)
def is_link(url: str) -> bool:
    """Whether ``url`` (as ``urls`` finds it) names a host: labels and a top-level domain
    of two letters or more, or an IPv4 address ('https://t', 'https://t.c' do not), and is
    not a bare 't.co' with no path (the wrapper of a link that a truncated text cut off).
    """
    match = _HOST.match(url)
    if match is None:
        return False
    host = match.group(1).lower().rstrip(".")
    if not _LINK_HOST.fullmatch(host):
        return False
    return host.removeprefix("www.") != "t.co" or url[match.end():] not in ("", "/")


@lru_cache(maxsize=200_000)
def domain(url: str) -> str | None:
    """Host of ``url``, lower-cased, without 'www.' or port; None if there is none.

    t.co and other shorteners are kept as given: they cannot be resolved offline.
    """
    match = _HOST.match(url)
    if match is None:
        return None
    host = match.group(1).lower().rstrip(".")
    if "." not in host or host.startswith("."):
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


# Query parameters that say who clicked where, not what was shared: two shares of one
# article with different campaign tags are one link (the list CooRnet and ClearURLs use).
_TRACKING = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "igshid", "mc_cid", "mc_eid", "yclid", "_ga",
     "ref_src", "ref_url", "si", "feature", "cmpid", "ocid", "ncid", "spm"}
)


@lru_cache(maxsize=200_000)
def normalize_url(url: str) -> str:
    """One spelling per link, so that shares of the same link can be matched.

    url: a URL as found ('justpaste.it/abc', 'http://www.x.org/a/?utm_source=t#top').
    The scheme becomes https (a bare link gets one), the host is lower-cased without
    'www.' or a default port, tracking parameters (utm_*, fbclid...) and the fragment
    are dropped, and a trailing '/' of a non-root path is removed. Path and the other
    parameters keep their case: on most sites they are case-sensitive ids.
    """
    text = url.strip()
    if "://" not in text[:12]:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return url
    host = (parts.hostname or "").rstrip(".").removeprefix("www.")
    if not host:
        return url
    if port is not None and port not in (80, 443):
        host = f"{host}:{port}"
    query = urlencode(
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not k.lower().startswith("utm_") and k.lower() not in _TRACKING
        ]
    )
    path = parts.path.rstrip("/") if len(parts.path) > 1 else ""
    return urlunsplit(("https", host, path, query, ""))


def normalize_urls(url_list: list[str]) -> list[str]:
    """``normalize_url`` of each URL, unique, in order."""
    return list(dict.fromkeys(normalize_url(u) for u in url_list))


def mentions(text: str, cleaned: bool = False) -> list[str]:
    """Mentioned handles (without '@', lower-cased), unique, in order.

    cleaned: ``text`` already went through ``normalize.clean``.
    """
    if "@" not in text:
        return []
    seen: dict[str, None] = {}
    for match in _MENTION.finditer(text if cleaned else clean(text)):
        seen.setdefault(match.group(1).lower(), None)
    return list(seen)


# Per chunk: (hashtag keys, URLs, mentions, hashtag spellings parallel to the keys).
Found = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]
_NOTHING: Found = ((), (), (), ())
_chunk_entities: dict[str, Found] = {}
_CHUNK_CACHE_LIMIT = 100_000


def entities_of_chunk(chunk: str) -> Found:
    """Entities of one whitespace-separated chunk of raw text (cleaned here), memoised."""
    found = _chunk_entities.get(chunk)
    if found is None:
        piece = clean(chunk)
        if "#" in piece or "＃" in piece or "@" in piece or "/" in piece or "www" in piece.lower():
            found = _found(piece, cut_tags=False, cut_links=False)
        else:
            found = _NOTHING
        if len(_chunk_entities) >= _CHUNK_CACHE_LIMIT:
            _chunk_entities.clear()
        _chunk_entities[chunk] = found
    return found


def _found(piece: str, cut_tags: bool, cut_links: bool) -> Found:
    """(hashtag keys, URLs, mentions, spellings) of a cleaned chunk, _NOTHING if none."""
    tags = _tags(piece, cut_tags) if "#" in piece or "＃" in piece else {}
    links = _links(piece, cut_links) if "/" in piece or "www" in piece.lower() else []
    found = (tuple(tags), tuple(links), tuple(mentions(piece, cleaned=True)),
             tuple(tags.values()))
    return found if any(found) else _NOTHING


_last_entities: dict[str, Found] = {}


def entities_of_last_chunk(chunk: str) -> Found:
    """``entities_of_chunk`` of the last chunk of a text (the last one that cleaning leaves
    non-empty): a text cut short ends in '…' or '...', and the link that runs into those
    dots, or the hashtag that runs into a '…', was cut with it and is no entity."""
    found = _last_entities.get(chunk)
    if found is None:
        piece = clean(chunk)
        if not piece.endswith(_CUT):
            found = entities_of_chunk(chunk)
        else:
            found = _found(piece, cut_tags=strip_controls(chunk).endswith("…"), cut_links=True)
        if len(_last_entities) >= _CHUNK_CACHE_LIMIT:
            _last_entities.clear()
        _last_entities[chunk] = found
    return found


def _plain_ascii(chunk: str) -> bool:
    return (
        chunk.isascii()
        and "#" not in chunk
        and "@" not in chunk
        and "/" not in chunk
        and "www" not in chunk.lower()
    )


def extract(text: str) -> tuple[list[str], list[str], list[str]]:
    """Hashtag keys, URLs and mentions of ``text`` in one pass (see ``extract_all``)."""
    return extract_all(text)[:3]  # type: ignore[return-value]


def extract_all(text: str) -> tuple[list[str], list[str], list[str], list[str]]:
    """Hashtag keys, URLs, mentions and hashtag spellings of ``text`` in one pass.

    The spellings are parallel to the keys: each key's spelling as first written
    (``tagged``). None of them spans whitespace, and cleaning (NFKC, control removal)
    never moves whitespace, so they are found per whitespace-separated chunk of the
    raw text, cleaned and memoised chunk by chunk: archives repeat the same
    chunks endlessly; the text's last chunk is the one where a truncated text's cut
    link or hashtag sits (``entities_of_last_chunk``). Gives the same result as ``tagged``,
    ``urls`` and ``mentions`` on the cleaned text.
    """
    tags: dict[str, str] = {}
    links: list[str] = []
    handles: list[str] = []
    get = _chunk_entities.get
    chunks = text.split()
    last = _last_index(chunks)
    for index, chunk in enumerate(chunks):
        found = get(chunk) if index != last else None
        if found is None:
            # A plain ASCII word (cleaning leaves ASCII as it is) holds no entity, short of
            # a bare 'www.' link; not memoised, so the long tail of words seen once does
            # not evict the chunks that repeat.
            if _plain_ascii(chunk):
                continue
            found = entities_of_chunk(chunk) if index != last else entities_of_last_chunk(chunk)
        if found is not _NOTHING:
            for key, form in zip(found[0], found[3], strict=True):
                tags.setdefault(key, form)
            links.extend(found[1])
            handles.extend(found[2])
    return list(tags), _unique(links), _unique(handles), list(tags.values())


def _last_index(chunks: list[str]) -> int:
    """Index of the last chunk that cleaning leaves non-empty (not only control
    characters), -1 if none."""
    for index in range(len(chunks) - 1, -1, -1):
        if strip_controls(chunks[index]):
            return index
    return -1


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items)) if len(items) > 1 else items
