"""A real Label Studio server for integration tests, and what its API really does.

Usage (no pytest needed)::

    from labelstudio_server import LabelStudioServer  # tests/ on sys.path, as under pytest
    with LabelStudioServer() as ls:           # installs if needed, starts, waits for /health
        admin = ls.client()                   # label_studio_sdk.LabelStudio, admin token
        user_id, token = ls.create_user("ann@swarmlens.test", "ann-pass-12345")
        ann = ls.client(token)                # acts as that annotator
        with ls.simulate_outage():            # server down (connection refused) ...
            ...
        # ... and back up here (same port, same data)

SDK facts verified here (label-studio 1.23.2 community edition, label-studio-sdk 2.1.2)
========================================================================================
``ls = LabelStudio(base_url=url, api_key=token)``; ``api_key`` takes a legacy token (sent as
``Authorization: Token ...``) or a personal access token (JWT refresh token; the SDK swaps it
for an access token itself). SDK defaults: ``timeout=60`` s, ``max_retries=2``: it retries
``httpx.ConnectError``/``RemoteProtocolError`` and responses 5xx, 408, 409, 429 with ~1 s, ~2 s
backoff, POSTs included (a 500 on ``annotations.create`` may be sent twice); a read timeout is
not retried.

Projects
--------
* ``p = ls.projects.create(title="...", label_config=CFG, expert_instruction="<p>..</p>",
  model_version="clf-v1")`` -> ``LseProjectCreate`` (``p.id``, ``p.model_version``,
  ``p.expert_instruction``). ``title`` needs >= 3 characters (400 otherwise).
  ``create`` accepts any ``model_version``.
* ``ls.projects.update(id=p.id, title=..., expert_instruction=..., description=...,
  evaluate_predictions_automatically=True)`` -> ``LseProjectResponse``.
  SURPRISE: ``update(model_version="v2")`` is refused with 400 ``{"model_version": ["Model
  version doesn't exist either as live model or as static predictions."]}`` until some
  prediction with that ``model_version`` exists (or an ML backend reports it): import the
  predictions first, then set the project's ``model_version``.
* ``ls.projects.get(id=...)`` -> ``.title .model_version .expert_instruction .task_number``.
* Connecting an ML backend sets the project's ``model_version`` to the backend's *title*
  (not to the ``model_version`` its ``/setup`` returns) when the project had none.

Tasks and predictions
---------------------
* ``r = ls.projects.import_tasks(id=pid, request=[{"data": {"text": ..., "post_id": "p1",
  "posted_at": "..."}, "predictions": [{"model_version": "clf-v2", "score": 0.9, "result":
  [{"from_name": "stance", "to_name": "text", "type": "choices",
  "value": {"choices": ["supportive"]}}]}]}], return_task_ids=True)`` -> synchronous on the
  community edition: ``r.task_count == 7``, ``r.task_ids == [1, ...]``; the prediction count
  is in ``r.prediction_count`` (``r.predictions_count`` is None). That ``result`` item is
  exactly what a ``<Choices name="stance" toName="text">`` tag stores; predictions come back
  unchanged from ``ls.predictions.list(project=pid)`` / ``(task=tid)`` (``.model_version``,
  ``.score``, ``.result``, ``.task``) and in ``tasks.list(..., fields="all")``.
* ``ls.predictions.create(task=tid, result=[...], score=0.55, model_version="clf-v3")``
  -> ``Prediction`` (``.id .task .model_version .score``); does not change the project's
  ``model_version``.
* ``ls.tasks.list(project=pid, fields="all")`` -> pager of ``LseTask`` (``.id .data
  .predictions .annotations .total_annotations .total_predictions``);
  ``include="id,data"`` returns just those fields (fast).
* Filter by a data field (idempotent push): ``query=json.dumps({"filters": {"conjunction":
  "or", "items": [{"filter": "filter:tasks:data.post_id", "operator": "equal",
  "type": "String", "value": v} for v in batch]}})``. Operator ``"in"`` with a list -> HTTP 500
  (``'list' object has no attribute 'min'``); ``"contains"`` works for substrings. The query
  goes in the URL: 200 items work (0.7 s), 1500 fail client-side with httpx "URL component
  'query' too long" -> batch ~200 ids per call.
* Annotated tasks only: ``only_annotated=True`` is IGNORED (returns all); use the filter
  ``{"filter": "filter:tasks:total_annotations", "operator": "greater", "type": "Number",
  "value": 0}``.
* Paging: iterating the pager (``for t in ls.tasks.list(project=pid, page_size=100)``) walks
  all pages; the server answers 404 "Invalid page." past the last page and the SDK's item
  iterator swallows that 404, but ``pager.iter_pages()`` RAISES ``ApiError(404)`` at the end.
  For explicit pages: ``pg = ls.tasks.list(project=pid, page=n, page_size=k)``;
  ``pg.items``, ``pg.response.total`` (total matching tasks). A non-existent project raises
  404 on the first call (not swallowed).

Annotations
-----------
* ``ls.annotations.create(id=task_id, result=[...])`` -> ``Annotation`` with ``.id .task
  .project .completed_by`` = the id of the user whose token made the call.
* ``completed_by=<user id>`` is HONOURED for anyone: admin can create annotations attributed
  to another user, and (community edition, no roles) an annotator can even attribute one to
  the admin. So ``completed_by`` proves nothing; use one client per annotator.
* ``ls.annotations.list(id=task_id)``, ``ls.annotations.update(id=ann_id, result=[...])``,
  ``ls.annotations.delete(id=ann_id)``. Every user of the organization sees all tasks and all
  annotations.

Export (community edition)
--------------------------
* Easy export works: ``b"".join(ls.projects.exports.download_sync(id=pid,
  export_type="JSON"))`` (``GET /api/projects/{id}/export?exportType=JSON``) -> JSON list of
  ANNOTATED tasks only (add ``download_all_tasks=True`` for all). Per task: ``id``, ``data``,
  ``annotations[]`` each with ``id``, ``completed_by`` (int user id), ``result`` (as above),
  ``was_cancelled``, ``ground_truth``, ``created_at``, ``updated_at``, ``lead_time``,
  ``prediction`` (the linked prediction dict or {}), ``task``, ``project``; ``predictions[]``.
* Snapshots work too: ``ex = ls.projects.exports.create(id=pid, title="snap")`` (status is
  already "completed" on return here), ``ls.projects.exports.get(id=pid, export_pk=ex.id)``,
  ``b"".join(ls.projects.exports.download(id=pid, export_pk=ex.id, export_type="JSON"))``;
  a snapshot holds ALL tasks by default. ``ls.projects.exports.as_json(pid)`` wraps it (and
  imports pandas).
* ``JSON_MIN`` gives one flat row per task: data fields, then ``id``, ``stance``,
  ``annotator``, ``annotation_id``, ``created_at``, ... overwriting data keys of those names.

ML backend (what Label Studio sends; captured with a throwaway HTTP server)
---------------------------------------------------------------------------
* ``ml = ls.ml.create(url="http://127.0.0.1:P/ml", project=pid, title="capture")`` ->
  ``MlBackend`` ``.id .state`` ("CO" = connected) ``.model_version`` (from ``/setup``).
  Needs ``SSRF_PROTECTION_ENABLED=false``/``ML_BLOCK_LOCAL_IP=false`` for loopback.
  It ALSO creates an organization webhook ``{url}/webhook`` with ``send_for_all_actions=True``
  (so the backend receives every event, see below). ``ls.ml.list(project=pid)``,
  ``ls.ml.get(id=...)``; ``ls.ml.predict_all_tasks`` is Enterprise-only (404 HTML page).
* ``GET {url}/health`` (User-Agent ``heartex/1.23.2...``, no auth, 1 s timeout); we answered
  ``{"status": "UP", "model_class": "X"}``. Health + setup are called again before most
  backend uses (several times per annotation).
* ``POST {url}/setup`` body ``{"project": "<project id>.<created_at epoch>", "schema":
  <label config XML>, "hostname": <LABEL_STUDIO_HOST (this harness sets its url) or "http://localhost:<port>">,
  "access_token": <legacy token of the project's creator>, "extra_params": null}``; answer
  ``{"model_version": "..."}``.
* ``POST {url}/predict`` body ``{"tasks": [{"id", "data", "meta", "annotations": [...],
  "predictions": [...], "project", "inner_id", "total_annotations", ...}], "project":
  "<id>.<epoch>", "label_config": <XML>, "params": {"login": null, "password": null,
  "context": null}}``; answer ``{"results": [{"result": [<choices item>], "score": 0.42,
  "model_version": "..."} per task, same order]}``; stored as predictions with that
  ``model_version``. Triggered by ``ls.actions.create(id="retrieve_tasks_predictions",
  project=pid, selected_items={"all": False, "included": [task ids]})`` and by
  ``GET /api/projects/{id}/next`` (labeling stream) for a task without a prediction of the
  backend's version.
* ``ls.ml.train(id=ml.id)`` -> ``POST {url}/webhook`` ``{"action": "START_TRAINING",
  "project": {<full project, as in webhooks>}}`` (not ``/train``).

Webhooks
--------
* ``ls.webhooks.create(url=..., project=pid, send_payload=True, send_for_all_actions=False,
  actions=["ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_DELETED"])``.
  ``"START_TRAINING"`` is NOT a valid webhook action (400); valid: PROJECT_CREATED/UPDATED/
  DELETED, TASKS_CREATED/DELETED, ANNOTATION_CREATED, ANNOTATIONS_CREATED,
  ANNOTATION_UPDATED, ANNOTATIONS_DELETED, LABEL_LINK_CREATED/UPDATED/DELETED.
  SURPRISE: ``send_for_all_actions`` defaults to True, which ignores ``actions`` (the hook
  got PROJECT_UPDATED too): pass ``send_for_all_actions=False``.
* Delivery is synchronous with the API call, ``POST`` JSON, User-Agent python-requests, no
  auth (use ``headers={...}`` on create to add one). Payloads:
  ``{"action": "ANNOTATION_CREATED" | "ANNOTATION_UPDATED", "annotation": {"id", "result",
  "completed_by" (int), "task", "project", "was_cancelled", "ground_truth", "created_at",
  "updated_at", "lead_time", "prediction", ...}, "task": {"id", "data", "meta",
  "total_annotations", ...}, "project": {"id", "title", "label_config", "model_version",
  "expert_instruction", "token" (the invite token!), "task_data_password", ...}}``;
  ``{"action": "ANNOTATIONS_DELETED", "annotations": [{"id": 5}], "project": {...}}``;
  ``{"action": "PROJECT_UPDATED", "project": {...}}``.

Users (no API creates a usable second account; the signup form does)
---------------------------------------------------------------------
* ``POST /api/users/`` as admin -> 201, but the password is ignored: that user can never log
  in, so no token can be had for it.
* What works (:meth:`LabelStudioServer.create_user`): admin ``GET /api/invite`` ->
  ``{"token", "invite_url": "/user/signup/?token=..."}``; ``GET`` that page (csrftoken
  cookie); ``POST`` it as a form ``email``, ``password``, ``csrfmiddlewaretoken`` -> 302 and a
  logged-in session (200 = form re-rendered: duplicate email or weak password; without the
  invite token -> 403 because of ``DISABLE_SIGNUP_WITHOUT_LINK``). With that session
  ``GET /api/current-user/token`` -> ``{"token": <legacy token>}`` (works since the org was
  created with legacy tokens enabled) and ``POST /api/token/`` (header ``X-CSRFToken``) ->
  201 ``{"token": <PAT>}``; a second ``POST /api/token/`` -> 409 "You already have a valid
  token". ``ls.users.whoami()`` -> ``.id .email``.

Server
------
* ``label-studio --version`` does NOT exit: it starts a server on 0.0.0.0:8080 with the
  default data dir. One process (Django runserver, threaded); SIGTERM stops it in ~1 s.
* Measured here (2 cores): install 1-1.5 min (pip cache warm: ~1.5 min, ~1 GB); first start
  on an empty data dir 32-56 s (migrations; up to 160 s elsewhere); restart on the same data
  3.5-10 s. This module keeps a migrated template data dir next to the venv (made once per
  installed version, ~50 s), so later sessions start in ~4-5 s. SWARMLENS_LS_NO_TEMPLATE=1
  turns that off.
"""

from __future__ import annotations

import atexit
import contextlib
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _installed_version(exe: Path) -> str:
    stamp = exe.parent.parent / ".swarmlens-label-studio-installed"
    with contextlib.suppress(OSError, IndexError):
        return stamp.read_text().split()[1]
    return "unknown"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class LabelStudioServer:
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

    def _session(self) -> tuple[urllib.request.OpenerDirector, http.cookiejar.CookieJar]:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
        return opener, jar

    @staticmethod
    def _cookie(jar: http.cookiejar.CookieJar, name: str) -> str:
        for cookie in jar:
            if cookie.name == name:
                return cookie.value or ""
        raise RuntimeError(f"Label Studio set no {name} cookie")

    def _post_form(
        self, opener: urllib.request.OpenerDirector, path: str, fields: dict[str, str]
    ) -> tuple[int, str]:
        req = urllib.request.Request(
            f"{self.url}{path}", data=urllib.parse.urlencode(fields).encode(), method="POST"
        )
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
        req.add_header("Referer", f"{self.url}{path}")
        try:
            with opener.open(req, timeout=30) as resp:
                return resp.status, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:  # 302 lands here with _NoRedirect
            return exc.code, exc.read().decode("utf-8", "replace")

    def _login(self, email: str, password: str) -> tuple[Any, http.cookiejar.CookieJar]:
        opener, jar = self._session()
        opener.open(f"{self.url}/user/login/", timeout=30).read()
        status, _ = self._post_form(
            opener,
            "/user/login/",
            {
                "email": email,
                "password": password,
                "csrfmiddlewaretoken": self._cookie(jar, "csrftoken"),
            },
        )
        if status != 302:
            raise ValueError(f"login of {email} failed (HTTP {status})")
        return opener, jar

    def _session_json(
        self, opener: Any, jar: http.cookiejar.CookieJar, method: str, path: str
    ) -> Any:
        req = urllib.request.Request(f"{self.url}{path}", method=method, data=None)
        if method != "GET":
            req.add_header("X-CSRFToken", self._cookie(jar, "csrftoken"))
            req.add_header("Referer", f"{self.url}/")
        with opener.open(req, timeout=30) as resp:
            return json.loads(resp.read())

    def create_user(self, email: str, password: str) -> tuple[int, str]:
        """Sign up a second account through the invite link; return ``(user_id, api_token)``.

        The token is that user's legacy API token: ``client(token)`` acts as that user.
        Raises ``ValueError`` if Label Studio refuses the signup (email taken, weak password).
        """
        invite = self.api("GET", "/api/invite")
        signup = f"/user/signup/?token={urllib.parse.quote(invite['token'])}"
        opener, jar = self._session()
        opener.open(f"{self.url}{signup}", timeout=30).read()
        status, page = self._post_form(
            opener,
            signup,
            {
                "email": email,
                "password": password,
                "csrfmiddlewaretoken": self._cookie(jar, "csrftoken"),
            },
        )
        if status != 302:
            errors = re.findall(r'class="[^"]*(?:error|invalid)[^"]*"[^>]*>\s*([^<]+?)\s*<', page)
            raise ValueError(
                f"Label Studio refused the signup of {email} (HTTP {status}): "
                f"{'; '.join(errors) or 'email already used or password too weak'}"
            )
        token = self._session_json(opener, jar, "GET", "/api/current-user/token")["token"]
        me = self.api("GET", "/api/current-user/whoami", token=token)
        return int(me["id"]), str(token)

    def personal_access_token(self, email: str, password: str) -> str:
        """Log in and create that user's personal access token (the JWT refresh token that
        ``client()`` accepts as ``api_key``). A user can hold only one: a second call -> 409."""
        opener, jar = self._login(email, password)
        return str(self._session_json(opener, jar, "POST", "/api/token/")["token"])

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


if __name__ == "__main__":  # manual smoke run: python tests/labelstudio_server.py
    with LabelStudioServer() as server:
        print("up at", server.url, "timings", server.timings)
        print("projects:", list(server.client().projects.list()))
