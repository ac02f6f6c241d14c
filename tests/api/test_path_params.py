"""Hostile path parameters and reads without a key (issue 26): no route answers 500 to any
value of a ``{param}``, and every GET route that shows data needs the key when reads do."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from swarmlens.serve import routers
from swarmlens.serve.app import create_app
from swarmlens.serve.settings import ServerSettings

HOSTILE = [
    "%00", "a%00b", "a" * 5000, "%E2%80%AE", "%F0%9F%98%80", "%ED%A0%80", "%FF", "..",
    "%2E%2E", "..%2F..%2Fetc%2Fpasswd", "%C0%AE", "%23", "%20", "e%CC%81" * 1000,
    "%D8%A7%D9%84%D9%82", "%EF%BF%BF", "%F4%8F%BF%BF", "%5C", "%25", "....",
]  # fmt: skip
"""NUL, 5,000 characters, odd unicode (a right-to-left override, a lone surrogate, bytes
that are no UTF-8, a noncharacter, 1,000 combining accents), ``..`` plain and encoded."""

OPEN_READS = {
    "/healthz", "/labelstudio/health", "/", "/docs", "/redoc", "/docs/oauth2-redirect",
    "/openapi.json",
}  # fmt: skip
"""GET routes that show no data: health, the dashboard's page, the API's own docs."""


def api_routes() -> list[APIRoute]:
    """Every route of every router module (a new module is swept without a change here)."""
    found = []
    for module in pkgutil.iter_modules(routers.__path__):
        router = importlib.import_module(f"{routers.__name__}.{module.name}").router
        found += [route for route in router.routes if isinstance(route, APIRoute)]
    return found


def test_no_path_parameter_value_is_a_500(client: TestClient) -> None:
    quiet = TestClient(client.app, raise_server_exceptions=False)
    templated = [
        (method, route.path)
        for route in api_routes()
        if "{" in route.path
        for method in route.methods
    ]
    # Every route with a path parameter is tried, and the mounted static files too.
    assert len(templated) >= 4
    templated += [("GET", "/static/{path}"), ("GET", "/docs-assets/{path}")]
    window = "?start=2015-11-14T00:00:00Z&end=2015-11-15T00:00:00Z"
    failures = []
    for method, template in templated:
        for value in HOSTILE:
            url = template.replace(template[template.index("{"):template.index("}") + 1], value)
            for query in ("", window):
                answer = quiet.request(method, url + query)
                if answer.status_code >= 500:
                    failures.append((method, template, value[:24], answer.status_code, answer.text))
    assert failures == []


def test_every_get_route_showing_data_needs_the_key(
    api_settings: ServerSettings, tmp_path: Path
) -> None:
    # GET /v1/audits answered 200 with audit ids, hashtags and windows without a key.
    keyed = api_settings.model_copy(update={"data_dir": tmp_path / "k", "api_keys": "k-one"})
    with TestClient(create_app(keyed)) as client:
        stored = client.post(
            "/v1/audits",
            headers={"X-API-Key": "k-one"},
            json={"audit_id": "secret-audit", "hashtag": "ParisIsBurning",
                  "labels": [{"post_id": "1", "label": "neutral"}]},
        )
        assert stored.status_code == 200, stored.text
        reads = [
            route.path
            for route in api_routes()
            if "GET" in route.methods and route.path not in OPEN_READS
        ]
        assert "/v1/audits" in reads and "/v1/datasets" in reads
        for path in reads:
            url = path.replace("{tag}", "ParisIsBurning") + "?hashtag=ParisIsBurning"
            refused = client.get(url)
            assert refused.status_code == 401, (path, refused.text)
            assert refused.json()["code"] == "E013" and "secret-audit" not in refused.text
        listed = client.get("/v1/audits", params={"hashtag": "ParisIsBurning"},
                            headers={"Authorization": "Bearer k-one"})
        assert [a["audit_id"] for a in listed.json()["audits"]] == ["secret-audit"]
