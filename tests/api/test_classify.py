"""POST /v1/classify in-process: labels in input order, invalid bodies, size limits."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def test_classify(client: TestClient) -> None:
    posts = [
        {"id": "b", "text": "Glory to the soldiers of the caliphate #ParisIsBurning"},
        {"id": "a", "text": "Not in my name. Flooding this tag with cats 🐱 #ParisIsBurning"},
        {"id": "c", "text": "Police cordon in the 10th arrondissement", "lang": "en"},
        {"id": "d", "text": ""},
    ]
    response = client.post("/v1/classify", json={"posts": posts}).json()
    results = response["results"]
    assert [r["id"] for r in results] == ["b", "a", "c", "d"]
    assert [r["label"] for r in results[:3]] == ["supportive", "opposing", "neutral"]
    for r in results:
        assert abs(sum(r["scores"].values()) - 1) < 1e-3 and "explanation" not in r
    assert results[0]["hashtags"] == ["parisisburning"] and results[2]["lang"] == "en"
    explained = client.post("/v1/classify?explain=true", json={"posts": posts[:1]})
    assert explained.json()["results"][0]["explanation"][0]["term"]
    assert explained.json()["model_version"] == response["model_version"]


def test_a_text_without_evidence_is_flagged_no_text(client: TestClient) -> None:
    posts = [{"id": "empty", "text": ""}, {"id": "blank", "text": " \n\t "},
             {"id": "text", "text": "Not in my name #ParisIsBurning"}]
    results = client.post("/v1/classify", json={"posts": posts}).json()["results"]
    assert [r.get("no_text") for r in results] == [True, True, None]
    for r in results[:2]:  # the model's fixed answer: neutral, no side favoured
        assert r["label"] == "neutral"
        assert r["scores"]["supportive"] == r["scores"]["opposing"] < r["scores"]["neutral"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"posts": []}, "posts"),
        ({"posts": [{"id": "x"}]}, "text"),
        ({"items": []}, "posts"),
        ({"posts": [{"id": "", "text": "x"}]}, "id"),
    ],
)
def test_invalid_bodies_name_the_field(client: TestClient, body: dict, field: str) -> None:
    response = client.post("/v1/classify", json=body)
    assert response.status_code == 422
    assert field in response.json()["message"]


def test_size_limits(client: TestClient) -> None:
    many = {"posts": [{"id": str(i), "text": "x"} for i in range(1001)]}
    response = client.post("/v1/classify", json=many)
    assert response.status_code == 413 and "max_batch" in response.json()["detail"]
    huge = b'{"posts": [{"id": "1", "text": "' + b"x" * (9 * 1024 * 1024) + b'"}]}'
    response = client.post(
        "/v1/classify", content=huge, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
