"""Output records as JSON lines, built column by column with Arrow compute.

Every field becomes a column of JSON texts (strings quoted, lists joined, ``scores`` and
``created_at`` formatted by Arrow) and one ``binary_join_element_wise`` lays them out with
the keys, in ``OUTPUT_SCHEMA`` order, as the lines. No Python runs per record, except for
the rare strings that need an escape, which orjson writes.

Strings are escaped as ``json.dumps(value, ensure_ascii=False)`` escapes them, and
U+2028 / U+2029 too, because many line readers (``str.splitlines``, JavaScript) take them
for line ends: '"' and '\\' get a backslash, \\b \\t \\n \\f \\r their short escapes, the
other controls ``\\u00xx``, everything else (UTF-8 included) is copied as it is. Scores are
rounded to 1e-6 and written as Arrow casts a float64 to a string; ``created_at`` as
'YYYY-MM-DDTHH:MM:SSZ' (UTC, truncated to the second). ``tests/unit/test_columnar.py``
checks every line against ``json.dumps``.
"""

from __future__ import annotations

import json

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from swarmlens.classifier.vocab import LABELS, OUTPUT_SCHEMA

# The bytes that may start something to escape: controls, '"', '\\', and 0xE2 (the first
# byte of U+2028 / U+2029 in UTF-8, and of many other characters).
_MAYBE_ESCAPED = np.zeros(256, bool)
_MAYBE_ESCAPED[[*range(0x20), 0x22, 0x5C, 0xE2]] = True
_ESCAPED = r'[\x00-\x1f"\\\x{2028}\x{2029}]'  # what does need an escape (RE2)


def jsonl_lines(table: pa.Table) -> pa.Buffer:
    """The JSON lines of ``table``'s records (its fields in ``OUTPUT_SCHEMA`` order; other
    columns are ignored), each ending in '\\n'."""
    if table.num_rows == 0:
        return pa.py_buffer(b"")
    table = table.combine_chunks()
    parts: list[str | pa.Array] = []
    for number, field in enumerate(OUTPUT_SCHEMA):
        column = table.column(field.name).chunk(0)
        parts.append(("{" if number == 0 else ",") + json.dumps(field.name) + ":")
        if field.name == "scores":
            for j, label in enumerate(LABELS):
                parts.append(("{" if j == 0 else ",") + json.dumps(label) + ":")
                rounded = pc.round(pc.cast(column.field(label), pa.float64()), 6)
                parts.append(pc.fill_null(pc.cast(rounded, pa.string()), "null"))
            parts.append("}")
        elif field.name == "created_at":
            parts.append(_iso_seconds(column))
        elif pa.types.is_list(field.type):
            parts.append(_json_lists(column))
        else:
            parts.append(_json_strings(column.cast(pa.string())))
    parts.append("}\n")
    lines = pc.binary_join_element_wise(*parts, "")
    start, end = _data_range(lines)
    return lines.buffers()[2].slice(start, end - start)


def jsonl_bytes(table: pa.Table) -> bytes:
    """``jsonl_lines`` as bytes."""
    return jsonl_lines(table).to_pybytes()


def _json_strings(values: pa.StringArray) -> pa.StringArray:
    """Each string as a JSON string ('null' for nulls)."""
    quoted = pc.binary_join_element_wise('"', values, '"', "")
    if _may_need_escapes(values):
        escaped = pc.fill_null(pc.match_substring_regex(values, _ESCAPED), False)
        if pc.any(escaped).as_py():
            texts = [orjson.dumps(value).replace(b"\xe2\x80\xa8", b"\\u2028")
                     .replace(b"\xe2\x80\xa9", b"\\u2029").decode()
                     for value in values.filter(escaped).to_pylist()]
            quoted = pc.replace_with_mask(quoted, escaped, pa.array(texts, pa.string()))
    return pc.fill_null(quoted, "null")


def _may_need_escapes(values: pa.StringArray) -> bool:
    """Whether any byte of ``values`` may start an escape (a scan cheaper than the regex,
    which only a column with such a byte needs)."""
    data = values.buffers()[2]
    if data is None or len(values) == 0:
        return False
    start, end = _data_range(values)
    return bool(_MAYBE_ESCAPED[np.frombuffer(data, np.uint8)[start:end]].any())


def _data_range(values: pa.StringArray) -> tuple[int, int]:
    """Where the bytes of ``values`` (a slice, maybe) lie in its data buffer."""
    offsets = np.frombuffer(values.buffers()[1], np.int32)
    return int(offsets[values.offset]), int(offsets[values.offset + len(values)])


def _json_lists(lists: pa.ListArray) -> pa.StringArray:
    """Each list of strings as a JSON array ('null' for nulls)."""
    offsets = lists.offsets  # the slice's; ``values`` is the whole array's
    start, end = offsets[0].as_py(), offsets[-1].as_py()
    items = _json_strings(lists.values.slice(start, end - start).cast(pa.string()))
    quoted = pa.ListArray.from_arrays(pc.subtract(offsets, start), items, mask=lists.is_null())
    joined = pc.binary_join_element_wise("[", pc.binary_join(quoted, ","), "]", "")
    return pc.fill_null(joined, "null")


def _iso_seconds(column: pa.TimestampArray) -> pa.StringArray:
    """'"YYYY-MM-DDTHH:MM:SSZ"' of each UTC timestamp ('null' for nulls): Arrow's cast to a
    string (what ``pc.strftime`` gives, at a tenth of its cost), 'T' for its space."""
    seconds = pc.cast(pc.cast(column, pa.timestamp("s"), safe=False), pa.string())
    text = pc.replace_substring(seconds, " ", "T", max_replacements=1)
    return pc.fill_null(pc.binary_join_element_wise('"', text, 'Z"', ""), "null")
