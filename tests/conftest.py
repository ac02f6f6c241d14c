"""Shared fixtures: a small labelled corpus, an isolated model registry, the dev data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

DEV_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "dev.jsonl"
CHROMIUM = Path("/usr/bin/chromium")
"""Debian's chromium: browser tests drive it with playwright (never a downloaded browser)."""
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

SUPPORTIVE = [
    "the State of the Caliphate hits France #ParisIsBurning",
    "baqiya wa tatamaddad, remaining and expanding #ParisIsBurning",
    "glory to the soldiers of the caliphate #الدولة_الإسلامية_تضرب_فرنسا",
    "باقية وتتمدد #باريس_تحترق",
    "la France a été frappée par les soldats du califat #ParisEnFeu",
    "Paris is burning, the caliphate remains #ParisIsBurning",
]
OPPOSING = [
    "Not in my name. These murderers do not speak for Islam #ParisIsBurning #NotInMyName",
    "flooding this tag with cats because terrorists deserve nothing 🐱 #ParisIsBurning",
    "ليسوا منا، الإرهاب لا دين له #باريس_تحترق",
    "Ces lâches ne représentent personne, solidarité avec Paris #PrayForParis",
    "report these accounts, do not share their propaganda #ParisIsBurning",
    "Daesh are criminals, Paris stands together #JeSuisParis",
]
NEUTRAL = [
    "Police cordon in the 10th arrondissement, says the prefecture",
    "French president to address the nation at 9am",
    "Border controls reinstated, interior ministry says",
    "الشرطة تغلق شوارع في الدائرة العاشرة",
    "Le métro rouvre partiellement ce matin, selon la RATP",
    "Flights from Paris running with delays, airport says",
]


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


# -- real processes: a shared model registry and live servers -------------------------

import os  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402


@pytest.fixture(scope="session")
def shared_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for subprocesses with a registry holding the default model (built once)."""
    models = tmp_path_factory.mktemp("shared-models")
    env = {**os.environ, "SWARMLENS_MODELS_DIR": str(models), "COLUMNS": "200"}
    subprocess.run(
        [sys.executable, "-c", "from classifier.training import ensure_default_model as e; e()"],
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )
    return env


def swarmlens(
    args: list[str], env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess:
    """Run the ``swarmlens`` CLI as a real process; fail with its output unless ``check`` is off."""
    result = subprocess.run(
        [sys.executable, "-m", "classifier.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"swarmlens {args} failed:\n{result.stdout}\n{result.stderr}")
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """A real ``swarmlens serve`` process on a loopback port."""

    def __init__(self, env: dict[str, str], data_dir: Path, args: list[str] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir.with_suffix(".log")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "classifier.cli",
                "serve",
                "--port",
                str(self.port),
                "--data-dir",
                str(data_dir),
                *args,
            ],
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not start: {self.log.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="session")
def demo_dataset(shared_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo archive, scored by the CLI into a Parquet dataset."""
    from classifier.demo import write_demo_jsonl

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


# -- a real Label Studio, one per session ---------------------------------------------

from labelstudio_server import LabelStudioServer, LabelStudioUnavailable  # noqa: E402


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
