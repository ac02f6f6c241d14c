"""Every API error has one body shape, ``{"code", "message", "detail"}``, and the status
its error class declares; API keys are checked through a swappable settings dependency."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from swarmlens.classifier.errors import ModelNotFoundError, StoreLockedError
from swarmlens.serve.deps import get_settings
from swarmlens.serve.settings import ServerSettings


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message", "detail"}
    assert body["code"] == code and body["message"]
    return body


def test_each_kind_of_error_has_the_same_shape(client: TestClient) -> None:
    assert_error(client.post("/v1/classify", json={"posts": []}), 422, "E016")
    body = assert_error(client.get("/v1/hashtags/x/volume?interval=week"), 422, "E016")
    assert body["detail"][0]["loc"] == ["query", "interval"]
    assert_error(
        client.get("/v1/hashtags/x/volume?start=2015-11-14T00:00:00Z&end=2015-11-13T00:00:00Z"),
        400,
        "E008",
    )
    assert_error(client.post("/v1/datasets", json={"path": "/nonexistent/x"}), 400, "E001")
    assert_error(client.get("/no/such/route"), 404, "E017")
    assert_error(client.delete("/v1/classify"), 405, "E017")
    many = {"posts": [{"id": str(i), "text": "x"} for i in range(1001)]}
    assert_error(client.post("/v1/classify", json=many), 413, "E015")
    huge = b'{"posts": [{"id": "1", "text": "' + b"x" * (9 * 1024 * 1024) + b'"}]}'
    response = client.post(
        "/v1/classify", content=huge, headers={"content-type": "application/json"}
    )
    assert_error(response, 413, "E015")


def test_error_classes_declare_their_status() -> None:
    assert ModelNotFoundError("x").http_status == 404
    assert StoreLockedError("x").http_status == 503
    assert ModelNotFoundError("gone").body() == {
        "code": "E004",
        "message": "gone",
        "detail": "gone",
    }


@pytest.fixture()
def keyed(client: TestClient, api_settings: ServerSettings) -> Iterator[TestClient]:
    """The same app with API keys set, by overriding the settings dependency."""
    keyed_settings = api_settings.model_copy(update={"api_keys": "k-one,k-two"})
    client.app.dependency_overrides[get_settings] = lambda: keyed_settings
    try:
        yield client
    finally:
        client.app.dependency_overrides.clear()


def test_write_endpoints_need_a_key_when_keys_are_set(keyed: TestClient) -> None:
    body = {"posts": [{"id": "key-1", "text": "x", "created_at": "2016-01-01T00:00:00Z"}]}
    missing = assert_error(keyed.post("/v1/posts", json=body), 401, "E013")
    assert "X-API-Key" in missing["message"]
    assert keyed.post("/v1/posts", json=body).headers["www-authenticate"] == "Bearer"
    assert_error(keyed.post("/v1/posts", json=body, headers={"X-API-Key": "no"}), 403, "E014")
    ok = keyed.post("/v1/posts", json=body, headers={"Authorization": "Bearer k-two"})
    assert ok.status_code == 200 and ok.json()["accepted"] == 1
    # Reads need a key too when keys are set (SWARMLENS_READS_NEED_KEY); /healthz never.
    assert_error(keyed.get("/info"), 401, "E013")
    info = keyed.get("/info", headers={"X-API-Key": "k-one"}).json()
    assert info["writes_need_api_key"] is True and info["reads_need_api_key"] is True
    assert keyed.get("/healthz").status_code == 200


def test_an_unexpected_failure_is_a_500_in_the_same_shape(
    client: TestClient, api_settings: ServerSettings
) -> None:
    from swarmlens.serve.deps import get_store

    def broken() -> None:
        raise RuntimeError("disk on fire")

    quiet = TestClient(client.app, raise_server_exceptions=False)
    client.app.dependency_overrides[get_store] = broken
    try:
        body = assert_error(quiet.get("/v1/hashtags/top"), 500, "E019")
        assert "RuntimeError" in body["message"] and "disk on fire" not in body["message"]
    finally:
        client.app.dependency_overrides.clear()
