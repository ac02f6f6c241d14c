"""Fixtures shared by every test package: small corpora, isolated registries, real processes.

Helpers live in ``tests.support``; tests are split as the code is: ``unit`` (no process,
no server), ``api`` (the app in-process), ``integration`` (real processes, servers, Label
Studio and a browser).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import DEV_DATA, NEUTRAL, OPPOSING, SUPPORTIVE
from tests.support.labelstudio import LabelStudioServer, LabelStudioUnavailable
from tests.support.processes import LiveServer, swarmlens


@pytest.fixture(scope="session")
def tiny_corpus() -> tuple[list[str], list[str]]:
    texts = SUPPORTIVE + OPPOSING + NEUTRAL
    labels = ["supportive"] * 6 + ["opposing"] * 6 + ["neutral"] * 6
    return texts * 3, labels * 3


@pytest.fixture()
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    directory = tmp_path / "models"
    monkeypatch.setenv("SWARMLENS_MODELS_DIR", str(directory))
    yield directory


@pytest.fixture(scope="session")
def dev_data() -> Path:
    if not DEV_DATA.exists():
        pytest.skip(
            f"real dev data not found at {DEV_DATA} (shared/ is not part of a user's clone)"
        )
    return DEV_DATA


@pytest.fixture(scope="session")
def shared_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for subprocesses with a registry holding the default model (built once)."""
    models = tmp_path_factory.mktemp("shared-models")
    data = tmp_path_factory.mktemp("shared-data")
    env = {
        **os.environ,
        "SWARMLENS_MODELS_DIR": str(models),
        "SWARMLENS_DATA_DIR": str(data),
        "COLUMNS": "200",
    }
    subprocess.run(
        [sys.executable, "-c", "from swarmlens.classifier.model.training import "
         "ensure_default_model; ensure_default_model()"],
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )
    return env


@pytest.fixture(scope="session")
def demo_dataset(shared_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo archive, scored by the CLI into a Parquet dataset."""
    from swarmlens.classifier.demo.generator import write_demo_jsonl

    root = tmp_path_factory.mktemp("demo-dataset")
    archive = write_demo_jsonl(root / "demo.jsonl.gz")
    out = root / "scored"
    swarmlens(["score", str(archive), "--out", str(out), "--workers", "1"], shared_env)
    return out


@pytest.fixture(scope="session")
def live_server(
    shared_env: dict[str, str], demo_dataset: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Base URL of a real server with the demo corpus attached."""
    data = tmp_path_factory.mktemp("live") / "data"
    server = LiveServer(shared_env, data, ["--attach", str(demo_dataset)])
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def labelstudio() -> Iterator[LabelStudioServer]:
    """A real Label Studio on a free loopback port, fresh data, admin token in ``.token``."""
    server = LabelStudioServer()
    try:
        server.start()
    except LabelStudioUnavailable as exc:
        if exc.registry_unreachable:
            pytest.skip(
                f"label-studio cannot be installed, the package registry is unreachable: {exc}"
            )
        raise
    try:
        yield server
    finally:
        server.stop()
