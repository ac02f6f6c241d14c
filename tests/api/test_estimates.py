"""POST /v1/audits and GET /v1/hashtags/{tag}/estimate in-process over the demo dataset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from swarmlens.classifier.errors import InputError
from swarmlens.serve.app import create_app
from swarmlens.serve.settings import ServerSettings
from tests.support.processes import swarmlens

TAG = "باريس_تشتعل"
START, END = "2015-11-13T00:00:00Z", "2015-11-20T00:00:00Z"


@pytest.fixture(scope="module")
def audit(demo_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """A simulated audit of the tag's posts in [START, END), as ``annotate pull`` writes it."""
    from swarmlens.classifier.analytics import datasets, queries
    from swarmlens.classifier.analytics.estimate import sample_rows
    from swarmlens.classifier.analytics.simulated_audit import demo_labels
    from swarmlens.classifier.posts.post import parse_time

    population = queries.hashtag_posts(
        datasets.parquet_source([demo_dataset]), TAG, parse_time(START), parse_time(END)
    )
    truth = demo_labels(demo_dataset.parent / "demo.jsonl.gz")
    ids = population["post_id"]
    return [
        {"id": ids[i], "label": truth[ids[i]], "annotator": "sim"}
        for i in sample_rows(len(ids), 80, seed=4)
    ]


def body(audit: list[dict], **extra: object) -> dict:
    return {
        "audit_id": "api-audit-1",
        "hashtag": TAG,
        "start": START,
        "end": END,
        "labels": [
            {"post_id": r["id"], "label": r["label"], "annotator": r["annotator"]} for r in audit
        ],
        **extra,
    }


def test_unaudited_then_audited_estimate_matches_the_cli(
    client: TestClient,
    audit: list[dict],
    shared_env: dict[str, str],
    demo_dataset: Path,
    tmp_path: Path,
) -> None:
    params = {"start": START, "end": END}
    before = client.get(f"/v1/hashtags/{TAG}/estimate", params=params)
    assert before.status_code == 200, before.text
    unaudited = before.json()
    assert unaudited["audited"] == 0 and unaudited["posts"] > 100
    assert unaudited["labels"]["supportive"]["estimate"] is None
    assert unaudited["labels"]["supportive"]["count"] > 0 and "series" not in unaudited

    stored = client.post("/v1/audits", json=body(audit))
    assert stored.status_code == 200, stored.text
    assert stored.json() == {
        "audit_id": "api-audit-1",
        "hashtag": "باريستشتعل",
        "inserted": len(audit),
        "updated": 0,
        "unchanged": 0,
    }
    again = client.post("/v1/audits", json=body(audit)).json()
    assert (again["inserted"], again["unchanged"]) == (0, len(audit))

    answer = client.get(f"/v1/hashtags/{TAG}/estimate", params=params).json()
    path = tmp_path / "audit.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in audit))
    cli = json.loads(
        swarmlens(
            [
                "estimate",
                str(demo_dataset),
                "--hashtag",
                TAG,
                "--audit",
                str(path),
                "--start",
                START,
                "--end",
                END,
                "--json",
            ],
            shared_env,
        ).stdout
    )
    assert answer == cli
    assert answer["audited"] == len(audit)
    for row in answer["labels"].values():
        assert row["low"] <= row["estimate"] <= row["high"]

    # A narrower window inside the audit's uses the audited posts that fall in it; a wider
    # one is not covered by this audit (its sample is not uniform there).
    inner = client.get(
        f"/v1/hashtags/{TAG}/estimate", params={"start": "2015-11-14T00:00:00Z", "end": END}
    ).json()
    assert 0 < inner["audited"] < len(audit)
    wider = client.get(f"/v1/hashtags/{TAG}/estimate").json()
    assert wider["audited"] == 0 and wider["flood_share"]["estimate"] is None

    listed = client.get("/v1/audits", params={"hashtag": "#" + TAG, **params}).json()["audits"]
    assert [(a["audit_id"], a["labels"], a["simulated"]) for a in listed] == [
        ("api-audit-1", len(audit), False)
    ]
    assert client.get("/v1/audits", params={"hashtag": TAG}).json()["audits"] == []

    series = client.get(
        f"/v1/hashtags/{TAG}/estimate", params={**params, "interval": "day"}
    ).json()["series"]
    assert series and sum(point["posts"] for point in series) == answer["posts"]
    assert all(point["t"].endswith("T00:00:00Z") for point in series)


def test_audit_conflicts_and_bad_bodies(client: TestClient, audit: list[dict]) -> None:
    first = client.post("/v1/audits", json=body(audit[:5], audit_id="api-audit-2"))
    assert first.status_code == 200
    moved = client.post(
        "/v1/audits", json=body(audit[:5], audit_id="api-audit-2", end="2015-11-21T00:00:00Z")
    )
    assert moved.status_code == 409 and moved.json()["code"] == "E021"
    fixed = [{**audit[0], "label": "neutral" if audit[0]["label"] != "neutral" else "opposing"}]
    relabel = client.post("/v1/audits", json=body(fixed, audit_id="api-audit-2")).json()
    assert relabel["updated"] == 1
    bad = client.post("/v1/audits", json=body([{**audit[0], "label": "angry"}]))
    assert bad.status_code == 422 and bad.json()["code"] == "E016" and "label" in bad.text
    empty = client.post("/v1/audits", json=body([]))
    assert empty.status_code == 422
    backwards = client.post("/v1/audits", json=body(audit, start=END, end=START))
    assert backwards.status_code == 400 and "start must be before end" in backwards.text
    assert client.get("/v1/hashtags/x/estimate", params={"interval": "week"}).status_code == 422
    nothing = client.get("/v1/hashtags/nosuchtagatall/estimate").json()
    assert (nothing["posts"], nothing["audited"]) == (0, 0)


def test_storing_an_audit_needs_the_write_key(
    api_settings: ServerSettings, audit: list[dict]
) -> None:
    settings = api_settings.model_copy(
        update={"api_keys": "k1", "data_dir": api_settings.data_dir.parent / "keyed"}
    )
    with TestClient(create_app(settings)) as keyed:
        refused = keyed.post("/v1/audits", json=body(audit))
        assert refused.status_code == 401 and refused.json()["code"] == "E013"
        ok = keyed.post("/v1/audits", json=body(audit), headers={"X-API-Key": "k1"})
        assert ok.status_code == 200


def test_an_audit_file_from_pull_is_stored(
    client: TestClient, demo_dataset: Path, tmp_path: Path
) -> None:
    from swarmlens.classifier.analytics.simulated_audit import write_simulated_audit
    from swarmlens.serve.services.estimates import load_audit_file

    path = tmp_path / "simulated.jsonl"
    written = write_simulated_audit(
        demo_dataset.parent / "demo.jsonl.gz", demo_dataset, "باقية_وتتمدد", path, n=30
    )
    store = client.app.state.store
    first = load_audit_file(store, path)
    assert [(r.audit_id, r.inserted) for r in first] == [(written["audit"], 30)]
    assert load_audit_file(store, path)[0].unchanged == 30
    answer = client.get("/v1/hashtags/باقية_وتتمدد/estimate").json()
    assert answer["audited"] == 30 and answer["labels"]["supportive"]["estimate"] is not None
    listed = client.get("/v1/audits", params={"hashtag": "باقية_وتتمدد"}).json()["audits"]
    assert listed[0]["simulated"] is True and listed[0]["start"] is None
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "label": "neutral"}\n')
    with pytest.raises(InputError, match=r"bad\.jsonl:1"):
        load_audit_file(store, bad)


def test_the_ml_backend_never_pre_annotates_an_audit_task(client: TestClient) -> None:
    text = "the State of the Caliphate hits France"
    answer = client.post(
        "/labelstudio/predict",
        json={"tasks": [{"data": {"text": text, "audit": "a-1"}}, {"data": {"text": text}}]},
    ).json()["results"]
    assert answer[0]["result"] == [] and answer[0]["score"] == 0.0
    assert answer[1]["result"] and answer[1]["score"] > 0


def test_an_active_audit_is_stored_with_its_probabilities_and_weighted(
    client: TestClient, audit: list[dict]
) -> None:
    from swarmlens.classifier.analytics.estimate import audit_weights

    drawn = [dict(r, probability=0.5 if i % 2 else 0.1) for i, r in enumerate(audit)]
    payload = body(drawn, audit_id="api-active-1")
    for item, record in zip(payload["labels"], drawn, strict=True):
        item["probability"] = record["probability"]
    stored = client.post("/v1/audits", json=payload)
    assert stored.status_code == 200, stored.text
    store = client.app.state.store
    from swarmlens.classifier.posts.post import parse_time

    design = store.audit_design(stored.json()["hashtag"], parse_time(START), parse_time(END))
    assert {design[r["id"]][0] for r in drawn} == {0.5, 0.1}
    assert audit_weights([design[r["id"]][0] for r in drawn], 1000) is not None
    answer = client.get(f"/v1/hashtags/{TAG}/estimate", params={"start": START, "end": END})
    assert answer.status_code == 200 and answer.json()["audited"] == len(audit)
    bad = body(audit, audit_id="api-active-2")
    bad["labels"][0]["probability"] = 0
    assert client.post("/v1/audits", json=bad).status_code == 422
