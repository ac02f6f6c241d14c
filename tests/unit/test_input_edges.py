"""Edges of reading and writing: byte order marks, skipped files named, over-long texts
counted, rejects capped, OS errors as one-line E007s."""

from __future__ import annotations

import errno
import json
import logging
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from swarmlens.classifier.batch import scoring
from swarmlens.classifier.batch.scoring import OutputWriter
from swarmlens.classifier.errors import OutputError
from swarmlens.classifier.posts.columnar import decode_batch, read_batches
from swarmlens.classifier.posts.post import MAX_TEXT_CHARS
from swarmlens.classifier.posts.rejects import MAX_RAW_CHARS, Rejected, RejectsFile
from swarmlens.classifier.posts.sources import expand_inputs
from swarmlens.classifier.vocab import OUTPUT_SCHEMA

BOM = b"\xef\xbb\xbf"
RECORD = {"id": "p1", "text": "#ParisIsBurning hello", "created_at": "2015-11-14T10:00:00Z"}


def _posts(path: Path) -> tuple[list[str], int]:
    ids: list[str] = []
    rejected = 0
    for _, batch in read_batches([path]):
        ids += batch.table.column("post_id").to_pylist()
        rejected += len(batch.rejects)
    return ids, rejected


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("array.json", json.dumps([RECORD, {**RECORD, "id": "p2"}])),
        ("telegram.json", json.dumps({"name": "chan", "messages": [
            {"id": 1, "type": "message", "date_unixtime": "1447495200", "text": "one"},
            {"id": 2, "type": "message", "date_unixtime": "1447495200", "text": "two"}]})),
        ("page.json", json.dumps(RECORD)),
        ("lines.jsonl", json.dumps(RECORD) + "\n" + json.dumps({**RECORD, "id": "p2"}) + "\n"),
        ("table.csv", "id,text\np1,hello\np2,world\n"),
    ],
)
def test_a_utf8_byte_order_mark_is_read_past(tmp_path: Path, name: str, content: str) -> None:
    plain = tmp_path / name
    plain.write_bytes(content.encode())
    marked = tmp_path / f"bom-{name}"
    marked.write_bytes(BOM + content.encode())
    expected = _posts(plain)
    assert expected[1] == 0 and expected[0]
    assert _posts(marked) == expected


def test_unsupported_files_of_a_directory_are_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "posts.jsonl").write_text(json.dumps(RECORD) + "\n")
    (tmp_path / "notes.txt").write_text("not posts")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "dump.xlsx").write_bytes(b"PK")
    with caplog.at_level(logging.WARNING):
        assert expand_inputs([tmp_path]) == [tmp_path / "posts.jsonl"]
    notice = " ".join(r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)
    assert "skipped 2 file(s)" in notice
    assert str(tmp_path / "notes.txt") in notice and str(tmp_path / "sub" / "dump.xlsx") in notice
    caplog.clear()
    expand_inputs([tmp_path / "posts.jsonl"])
    assert not caplog.records  # a file named on purpose is no skip


def test_cut_texts_are_counted() -> None:
    long = {"id": "long", "text": "x" * (MAX_TEXT_CHARS + 5)}
    exact = {"id": "exact", "text": "y" * MAX_TEXT_CHARS}
    lines = [json.dumps(r).encode() for r in (RECORD, long, exact)]
    batch = decode_batch("s.jsonl", list(enumerate(lines, start=1)))
    assert batch.table.num_rows == 3 and batch.truncated == 1
    records = list(enumerate([RECORD, long, long], start=1))  # decoded rows (CSV, Parquet)
    assert decode_batch("s.csv", records).truncated == 2


def test_a_rejects_raw_record_is_capped(tmp_path: Path) -> None:
    garbage = b"{" + b"z" * 2_000_000 + b"\n"
    batch = decode_batch("s.jsonl", [(1, garbage)])
    (reject,) = batch.rejects
    assert len(reject.raw) < MAX_RAW_CHARS + 100
    assert reject.raw.startswith("{zzz") and "2,000,001 characters" in reject.raw
    with RejectsFile(tmp_path / "rejects.jsonl") as sink:
        sink.add(reject)
    assert (tmp_path / "rejects.jsonl").stat().st_size < 2 * MAX_RAW_CHARS
    short = Rejected("s", 1, "why", "small")
    assert short.raw == "small"


def _full_disk(*_: object, **__: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("name", ["out.jsonl", "out.parquet", "outdir"])
def test_a_full_disk_is_an_output_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    table = OUTPUT_SCHEMA.empty_table()
    monkeypatch.setattr(scoring, "commit", _full_disk)
    with pytest.raises(OutputError, match="No space left on device"), \
            OutputWriter(tmp_path / name) as writer:
        writer.write(table)
    assert not list(tmp_path.rglob("*.tmp"))  # the temporary file is not left behind
    monkeypatch.undo()
    monkeypatch.setattr(pq.ParquetWriter, "write_table", _full_disk)
    if name != "out.jsonl":
        with pytest.raises(OutputError, match=re.escape(str(tmp_path / name))), \
                OutputWriter(tmp_path / name) as writer:
            writer.write(table)


def test_a_full_disk_under_the_rejects_file_is_an_output_error(tmp_path: Path) -> None:
    class FullDisk:
        def write(self, _: str) -> None:
            _full_disk()

        def close(self) -> None:
            _full_disk()

    sink = RejectsFile(tmp_path / "rejects.jsonl")
    sink._handle = FullDisk()  # type: ignore[assignment]
    with pytest.raises(OutputError, match=r"rejects\.jsonl: No space left on device"):
        sink.add(Rejected("s", 1, "why", "raw"))
    with pytest.raises(OutputError, match="No space left on device"):
        sink.close()
    parent = tmp_path / "a-file"
    parent.write_text("")
    with pytest.raises(OutputError, match="cannot write rejects file"):
        RejectsFile(parent / "rejects.jsonl").add(Rejected("s", 1, "why", "raw"))
