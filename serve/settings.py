"""Server settings, from the environment (prefix ``SWARMLENS_``) or the ``serve`` command."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/swarmlens`` (``~/.local/share/swarmlens`` by default)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "swarmlens"


class Settings(BaseSettings):
    """What the server needs to know.

    data_dir: holds the DuckDB database (``swarmlens.duckdb``) this process owns.
    api_keys: comma-separated keys; when set, write endpoints need one
        (``Authorization: Bearer KEY`` or ``X-API-Key: KEY``).
    max_batch: most posts per /v1/classify or /v1/posts request (more: 413).
    max_body_bytes: largest request body (more: 413).
    max_inflight: requests handled at once; beyond it the server answers 503
        at once instead of letting requests time out.
    model: model version or path to serve (default: the registry's current one).
    label_studio_url / label_studio_api_key: the Label Studio the webhook retrains from
        (``LABEL_STUDIO_URL`` / ``LABEL_STUDIO_API_KEY``).
    retrain_min_labels: new annotations that trigger a background retrain.
    """

    model_config = SettingsConfigDict(env_prefix="SWARMLENS_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Field(default_factory=default_data_dir)
    api_keys: str = ""
    max_batch: int = 1000
    max_body_bytes: int = 8 * 1024 * 1024
    max_inflight: int = 64
    model: str | None = None
    label_studio_url: str | None = Field(default=None, validation_alias="LABEL_STUDIO_URL")
    label_studio_api_key: str | None = Field(default=None, validation_alias="LABEL_STUDIO_API_KEY")
    retrain_min_labels: int = 20

    @property
    def keys(self) -> list[str]:
        return [key.strip() for key in self.api_keys.split(",") if key.strip()]
