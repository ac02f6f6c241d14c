"""The app in-process (``TestClient``): real model, real DuckDB store, no server process.

``client`` runs the app's lifespan once per session with the shared registry and the
scored demo dataset attached; tests that need other settings build their own app and
swap dependencies with ``app.dependency_overrides``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from swarmlens.serve.app import create_app
from swarmlens.serve.settings import ServerSettings


@pytest.fixture(scope="session")
def api_settings(
    shared_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> ServerSettings:
    return ServerSettings(
        models_dir=Path(shared_env["SWARMLENS_MODELS_DIR"]),
        data_dir=tmp_path_factory.mktemp("api-store"),
        allowed_hosts="testserver",  # TestClient's Host; the server answers loopback names only
    )


@pytest.fixture(scope="session")
def client(api_settings: ServerSettings, demo_dataset: Path) -> Iterator[TestClient]:
    with TestClient(create_app(api_settings)) as test_client:
        attached = test_client.post("/v1/datasets", json={"path": str(demo_dataset)})
        assert attached.status_code == 200, attached.text
        yield test_client
