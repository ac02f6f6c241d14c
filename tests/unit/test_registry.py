"""The registry: arrays + JSON artifacts (no pickle), hashes checked on the bytes parsed,
ids and paths, tampering is an error, the default model is deterministic."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from swarmlens.classifier.errors import ArtifactFormatError, IntegrityError, ModelNotFoundError
from swarmlens.classifier.model import artifact, registry
from swarmlens.classifier.model.estimator import StanceClassifier
from swarmlens.classifier.model.linear import LinearStanceModel
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
    assert stored["path"].endswith(".safetensors")
    assert (models_dir / stored["path"]).read_bytes()[8:9] == b"{"  # a JSON header, no pickle
    assert stored["labels"] == ["supportive", "opposing", "neutral"]
    loaded, loaded_entry = registry.load(entry.id)
    assert loaded_entry.id == entry.id and loaded.model_version_ == entry.id
    assert list(loaded.predict(["baqiya"])) == list(model.predict(["baqiya"]))
    again, _ = registry.load(None)
    assert again.model_version_ == entry.id


def test_tampered_artifact_is_refused(models_dir: Path, trained: tuple, tmp_path: Path) -> None:
    model, fields = trained
    entry = registry.register(model, fields)
    artifact_path = models_dir / entry.path
    data = bytearray(artifact_path.read_bytes())
    data[-1] ^= 1  # one byte changed
    artifact_path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="modified or replaced"):
        registry.load(entry.id)
    with pytest.raises(IntegrityError):
        registry.load(None)
    assert registry.has_models()  # so the default model is NOT rebuilt in its place


def test_a_forged_pickle_never_runs_even_with_a_matching_sidecar(
    tmp_path: Path, trained: tuple, models_dir: Path
) -> None:
    model, fields = trained
    path = tmp_path / "m.safetensors"
    entry = registry.save_artifact(model, path, fields)
    _loaded, loaded_entry = registry.load(str(path))
    assert loaded_entry.sha256 == entry.sha256
    marker = tmp_path / "pwned"
    forged = pickle.dumps(_Booby(str(marker)))
    path.write_bytes(forged)
    sidecar = path.with_name(path.name + registry.SIDECAR_SUFFIX)
    claims = json.loads(sidecar.read_text())
    claims["sha256"] = hashlib.sha256(forged).hexdigest()  # the forger fixes the sidecar too
    sidecar.write_text(json.dumps(claims))
    with pytest.raises(ArtifactFormatError, match="pickled"):
        registry.load(str(path))
    lone = tmp_path / "lone.joblib"
    lone.write_bytes(forged)
    with pytest.raises(IntegrityError, match=r"no \.sha256\.json sidecar"):
        registry.load(str(lone))
    assert not marker.exists()


def test_garbage_is_a_format_error_not_a_crash(tmp_path: Path) -> None:
    for junk in (b"", b"12345678", b"\xff" * 64, b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}..."):
        with pytest.raises(ArtifactFormatError):
            artifact.from_bytes(junk, "junk")


def test_a_header_length_that_starts_like_a_pickle_still_loads() -> None:
    """The first byte of a safetensors file is its header length's low byte: 0x80 (pickle's
    magic) is a length like any other (a registered model once failed to load on it)."""
    arrays = {"x": np.zeros(3, np.float32)}
    for pad in range(300):
        data = artifact.to_bytes(arrays, {"note": "p" * pad})
        if data[0] == 0x80:
            break
    assert data[0] == 0x80
    loaded, config = artifact.from_bytes(data)
    assert config == {"note": "p" * pad} and np.array_equal(loaded["x"], arrays["x"])
    with pytest.raises(ArtifactFormatError, match="pickled"):
        artifact.from_bytes(pickle.dumps({"x": 1}, protocol=4))


def test_artifacts_are_byte_identical_when_rebuilt(
    tiny_corpus: tuple[list[str], list[str]], tmp_path: Path
) -> None:
    texts, labels = tiny_corpus
    first = StanceClassifier().fit(texts, labels)
    second = StanceClassifier().fit(texts, labels)
    assert artifact.to_bytes(*first.to_arrays()) == artifact.to_bytes(*second.to_arrays())
    data = artifact.to_bytes(*first.to_arrays())
    restored = LinearStanceModel.from_arrays(*artifact.from_bytes(data))
    assert (restored.predict_proba(texts) == first.predict_proba(texts)).all()


def test_unknown_reference(models_dir: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="no current model"):
        registry.load(None)
    with pytest.raises(ModelNotFoundError, match="neither a registered version"):
        registry.load("stance-nope")


def test_the_default_is_built_only_when_there_is_no_model(models_dir: Path, trained: tuple) -> None:
    assert not registry.has_models()
    model, fields = trained
    registry.register(model, {**fields, "name": "default"})
    manifest = json.loads((models_dir / "manifest.json").read_text())
    manifest["models"][0]["library_versions"]["scikit-learn"] = "0.0.1"
    (models_dir / "manifest.json").write_text(json.dumps(manifest))
    assert registry.has_models()  # other library versions: arrays load anyway, no rebuild
    loaded, _ = registry.load(None)
    assert list(loaded.predict(["baqiya"])) == list(model.predict(["baqiya"]))


def test_broken_sidecars_configs_and_manifests_are_errors_not_crashes(
    tmp_path: Path, trained: tuple, models_dir: Path
) -> None:
    model, fields = trained
    path = tmp_path / "m.safetensors"
    registry.save_artifact(model, path, fields)
    sidecar = Path(str(path) + registry.SIDECAR_SUFFIX)
    for junk in ("{not json", "[]", '{"id": "x"}', '{"id": "x", "sha256": 5}'):
        sidecar.write_text(junk)
        with pytest.raises(IntegrityError, match="cannot vouch"):
            registry.load(str(path))
    arrays, config = model.to_arrays()
    for bad in (
        None,
        {**config, "classes": []},
        {**config, "params": {**config["params"], "char_ngram_range": [1, 10**9]}},
        {**config, "params": {**config["params"], "word_weight": "x"}},
    ):
        with pytest.raises(ArtifactFormatError):
            LinearStanceModel.from_arrays(arrays, bad)
    with pytest.raises(ArtifactFormatError, match="NaN"):
        LinearStanceModel.from_arrays({**arrays, "coef": arrays["coef"] * np.nan}, config)
    registry.register(model, fields)
    (models_dir / "manifest.json").write_text("{broken")
    with pytest.raises(IntegrityError, match="not a readable swarmlens manifest"):
        registry.load(None)
    (models_dir / "manifest.json").unlink()
    with pytest.raises(ModelNotFoundError, match="no manifest lists them"):
        registry.has_models()


def test_errors_keep_one_code_across_processes() -> None:
    error = pickle.loads(pickle.dumps(ArtifactFormatError("bad file", detail=[1])))
    assert str(error) == "[E018] bad file" and error.detail == [1]


def test_a_mismatch_names_the_file_that_recorded_the_hash(
    models_dir: Path, trained: tuple, tmp_path: Path
) -> None:
    # Issue 11 (9): a hash from a sidecar is not "the manifest's"; each message names its file.
    model, fields = trained
    loose = tmp_path / "loose.safetensors"
    registry.save_artifact(model, loose, fields)
    entry = registry.register(model, fields)
    for path in (loose, models_dir / entry.path):
        data = bytearray(path.read_bytes())
        data[-1] ^= 1
        path.write_bytes(bytes(data))
    sidecar = f"{loose}{registry.SIDECAR_SUFFIX}"
    with pytest.raises(IntegrityError) as raised:
        registry.load(str(loose))
    assert f"the sidecar {sidecar} says" in raised.value.message
    assert "manifest" not in raised.value.message
    with pytest.raises(IntegrityError) as raised:
        registry.verify(entry.id)
    assert f"the manifest {models_dir / 'manifest.json'} says" in raised.value.message
    assert registry.vouched_by(str(loose)) == f"the sidecar {sidecar}"
