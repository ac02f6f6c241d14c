"""Every configurable value of swarmlens, in one settings object.

Values come from the environment (prefix ``SWARMLENS_``), from a command's options
(which build a ``Settings`` with overrides), or from the defaults below. A few
variables keep the names other tools use: ``LABEL_STUDIO_URL`` and
``LABEL_STUDIO_API_KEY`` (Label Studio's own), and ``SWARMLENS_LS_RETRY_SECONDS``.

Where things are written: the model registry and the server's store default to the
user's data directory (``platformdirs``: ``~/.local/share/swarmlens`` on Linux,
honouring ``XDG_DATA_HOME``), never the installed package or the working directory.
A clone's ``models/`` folder is used only when pointed to (``SWARMLENS_MODELS_DIR``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from platformdirs import user_data_path
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """The user's data directory for swarmlens (``~/.local/share/swarmlens`` on Linux)."""
    return user_data_path("swarmlens", appauthor=False)


class Settings(BaseSettings):
    """What swarmlens needs to know, for the CLI, the server and the annotation workflow.

    models_dir: the model registry (``manifest.json`` and artifacts).
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
    label_studio_url / label_studio_api_key: the Label Studio that annotation commands
        and the webhook talk to.
    label_studio_retry_seconds: how long transient Label Studio failures are retried.
    retrain_min_labels: new annotations that trigger a background retrain.
    kernels: ``auto`` runs the numba kernels from their ahead-of-time build when one
        exists for this code (``scripts/install.sh`` builds it), else JIT-compiled;
        ``jit`` always JIT-compiles (see ``swarmlens.classifier.kernels``).
    """

    model_config = SettingsConfigDict(
        env_prefix="SWARMLENS_", extra="ignore", populate_by_name=True
    )

    models_dir: Path = Field(default_factory=lambda: default_data_dir() / "models")
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
    label_studio_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("LABEL_STUDIO_URL", "SWARMLENS_LABEL_STUDIO_URL"),
    )
    label_studio_api_key: str | None = Field(
        default=None,
        validation_alias=AliasChoices("LABEL_STUDIO_API_KEY", "SWARMLENS_LABEL_STUDIO_API_KEY"),
    )
    label_studio_retry_seconds: float = Field(
        default=120.0,
        ge=0,
        validation_alias=AliasChoices(
            "SWARMLENS_LS_RETRY_SECONDS", "SWARMLENS_LABEL_STUDIO_RETRY_SECONDS"
        ),
    )
    retrain_min_labels: int = Field(default=20, ge=1)
    kernels: Literal["auto", "jit"] = "auto"

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


def get_settings(**overrides: object) -> Settings:
    """Settings from the environment as it is now, with ``overrides`` on top.

    Read afresh on every call (it is cheap): a variable set after import, by a test or
    a wrapper script, is honoured. The server reads them once and keeps its object.
    """
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
