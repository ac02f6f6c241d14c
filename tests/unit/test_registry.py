"""The registry: hashes checked before unpickling, ids and paths, the default model."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest

from swarmlens.classifier.errors import IntegrityError, ModelNotFoundError
from swarmlens.classifier.model import registry
from swarmlens.classifier.model.estimator import StanceClassifier
from swarmlens.classifier.model.training import LabelledData, entry_fields, train_model


class _Booby:
    """Unpickling this creates a marker file: proof that a load executed the pickle."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (os.makedirs, (self.marker, 0o755))


@pytest.fixture()
def trained(tiny_corpus: tuple[list[str], list[str]]) -> tuple[StanceClassifier, dict]:
    texts, labels = tiny_corpus
    data = LabelledData(
        ids=[str(i) for i in range(len(texts))],
        texts=texts,
        labels=labels,
        langs=["en"] * len(texts),
        groups=[None] * len(texts),
    )
    model, info = train_model(data, cv_folds=0)
    return model, entry_fields("test", model, info)


def test_register_list_and_load(models_dir: Path, trained: tuple) -> None:
    model, fields = trained
    entry = registry.register(model, fields)
    assert registry.current_id() == entry.id
    assert [e.id for e in registry.list_models()] == [entry.id]
    manifest = json.loads((models_dir / "manifest.json").read_text())
    stored = manifest["models"][0]
    assert stored["sha256"] == registry.sha256_file(models_dir / stored["path"])
    assert set(stored["library_versions"]) >= {"scikit-learn", "numpy", "python"}
    assert stored["labels"] == ["supportive", "opposing", "neutral"]
    loaded, loaded_entry = registry.load(entry.id)
    assert loaded_entry.id == entry.id and loaded.model_version_ == entry.id
    assert list(loaded.predict(["baqiya"])) == list(model.predict(["baqiya"]))
    again, _ = registry.load(None)
    assert again.model_version_ == entry.id


def test_tampered_artifact_is_never_unpickled(
    models_dir: Path, trained: tuple, tmp_path: Path
) -> None:
    model, fields = trained
    entry = registry.register(model, fields)
    marker = tmp_path / "pwned"
    (models_dir / entry.path).write_bytes(pickle.dumps(_Booby(str(marker))))
    with pytest.raises(IntegrityError, match="modified or replaced"):
        registry.load(entry.id)
    assert not marker.exists()


def test_path_needs_a_matching_sidecar(tmp_path: Path, trained: tuple, models_dir: Path) -> None:
    model, fields = trained
    path = tmp_path / "m.joblib"
    entry = registry.save_artifact(model, path, fields)
    _loaded, loaded_entry = registry.load(str(path))
    assert loaded_entry.sha256 == entry.sha256
    marker = tmp_path / "pwned"
    path.write_bytes(pickle.dumps(_Booby(str(marker))))
    with pytest.raises(IntegrityError):
        registry.load(str(path))
    lone = tmp_path / "lone.joblib"
    lone.write_bytes(pickle.dumps(_Booby(str(marker))))
    with pytest.raises(IntegrityError, match=r"no \.sha256\.json sidecar"):
        registry.load(str(lone))
    assert not marker.exists()


def test_unknown_reference(models_dir: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="no current model"):
        registry.load(None)
    with pytest.raises(ModelNotFoundError, match="neither a registered version"):
        registry.load("stance-nope")


def test_default_is_rebuilt_when_libraries_change(models_dir: Path, trained: tuple) -> None:
    model, fields = trained
    fields = {**fields, "name": "default"}
    registry.register(model, fields)
    assert registry.default_is_usable()
    manifest = json.loads((models_dir / "manifest.json").read_text())
    manifest["models"][0]["library_versions"]["scikit-learn"] = "0.0.1"
    (models_dir / "manifest.json").write_text(json.dumps(manifest))
    assert not registry.default_is_usable()
