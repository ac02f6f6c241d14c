"""The service endpoints in-process: info, current model, health, OpenAPI, metrics."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_service_endpoints(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    info = client.get("/info").json()
    assert info["max_batch"] == 1000 and info["store"]["dataset_rows"] == 6000
    model = client.get("/v1/models/current").json()
    assert model["model_version"] == info["model_version"]
    assert model["labels"] == ["supportive", "opposing", "neutral"]
    schema = client.get("/openapi.json").json()
    assert "/v1/hashtags/{tag}/volume" in schema["paths"]
    assert client.get("/docs").status_code == 200
    page = client.get("/")
    assert page.status_code == 200 and "swarmlens" in page.text


def test_metrics(client: TestClient) -> None:
    client.get("/healthz")
    text = client.get("/metrics").text
    assert 'swarmlens_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert "swarmlens_request_seconds_bucket" in text
    assert "swarmlens_posts_classified_total" in text and "swarmlens_model_info{" in text


def test_a_synthetic_default_model_is_marked_without_a_quality_figure(client: TestClient) -> None:
    model = client.get("/v1/models/current").json()
    assert model["synthetic"] is True and model["training_data"]["kind"] == "synthetic-demo"
    assert "synthetic demo data" in model["note"] and "macro_f1" not in model["metrics"]
    info = client.get("/info").json()
    assert info["model_synthetic"] is True and info["model_note"] == model["note"]
    assert info["flood_share"] == {
        "numerator": "opposing",
        "denominator": ["supportive", "opposing"],
    }


def test_api_docs_use_local_assets(client: TestClient) -> None:
    """/docs and /redoc load Swagger UI and ReDoc from this server, never from a CDN."""
    for path, assets in (
        ("/docs", ["/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css"]),
        ("/redoc", ["/docs-assets/redoc.standalone.js"]),
    ):
        page = client.get(path)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "cdn" not in page.text.lower() and "fonts.googleapis" not in page.text
        assert "/openapi.json" in page.text
        for asset in assets:
            assert asset in page.text
            served = client.get(asset)
            assert served.status_code == 200 and len(served.content) > 10_000, asset
    assert client.get("/docs/oauth2-redirect").status_code == 200
