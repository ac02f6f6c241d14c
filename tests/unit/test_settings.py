"""One settings object: every variable that worked before still works, defaults are the
user's data directory, and what the registry reads follows the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from swarmlens.classifier.model import registry
from swarmlens.classifier.settings import Settings, get_settings
from swarmlens.serve.settings import ServerSettings


def test_defaults_live_in_the_users_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SWARMLENS_MODELS_DIR", "SWARMLENS_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    settings = ServerSettings()
    assert settings.data_dir == tmp_path / "xdg" / "swarmlens"
    assert settings.models_dir == tmp_path / "xdg" / "swarmlens" / "models"
    assert registry.registry_dir() == settings.models_dir


def test_environment_variables_keep_working(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWARMLENS_MODELS_DIR", str(tmp_path / "m"))
    monkeypatch.setenv("SWARMLENS_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("SWARMLENS_API_KEYS", " a, b ,")
    monkeypatch.setenv("SWARMLENS_MAX_BATCH", "7")
    monkeypatch.setenv("SWARMLENS_MAX_BODY_BYTES", "4096")
    monkeypatch.setenv("SWARMLENS_MAX_INFLIGHT", "3")
    monkeypatch.setenv("SWARMLENS_RETRAIN_MIN_LABELS", "5")
    monkeypatch.setenv("SWARMLENS_LS_RETRY_SECONDS", "1.5")
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "tok")
    settings = ServerSettings()
    assert settings.models_dir == tmp_path / "m" and settings.data_dir == tmp_path / "d"
    assert settings.keys == ["a", "b"]
    assert (settings.max_batch, settings.max_body_bytes, settings.max_inflight) == (7, 4096, 3)
    assert settings.retrain_min_labels == 5 and settings.label_studio_retry_seconds == 1.5
    assert settings.label_studio_url == "http://127.0.0.1:9"
    assert settings.label_studio_api_key == "tok"
    assert registry.registry_dir() == tmp_path / "m"


def test_overrides_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWARMLENS_PORT", "9001")
    assert ServerSettings().port == 9001
    assert ServerSettings(port=9002).port == 9002
    assert get_settings(models_dir="/x").models_dir == Path("/x")
    assert Settings(label_studio_url="http://x").label_studio_url == "http://x"


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWARMLENS_MAX_BATCH", "0")
    with pytest.raises(ValueError, match="max_batch"):
        ServerSettings()
    get_settings()  # the core does not read the server's settings


def test_server_settings_stay_out_of_the_core() -> None:
    assert not {"max_batch", "allowed_hosts", "body_timeout", "data_dir"} & set(
        Settings.model_fields
    )
