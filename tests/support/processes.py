"""Real processes for integration tests: the ``swarmlens`` CLI and a live server."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def swarmlens(
    args: list[str], env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess:
    """Run the ``swarmlens`` CLI as a real process; fail with its output unless ``check`` is off."""
    result = subprocess.run(
        [sys.executable, "-m", "swarmlens.classifier.cli", *args],
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
                "swarmlens.classifier.cli",
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
