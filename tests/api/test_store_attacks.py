"""The store under a careless operator and a hostile client (issue 26), in-process: attach
paths that cannot be paths, attach errors that would map the server's file system, a
dataset holding a post twice, and a large audit written in one statement.

(A FIFO, a damaged store file and a full disk need real processes:
``tests/integration/test_store_damage.py``.)"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from swarmlens.serve.app import create_app
from swarmlens.serve.settings import ServerSettings
from tests.support.answers import error_of


@pytest.fixture()
def own_client(api_settings: ServerSettings, tmp_path: Path) -> Iterator[TestClient]:
    settings = api_settings.model_copy(update={"data_dir": tmp_path / "store"})
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def test_a_nul_byte_or_a_path_over_path_max_is_4xx(own_client: TestClient) -> None:
    # Both were 500 (ValueError: embedded null byte; OSError: File name too long).
    for path in ("/tmp/a\x00b.parquet", "/tmp/" + "a" * 5000, "/tmp/" + "/".join(["a" * 200] * 30)):
        answer = own_client.post("/v1/datasets", json={"path": path})
        assert 400 <= answer.status_code < 500, answer.text
        assert answer.json()["code"] in ("E001", "E016")


def test_attach_errors_do_not_say_whether_a_path_exists(
    own_client: TestClient, tmp_path: Path
) -> None:
    not_parquet = tmp_path / "notes.parquet"
    not_parquet.write_text("not parquet")
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    other_dir = tmp_path / "other"
    (other_dir / "sub").mkdir(parents=True)
    (other_dir / "sub" / "x.txt").write_text("x")
    paths = [
        tmp_path / "missing.parquet", tmp_path / "missing" / "deeper", not_parquet, empty_dir,
        other_dir, Path("/dev/null"), not_parquet / "below-a-file",
    ]  # fmt: skip
    messages = set()
    for path in paths:
        body = error_of(own_client.post("/v1/datasets", json={"path": str(path)}), 400, "E001")
        messages.add(body["message"].replace(str(path), "PATH"))
        assert body["detail"] == body["message"]
    # One message whatever is (or is not) there, and it still says what to attach.
    assert len(messages) == 1, messages
    assert "one level down" in messages.pop()


def test_a_dataset_holding_a_post_twice_counts_it_once(
    own_client: TestClient, demo_dataset: Path, tmp_path: Path
) -> None:
    # Two copies of a part file in one dataset: volume and top counted 548 where the
    # estimate counted 274, and the answer said duplicates: 0.
    twice = tmp_path / "twice"
    shutil.copytree(demo_dataset, twice)
    part = sorted(twice.glob("day=*/*.parquet"))[0]
    shutil.copy(part, part.with_name("copy-" + part.name))
    table = pq.read_table(sorted(demo_dataset.glob("day=*/*.parquet")),
                          columns=["post_id", "hashtags"])
    assert len(set(table.column("post_id").to_pylist())) == table.num_rows
    expected = Counter(tag for tags in table.column("hashtags").to_pylist() for tag in tags)
    copies = pq.read_metadata(part).num_rows
    attached = own_client.post("/v1/datasets", json={"path": str(twice)}).json()
    assert (attached["rows"], attached["duplicates"]) == (table.num_rows + copies, copies)
    assert own_client.get("/v1/datasets").json()[0]["duplicates"] == copies
    tag, count = expected.most_common(1)[0]
    hour_aligned = {"start": "2015-11-01T00:00:00Z", "end": "2015-12-01T00:00:00Z"}
    not_aligned = {"start": "2015-11-01T00:30:00Z", "end": "2015-12-01T00:00:00Z"}
    for params in ({}, hour_aligned, not_aligned):  # aggregates, the volume index, a scan
        top = own_client.get("/v1/hashtags/top", params={"limit": 500, **params}).json()
        assert {h["hashtag"]: h["total"] for h in top["hashtags"]} == dict(expected)
    for params in (hour_aligned, not_aligned):
        series = own_client.get(f"/v1/hashtags/{tag}/volume", params=params).json()["series"]
        assert sum(point["total"] for point in series) == count
    estimate = own_client.get(f"/v1/hashtags/{tag}/estimate").json()
    assert estimate["posts"] == count
    network = own_client.get(f"/v1/hashtags/{tag}/network")
    assert network.status_code == 200, network.text
    assert network.json()["posts"] == count
    # Another dataset attached and detached recounts nothing twice either.
    other = tmp_path / "other"
    shutil.copytree(demo_dataset, other)
    second = own_client.post("/v1/datasets", json={"path": str(other)}).json()
    assert second["duplicates"] == second["rows"]
    assert own_client.delete(f"/v1/datasets/{attached['id']}").status_code == 200
    top = own_client.get("/v1/hashtags/top", params={"limit": 500}).json()
    assert {h["hashtag"]: h["total"] for h in top["hashtags"]} == dict(expected)


class CountingCursor:
    """A DuckDB cursor that counts the statements run through it."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection, counts: list[int]) -> None:
        self._cursor, self._counts = cursor, counts

    def execute(self, *args: object, **kwargs: object) -> object:
        self._counts[0] += 1
        return self._cursor.execute(*args, **kwargs)

    def __getattr__(self, name: str) -> object:
        return getattr(self._cursor, name)


def test_a_large_audit_is_stored_and_corrected_in_bulk(
    own_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 100k labels held the write lock over 120 s (ingest waited 72 s): one INSERT per label.
    store = own_client.app.state.store
    counts = [0]
    real_cursor = store.cursor
    monkeypatch.setattr(store, "cursor", lambda: CountingCursor(real_cursor(), counts))
    labels = ["supportive", "opposing", "neutral"]
    body = {
        "audit_id": "big", "hashtag": "ParisIsBurning",
        "start": "2015-11-10T00:00:00Z", "end": "2015-11-20T00:00:00Z",
        "labels": [
            {"post_id": f"p{i}", "label": labels[i % 3], "annotator": "a",
             **({"probability": 0.5, "stratum": "s"} if i % 2 else {})}
            for i in range(30_000)
        ],
    }  # fmt: skip
    first = own_client.post("/v1/audits", json=body)
    assert first.status_code == 200, first.text
    assert first.json()["inserted"] == 30_000
    # A bounded number of statements, whatever the number of labels (not one per label).
    assert counts[0] < 20, counts
    for item in body["labels"][:10]:  # ten corrected labels, the rest sent again as stored
        item["label"] = labels[(labels.index(item["label"]) + 1) % 3]
    again = own_client.post("/v1/audits", json=body).json()
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 10, 29_990)
    window = {"start": body["start"], "end": body["end"]}
    listed = own_client.get("/v1/audits", params={"hashtag": "ParisIsBurning", **window}).json()
    assert [(a["audit_id"], a["labels"]) for a in listed["audits"]] == [("big", 30_000)]
    moved = dict(body, start="2015-11-11T00:00:00Z")
    error_of(own_client.post("/v1/audits", json=moved), 409, "E021")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file whatever its mode")
def test_an_unreadable_path_says_what_a_missing_one_says(
    own_client: TestClient, tmp_path: Path
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "part.parquet").write_bytes(b"PAR1")
    locked.chmod(0)
    try:
        missing = own_client.post("/v1/datasets", json={"path": str(tmp_path / "x" / "y")})
        refused = own_client.post("/v1/datasets", json={"path": str(locked / "part.parquet")})
    finally:
        locked.chmod(0o700)
    assert missing.json()["message"].replace(str(tmp_path / "x" / "y"), "P") == (
        refused.json()["message"].replace(str(locked / "part.parquet"), "P"))


def test_a_full_disk_is_503_and_a_damaged_block_makes_healthz_503(
    own_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A full disk was 500 "unexpected TransactionException: this is a bug"; a query meeting
    # a damaged block was 500 E019 while /healthz said ok. (Real ones: the integration
    # tests over a tmpfs and damaged files; DuckDB's messages are faked here.)
    store = own_client.app.state.store

    def failing(message: str):
        def cursor() -> duckdb.DuckDBPyConnection:
            raise duckdb.IOException(message)

        return cursor

    monkeypatch.setattr(store, "cursor", failing(
        'IO Error: Could not write file "swarmlens.duckdb.wal": No space left on device'))
    full = error_of(own_client.get("/v1/datasets"), 503, "E046")
    assert "free space" in full["message"] and "bug" not in full["message"]
    assert own_client.get("/v1/datasets").headers["retry-after"].isdigit()
    audit = {"audit_id": "a", "hashtag": "x", "labels": [{"post_id": "1", "label": "neutral"}]}
    error_of(own_client.post("/v1/audits", json=audit), 503, "E046")
    monkeypatch.undo()
    assert own_client.get("/healthz").status_code == 200  # a full disk is no damage
    # Nor is a dataset's Parquet file cut short: that dataset's files are unreadable.
    monkeypatch.setattr(store, "cursor", failing(
        'IO Error: Could not read enough bytes from file "/data/scored/part-0.parquet"'))
    error_of(own_client.get("/v1/datasets"), 409, "E033")
    monkeypatch.undo()
    assert own_client.get("/healthz").status_code == 200
    monkeypatch.setattr(store, "cursor", failing(
        "IO Error: Corrupt database file: computed checksum 1 does not match stored checksum 2"))
    error_of(own_client.get("/v1/datasets"), 503, "E045")
    monkeypatch.undo()
    # The store answers simple queries again, but a damaged block was met: not healthy.
    damaged = error_of(own_client.get("/healthz"), 503, "E045")
    assert "move" in damaged["message"]
