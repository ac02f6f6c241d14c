"""JSONL by blocks gives exactly what the line-by-line reader gives.

``sources.iter_raw`` line by line is the definition: which lines are records, their
numbers, the byte-order mark, what a truncated gzip stream leaves and the reject it gets.
The block reader (``block_records``) must hand on the same records, cut into the same
chunks, and decoding a block must give the posts and rejects of decoding its lines. Also
here: a chunk's rows go to the day partitions ``strftime`` would name.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swarmlens.classifier.batch.chunks import _split_by_day
from swarmlens.classifier.batch.engine import iter_chunks, plan_inputs
from swarmlens.classifier.posts import blocks
from swarmlens.classifier.posts.blocks import LineBlock, line_table
from swarmlens.classifier.posts.columnar import (
    decode_batch,
    decode_block,
    read_batches,
    record_parts,
)
from swarmlens.classifier.posts.rejects import Rejected
from swarmlens.classifier.posts.sources import iter_raw

# Lines a hostile archive holds: records, blank and whitespace-only lines, CRLF, form
# feeds (blank to Python, not to Arrow), a broken record, a record after spaces.
LINE = st.sampled_from([
    b'{"id": "a", "text": "post #Paris"}',
    b'{"id": 7, "text": "int id", "lang": "fr"}',
    b'{"id": "c", "text": "caf\xc3\xa9 https://t.co/x"}\r',
    b"", b"   ", b"\t\r", b"\x0c", b"\x0b x",
    b'   {"id": "s", "text": "leading spaces"}',
    b'{"id": "broken", "text": ',
    b'{"id": "bad", "text": "caf\xe9"}',
    b"[1, 2]",
])


def _records(path: Path) -> list[tuple[int, bytes]]:
    """What the line-by-line reader hands on (payloads without their line end)."""
    found = []
    for line, payload in iter_raw(path):
        assert isinstance(payload, bytes | Rejected)
        found.append((line, payload))
    return found


def _block_records(path: Path, size: int) -> list[tuple[int, object]]:
    found: list[tuple[int, object]] = []
    for line, payload in iter_raw(path, block_records=size):
        if isinstance(payload, LineBlock):
            assert 0 < payload.records <= size and line == payload.first_line
            found.extend(payload.lines())
        else:
            found.append((line, payload))
    return found


def _same(left: list[tuple[int, object]], right: list[tuple[int, object]]) -> bool:
    def key(item: tuple[int, object]) -> tuple[int, object]:
        line, payload = item
        return line, payload.to_dict() if isinstance(payload, Rejected) else payload

    return [key(i) for i in left] == [key(i) for i in right]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(LINE, max_size=60),
    size=st.integers(1, 7),
    bom=st.booleans(),
    final_newline=st.booleans(),
    piece=st.sampled_from([3, 17, 1 << 20]),
)
def test_blocks_hand_on_the_records_of_the_line_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lines: list[bytes], size: int,
    bom: bool, final_newline: bool, piece: int,
) -> None:
    monkeypatch.setattr(blocks, "PIECE_BYTES", piece)  # lines cut across reads too
    data = (b"\xef\xbb\xbf" if bom else b"") + b"\n".join(lines)
    data += b"\n" if final_newline and lines else b""
    path = tmp_path / "posts.jsonl"
    path.write_bytes(data)
    assert _same(_block_records(path, size), _records(path))


def test_a_truncated_gzip_keeps_the_lines_before_it_and_says_where(tmp_path: Path) -> None:
    lines = b"".join(json.dumps({"id": f"p{i}", "text": f"post {i}"}).encode() + b"\n"
                     for i in range(3000))
    whole = gzip.compress(lines)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) * 2 // 3])
    expected = _records(path)
    assert isinstance(expected[-1][1], Rejected) and len(expected) > 100
    assert _same(_block_records(path, 500), expected)


@pytest.mark.parametrize("damage", ["trailer", "nine bytes", "garbage after", "two thirds"])
def test_a_damaged_gzip_keeps_every_record_zlib_can_read(tmp_path: Path, damage: str) -> None:
    # ISA-L drops what it inflated in the read that met the damage; the reader must not:
    # every line Python's gzip gives before its error is a record, by both readers.
    lines = b"".join(b'{"id": "p%d", "text": "x"}\n' % i for i in range(60_000))
    whole = gzip.compress(lines)
    data = {"trailer": whole[:-1], "nine bytes": whole[:-9], "garbage after": whole + b"xx",
            "two thirds": whole[: len(whole) * 2 // 3]}[damage]
    path = tmp_path / "damaged.jsonl.gz"
    path.write_bytes(data)
    zlib_lines = []
    with gzip.open(path, "rb") as handle, pytest.raises((EOFError, gzip.BadGzipFile)):
        for line in handle:
            zlib_lines.append(line)
    records = _records(path)
    assert [text for _, text in records[:-1]] == zlib_lines
    assert isinstance(records[-1][1], Rejected)
    assert _same(_block_records(path, 7_000), records)


def test_chunks_are_cut_where_the_line_reader_cut_them(tmp_path: Path) -> None:
    rows = []
    for i in range(1000):
        rows.append(json.dumps({"id": f"p{i}", "text": "x"}))
        if i % 7 == 0:
            rows.append("   ")  # blank lines do not count as records
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(rows) + "\n")
    files = plan_inputs([path], [])
    chunks = [(cid, items) for cid, _, items in iter_chunks(files, 128)]
    assert len(chunks) == 8
    first_lines = [items[0][1].lines()[0][0] for _, items in chunks]  # type: ignore[union-attr]
    by_line = [(line, payload) for line, payload in iter_raw(path)]
    assert first_lines == [by_line[k * 128][0] for k in range(8)]
    parts = [part for _, items in chunks for part in record_parts(items, 50)]
    assert all(sum(p.records for _, p in part) <= 50 for part in parts)  # type: ignore[union-attr]
    assert sum(p.records for part in parts for _, p in part) == 1000  # type: ignore[union-attr]


def test_a_cut_last_line_is_rejected_as_the_line_reader_rejects_it(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl"
    path.write_bytes(b'{"id": "1", "text": "a"}\n\n{"text": "b", "id')
    by_lines = decode_batch(str(path), list(iter_raw(path)))
    by_block = [b for _, b in read_batches([path], size=1)]
    assert [r.to_dict() for b in by_block for r in b.rejects] == [
        r.to_dict() for r in by_lines.rejects]
    assert [r.line for r in by_lines.rejects] == [3]
    assert "unexpected end of data" in by_lines.rejects[0].reason


def test_form_feed_lines_do_not_send_a_block_per_record() -> None:
    rows = []
    for i in range(300):
        rows.append(json.dumps({"id": f"p{i}", "text": f"post {i}"}))
        if i % 10 == 0:
            rows.append("\x0c" if i % 20 else " \x0b ")  # blank to Python, not to Arrow
    block = LineBlock(1, ("\n".join(rows) + "\n").encode(), 300)
    by_block = decode_block("s.jsonl", block)
    by_lines = decode_batch("s.jsonl", block.lines())
    assert by_block.table.to_pylist() == by_lines.table.to_pylist()
    assert by_block.vectorised == 300 and not by_block.rejects


def test_split_keeps_every_line_and_numbers_it() -> None:
    data = b'{"a":1}\n\n{"a":2}\n \n{"a":3}\n{"a":4}\n\n'
    block = LineBlock(10, data, 4)
    halves = block.split(2)
    assert [(b.first_line, b.records) for b in halves] == [(10, 2), (13, 2)]
    assert [line for b in halves for line in b.lines()] == block.lines()
    assert [n for n, _ in block.lines()] == [10, 12, 14, 15]
    ends, is_record = line_table(data)
    assert is_record.tolist() == [True, False, True, False, True, True, False]
    assert len(ends) == 7


def test_decoding_a_block_equals_decoding_its_lines(tmp_path: Path) -> None:
    rows = [json.dumps({"id": f"p{i}", "text": f"post {i} #Paris https://a.b/{i}"})
            for i in range(400)]
    rows[150] = '{"id": "cut", "text": '  # Arrow cannot parse this part: halves go per record
    rows[260] = json.dumps({"id": "t", "text": "odd time", "created_at": "13/11/2015"})
    rows.insert(300, "")
    data = ("\n".join(rows) + "\n").encode()
    block = LineBlock(1, data, 400)
    by_block = decode_block("s.jsonl", block)
    by_lines = decode_batch("s.jsonl", block.lines())
    assert by_block.table.to_pylist() == by_lines.table.to_pylist()
    assert [r.to_dict() for r in by_block.rejects] == [r.to_dict() for r in by_lines.rejects]
    assert [r.line for r in by_block.rejects] == [151, 261]  # broken JSON, unreadable time
    assert by_block.read == 400 and by_block.vectorised >= 400 - 2 * 64

    path = tmp_path / "s.jsonl"
    path.write_bytes(data)
    read = [batch for _, batch in read_batches([path], size=128)]
    assert sum(b.table.num_rows for b in read) == by_lines.table.num_rows
    assert [r.line for b in read for r in b.rejects] == [151, 261]


def test_rows_go_to_the_utc_day_strftime_names() -> None:
    moments = [datetime(2015, 11, 13, 23, 59, 59, 999999, tzinfo=UTC), None,
               datetime(1969, 12, 31, 23, tzinfo=UTC), datetime(2015, 11, 14, tzinfo=UTC),
               datetime(2015, 11, 13, tzinfo=UTC), None]
    table = pa.table({"created_at": pa.array(moments, pa.timestamp("us", tz="UTC")),
                      "row": list(range(len(moments)))})
    got = [(day, part.column("row").to_pylist()) for day, part in _split_by_day(table)]
    names = pc.fill_null(pc.strftime(table.column("created_at"), format="%Y-%m-%d"),
                         "unknown").to_pylist()
    expected = [(day, [i for i, name in enumerate(names) if name == day])
                for day in sorted(set(names))]
    assert got == expected
    assert [day for day, _ in got] == ["1969-12-31", "2015-11-13", "2015-11-14", "unknown"]


def test_lines_that_cannot_be_an_object_cost_one_line_each() -> None:
    # A real archive's broken lines (cut off, a log line, CRLF around them) are screened
    # by their first and last byte: the block is still read by Arrow, not bisected.
    rows, bad = [], []
    for i in range(1000):
        record = json.dumps({"id": f"p{i}", "text": f"post {i} #Paris @u{i % 7}"})
        if i % 97 == 5:
            rows.append(record[:-9]), bad.append(len(rows))  # cut off mid-record
        elif i % 97 == 50:
            rows.append("{not json"), bad.append(len(rows))
        elif i % 131 == 7:
            rows.append("<html>502 Bad Gateway</html>\r"), bad.append(len(rows))
        elif i % 89 == 3:
            rows.append(record + "\r")  # CRLF: still a whole record
        else:
            rows.append(record)
        if i % 150 == 0:
            rows.append("")
    block = LineBlock(1, ("\n".join(rows) + "\n").encode(), 1000)
    by_block = decode_block("s.jsonl", block)
    by_lines = decode_batch("s.jsonl", block.lines())
    assert by_block.table.to_pylist() == by_lines.table.to_pylist()
    assert [r.to_dict() for r in by_block.rejects] == [r.to_dict() for r in by_lines.rejects]
    assert [r.line for r in by_block.rejects] == bad
    assert by_block.read == 1000 and by_block.vectorised == 1000 - len(bad)
