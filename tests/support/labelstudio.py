"""A real Label Studio server for integration tests.

What Label Studio and its SDK really do (verified with this harness) is written up in
``docs/labelstudio-sdk-notes.md``. Usage (no pytest needed)::

    from tests.support.labelstudio import LabelStudioServer
    with LabelStudioServer() as ls:           # installs if needed, starts, waits for /health
        admin = ls.client()                   # label_studio_sdk.LabelStudio, admin token
        user_id, token = ls.create_user("ann@swarmlens.test", "ann-pass-12345")
        with ls.simulate_outage():            # server down (connection refused) ...
            ...
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.support.labelstudio_accounts import AccountsMixin
from tests.support.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
INSTALL_SCRIPT = ROOT / "scripts" / "labelstudio.sh"

# Fixed credentials of the throwaway loopback server: the migrated template data dir is
# created with them, so a server that keeps them starts from the template in ~10 s.
DEFAULT_ADMIN_EMAIL = "admin@swarmlens.test"
DEFAULT_ADMIN_PASSWORD = "swarmlens-admin-pass"
DEFAULT_ADMIN_TOKEN = "swarmlens-admin-token-0001"

_STARTED_RE = re.compile(r"Starting development server at (http://[^\s/]+)/")
_NOISE_RE = re.compile(r"^get '.*' casted as|^\s*warnings\.warn\(|RuntimeWarning: Accessing the")


_RUNNING: set[LabelStudioServer] = set()


@atexit.register
def _stop_leftovers() -> None:
    """Servers run in their own session (no Ctrl-C reaches them): stop any left running."""
    for server in list(_RUNNING):
        server.stop()


class LabelStudioUnavailable(RuntimeError):
    """Label Studio could not be installed; ``registry_unreachable`` says whether it was the
    package registry (so tests may skip) rather than a real failure."""

    def __init__(self, message: str, *, registry_unreachable: bool = False) -> None:
        super().__init__(message)
        self.registry_unreachable = registry_unreachable


class LabelStudioStartError(RuntimeError):
    """The server did not come up; the message ends with the tail of its log."""


def ensure_installed(timeout: float = 1800) -> Path:
    """Run scripts/labelstudio.sh (idempotent) and return the ``label-studio`` executable."""
    try:
        proc = subprocess.run(
            ["bash", str(INSTALL_SCRIPT)],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise LabelStudioUnavailable(f"installing label-studio took over {timeout:.0f} s") from exc
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        unreachable = proc.returncode == 3 or bool(
            re.search(
                r"Temporary failure in name resolution|Max retries exceeded|"
                r"Failed to establish a new connection|Network is unreachable|timed out",
                proc.stderr,
            )
        )
        raise LabelStudioUnavailable(
            f"scripts/labelstudio.sh failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}",
            registry_unreachable=unreachable,
        )
    exe = Path(lines[-1])
    if not exe.is_file():
        raise LabelStudioUnavailable(f"scripts/labelstudio.sh printed {exe}, which does not exist")
    return exe


def _installed_version(exe: Path) -> str:
    stamp = exe.parent.parent / ".swarmlens-label-studio-installed"
    with contextlib.suppress(OSError, IndexError):
        return stamp.read_text().split()[1]
    return "unknown"


class LabelStudioServer(AccountsMixin):
    """One Label Studio process on 127.0.0.1 with its own temporary data dir.

    ``start()`` (or ``with``) installs if needed, starts and waits for ``/health``;
    ``stop()`` ends the process (SIGTERM, then SIGKILL) and removes the temporary files.
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        admin_email: str = DEFAULT_ADMIN_EMAIL,
        admin_password: str = DEFAULT_ADMIN_PASSWORD,
        token: str = DEFAULT_ADMIN_TOKEN,
        startup_timeout: float = 400,
        use_template: bool | None = None,
        extra_env: dict[str, str] | None = None,
        executable: Path | None = None,
    ) -> None:
        if len(token) <= 5:
            raise ValueError("Label Studio ignores admin tokens of 5 characters or fewer")
        self.admin_email = admin_email
        self.admin_password = admin_password
        self.token = token
        self.startup_timeout = startup_timeout
        self.extra_env = dict(extra_env or {})
        self.executable = executable
        if use_template is None:
            use_template = os.environ.get("SWARMLENS_LS_NO_TEMPLATE", "") in ("", "0")
        defaults = (DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, DEFAULT_ADMIN_TOKEN)
        self.use_template = use_template and (admin_email, admin_password, token) == defaults
        self._port = port
        self.workdir: Path | None = None
        self.data_dir: Path | None = None
        self.log_path: Path | None = None
        self.url = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None
        self._frozen = False
        self._lock = threading.RLock()
        self.timings: dict[str, float] = {}

    # ----------------------------------------------------------------- lifecycle
    def __enter__(self) -> LabelStudioServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("server not started")
        return self._port

    def start(self) -> LabelStudioServer:
        """Install if needed, start on a free loopback port and wait until healthy."""
        if self._proc is not None:
            return self
        t0 = time.monotonic()
        if self.executable is None:
            self.executable = ensure_installed()
        self.timings["install_check"] = time.monotonic() - t0
        self.workdir = Path(tempfile.mkdtemp(prefix="swarmlens-ls-"))
        self.data_dir = self.workdir / "data"
        self.log_path = self.workdir / "server.log"
        if self.use_template:
            t1 = time.monotonic()
            template = self._ensure_template()
            shutil.copytree(template, self.data_dir)
            self.timings["template"] = time.monotonic() - t1
        else:
            self.data_dir.mkdir()
        if self._port is None:
            self._port = free_port()
        t2 = time.monotonic()
        _RUNNING.add(self)
        try:
            self._launch()
        except BaseException:
            self.stop()  # the error message carries the log tail
            raise
        self.timings["first_start"] = time.monotonic() - t2
        return self

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM the server (SIGKILL after ``timeout``) and delete its temporary files."""
        self._terminate(timeout)
        _RUNNING.discard(self)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def restart(self) -> None:
        """Stop and start again on the same port and data dir (~10 s)."""
        self._terminate()
        t0 = time.monotonic()
        self._launch()
        self.timings["restart"] = time.monotonic() - t0

    @property
    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _env(self, port: int) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LABEL_STUDIO_")}
        for name in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "DJANGO_SETTINGS_MODULE"):
            env.pop(name, None)
        env.update(
            {
                "LABEL_STUDIO_BASE_DATA_DIR": str(self.data_dir),
                "LABEL_STUDIO_USERNAME": self.admin_email,
                "LABEL_STUDIO_PASSWORD": self.admin_password,
                "LABEL_STUDIO_USER_TOKEN": self.token,
                "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
                "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
                # What Label Studio tells ML backends its address is (/setup "hostname").
                "LABEL_STUDIO_HOST": f"http://127.0.0.1:{port}",
                "SENTRY_DSN": "",
                "FRONTEND_SENTRY_DSN": "",
                "LATEST_VERSION_CHECK": "false",
                "COLLECT_ANALYTICS": "false",
                # Let webhooks and ML backends point at 127.0.0.1.
                "SSRF_PROTECTION_ENABLED": "false",
                "ML_BLOCK_LOCAL_IP": "false",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    def _launch(self) -> None:
        assert self.executable is not None and self.log_path is not None
        with self._lock:
            if self._log_file is None:
                self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
            self._log_offset = self.log_path.stat().st_size
            self._proc = subprocess.Popen(
                [
                    str(self.executable),
                    "start",
                    "--no-browser",
                    "--internal-host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ],
                stdin=subprocess.DEVNULL,
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
                env=self._env(self.port),
                cwd=self.workdir,
                start_new_session=True,
            )
            self._frozen = False
        self.url = f"http://127.0.0.1:{self.port}"
        try:
            self._wait_healthy(self.startup_timeout)
        except BaseException:
            self._terminate()
            raise

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                code = None if self._proc is None else self._proc.returncode
                raise LabelStudioStartError(
                    f"label-studio exited with {code} before /health was UP\n{self.log_tail()}"
                )
            started = _STARTED_RE.search(self._log_since_launch())
            if started and started.group(1) != self.url:
                # A busy port makes label-studio silently take the next one: refuse that.
                raise LabelStudioStartError(
                    f"label-studio bound {started.group(1)} instead of {self.url} "
                    f"(port taken?)\n{self.log_tail()}"
                )
            if started and self.health(timeout=2).get("status") == "UP":
                return
            time.sleep(0.5)
        raise LabelStudioStartError(
            f"/health not UP after {timeout:.0f} s at {self.url}\n{self.log_tail()}"
        )

    def _terminate(self, timeout: float = 20) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
            if proc is None:
                return
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    if self._frozen:
                        os.killpg(proc.pid, signal.SIGCONT)
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(10)
            self._frozen = False

    def _ensure_template(self) -> Path:
        """A migrated data dir with the default admin, made once per installed version."""
        assert self.executable is not None
        venv = self.executable.parent.parent
        template = venv.with_name(f"{venv.name}-template-{_installed_version(self.executable)}")
        if (template / ".complete").exists():
            return template
        t0 = time.monotonic()
        builder = LabelStudioServer(
            startup_timeout=self.startup_timeout,
            use_template=False,
            executable=self.executable,
        )
        builder.start()
        try:
            builder._terminate()
            staging = Path(tempfile.mkdtemp(prefix=template.name + ".", dir=template.parent))
            assert builder.data_dir is not None
            shutil.copytree(builder.data_dir, staging / "data")
            (staging / "data" / ".complete").write_text("ok\n")
            with contextlib.suppress(OSError):  # OSError: another session made it first
                os.rename(staging / "data", template)
            shutil.rmtree(staging, ignore_errors=True)
        finally:
            builder.stop()
        self.timings["template_build"] = time.monotonic() - t0
        return template

    # ------------------------------------------------------------------- logs
    def _log_since_launch(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        with open(self.log_path, "rb") as fh:
            fh.seek(getattr(self, "_log_offset", 0))
            return fh.read().decode("utf-8", "replace")

    def log_tail(self, lines: int = 60) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        text = self.log_path.read_text("utf-8", "replace").splitlines()
        kept = [line for line in text if not _NOISE_RE.search(line)]
        return "--- label-studio log tail ---\n" + "\n".join(kept[-lines:])

    # ------------------------------------------------------------------- HTTP
    def health(self, timeout: float = 5) -> dict[str, Any]:
        """``GET /health`` as a dict; ``{}`` when the server does not answer."""
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=timeout) as resp:
                return json.loads(resp.read() or b"{}")
        except (OSError, ValueError):
            return {}

    def api(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        timeout: float = 30,
    ) -> Any:
        """A JSON API call with a token (admin's by default); raises ``HTTPError`` on 4xx/5xx."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        req.add_header("Authorization", f"Token {token or self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def client(self, token: str | None = None, **kwargs: Any) -> Any:
        """``label_studio_sdk.LabelStudio`` for this server; admin token by default."""
        from label_studio_sdk import LabelStudio

        return LabelStudio(base_url=self.url, api_key=token or self.token, **kwargs)

    # ---------------------------------------------------------------- outages
    @contextlib.contextmanager
    def simulate_outage(self, mode: str = "down") -> Iterator[None]:
        """Make the server unavailable inside the ``with`` block.

        ``mode="down"``: the process is stopped (connection refused at once; the SDK retries
        twice, then raises ``httpx.ConnectError``) and restarted on the same port and data
        when the block ends (~10 s). ``mode="freeze"``: SIGSTOP, so connections are accepted
        by the kernel but never answered (read timeouts); SIGCONT at the end, and requests
        queued meanwhile are then served.
        """
        if mode == "down":
            self._terminate()
            try:
                yield
            finally:
                self.restart()
        elif mode == "freeze":
            self.freeze()
            try:
                yield
            finally:
                self.thaw()
        else:
            raise ValueError(f"unknown outage mode {mode!r}: use 'down' or 'freeze'")

    def outage_in_background(self, seconds: float, mode: str = "down") -> threading.Thread:
        """Start an outage now that ends by itself after ``seconds`` (plus the ~10 s restart
        for ``"down"``); ``join()`` the returned thread to wait for the recovery."""
        started = threading.Event()

        def run() -> None:
            with self.simulate_outage(mode):
                started.set()
                time.sleep(seconds)

        thread = threading.Thread(target=run, name="labelstudio-outage", daemon=True)
        thread.start()
        started.wait(30)
        return thread

    def freeze(self) -> None:
        with self._lock:
            if self._proc is None:
                raise RuntimeError("server not running")
            os.killpg(self._proc.pid, signal.SIGSTOP)
            self._frozen = True

    def thaw(self) -> None:
        with self._lock:
            if self._proc is not None and self._frozen:
                os.killpg(self._proc.pid, signal.SIGCONT)
            self._frozen = False


if __name__ == "__main__":  # manual smoke run: python -m tests.support.labelstudio
    with LabelStudioServer() as server:
        print("up at", server.url, "timings", server.timings)
        print("projects:", list(server.client().projects.list()))
