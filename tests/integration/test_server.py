"""The server as a real process: API keys and binding, load shedding, schemathesis."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.support.processes import LiveServer

pytestmark = pytest.mark.integration


def test_api_keys_and_binding(
    shared_env: dict[str, str], demo_dataset: Path, tmp_path: Path
) -> None:
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "swarmlens.classifier.cli",
            "serve",
            "--host",
            "0.0.0.0",
            "--data-dir",
            str(tmp_path / "d0"),
        ],
        env=shared_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2 and "no API keys" in refused.stderr
    env = {**shared_env, "SWARMLENS_API_KEYS": "k-one,k-two"}
    server = LiveServer(env, tmp_path / "d1")
    try:
        body = {"posts": [{"id": "k1", "text": "x", "created_at": "2016-01-01T00:00:00Z"}]}
        assert httpx.post(f"{server.url}/v1/posts", json=body).status_code == 401
        assert (
            httpx.post(
                f"{server.url}/v1/posts", json=body, headers={"X-API-Key": "wrong"}
            ).status_code
            == 403
        )
        ok = httpx.post(
            f"{server.url}/v1/posts", json=body, headers={"Authorization": "Bearer k-two"}
        )
        assert ok.status_code == 200 and ok.json()["accepted"] == 1
        attach = httpx.post(
            f"{server.url}/v1/datasets",
            json={"path": str(demo_dataset)},
            headers={"X-API-Key": "k-one"},
        )
        assert attach.status_code == 200 and attach.json()["rows"] == 6000
        # Reads need a key too when keys are set (the default of SWARMLENS_READS_NEED_KEY).
        assert httpx.get(f"{server.url}/v1/hashtags/top").status_code == 401
        key = {"X-API-Key": "k-two"}
        assert httpx.get(f"{server.url}/v1/hashtags/top", headers=key).status_code == 200
        assert httpx.get(f"{server.url}/info", headers=key).json()["writes_need_api_key"] is True
        assert httpx.get(f"{server.url}/healthz").status_code == 200
    finally:
        server.stop()


def test_overload_sheds_instead_of_timing_out(shared_env: dict[str, str], tmp_path: Path) -> None:
    env = {**shared_env, "SWARMLENS_MAX_INFLIGHT": "1"}
    server = LiveServer(env, tmp_path / "d")
    try:
        body = {"posts": [{"id": str(i), "text": f"post number {i} " * 20} for i in range(1000)]}

        def call(_: int) -> int:
            return httpx.post(f"{server.url}/v1/classify", json=body, timeout=60).status_code

        with ThreadPoolExecutor(8) as pool:
            codes = Counter(pool.map(call, range(16)))
        assert codes[200] >= 1 and codes[503] >= 1
        assert set(codes) <= {200, 503}
    finally:
        server.stop()


def test_schemathesis_finds_no_server_error(shared_env: dict[str, str], tmp_path: Path) -> None:
    server = LiveServer(shared_env, tmp_path / "d")
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "run",
                f"{server.url}/openapi.json",
                "--checks",
                "not_a_server_error",
                "--max-examples",
                "25",
                "--seed",
                "1",
                "--phases",
                "examples,coverage,fuzzing",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=900,
            # Far-out dates and texts over the cap, beside what the schema suggests.
            env={**shared_env, "SCHEMATHESIS_HOOKS": "tests.support.schemathesis_hooks",
                 "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        )
        report = result.stdout[-3000:] + result.stderr[-2000:]
        assert result.returncode == 0, report
        assert "Loaded specification" in result.stdout and "generated" in result.stdout
    finally:
        server.stop()

