"""Posts by the batch: raw JSON lines -> one Arrow table of posts, without Python per post.

Every batch of records is read here, files and API bodies alike. Flat JSON records, the
bulk of an archive, take the column rules: a batch of lines is parsed by
Arrow's JSON reader, each column is validated and normalised with Arrow kernels (values
that need a decision, such as language codes or platform names, are decided once per
distinct value), and entities come from ``text.entity_columns``. A row the vectorised
rules do not settle (a record in an API shape, as ``shapes.flat_rows`` finds them; a
missing id, a non-ISO time, a text over the cap, an unknown label) is handed to the
per-record path (the shape's adapter, then ``post_from_record``, which must agree with the
column rules: ``tests/unit/test_columnar.py``); the rows then go back in file order. A
batch Arrow cannot parse at all (one malformed line) is halved until the bad line goes
the per-record way, so it still becomes one reject with its line number.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from swarmlens.classifier.posts.blocks import LineBlock, line_table
from swarmlens.classifier.posts.post import (
    EARLIEST_POST_TIME,
    FUTURE_SKEW,
    MAX_TEXT_CHARS,
    Post,
    normalize_label,
    retweeted_author,
)
from swarmlens.classifier.posts.rejects import Rejected
from swarmlens.classifier.posts.shapes import flat_rows
from swarmlens.classifier.posts.sources import Payload, expand_inputs, iter_raw
from swarmlens.classifier.text.entity_columns import post_entity_columns
from swarmlens.classifier.text.langid import DETECTING, detect_all, normalize_lang
from swarmlens.classifier.vocab import PLATFORMS

POST_SCHEMA = pa.schema(
    [
        ("post_id", pa.string()),
        ("platform", pa.string()),
        ("text", pa.string()),
        ("lang", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("hashtags", pa.list_(pa.string())),
        ("hashtag_forms", pa.list_(pa.string())),
        ("urls", pa.list_(pa.string())),
        ("domains", pa.list_(pa.string())),
        ("mentions", pa.list_(pa.string())),
        ("author", pa.string()),
        ("retweet_of", pa.string()),
        ("reply_to", pa.string()),
        ("retweet_of_author", pa.string()),
    ]
)
"""A batch of posts as Arrow: the ``Post`` fields that scoring and the store keep."""

_ID_TYPES = (pa.types.is_string, pa.types.is_large_string, pa.types.is_integer)
# ISO 8601 as written by the exporters we read; anything else goes the per-record way.
_ISO_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?$"


@dataclass
class DecodedBatch:
    """Posts and rejects of a batch of raw records, in input order.

    table: the accepted posts (``POST_SCHEMA``). rejects: the records that could not
    be posts. read: records read (a Twitter v2 page counts once per tweet).
    vectorised: rows settled by the vectorised rules (the rest went per record).
    truncated: posts whose text was cut to ``MAX_TEXT_CHARS`` (all go per record).
    """

    table: pa.Table
    rejects: list[Rejected] = field(default_factory=list)
    read: int = 0
    vectorised: int = 0
    truncated: int = 0


def read_batches(
    inputs: Iterable[str | Path], size: int = 5_000
) -> Iterator[tuple[str, DecodedBatch]]:
    """(source, batch) for every ``size`` records of every input, in input order.

    inputs: files, globs or directories (see ``sources.expand_inputs``).
    """
    for path in expand_inputs(inputs):
        source = str(path)
        for part in record_parts(iter_raw(path, block_records=size), size):
            yield source, decode_batch(source, part)


def record_parts(
    items: Iterable[tuple[int, Payload]], size: int
) -> Iterator[list[tuple[int, Payload]]]:
    """``items`` in parts of at most ``size`` records, each a run of single records or one
    block of lines (a ``LineBlock`` counts its records and is split to fit)."""
    part: list[tuple[int, Payload]] = []
    for line, payload in items:
        if isinstance(payload, LineBlock):
            if part:
                yield part
                part = []
            for block in payload.split(size):
                yield [(block.first_line, block)]
            continue
        part.append((line, payload))
        if len(part) >= size:
            yield part
            part = []
    if part:
        yield part


def posts_table(posts: Sequence[Post]) -> pa.Table:
    """``Post`` objects as a table in ``POST_SCHEMA``."""
    return pa.table(
        {name: [getattr(p, name) for p in posts] for name in POST_SCHEMA.names},
        schema=POST_SCHEMA,
    )


def decode_batch(source: str, items: Sequence[tuple[int, object]]) -> DecodedBatch:
    """Posts and rejects of ``items``, (line, payload) pairs as ``sources.iter_raw`` gives.

    source: the file they come from (for rejects). JSON lines (bytes payloads) are
    parsed and validated as one Arrow batch, and so is each block of lines
    (``LineBlock``); other payloads go per record (a block mixed with them too, line by
    line: ``record_parts`` never mixes them).
    """
    lines = [payload for _, payload in items]
    if lines and all(type(p) is LineBlock for p in lines):  # as ``record_parts`` gives them
        return _joined([decode_block(source, p) for p in lines])  # type: ignore[arg-type]
    if not lines or not all(type(p) is bytes for p in lines):
        return _per_record(source, items, range(len(items)), None)
    data = b"".join(line if line.endswith(b"\n") else line + b"\n" for line in lines)
    table = _read_json(data)  # type: ignore[arg-type]
    if table is _UNPARSABLE and len(items) >= 2 * _SMALLEST_HALF:
        # One bad line (or a column whose type changes) spoils Arrow's parse of the whole
        # batch: halve it, so that only the part around the bad line goes per record.
        half = len(items) // 2
        return _joined([decode_batch(source, items[:half]), decode_batch(source, items[half:])])
    if not isinstance(table, pa.Table) or table.num_rows != len(items):
        return _per_record(source, items, range(len(items)), None)
    fast, columns = _vectorised(table)
    slow_rows = np.flatnonzero(~fast)
    return _per_record(source, items, slow_rows, (np.flatnonzero(fast), columns))


def decode_block(source: str, block: LineBlock) -> DecodedBatch:
    """``decode_batch`` of a block of JSONL lines, without a Python object per line
    unless some record needs the per-record path."""
    data = _blank_lines_emptied(block.data)
    table = _read_json(data)
    if table is _UNPARSABLE:
        screened = _without_unbraced_lines(data)
        if screened is not None:  # the usual broken line: cut off, or no JSON object at all
            return _decode_screened(source, block, *screened)
    if table is _UNPARSABLE and block.records >= 2 * _SMALLEST_HALF:
        return _joined([decode_block(source, half)
                        for half in block.split((block.records + 1) // 2)])
    if not isinstance(table, pa.Table) or table.num_rows != block.records:
        items = block.lines()
        return _per_record(source, items, range(len(items)), None)
    fast, columns = _vectorised(table)
    slow_rows = np.flatnonzero(~fast)
    items = block.lines() if len(slow_rows) else []
    return _per_record(source, items, slow_rows, (np.flatnonzero(fast), columns))


def _without_unbraced_lines(data: bytes) -> tuple[bytes, np.ndarray] | None:
    """``data`` with its records that cannot be one JSON object blanked, and their ranks
    among the records; None when every record starts with '{' and ends with '}'.

    Most broken lines of a real archive are cut off mid-record or are not JSON at all
    (an HTML error page, a log line): one look at each line's first and last byte finds
    them, so they cost one line each instead of spoiling Arrow's parse of their block
    (bisecting a block with one bad line in a hundred re-parsed it ~8 times and sent
    most of it down the per-record path). Blanked, a line is skipped by Arrow as a blank
    line is; it goes per record, which rejects it with its line number and reason."""
    codes = np.frombuffer(data, np.uint8)
    ends, is_record = line_table(data)
    starts = np.empty_like(ends)
    starts[:1] = 0
    starts[1:] = ends[:-1] + 1
    last = np.maximum(ends - 1, starts)
    last = np.where((codes[last] == 13) & (last > starts), last - 1, last)  # CRLF files
    braced = (codes[starts] == ord("{")) & (codes[last] == ord("}")) & (ends > starts)
    bad_lines = np.flatnonzero(is_record & ~braced)
    if not len(bad_lines):
        return None
    screened = bytearray(data)
    for line in bad_lines.tolist():
        screened[int(starts[line]) : int(ends[line])] = b" " * int(ends[line] - starts[line])
    bad_ranks = (np.cumsum(is_record) - 1)[bad_lines]
    return bytes(screened), bad_ranks


def _decode_screened(
    source: str, block: LineBlock, screened: bytes, bad_ranks: np.ndarray
) -> DecodedBatch:
    """``decode_block`` of a block whose unbraced records were blanked (``bad_ranks``)."""
    table = _read_json(screened)
    good = np.setdiff1d(np.arange(block.records), bad_ranks)
    items = block.lines()
    if not isinstance(table, pa.Table) or table.num_rows != len(good) or len(items) != (
            block.records):
        # something else is wrong too: halve the block (or go per record) as before
        if block.records >= 2 * _SMALLEST_HALF:
            return _joined([decode_block(source, half)
                            for half in block.split((block.records + 1) // 2)])
        return _per_record(source, items, range(len(items)), None)
    fast, columns = _vectorised(table)
    # the table's row i is the block's record good[i]: line the columns up with the records
    placed = np.full(block.records, -1, np.int64)
    placed[good] = np.arange(len(good))
    fast_records = good[fast]
    slow_records = np.union1d(bad_ranks, good[~fast])
    rows = pa.array(placed[fast_records])
    aligned = {name: column.take(rows) for name, column in columns.items()}
    return _per_record(source, items, slow_records, (fast_records, aligned), aligned=True)


def _blank_lines_emptied(data: bytes) -> bytes:
    """``data`` with its blank lines made empty. Python's strip() also takes vertical tab
    and form feed for blank, Arrow's JSON reader does not: left in, one such line would
    spoil the parse of its whole block (and lines crafted every few records would send an
    archive down the per-record path). Emptied, Arrow skips them as it skips '' lines."""
    if b"\x0b" not in data and b"\x0c" not in data:
        return data
    ends, is_record = line_table(data)
    starts = np.concatenate([[0], ends[:-1] + 1])
    kept = [data[a : b + 1] if record else b"\n"
            for a, b, record in zip(starts.tolist(), ends.tolist(), is_record.tolist(),
                                    strict=True)]
    return b"".join(kept)


_UNPARSABLE = object()  # Arrow could not parse the batch
_SMALLEST_HALF = 64


def _joined(parts: list[DecodedBatch]) -> DecodedBatch:
    return DecodedBatch(
        pa.concat_tables([part.table for part in parts]),
        [reject for part in parts for reject in part.rejects],
        sum(part.read for part in parts),
        sum(part.vectorised for part in parts),
        sum(part.truncated for part in parts),
    )


def _read_json(data: bytes) -> pa.Table | object:
    """JSON lines (each ending in b"\\n") as one table, or ``_UNPARSABLE``."""
    options = pa_json.ParseOptions(
        explicit_schema=pa.schema([("text", pa.string()), ("created_at", pa.string())]),
        unexpected_field_behavior="infer",
    )
    try:
        table = pa_json.read_json(
            io.BytesIO(data),
            read_options=pa_json.ReadOptions(use_threads=False, block_size=len(data) + 1),
            parse_options=options,
        )
        table.validate(full=True)  # invalid UTF-8 is not caught while parsing
    except (pa.ArrowInvalid, ValueError):
        return _UNPARSABLE
    return table


def _column(table: pa.Table, name: str) -> pa.Array | None:
    if name not in table.column_names:
        return None
    column = table.column(name)
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _valid(array: pa.Array) -> np.ndarray:
    return pc.is_valid(array).to_numpy(zero_copy_only=False)


def _ids(table: pa.Table, n: int, fast: np.ndarray, name: str) -> pa.Array:
    """An optional id column as strings ('' -> null); rows of other types go per record."""
    column = _column(table, name)
    if column is None or pa.types.is_null(column.type):
        return pa.nulls(n, pa.string())
    if not any(check(column.type) for check in _ID_TYPES):
        fast &= ~_valid(column)
        return pa.nulls(n, pa.string())
    text = column.cast(pa.string())
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def _mapped(values: pa.Array, decide: object) -> tuple[pa.Array, np.ndarray]:
    """``decide`` applied once per distinct value: (results, rows whose result is None)."""
    encoded = pc.dictionary_encode(values)
    decided = [decide(v) for v in encoded.dictionary.to_pylist()]  # type: ignore[operator]
    result = pa.array(decided, pa.string()).take(encoded.indices)
    return result, ~_valid(result) & _valid(values)


def _vectorised(table: pa.Table) -> tuple[np.ndarray, dict[str, pa.Array]]:
    """(rows the vectorised rules settle, the ``POST_SCHEMA`` columns for all rows)."""
    n = table.num_rows
    fast = flat_rows(table)  # a row in an API shape is adapted per record, never read here
    if not fast.any():
        return fast, {}
    post_id = _column(table, "post_id")
    if post_id is not None and not pa.types.is_null(post_id.type):
        # post_from_record: 'id' only when 'post_id' is absent (None), not when it is ''
        if any(check(post_id.type) for check in _ID_TYPES):
            given = post_id.cast(pa.string())
        else:
            fast &= ~_valid(post_id)
            given = pa.nulls(n, pa.string())
        ids = pc.coalesce(given, _ids(table, n, fast, "id"))
        ids = pc.if_else(pc.equal(ids, ""), pa.scalar(None, pa.string()), ids)
    else:
        ids = _ids(table, n, fast, "id")
    fast &= _valid(ids)
    text = _column(table, "text")
    if text is None:
        return np.zeros(n, bool), {}
    fast &= _valid(text) & (pc.utf8_length(pc.fill_null(text, "")).to_numpy() <= MAX_TEXT_CHARS)
    columns: dict[str, pa.Array] = {"post_id": ids, "text": pc.fill_null(text, "")}
    columns["created_at"] = _times(_column(table, "created_at"), n, fast)
    for name in ("author", "retweet_of", "reply_to", "group"):  # '' is None for all four
        columns[name] = _ids(table, n, fast, name)
    columns["platform"] = _platforms(_column(table, "platform"), n, fast)
    label = _column(table, "label")
    if label is not None and not pa.types.is_null(label.type):
        if pa.types.is_string(label.type):
            _, unknown = _mapped(label, _label_or_none)
            fast &= ~unknown
        else:
            fast &= ~_valid(label)
    columns["lang"] = _langs(_column(table, "lang"), columns["text"], n, fast)
    columns.update(post_entity_columns(columns["text"]))
    columns["retweet_of_author"] = _retweeted_authors(
        _ids(table, n, fast, "retweet_of_author"), columns["text"])
    return fast, columns


def _retweeted_authors(given: pa.Array, texts: pa.Array) -> pa.Array:
    """``post_from_record``'s rule: the given author, else the handle of a text's
    'RT @handle:' (or 'RT @handle '), retweet id known or not."""
    candidates = pc.and_(pc.is_null(given), pc.starts_with(texts, "RT @"))
    rows = np.flatnonzero(candidates.to_numpy(zero_copy_only=False))
    if not len(rows):
        return given
    candidate_texts = texts.take(pa.array(rows))
    # An ASCII handle (the usual case) is what the Python regex finds too; the others
    # (a handle with a non-ASCII letter, or none) are decided by ``retweeted_author``.
    found = pc.struct_field(pc.extract_regex(candidate_texts, _ASCII_RETWEET), [0])
    unsure = np.flatnonzero(~pc.is_valid(found).to_numpy(zero_copy_only=False))
    if len(unsure):
        exact = [retweeted_author(t) for t in candidate_texts.take(pa.array(unsure)).to_pylist()]
        unsure_mask = np.zeros(len(rows), bool)
        unsure_mask[unsure] = True
        found = pc.replace_with_mask(found, pa.array(unsure_mask), pa.array(exact, pa.string()))
    mask = np.zeros(len(given), bool)
    mask[rows] = True
    return pc.replace_with_mask(given, pa.array(mask), found)


_ASCII_RETWEET = r"^RT @(?P<handle>[A-Za-z0-9_]{1,50})[:\t\n\f\r ]"
# RE2's whitespace, spelled out: all of it is Python's too, so what this finds the Python
# regex finds as well; any other text is decided by ``retweeted_author``.


def _label_or_none(value: object) -> str | None:
    try:
        return normalize_label(value) or ""
    except Exception:  # RecordError: the per-record path rejects it with the reason
        return None


def _times(column: pa.Array | None, n: int, fast: np.ndarray) -> pa.Array:
    kind = pa.timestamp("us", tz="UTC")
    if column is None or pa.types.is_null(column.type):
        return pa.nulls(n, kind)
    given = pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)
    iso = pc.fill_null(pc.match_substring_regex(given, _ISO_TIME), False).to_numpy(
        zero_copy_only=False)
    fast &= iso | ~_valid(given)
    zoned = pc.if_else(pc.match_substring_regex(given, r"(Z|[+-]\d{2}:\d{2})$"), given,
                       pc.binary_join_element_wise(given, "Z", ""))
    usable = pc.if_else(pa.array(iso), zoned, pa.scalar(None, pa.string()))
    try:
        times = usable.cast(kind)
    except (pa.ArrowInvalid, ValueError):  # e.g. month 13: the per-record path says so
        fast &= ~_valid(given)
        return pa.nulls(n, kind)
    # post.check_post_time's window; rows outside it go per record, which rejects them with
    # its reason (the per-record clock is read later, so it never refuses what passes here).
    stamp = times.cast(pa.int64()).to_numpy(zero_copy_only=False)
    latest = datetime.now(UTC) + FUTURE_SKEW
    inside = (stamp >= _micros(EARLIEST_POST_TIME)) & (stamp <= _micros(latest))
    fast &= np.where(_valid(times), inside, True)
    return times


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _platform(value: object) -> str:
    if not value:
        return "other"
    if value in PLATFORMS:
        return value  # type: ignore[return-value]
    lowered = str(value).lower()
    return lowered if lowered in PLATFORMS else "other"


def _platforms(column: pa.Array | None, n: int, fast: np.ndarray) -> pa.Array:
    if column is None or pa.types.is_null(column.type):
        return pa.array(["other"] * n, pa.string())
    if not pa.types.is_string(column.type):
        fast &= ~_valid(column)
        return pa.array(["other"] * n, pa.string())
    result, _ = _mapped(pc.fill_null(column, ""), _platform)
    return result


def _langs(column: pa.Array | None, texts: pa.Array, n: int, fast: np.ndarray) -> pa.Array:
    """``resolve_lang``: the source's code when it is one, else detected from the text."""
    if column is None or not pa.types.is_string(column.type):
        if column is not None and not pa.types.is_null(column.type):
            fast &= ~_valid(column)
        langs = pa.nulls(n, pa.string())
    else:
        langs, _ = _mapped(column, normalize_lang)
    missing = np.flatnonzero(~_valid(langs) & fast)
    if len(missing):  # detection is per text by nature
        found = detect_all(texts.take(pa.array(missing)).to_pylist())
        mask = np.zeros(n, bool)
        mask[missing] = True
        langs = pc.replace_with_mask(langs, pa.array(mask), pa.array(found, pa.string()))
    return pc.fill_null(langs, "und")


def _per_record(
    source: str,
    items: Sequence[tuple[int, object]],
    rows: Sequence[int] | np.ndarray,
    vectorised: tuple[np.ndarray, dict[str, pa.Array]] | None,
    aligned: bool = False,
) -> DecodedBatch:
    """Decode ``rows`` of ``items`` one by one and merge them with the vectorised rows.

    vectorised: (the items decoded by the vectorised rules, the columns they gave): row
        i of a column is item i, or, when ``aligned``, the i-th of those items."""
    from swarmlens.classifier.posts.readers import decode

    posts: list[Post] = []
    order: list[int] = []
    rejects: list[Rejected] = []
    read = cut = 0
    with DETECTING:  # Python record by record, detecting languages: one thread at a time
        for row in rows:
            line, payload = items[row]
            for rank, item in enumerate(decode(source, line, payload)):  # type: ignore[arg-type]
                read += 1
                if isinstance(item, Rejected):
                    rejects.append(item)
                else:
                    posts.append(item)
                    cut += item.text_cut
                    order.append(int(row) * 1_000_000 + rank)
    slow = posts_table(posts)
    if vectorised is None or not len(vectorised[0]):
        return DecodedBatch(slow, rejects, read, 0, cut)
    fast_rows, columns = vectorised
    if aligned:
        fast = pa.table({name: columns[name] for name in POST_SCHEMA.names}, schema=POST_SCHEMA)
    else:
        taken = pa.array(fast_rows)
        fast = pa.table({name: columns[name].take(taken) for name in POST_SCHEMA.names},
                        schema=POST_SCHEMA)
    if not posts:
        return DecodedBatch(fast, rejects, read + len(fast_rows), len(fast_rows), cut)
    keys = np.concatenate([fast_rows.astype(np.int64) * 1_000_000, np.array(order, np.int64)])
    merged = pa.concat_tables([fast, slow]).take(pa.array(np.argsort(keys, kind="stable")))
    return DecodedBatch(merged, rejects, read + len(fast_rows), len(fast_rows), cut)
