"""Limits and access through the app in-process: times, double counting, hosts, keys,
text caps.

Each test that changes the store builds its own app on its own DuckDB file, so the
session's ``client`` keeps its counts."""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from swarmlens.serve.app import create_app
from swarmlens.serve.settings import ServerSettings
from tests.support.answers import error_of


@pytest.fixture()
def own_client(api_settings: ServerSettings, tmp_path: Path) -> Iterator[TestClient]:
    settings = api_settings.model_copy(update={"data_dir": tmp_path / "store"})
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def top_totals(client: TestClient, **params: str) -> dict[str, int]:
    body = client.get("/v1/hashtags/top", params={"limit": 5, **params}).json()
    return {item["hashtag"]: item["total"] for item in body["hashtags"]}


def test_extreme_times_are_4xx_with_a_reason(client: TestClient) -> None:
    for moment in ("9999-12-31T23:00-14:00", "0001-01-01T00:00+14:00", "2001-01-01T00:00Z"):
        body = {"posts": [{"id": "t1", "text": "x", "created_at": moment}]}
        refused = error_of(client.post("/v1/posts", json=body), 422, "E016")
        assert "created_at" in refused["message"]
    far = {"start": "0001-01-01T00:00:00+05:00", "end": "0001-01-02T00:00:00"}
    refused = error_of(client.get("/v1/hashtags/ParisIsBurning/volume", params=far), 400, "E008")
    assert "1970-01-01" in refused["message"]
    error_of(client.get("/v1/hashtags/emerging", params={"end": "0001-01-01T00:00:00"}),
             400, "E008")
    error_of(client.get("/v1/hashtags/top", params={"end": "9999-12-31T23:59:59Z"}), 400, "E008")


def test_a_stored_far_future_post_does_not_break_emerging(
    own_client: TestClient, demo_dataset: Path, tmp_path: Path
) -> None:
    # A dataset scored before times were bounded: one post dated 9999-12-31.
    table = pq.read_table(sorted(demo_dataset.glob("day=*/*.parquet"))[0]).slice(0, 3)
    future = pa.array([datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)] * 3,
                      pa.timestamp("us", tz="UTC"))
    table = table.set_column(table.schema.get_field_index("created_at"), "created_at", future)
    pq.write_table(table, tmp_path / "future.parquet")
    assert own_client.post("/v1/datasets", json={"path": str(tmp_path / "future.parquet")}
                           ).status_code == 200
    assert own_client.post("/v1/datasets", json={"path": str(demo_dataset)}).status_code == 200
    answer = own_client.get("/v1/hashtags/emerging")
    assert answer.status_code == 200, answer.text
    assert answer.json()["window"]["end"] < "2100"


def test_a_post_id_counts_once_whatever_path_brought_it(
    own_client: TestClient, demo_dataset: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(demo_dataset, copy)
    first = own_client.post("/v1/datasets", json={"path": str(demo_dataset)}).json()
    assert first["duplicates"] == 0
    once = top_totals(own_client)
    exact = {"start": "2015-11-13T00:30:00Z", "end": "2015-11-20T00:00:00Z"}  # not hour-aligned
    once_exact = top_totals(own_client, **exact)
    second = own_client.post("/v1/datasets", json={"path": str(copy)}).json()
    assert second["duplicates"] == second["rows"] == first["rows"]
    assert top_totals(own_client) == once
    assert top_totals(own_client, **exact) == once_exact
    # An id an attached dataset holds is a duplicate when posted.
    row = pq.read_table(sorted(demo_dataset.glob("day=*/*.parquet"))[0]).slice(0, 1).to_pylist()[0]
    post = {"id": row["post_id"], "text": "again", "created_at": row["created_at"].isoformat()}
    ingested = own_client.post("/v1/posts", json={"posts": [post]}).json()
    assert (ingested["accepted"], ingested["duplicate"]) == (0, 1)
    # Detaching the first copy hands its ids to the second: the counts stay.
    listed = own_client.get("/v1/datasets").json()
    assert [d["id"] for d in listed] == [first["id"], second["id"]]
    detached = own_client.delete(f"/v1/datasets/{first['id']}")
    assert detached.status_code == 200 and detached.json()["path"] == first["path"]
    assert top_totals(own_client) == once
    assert top_totals(own_client, **exact) == once_exact
    error_of(own_client.delete(f"/v1/datasets/{first['id']}"), 404, "E034")
    # Files deleted under an attached dataset: a 409 naming the way out, not a 500.
    shutil.rmtree(copy)
    gone = error_of(own_client.get("/v1/hashtags/top", params=exact), 409, "E033")
    assert f"DELETE /v1/datasets/{second['id']}" in gone["message"]
    assert own_client.get("/v1/datasets").json()[0]["missing"] is True
    assert own_client.delete(f"/v1/datasets/{second['id']}").status_code == 200
    assert top_totals(own_client) == {}


def test_only_loopback_and_allowed_hosts_are_answered(
    api_settings: ServerSettings, tmp_path: Path
) -> None:
    settings = api_settings.model_copy(
        update={"data_dir": tmp_path / "s", "allowed_hosts": "swarmlens.example.org"}
    )
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        assert client.get("/healthz").status_code == 200
        for host in ("localhost:8000", "[::1]:8000", "swarmlens.example.org"):
            assert client.get("/info", headers={"Host": host}).status_code == 200, host
        for host in ("evil.example", "127.0.0.1.evil.example", "attacker.com:8000"):
            refused = error_of(client.get("/info", headers={"Host": host}), 421, "E031")
            assert "SWARMLENS_ALLOWED_HOSTS" in refused["message"]


def test_who_may_read(api_settings: ServerSettings, tmp_path: Path) -> None:
    keyed = api_settings.model_copy(update={"data_dir": tmp_path / "k", "api_keys": "k-one"})
    body = {"tasks": [{"id": 1, "data": {"text": "hello #ParisIsBurning"}}]}
    with TestClient(create_app(keyed)) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/labelstudio/health").status_code == 200
        for path in ("/v1/hashtags/top", "/labelstudio/status", "/info", "/v1/datasets"):
            error_of(client.get(path), 401, "E013")
        error_of(client.post("/labelstudio/predict", json=body), 401, "E013")
        error_of(client.post("/labelstudio/setup", json={}), 401, "E013")
        # What Label Studio sends for an ML backend: basic auth (the key as password).
        basic = base64.b64encode(b"labelstudio:k-one").decode()
        ok = client.post("/labelstudio/predict", json=body,
                         headers={"Authorization": f"Basic {basic}"})
        assert ok.status_code == 200 and len(ok.json()["results"]) == 1
        assert client.get("/labelstudio/status", headers={"Authorization": "Token k-one"}
                          ).status_code == 200
        # A wrong X-API-Key does not spoil a correct Bearer token.
        both = {"X-API-Key": "wrong", "Authorization": "Bearer k-one"}
        assert client.get("/v1/hashtags/top", headers=both).status_code == 200
        error_of(client.get("/v1/hashtags/top", headers={"X-API-Key": "wrong"}), 403, "E014")
    open_reads = keyed.model_copy(update={"data_dir": tmp_path / "o", "reads_need_key": False})
    with TestClient(create_app(open_reads)) as client:
        assert client.get("/v1/hashtags/top").status_code == 200
        assert client.get("/info").json()["reads_need_api_key"] is False
        error_of(client.post("/v1/datasets", json={"path": "/nowhere"}), 401, "E013")


def cut_count(client: TestClient) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("swarmlens_texts_cut_total "):
            return float(line.split()[1])
    raise AssertionError("no swarmlens_texts_cut_total metric")


def test_text_is_cut_on_every_endpoint_and_explain_is_bounded(client: TestClient) -> None:
    before = cut_count(client)
    long = "word " * 40_000  # 200,000 characters
    answer = client.post("/v1/classify", json={"posts": [{"id": "l", "text": long}]})
    assert answer.status_code == 200 and answer.json()["results"][0]["truncated"] is True
    short = client.post("/v1/classify", json={"posts": [{"id": "s", "text": "hi"}]}).json()
    assert "truncated" not in short["results"][0]
    predicted = client.post("/labelstudio/predict",
                            json={"tasks": [{"id": 1, "data": {"text": long}}]})
    assert predicted.status_code == 200
    assert cut_count(client) == before + 2
    posts = [{"id": str(i), "text": "x" * 8000} for i in range(50)]
    refused = error_of(client.post("/v1/classify?explain=true", json={"posts": posts}),
                       413, "E015")
    assert "max_explain_chars" in refused["message"]
    # Under the cap it answers (short texts: explaining 16,000 characters can outlast the
    # test app's explain timeout on a loaded machine, which is the other behaviour).
    small = [{"id": str(i), "text": "x" * 1000} for i in range(2)]
    explained = client.post("/v1/classify?explain=true", json={"posts": small})
    assert explained.status_code == 200 and explained.json()["results"][0]["explanation"]


def test_the_in_memory_volume_index_answers_as_the_sql_does(
    own_client: TestClient, demo_dataset: Path
) -> None:
    from swarmlens.classifier.analytics import queries
    from swarmlens.serve.services import analytics

    assert own_client.post("/v1/datasets", json={"path": str(demo_dataset)}).status_code == 200
    posts = [
        {"id": f"live-{i}", "text": f"#ParisIsBurning live {i}",
         "created_at": f"2015-11-14T{10 + i % 5:02d}:{i:02d}:00Z"}
        for i in range(20)
    ]  # fmt: skip
    assert own_client.post("/v1/posts", json={"posts": posts}).json()["accepted"] == 20
    store = own_client.app.state.store
    cases = [
        ("ParisIsBurning", "hour", None, "2015-11-13T00:00:00Z", "2015-11-20T00:00:00Z"),
        ("#parisisburning", "day", ["supportive"], "2015-11-01T00:00:00Z", "2015-12-01T00:00:00Z"),
        ("PrayForParis", "hour", ["opposing", "neutral"], "2015-11-14T05:00:00Z",
         "2015-11-15T07:00:00Z"),
        ("no-such-tag", "hour", None, "2015-11-14T00:00:00Z", "2015-11-15T00:00:00Z"),
        ("ParisIsBurning", "day", None, "2015-11-14T05:00:00Z", "2015-11-16T07:00:00Z"),
    ]
    for tag, interval, labels, start, end in cases:
        params: list[tuple[str, str]] = [("interval", interval), ("start", start), ("end", end)]
        params += [("label", x) for x in labels or []]
        answer = own_client.get(f"/v1/hashtags/{tag.replace('#', '%23')}/volume", params=params)
        assert answer.status_code == 200, answer.text
        when = [datetime.fromisoformat(x) for x in (start, end)]
        filters = analytics.Filters(when[0], when[1], labels, None)
        relation, _ = store.relation("hashtags", when[0], when[1], None, interval)
        expected = queries.volume_series(relation, tag, interval, labels, *when,
                                         con=store.cursor())  # fmt: skip
        assert answer.json()["series"] == expected["series"], (tag, interval, labels)
        assert answer.json()["hashtag"] == expected["hashtag"]
        assert filters  # the same filters the API built
    assert sum(p["total"] for p in own_client.get(
        "/v1/hashtags/ParisIsBurning/volume",
        params={"start": "2015-11-14T00:00:00Z", "end": "2015-11-15T00:00:00Z"},
    ).json()["series"]) >= 20


def test_attaching_the_file_system_is_refused_at_once(
    own_client: TestClient, demo_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 11 (9): not a walk of the whole file system under the write lock.
    deep = tmp_path / "not-a-dataset" / "a" / "b"
    deep.mkdir(parents=True)
    shutil.copy(sorted(demo_dataset.glob("day=*/*.parquet"))[0], deep / "x.parquet")
    refused = error_of(own_client.post("/v1/datasets", json={"path": str(deep.parent.parent)}),
                       400, "E001")
    assert "one level down" in refused["message"]
    walked: list[Path] = []

    def watched_rglob(self: Path, pattern: str, **kwargs: object) -> Iterator[Path]:
        walked.append(self)  # (and no walk of the whole file system if it were called)
        return iter(())

    monkeypatch.setattr(Path, "rglob", watched_rglob)
    for path in ("/", str(Path.home())):
        refused = error_of(own_client.post("/v1/datasets", json={"path": path}), 400, "E001")
        assert "root or a home directory" in refused["message"]
    assert walked == []  # refused before any walk of the tree
    monkeypatch.undo()
    flat = tmp_path / "flat"  # `swarmlens score --out DIR` of one process: parts at the top
    flat.mkdir()
    shutil.copy(deep / "x.parquet", flat / "part-00000.parquet")
    assert own_client.post("/v1/datasets", json={"path": str(flat)}).status_code == 200
    assert own_client.post("/v1/datasets", json={"path": str(demo_dataset)}).status_code == 200
    assert own_client.get("/v1/datasets").json()[0]["path"] == str(flat)


def test_the_webhook_counts_each_annotation_once(own_client: TestClient) -> None:
    def send(action: str, annotation: object) -> int:
        answer = own_client.post("/labelstudio/webhook", json={
            "action": action, "project": {"id": 1}, "annotation": annotation})
        assert answer.status_code == 200, answer.text
        return answer.json()["new_labels"]

    assert send("ANNOTATION_CREATED", {"id": 7, "result": []}) == 1
    assert send("ANNOTATION_UPDATED", {"id": 7, "result": []}) == 1  # an update: no new label
    assert send("ANNOTATION_UPDATED", {"id": 7, "result": []}) == 1
    assert send("ANNOTATION_CREATED", {"id": 8}) == 2
    assert send("ANNOTATIONS_CREATED", [{"id": 9}, {"id": 8}, {"id": 10}]) == 4  # a bulk import
    assert own_client.get("/labelstudio/status").json()["new_labels"] == 4


def test_the_webhook_body_has_its_own_smaller_cap(
    api_settings: ServerSettings, tmp_path: Path
) -> None:
    # Label Studio's events are small; before the cap a 7.5 MB one (under max_body_bytes)
    # was read, parsed and its id kept: +419 MB over 60 of them.
    settings = api_settings.model_copy(
        update={"data_dir": tmp_path / "store", "max_webhook_bytes": 4096}
    )
    event = {"action": "ANNOTATION_CREATED", "annotation": {"id": "x" * 5000}}
    with TestClient(create_app(settings)) as own:
        refused = error_of(own.post("/labelstudio/webhook", json=event), 413, "E015")
        assert "4096 bytes (max_webhook_bytes)" in refused["message"]
        # Other routes keep max_body_bytes, and a normal event still counts.
        posts = {"posts": [{"id": "1", "text": "x" * 5000}]}
        assert own.post("/v1/classify", json=posts).is_success
        event["annotation"] = {"id": 1}
        assert own.post("/labelstudio/webhook", json=event).json()["new_labels"] == 1


@pytest.mark.parametrize(
    "path",
    [
        "/v1/hashtags/paris/network?end=0001-01-01T00:00:00%2B14:00",
        "/v1/hashtags/paris/estimate?start=9999-12-31T23:00:00-14:00",
        "/v1/audits?hashtag=paris&start=0001-01-01T00:00:00%2B14:00",
    ],
)
def test_far_out_times_on_the_newer_routes_are_400(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "E008"


def test_an_audit_window_at_the_end_of_the_calendar_is_400(client: TestClient) -> None:
    body = {"audit_id": "a", "hashtag": "paris", "start": "0001-01-01T00:00:00+14:00",
            "labels": [{"post_id": "p", "label": "neutral"}]}
    answer = client.post("/v1/audits", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "E008"
