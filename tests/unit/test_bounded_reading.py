"""Hostile inputs read within bounds (issue 26): over-long lines, blank-line floods, JSON
nested past the depth cap, lone surrogates, every Arrow time unit, model files that are no
regular files, outputs that are no regular files."""

from __future__ import annotations

import gzip
import io
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from swarmlens.classifier import fsio
from swarmlens.classifier.errors import IntegrityError, RecordError
from swarmlens.classifier.model import registry
from swarmlens.classifier.posts import blocks, sources
from swarmlens.classifier.posts.blocks import LineBlock, jsonl_blocks
from swarmlens.classifier.posts.columnar import read_batches
from swarmlens.classifier.posts.post import post_from_record
from swarmlens.classifier.posts.readers import Rejected, RejectsFile, iter_source
from swarmlens.classifier.posts.sources import ReadPosition

MAX_JSON_DEPTH = 64  # posts.jsondoc.MAX_JSON_DEPTH, the documented cap (README)
OK = {"id": "ok", "text": "#ParisIsBurning fine", "created_at": "2015-11-14T10:00:00Z"}
DEPTH_REASON = f"deeper than {MAX_JSON_DEPTH} levels"


def _line(record: dict) -> bytes:
    return json.dumps(record).encode() + b"\n"


def _read(path: Path) -> tuple[list[str], list[tuple[int, str]]]:
    """(post ids, (line, reason) of rejects) of a file, as `score` reads it."""
    ids: list[str] = []
    rejects: list[tuple[int, str]] = []
    for _, batch in read_batches([path], 100):
        ids += batch.table.column("post_id").to_pylist()
        rejects += [(r.line, r.reason) for r in batch.rejects]
    return ids, rejects


# -- lines over the cap ----------------------------------------------------------


@pytest.fixture()
def small_line_cap(monkeypatch: pytest.MonkeyPatch) -> int:
    cap = 2 * blocks.PIECE_BYTES  # the smallest cap a line is measured against exactly
    monkeypatch.setattr(blocks, "MAX_LINE_BYTES", cap)
    monkeypatch.setattr(sources, "MAX_LINE_BYTES", cap)
    return cap


@pytest.mark.parametrize("filler", [b"\0", b"a"])
def test_a_line_over_the_cap_is_one_reject_and_reading_goes_on(
    tmp_path: Path, small_line_cap: int, filler: bytes
) -> None:
    path = tmp_path / "bomb.jsonl.gz"
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write(_line(OK))
        out.write(b'{"id":"big","text":"')
        for _ in range(12):  # 12 MiB: six times the cap, written in pieces
            out.write(filler * (1 << 20))
        out.write(b'"}\n' + _line({**OK, "id": "after"}))
    ids, rejects = _read(path)
    assert ids == ["ok", "after"]
    assert len(rejects) == 1 and rejects[0][0] == 2 and "longer than" in rejects[0][1]
    # The line-by-line reader (training data, annotation) says the same.
    items = list(iter_source(path))
    assert [getattr(i, "post_id", None) for i in items] == ["ok", None, "after"]
    assert isinstance(items[1], Rejected) and items[1].line == 2


def test_an_endless_last_line_is_one_reject(tmp_path: Path, small_line_cap: int) -> None:
    path = tmp_path / "endless.jsonl"
    path.write_bytes(_line(OK) + b"\0" * (5 << 20))  # no newline at all after the record
    ids, rejects = _read(path)
    assert ids == ["ok"] and [line for line, _ in rejects] == [2]


def test_an_over_long_line_is_never_held_whole(small_line_cap: int) -> None:
    data = _line(OK) + b"x" * (8 << 20) + b"\n" + _line({**OK, "id": "after"})
    got = list(jsonl_blocks(io.BytesIO(data), ReadPosition(), 100, "mem"))
    assert [type(p).__name__ for _, p in got] == ["LineBlock", "Rejected", "LineBlock"]
    assert all(len(p.data) < 1024 for _, p in got if isinstance(p, LineBlock))
    assert [line for line, _ in got] == [1, 2, 3]


def test_blank_line_floods_are_counted_not_kept() -> None:
    # 30 MB of newlines before a record, then a record and 30 MB more: blocks hold the
    # records, not the flood, and line numbers still count every line.
    flood = b"\n" * (30 << 20)
    data = flood + _line(OK) + flood + _line({**OK, "id": "late"})
    got = list(jsonl_blocks(io.BytesIO(data), ReadPosition(), 100, "mem"))
    records = [(n, line) for _, block in got for n, line in block.lines()]
    assert [n for n, _ in records] == [len(flood) + 1, 2 * len(flood) + 2]
    assert all(len(block.data) < (2 << 20) for _, block in got)


def test_blocks_cut_early_by_bytes_still_end_every_n_records(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Records scattered among blank lines pass the block byte cap: the blocks are handed
    # on early, but the records of consecutive blocks still add up to N at the same lines
    # as before (batch jobs cut their chunks there).
    monkeypatch.setattr(blocks, "MAX_BLOCK_BYTES", 1 << 20)
    lines = [_line({**OK, "id": f"p{i}"}) + b"\n" * (300_000 if i % 3 == 0 else 0)
             for i in range(40)]
    got = [block for _, block in jsonl_blocks(io.BytesIO(b"".join(lines)), ReadPosition(), 10)]
    assert sum(block.records for block in got) == 40
    assert max(len(block.data) for block in got) < (3 << 20)
    ends = []
    total = 0
    for block in got:
        total += block.records
        ends.append(total)
    assert {10, 20, 30, 40} <= set(ends)
    numbers = [n for block in got for n, _ in block.lines()]
    assert numbers == sorted(numbers) and len(numbers) == 40


# -- JSON nested past the depth cap ------------------------------------------------


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deep_json_documents_are_rejects(tmp_path: Path, depth: int) -> None:
    deep = f'{{"id": "deep", "text": {_deep(depth)}, "created_at": "2015-11-14T10:00:00Z"}}'
    ok, later = json.dumps(OK), json.dumps({**OK, "id": "later"})
    (tmp_path / "array.json").write_text(f"[{ok}, {deep}, {later}]")
    (tmp_path / "single.json").write_text(deep)
    export = {"name": "chan", "messages": [
        {"id": 1, "type": "message", "date_unixtime": "1447495200", "text": "#Paris a"},
        {"id": 2, "type": "message", "date_unixtime": "1447495200", "text": "DEEP"}]}
    (tmp_path / "telegram.json").write_text(json.dumps(export).replace('"DEEP"', _deep(depth)))
    (tmp_path / "wrapper.json").write_text('{"a": ' * depth + "1" + "}" * depth)
    (tmp_path / "lines.jsonl").write_text(f"{ok}\n{deep}\n{later}\n")
    for name, kept, line in [("array.json", ["ok", "later"], 2),
                             ("single.json", [], 1), ("telegram.json", ["chan/1"], 2),
                             ("wrapper.json", [], 1), ("lines.jsonl", ["ok", "later"], 2)]:
        ids, rejects = _read(tmp_path / name)
        assert ids == kept, name
        assert [n for n, _ in rejects] == [line] and DEPTH_REASON in rejects[0][1], name


def test_an_endless_value_in_a_json_document_is_one_reject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from swarmlens.classifier.posts import documents, jsondoc

    monkeypatch.setattr(jsondoc, "MAX_VALUE_BYTES", 1 << 20)
    monkeypatch.setattr(documents, "MAX_RECORD_BYTES", 1 << 20)
    ok, later = json.dumps(OK), json.dumps({**OK, "id": "later"})
    with gzip.open(tmp_path / "array.json.gz", "wt") as out:  # one string of 3 MiB
        out.write(f'[{ok}, {{"id": "big", "text": "{"a" * (3 << 20)}"}}, {later}]')
    ids, rejects = _read(tmp_path / "array.json.gz")
    assert ids == ["ok"]
    assert [n for n, _ in rejects] == [2] and "runs over 1,048,576 bytes" in rejects[0][1]
    # Under the cap, the same document is read whole (the count restarts at each event).
    monkeypatch.setattr(jsondoc, "MAX_VALUE_BYTES", 4 << 20)
    ids, rejects = _read(tmp_path / "array.json.gz")
    assert ids == ["ok", "big", "later"] and not rejects
    # A document that is one record (a Twitter v2 page) is read whole only to its cap.
    (tmp_path / "single.json").write_text(json.dumps({**OK, "text": "b" * (2 << 20)}))
    ids, rejects = _read(tmp_path / "single.json")
    assert not ids and [n for n, _ in rejects] == [1] and "more than" in rejects[0][1]


def test_a_record_at_the_depth_cap_is_read() -> None:
    from swarmlens.classifier.posts import jsondoc

    assert jsondoc.MAX_JSON_DEPTH == MAX_JSON_DEPTH
    nested: object = "x"
    for _ in range(MAX_JSON_DEPTH - 1):  # the record itself is the last level
        nested = [nested]
    record = {**OK, "extra": nested}
    data = json.dumps([record]).encode()
    path_items = list(jsondoc.walk(jsondoc.events(lambda: io.BytesIO(data)),
                                   {("item",): "value"}))
    assert path_items == [(("item",), record)]


# -- lone surrogates ------------------------------------------------------------------


@pytest.mark.parametrize("field", ["id", "post_id", "author", "retweet_of", "reply_to",
                                   "retweet_of_author", "group"])
def test_a_lone_surrogate_in_an_id_is_a_reject(field: str) -> None:
    with pytest.raises(RecordError, match="lone surrogate"):
        post_from_record({**OK, field: "a\ud800b"})


def test_a_lone_surrogate_in_text_becomes_the_replacement_character(tmp_path: Path) -> None:
    post = post_from_record({**OK, "text": "#Paris \ud800 and \udc00 \U0001f600"})
    assert post.text == "#Paris \ufffd and \ufffd \U0001f600"
    post.text.encode("utf-8")
    # A reject holding one is still writable.
    with RejectsFile(tmp_path / "rejects.jsonl") as sink:
        sink.add(Rejected("in\udcff.jsonl", 1, "bad \ud800", '{"id": "\ud800"}'))
    assert "\ufffd" in (tmp_path / "rejects.jsonl").read_text(encoding="utf-8")


def test_lone_surrogates_in_every_form_of_input(tmp_path: Path) -> None:
    records = [OK, {**OK, "id": "a\ud800"}, {**OK, "id": "t", "text": "x \udc00"},
               {**OK, "id": "u", "author": "b\udc00"}]
    lines = "".join(json.dumps(r) + "\n" for r in records)  # ASCII escapes, as APIs write
    (tmp_path / "a.jsonl").write_text(lines)
    (tmp_path / "b.json").write_text(json.dumps(records))
    ids, rejects = _read(tmp_path / "a.jsonl")
    assert ids == ["ok", "t"] and [n for n, _ in rejects] == [2, 4]
    ids, rejects = _read(tmp_path / "b.json")
    # ijson reads a lone *high* surrogate escape as '?' (yajl's choice); a low one ends its
    # C parser, and the document goes on in the Python one, which the rules above settle.
    assert ids[0] == "ok" and "t" in ids and [n for n, _ in rejects] == [4]


# -- Parquet times ------------------------------------------------------------------


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
@pytest.mark.parametrize("tz", [None, "UTC", "Europe/Paris"])
def test_every_arrow_time_unit_is_read(tmp_path: Path, unit: str, tz: str | None) -> None:
    # In a process where pandas is loaded (this one is), pyarrow gives nanoseconds as
    # pandas Timestamps and the old reader got by; `score` reads where pandas is not: the
    # regression test of issue 26 is the real process of test_hostile_inputs.py.
    nanos = pa.array([1447495200_123456789, 1447498800_000000000], pa.int64())
    times = nanos.cast(pa.timestamp("ns")).cast(pa.timestamp(unit), safe=False)
    table = pa.table({"id": ["a", "b"], "text": ["#Paris x", "#Paris y"],
                      "created_at": times.cast(pa.timestamp(unit, tz))})
    pq.write_table(table, tmp_path / "times.parquet")
    [(_, batch)] = list(read_batches([tmp_path / "times.parquet"]))
    assert not batch.rejects
    seconds = [t.timestamp() for t in batch.table.column("created_at").to_pylist()]
    assert [int(s) for s in seconds] == [1447495200, 1447498800]


def test_a_time_past_the_calendar_in_parquet_is_a_reject(tmp_path: Path) -> None:
    far = pa.array([300_000 * 365 * 86400, 1447495200], pa.int64()).cast(pa.timestamp("s"))
    dates = pa.array([16753, 16753], pa.int32()).cast(pa.date32())
    pq.write_table(pa.table({"id": ["far", "ok"], "text": ["x", "y"], "created_at": far}),
                   tmp_path / "far.parquet")
    pq.write_table(pa.table({"id": ["d1", "d2"], "text": ["x", "y"], "created_at": dates}),
                   tmp_path / "dates.parquet")
    ids, rejects = _read(tmp_path / "far.parquet")
    assert ids == ["ok"] and [n for n, _ in rejects] == [1]
    ids, rejects = _read(tmp_path / "dates.parquet")
    assert ids == ["d1", "d2"] and not rejects


# -- regular files only -------------------------------------------------------------


def test_outputs_never_replace_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "out.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(fsio.NotRegularFileError, match="not a regular file"):
        fsio.atomic_write_text(fifo, "data")
    assert fifo.is_fifo()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    fsio.check_regular_target(tmp_path / "absent.jsonl")  # absent: fine
    (tmp_path / "file.jsonl").write_text("")
    fsio.check_regular_target(tmp_path / "file.jsonl")


def test_read_regular_refuses_devices_fifos_and_huge_files(tmp_path: Path) -> None:
    with pytest.raises(fsio.NotRegularFileError):
        fsio.read_regular("/dev/zero", 1 << 20)
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(fsio.NotRegularFileError):  # refused, not waited on
        fsio.read_regular(tmp_path / "fifo", 1 << 20)
    with (tmp_path / "sparse").open("wb") as handle:
        handle.truncate(1 << 30)
    with pytest.raises(OSError, match="limit"):
        fsio.read_regular(tmp_path / "sparse", 1 << 20)
    (tmp_path / "small").write_bytes(b"abc")
    assert fsio.read_regular(tmp_path / "small", 3) == b"abc"


def _fake_registry(root: Path, artifact: str) -> None:
    entry = {"id": "m-1", "name": "m", "created_at": "2015-11-14T10:00:00Z", "path": artifact,
             "sha256": "0" * 64, "labels": ["supportive", "opposing", "neutral"],
             "data_fingerprint": "f", "n_train": 1}
    root.mkdir(exist_ok=True)
    (root / "manifest.json").write_text(json.dumps({"current": "m-1", "models": [entry]}))


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "outside", "huge", "loop"])
def test_a_model_file_that_is_no_regular_file_in_the_registry_is_refused(
    tmp_path: Path, kind: str
) -> None:
    root = tmp_path / "models"
    _fake_registry(root, "m.safetensors")
    target = root / "m.safetensors"
    if kind == "dev-zero":
        target.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "outside":
        (tmp_path / "elsewhere.safetensors").write_bytes(b"x")
        target.symlink_to(tmp_path / "elsewhere.safetensors")
    elif kind == "huge":
        with target.open("wb") as handle:
            handle.truncate(registry.MAX_ARTIFACT_BYTES + 1)
    else:
        target.symlink_to(target)
    with pytest.raises(IntegrityError):
        registry.load(None, root)


def test_a_symlink_inside_the_registry_is_followed(tmp_path: Path) -> None:
    root = tmp_path / "models"
    _fake_registry(root, "m.safetensors")
    (root / "real.safetensors").write_bytes(b"not a model")
    (root / "m.safetensors").symlink_to(root / "real.safetensors")
    with pytest.raises(IntegrityError, match="SHA-256"):  # read, then refused by its hash
        registry.load(None, root)
