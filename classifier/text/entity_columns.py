"""Hashtags, URLs, domains and mentions of a whole batch of texts, as Arrow list columns.

The definition stays ``entities.extract`` (per text, in Python): entities never span
whitespace, so a text's entities are those of its whitespace-separated chunks, in order.
Here the chunks of the whole batch are cut by Arrow (``_words``) and most of them are
settled by vectorised tests:

* a chunk holding none of the characters an entity needs (``#``, ``@``, ``/``, ``www``,
  or a character that NFKC or control removal turns into one) has no entity: most words;
* a chunk that is one plain ASCII ``http(s)://`` or ``www.`` link is that link;
* every other chunk (hashtags, mentions, text glued to links) goes to ``entities``'
  memoised Python, once per distinct chunk in the batch: archives repeat them endlessly.

The per-text lists are then assembled with numpy (first appearance order, unique), so no
Python runs per post. ``tests/unit/test_columnar.py`` checks the result against
``entities.extract`` text by text.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from swarmlens.classifier.kernels import arrow_buffers
from swarmlens.classifier.text import entities
from swarmlens.classifier.text.normalize import CONTROL_RANGES
from swarmlens.classifier.text.prepare import as_arrow

# Characters from which cleaning (NFKC + control removal) can make '#', '@', '/' or 'w':
# themselves, their compatibility forms (full-width, mathematical, circled...), and the
# controls that cleaning deletes (deleting one can glue 'w\u200bww.' into 'www.').
# ``tests/unit/test_columnar.py`` recomputes the list from ``unicodedata``.
ENTITY_CHAR_CODES = (
    0x23, 0x2F, 0x40, 0x57, 0x77, 0x2B7, 0x1D42, 0x2100, 0x2101, 0x2105, 0x2106, 0x24B2,
    0x24CC, 0x24E6, 0x33BA, 0x33BB, 0x33BC, 0x33BD, 0x33BE, 0x33BF, 0x33DD, 0xFE5F, 0xFE6B,
    0xFF03, 0xFF0F, 0xFF20, 0xFF37, 0xFF57, 0x1D416, 0x1D430, 0x1D44A, 0x1D464, 0x1D47E,
    0x1D498, 0x1D4B2, 0x1D4CC, 0x1D4E6, 0x1D500, 0x1D51A, 0x1D534, 0x1D54E, 0x1D568,
    0x1D582, 0x1D59C, 0x1D5B6, 0x1D5D0, 0x1D5EA, 0x1D604, 0x1D61E, 0x1D638, 0x1D652,
    0x1D66C, 0x1D686, 0x1D6A0, 0x1F126, 0x1F12E, 0x1F146, 0x1F14F,
)
# A plain link: an ASCII scheme or 'www.' and then only printable ASCII that neither
# ends a URL (<>"') nor starts a hashtag or mention (#@): the whole chunk is the match.
_LINK_CHARS = r"[!$%&()*+,\-./0-9:;=?A-Z\[\\\]^_`a-z{|}~]"
_SIMPLE_LINK = (
    rf"^(?:(?i:https?://|www\.){_LINK_CHARS}+"
    r"|(?i:[a-z0-9-]+\.)+(?i:com|org|net|it|me|ly|co|io|ru|fr|info|tv|gl|cc|us|to)/"
    rf"{_LINK_CHARS}*)$"
)
# A plain link whose host ``entities.is_link`` accepts: ASCII labels and a top-level
# domain of letters, then a port, a path or query, or nothing (never '://': without a
# scheme, that would make the host a scheme). A bare 't.co' is not one.
_SURE_LINK = (r"^(?i:https?://)?(?:[A-Za-z0-9\-]+\.)+[A-Za-z]{2,}(?::[0-9]+)?(?:[/?]"
              + _LINK_CHARS + "*)?$")
_BARE_TCO = r"^(?i:https?://)?(?i:www\.)?(?i:t\.co)/?$"
# A chunk that is one plain handle ('@name' or '@name:') is that mention, lower-cased.
_SIMPLE_MENTION = r"^@(?P<handle>[A-Za-z0-9_]{1,32}):?$"
_ASCII_TRAILING = "".join(ch for ch in entities.LINK_TRAILING if ch.isascii())
_HOST = r"^(?i:[a-z][a-z0-9+.\-]*://)?(?:[^/?#@\s]*@)?(?P<host>[^/?#:\s\[\]]+)"

ListColumns = tuple[pa.ListArray, pa.ListArray, pa.ListArray, pa.ListArray, pa.ListArray]


@cache
def _entity_char_class() -> str:
    """The chunks that may hold an entity: one holding '#', '/', '@', 'www' (any
    case) or a character that cleaning turns into one."""
    codes = [rf"\x{{{c:x}}}" for c in ENTITY_CHAR_CODES if chr(c) not in "wW"]
    ranges = [rf"\x{{{a:x}}}-\x{{{b:x}}}" if a != b else rf"\x{{{a:x}}}" for a, b in
              CONTROL_RANGES]
    # 'www' itself, not every word with a 'w' in it (any case: (?i) folds 'w' to 'W' only)
    return "[" + "".join(codes + ranges) + "]|(?i:www)"


def extract_columns(texts: pa.Array) -> ListColumns:
    """(hashtags, urls, domains, mentions, hashtag spellings) of every text, each a
    list<string> column.

    texts: an Arrow string array (nulls count as empty). Each list equals what
    ``entities.extract_all`` (and ``entities.domains`` on its URLs) gives for that text;
    the spellings are parallel to the hashtag keys.
    """
    tags, urls, mentions, forms = _entity_lists(texts)
    return tags, urls, url_entity_columns(urls)[0], mentions, forms


def post_entity_columns(texts: pa.Array) -> dict[str, pa.ListArray]:
    """The entity columns of a post table: ``extract_columns`` with each URL list
    normalised (``entities.normalize_urls``), every URL parsed once for both."""
    tags, urls, mentions, forms = _entity_lists(texts)
    domains, normalized = url_entity_columns(urls)
    return {"hashtags": tags, "urls": normalized, "domains": domains, "mentions": mentions,
            "hashtag_forms": forms}


def _entity_lists(
    texts: pa.Array,
) -> tuple[pa.ListArray, pa.ListArray, pa.ListArray, pa.ListArray]:
    """(hashtags, urls as found, mentions, hashtag spellings) of every text."""
    n = len(texts)
    texts = pc.fill_null(as_arrow(texts), "")
    # The candidate chunks, in text order: only the texts holding one are split.
    rows = pc.match_substring_regex(texts, _entity_char_class())
    words = _words(texts.filter(rows))
    chunks = pc.list_flatten(words)
    last = _last_chunks(chunks, pc.list_parent_indices(words).to_numpy())
    # The regex decides among the chunks a byte test cannot clear (most words cannot hold
    # an entity: plain ASCII without '#', '/', '@' or 'www').
    maybe = _may_hold_entity(chunks)
    candidate = np.zeros(len(chunks), bool)
    candidate[maybe] = pc.match_substring_regex(
        chunks.take(pa.array(maybe)), _entity_char_class()).to_numpy(zero_copy_only=False)
    candidate = pa.array(candidate)
    owner = np.flatnonzero(rows.to_numpy(zero_copy_only=False))[
        pc.list_parent_indices(words).filter(candidate).to_numpy()]
    chunks = chunks.filter(candidate)
    # A text's last chunk that may end in '...' once cleaned (a '.' or a non-ASCII last
    # character) goes to ``entities.entities_of_last_chunk``: the link or tag a truncation cut.
    last = last[candidate.to_numpy(zero_copy_only=False)] & pc.match_substring_regex(
        chunks, r"(?:\.|[^\x00-\x7f])$").to_numpy(zero_copy_only=False)
    simple = pc.match_substring_regex(chunks, pattern=_SIMPLE_LINK).to_numpy(
        zero_copy_only=False) & ~last
    simple_rows = np.flatnonzero(simple)
    links = pc.utf8_rtrim(chunks.take(pa.array(simple_rows)), characters=_ASCII_TRAILING)
    keep = pc.or_(pc.match_substring(links, "/"),
                  pc.starts_with(pc.utf8_lower(links), "www.")).to_numpy(zero_copy_only=False)
    # A link whose host RE2 cannot vouch for (no top-level domain, a bare 't.co', an IP
    # address...) is left to ``entities.is_link``, with the chunks Python settles.
    sure = pc.and_(pc.match_substring_regex(links, _SURE_LINK),
                   pc.invert(pc.match_substring_regex(links, _BARE_TCO))).to_numpy(
        zero_copy_only=False)
    simple[simple_rows[keep & ~sure]] = False
    link_rows = simple_rows[keep & sure]
    links = links.filter(pa.array(keep & sure))

    handles_found = pc.struct_field(pc.extract_regex(chunks, pattern=_SIMPLE_MENTION), [0])
    is_handle = pc.is_valid(handles_found).to_numpy(zero_copy_only=False) & ~simple
    handle_rows = np.flatnonzero(is_handle)
    simple_handles = pc.utf8_lower(handles_found.filter(pa.array(is_handle)))
    rest = np.flatnonzero(~simple & ~is_handle)
    # A last chunk is keyed with a trailing ' ' (no chunk holds whitespace).
    keys = pc.if_else(pa.array(last), pc.binary_join_element_wise(chunks, " ", ""), chunks)
    encoded = pc.dictionary_encode(keys.take(pa.array(rest)))
    found = [entities.entities_of_last_chunk(chunk[:-1]) if chunk.endswith(" ")
             else entities.entities_of_chunk(chunk)
             for chunk in encoded.dictionary.to_pylist()]
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    tags = _expand(found, 0, codes, owner[rest], rest)
    urls = _expand(found, 1, codes, owner[rest], rest)
    handles = _expand(found, 2, codes, owner[rest], rest)
    forms = _expand(found, 3, codes, owner[rest], rest)[2]
    # Occurrence order within a text is the chunk's position (then the entity's rank in it).
    url_owner = np.concatenate([urls[0], owner[link_rows]])
    url_order = np.concatenate([urls[1], link_rows.astype(np.float64)])
    url_values = pa.concat_arrays([urls[2], links.cast(pa.string())])
    url_lists = _grouped(url_owner, url_order, url_values, n)
    handle_owner = np.concatenate([handles[0], owner[handle_rows]])
    handle_order = np.concatenate([handles[1], handle_rows.astype(np.float64)])
    handle_values = pa.concat_arrays([handles[2], simple_handles.cast(pa.string())])
    tag_lists, form_lists = _grouped_with(*tags, forms, n)
    return tag_lists, url_lists, _grouped(handle_owner, handle_order, handle_values, n), form_lists


def _last_chunks(chunks: pa.Array, parents: np.ndarray) -> np.ndarray:
    """Which chunks are the last of their text that cleaning leaves non-empty (not only
    control characters): ``entities.extract_all``'s last chunk."""
    ranges = "".join(rf"\x{{{a:x}}}-\x{{{b:x}}}" for a, b in CONTROL_RANGES)
    # Every control of CONTROL_RANGES is outside ASCII: a chunk with an ASCII byte is not
    # blank, and only the others need the regex.
    offsets, data = _string_bytes(chunks)
    unsure = np.flatnonzero(~_any_per_string(offsets, data < 0x80))
    blank = np.zeros(len(chunks), bool)
    blank[unsure] = pc.match_substring_regex(
        chunks.take(pa.array(unsure)), rf"^[{ranges}]*$").to_numpy(zero_copy_only=False)
    kept = np.flatnonzero(~blank)
    last = np.zeros(len(chunks), bool)
    if len(kept):
        owners = parents[kept]
        last[kept[np.append(owners[1:] != owners[:-1], True)]] = True
    return last


# The ASCII characters of ``_entity_char_class()`` but 'w' (a 'www' run is tested apart);
# every other character of it is outside ASCII.
_ENTITY_ASCII = tuple(c for c in ENTITY_CHAR_CODES + tuple(a for a, _ in CONTROL_RANGES)
                      if c < 0x80 and chr(c) not in "wW")


def _may_hold_entity(chunks: pa.Array) -> np.ndarray:
    """Indices of the chunks that may match ``_entity_char_class()``: those with a byte
    outside ASCII, one of ``_ENTITY_ASCII`` or a 'www' in any case (a run spilling into the
    next chunk only sends one chunk more to the regex). Elementwise numpy over the bytes
    and one cumulative sum: a fifth of the regex's cost per chunk."""
    offsets, data = _string_bytes(chunks)
    marked = data >= 0x80
    for code in _ENTITY_ASCII:
        marked |= data == code
    w = (data | 0x20) == ord("w")
    if len(data) >= 3:
        marked[:-2] |= w[:-2] & w[1:-1] & w[2:]
    return np.flatnonzero(_any_per_string(offsets, marked))


def _string_bytes(strings: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets from 0, the bytes they index) of a string array."""
    offsets, data, _ = arrow_buffers(strings)
    return offsets - offsets[0], data[offsets[0]:offsets[-1]]


def _any_per_string(offsets: np.ndarray, flags: np.ndarray) -> np.ndarray:
    """Per string (``offsets`` into ``flags``, one flag per byte): whether a flag is set."""
    seen = np.empty(len(flags) + 1, np.int32)  # a chunk array holds < 2**31 bytes
    seen[0] = 0
    np.cumsum(flags, dtype=np.int32, out=seen[1:])
    return seen[offsets[1:]] > seen[offsets[:-1]]


def _words(texts: pa.Array) -> pa.ListArray:
    """Each text cut where ``str.split()`` cuts it (empty pieces aside): Arrow's whitespace
    is ``str.isspace``'s. The trailing whitespace is trimmed first: ``utf8_split_whitespace``
    (pyarrow 26) decodes the character after a whitespace run that ends a string, past its
    end, and keeps the run in the piece when those bytes are not valid UTF-8 (the end of
    the data buffer)."""
    return pc.utf8_split_whitespace(pc.utf8_rtrim_whitespace(texts))


def _expand(
    found: list[tuple[tuple[str, ...], ...]], kind: int, codes: np.ndarray,
    owner: np.ndarray, order: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """(owner, order, value) of every entity of one kind in the Python-settled chunks."""
    per_entry = [entry[kind] for entry in found]
    counts = np.fromiter((len(items) for items in per_entry), np.int64, len(per_entry))
    starts = np.concatenate([[0], np.cumsum(counts)])
    values = pa.array([item for items in per_entry for item in items], pa.string())
    repeat = counts[codes] if len(codes) else np.zeros(0, np.int64)
    total = int(repeat.sum())
    rows = np.repeat(np.arange(len(codes)), repeat)
    rank = np.arange(total) - np.repeat(np.cumsum(repeat) - repeat, repeat)
    index = starts[codes[rows]] + rank if total else np.zeros(0, np.int64)
    # rank < 1000 entities per chunk: order = chunk position + rank / 1000
    return owner[rows], order[rows] + rank / 1000.0, values.take(pa.array(index, pa.int64()))


def _grouped(owner: np.ndarray, order: np.ndarray, values: pa.Array, n: int) -> pa.ListArray:
    """One list per text: its values in order of first appearance, each once."""
    return _grouped_with(owner, order, values, None, n)[0]


def _grouped_with(
    owner: np.ndarray, order: np.ndarray, values: pa.Array, beside: pa.Array | None, n: int
) -> tuple[pa.ListArray, pa.ListArray]:
    """``_grouped``, and the ``beside`` value (same rows as ``values``) of each value's
    first appearance, as a parallel list column (a hashtag key's first spelling)."""
    if len(values) == 0:
        empty = pa.ListArray.from_arrays(pa.array(np.zeros(n + 1, np.int32)),
                                         pa.array([], pa.string()))
        return empty, empty
    sort = np.lexsort((order, owner))
    owner, values = owner[sort], values.take(pa.array(sort))
    codes = pc.dictionary_encode(values).indices.to_numpy(zero_copy_only=False).astype(np.int64)
    key = owner.astype(np.int64) * (int(codes.max()) + 1) + codes
    _, first = np.unique(key, return_index=True)
    first.sort()
    counts = np.bincount(owner[first], minlength=n)
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    lists = pa.ListArray.from_arrays(offsets, values.take(pa.array(first)))
    if beside is None:
        return lists, lists
    taken = beside.take(pa.array(sort[first]))
    return lists, pa.ListArray.from_arrays(offsets, taken)


# A URL that ``entities.normalize_url`` would only re-case and trim: ASCII, no userinfo,
# port, query or fragment (those take the Python path, once per distinct URL). ':' and '@'
# are path characters (archive.org links hold a whole URL in their path) once a scheme
# says where the host ends; without one, normalize_url's scheme test may see '://' in the
# path, so such URLs go the Python way.
_PLAIN_URL = (
    r"^(?P<scheme>(?i:https?)://)?"
    r"(?P<host>[A-Za-z0-9.\-]*[A-Za-z0-9\-][A-Za-z0-9.\-]*)"
    r"(?P<path>/[A-Za-z0-9._~!$&'()*+,;=%/:@\-]*)?$"
)


def url_entity_columns(url_lists: pa.ListArray) -> tuple[pa.ListArray, pa.ListArray]:
    """(``entities.domains``, ``entities.normalize_urls``) of each list of URLs, each URL
    parsed once for both: a plain URL's host (``_PLAIN_URL``) is its domain too."""
    n = len(url_lists)
    urls = url_lists.flatten()
    owner = pc.list_parent_indices(url_lists).to_numpy()
    if len(urls) == 0:
        return url_lists, url_lists
    parts = pc.extract_regex(urls, pattern=_PLAIN_URL)
    schemeless_colon = pc.and_(pc.equal(pc.struct_field(parts, [0]), ""),
                               pc.match_substring(urls, ":"))
    host = pc.utf8_rtrim(pc.utf8_lower(pc.struct_field(parts, [1])), characters=".")
    plain = pc.and_(pc.and_(pc.is_valid(parts), pc.invert(schemeless_colon)),
                    pc.greater(pc.utf8_length(host), 0))
    plain = pc.fill_null(plain, False).to_numpy(zero_copy_only=False)
    bare_host = pc.replace_substring_regex(host, r"^www\.", "", max_replacements=1)
    path = pc.fill_null(pc.struct_field(parts, [2]), "")
    path = pc.if_else(pc.greater(pc.utf8_length(path), 1), pc.utf8_rtrim(path, characters="/"),
                      "")
    normalized = pc.binary_join_element_wise("https://", bare_host, path, "")
    # entities.domain: a host with a dot, not at its start, then without 'www.'
    domains = pc.if_else(pc.and_(pc.match_substring(host, "."),
                                 pc.invert(pc.starts_with(host, "."))), bare_host, None)
    if not plain.all():
        other = np.flatnonzero(~plain)
        rest = urls.take(pa.array(other))
        exact = [entities.normalize_url(u) for u in rest.to_pylist()]
        mask = pa.array(~plain)
        normalized = pc.replace_with_mask(normalized, mask, pa.array(exact, pa.string()))
        domains = pc.replace_with_mask(domains, mask, _hosts(rest))
    present = np.flatnonzero(pc.is_valid(domains).to_numpy(zero_copy_only=False))
    domain_lists = _grouped(owner[present], present.astype(np.float64),
                            domains.take(pa.array(present)), n)
    order = np.arange(len(urls), dtype=np.float64)
    return domain_lists, _grouped(owner, order, normalized, n)


def _hosts(urls: pa.Array) -> pa.Array:
    """``entities.domain`` of each URL: ASCII URLs by RE2, the others in Python."""
    hosts = pc.struct_field(pc.extract_regex(urls, pattern=_HOST), [0])
    hosts = pc.utf8_rtrim(pc.utf8_lower(hosts), characters=".")
    valid = pc.and_(pc.match_substring(hosts, "."), pc.invert(pc.starts_with(hosts, ".")))
    hosts = pc.if_else(valid, pc.replace_substring_regex(hosts, r"^www\.", "",
                                                         max_replacements=1), None)
    ascii_urls = pc.string_is_ascii(urls).to_numpy(zero_copy_only=False)
    if not ascii_urls.all():
        other = np.flatnonzero(~ascii_urls)
        python_hosts = [entities.domain(u) for u in urls.take(pa.array(other)).to_pylist()]
        mask = np.zeros(len(urls), bool)
        mask[other] = True
        hosts = pc.replace_with_mask(hosts, pa.array(mask), pa.array(python_hosts, pa.string()))
    return hosts


def normalized_url_lists(url_lists: pa.ListArray) -> pa.ListArray:
    """``entities.normalize_urls`` of each list: normalised, then unique in order."""
    return url_entity_columns(url_lists)[1]
