"""The server's settings: the core's ``Settings`` plus what only ``swarmlens serve`` reads.

Same environment prefix (``SWARMLENS_``), so every variable keeps its name; the core
never sees these fields (``classifier`` does not import the server).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from swarmlens.classifier.settings import Settings, default_data_dir


class ServerSettings(Settings):
    """What ``swarmlens serve`` needs besides the core's settings.

    data_dir: the server's DuckDB store (``swarmlens.duckdb``) lives here.
    host / port: where ``swarmlens serve`` listens.
    api_keys: comma-separated keys; when set, write endpoints need one
        (``Authorization: Bearer KEY`` or ``X-API-Key: KEY``).
    max_batch: most posts per /v1/classify or /v1/posts request (more: 413).
    max_body_bytes: largest request body (more: 413).
    max_inflight: requests handled at once; beyond it the server answers 503 at once
        instead of letting requests time out.
    max_inflight_per_client: of those, most one client IP may hold while still sending
        their bodies (more: 429), so a few slow clients cannot take every slot.
        ``/healthz`` is never shed.
    body_timeout: seconds a request body may take to arrive (more: 408).
    allowed_hosts: comma-separated Host names the server answers to besides loopback
        names (localhost, 127.0.0.1, ::1) and ``host``; ``*`` allows any. Others get 421:
        a web page cannot reach the server through a rebound DNS name.
    max_explain_chars: most characters one /v1/classify?explain=true may hold (more: 413).
    reads_need_key: whether reading endpoints (data, classify, predict, status) need a
        key too; default: they do when ``api_keys`` is set. ``/healthz`` never does.
    model: model version or artifact path to serve (default: the registry's current one).
    retrain_min_labels: new annotations that trigger a background retrain.
    """

    data_dir: Path = Field(default_factory=default_data_dir)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    api_keys: str = ""
    max_batch: int = Field(default=1000, ge=1)
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1)
    max_inflight: int = Field(default=64, ge=1)
    max_inflight_per_client: int = Field(default=16, ge=1)
    body_timeout: float = Field(default=15.0, gt=0)
    allowed_hosts: str = ""
    reads_need_key: bool | None = None
    max_explain_chars: int = Field(default=100_000, ge=1)
    model: str | None = None
    retrain_min_labels: int = Field(default=20, ge=1)

    @property
    def hosts(self) -> list[str]:
        """Host names answered besides loopback: ``allowed_hosts`` and the bound ``host``."""
        names = [h.strip() for h in self.allowed_hosts.split(",") if h.strip()]
        if self.host not in ("0.0.0.0", "::", ""):
            names.append(self.host)
        return names

    @property
    def reads_locked(self) -> bool:
        """Whether reading endpoints need an API key (``reads_need_key``, else: keys set)."""
        if self.reads_need_key is None:
            return bool(self.keys)
        return self.reads_need_key

    @property
    def keys(self) -> list[str]:
        """The API keys as a list (empty: no key is needed)."""
        return [key.strip() for key in self.api_keys.split(",") if key.strip()]
