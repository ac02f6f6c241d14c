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

from platformdirs import user_data_path
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """The user's data directory for swarmlens (``~/.local/share/swarmlens`` on Linux)."""
    return user_data_path("swarmlens", appauthor=False)


class Settings(BaseSettings):
    """What the core and the annotation workflow need to know (the server's own
    settings extend these: ``swarmlens.serve.settings.ServerSettings``).

    models_dir: the model registry (``manifest.json`` and artifacts).
    label_studio_url / label_studio_api_key: the Label Studio that annotation commands
        and the webhook talk to.
    label_studio_retry_seconds: how long transient Label Studio failures are retried.
    """

    model_config = SettingsConfigDict(
        env_prefix="SWARMLENS_", extra="ignore", populate_by_name=True
    )

    models_dir: Path = Field(default_factory=lambda: default_data_dir() / "models")
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


def get_settings(**overrides: object) -> Settings:
    """Settings from the environment as it is now, with ``overrides`` on top.

    Read afresh on every call (it is cheap): a variable set after import, by a test or
    a wrapper script, is honoured. The server reads them once and keeps its object.
    """
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
