"""GET /v1/audits carries a simulated audit's truth (the demo's synthetic corpus knows every
post's stance): the dashboard's "Truth (synthetic)" column shows it next to the estimate."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from swarmlens.classifier.vocab import LABELS
from swarmlens.serve.app import create_app
from swarmlens.serve.services.estimates import load_audit_file
from swarmlens.serve.settings import ServerSettings

TRUTH = {
    "simulated": True,
    "note": "true shares of the synthetic demo corpus (unknowable for real posts)",
    "posts": 274,
    "shares": {label: round(1 / len(LABELS), 4) for label in LABELS},
    "flood_share": 0.5,
}
"""As ``simulated_audit.true_shares`` writes it in every line of the demo's audit file."""


@pytest.fixture()
def own_client(api_settings: ServerSettings, tmp_path: Path) -> Iterator[TestClient]:
    settings = api_settings.model_copy(update={"data_dir": tmp_path / "store"})
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_a_simulated_audit_lists_its_truth(own_client: TestClient) -> None:
    store = own_client.app.state.store
    labels = [(f"p{i}", LABELS[i % len(LABELS)], None) for i in range(6)]
    store.add_audit("demo", "parisisburning", None, None, labels, True, truth=TRUTH)
    store.add_audit("annotated", "parisisburning", None, None, labels)
    listed = own_client.get("/v1/audits", params={"hashtag": "ParisIsBurning"}).json()["audits"]
    assert [(a["audit_id"], a["simulated"], a.get("truth")) for a in listed] == [
        ("annotated", False, None),
        ("demo", True, TRUTH),
    ]
    assert "truth" not in listed[0] and listed[0]["start"] is None  # absent, not null
    # Sent again (the demo re-run), the labels are unchanged and the truth is still there.
    again = store.add_audit("demo", "parisisburning", None, None, labels, True, truth=TRUTH)
    assert again == {"inserted": 0, "updated": 0, "unchanged": len(labels)}
    listed = own_client.get("/v1/audits", params={"hashtag": "ParisIsBurning"}).json()["audits"]
    assert listed[1]["truth"] == TRUTH


def test_a_truth_is_refused_for_an_audit_not_simulated(own_client: TestClient) -> None:
    body = {
        "audit_id": "real", "hashtag": "ParisIsBurning",
        "labels": [{"post_id": "1", "label": LABELS[0]}], "truth": TRUTH,
    }  # fmt: skip
    refused = own_client.post("/v1/audits", json=body)
    assert refused.status_code == 422 and "simulated" in refused.text
    unknown = own_client.post(
        "/v1/audits",
        json={**body, "simulated": True, "truth": {**TRUTH, "shares": {"angry": 1.0}}},
    )
    assert unknown.status_code == 422
    assert own_client.post("/v1/audits", json={**body, "simulated": True}).status_code == 200


def test_the_demo_audit_files_truth_is_listed(
    api_settings: ServerSettings, tmp_path: Path
) -> None:
    # the demo's audit file carries its corpus's truth in every line (simulated_audit)
    audit = tmp_path / "audit.jsonl"
    audit.write_text("".join(
        json.dumps({"id": f"p{i}", "label": LABELS[i % len(LABELS)], "audit": "simulated-demo",
                    "hashtag": "ParisIsBurning", "start": None, "end": None,
                    "simulated": True, "truth": TRUTH}) + "\n"
        for i in range(8)
    ))  # fmt: skip
    settings = api_settings.model_copy(update={"data_dir": tmp_path / "store"})
    with TestClient(create_app(settings)) as client:
        load_audit_file(client.app.state.store, audit)
        body = {"audit_id": "posted", "hashtag": "ParisIsBurning", "simulated": True,
                "labels": [{"post_id": "x", "label": LABELS[0]}], "truth": TRUTH}
        assert client.post("/v1/audits", json=body).status_code == 200
        listed = client.get("/v1/audits", params={"hashtag": "ParisIsBurning"}).json()
    assert [(a["audit_id"], a["truth"]) for a in listed["audits"]] == [
        ("posted", TRUTH), ("simulated-demo", TRUTH)]
