"""Model artifacts as a user meets them: no pickle ever runs, tampering is an error, the
default model is rebuilt byte for byte and says it was trained on synthetic data."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path

import pytest

from swarmlens.classifier.demo.generator import write_demo_jsonl
from tests.support.processes import swarmlens as run

pytestmark = pytest.mark.integration


class _Booby:
    """Unpickling this creates a directory: proof that a load executed the pickle."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, int]]:
        return (os.makedirs, (self.marker, 0o755))


def _env(models: Path) -> dict[str, str]:
    return {**os.environ, "SWARMLENS_MODELS_DIR": str(models), "COLUMNS": "200"}


@pytest.fixture(scope="module")
def posts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo_jsonl(tmp_path_factory.mktemp("safety") / "posts.jsonl", 200, seed=5)


def test_default_model_is_byte_identical_and_marked_synthetic(
    tmp_path: Path, posts: Path
) -> None:
    digests = []
    for name in ("a", "b"):
        env = _env(tmp_path / name)
        result = run(["score", str(posts), "--out", str(tmp_path / f"{name}.jsonl")], env)
        assert "synthetic" in result.stderr and "macro-F1" not in result.stderr
        listing = json.loads(run(["models", "--json"], env).stdout)
        (model,) = listing["models"]
        assert model["synthetic"] is True and "macro_f1" not in model["metrics"]
        assert model["training_data"]["kind"] == "synthetic-demo"
        digests.append(model["sha256"])
        table = run(["models"], env)
        assert "SYNTHETIC" in table.stdout and "train on your own labels" in table.stderr
    assert digests[0] == digests[1]


def test_a_tampered_current_model_is_an_error_not_a_rebuild(tmp_path: Path, posts: Path) -> None:
    env = _env(tmp_path / "models")
    run(["score", str(posts), "--out", str(tmp_path / "first.jsonl")], env)
    manifest = json.loads((tmp_path / "models" / "manifest.json").read_text())
    artifact = tmp_path / "models" / manifest["models"][0]["path"]
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artifact.write_bytes(bytes(data))
    result = run(["score", str(posts), "--out", str(tmp_path / "again.jsonl")], env, check=False)
    assert result.returncode == 2 and "[E005]" in result.stderr
    assert "building the default model" not in result.stderr
    after = json.loads((tmp_path / "models" / "manifest.json").read_text())
    assert after == manifest  # nothing was rebuilt or made current in its place
    artifact.unlink()
    result = run(["score", str(posts), "--out", str(tmp_path / "gone.jsonl")], env, check=False)
    assert result.returncode == 2 and "[E004]" in result.stderr and "missing" in result.stderr


def test_a_forged_pickle_with_a_forged_sidecar_never_runs(tmp_path: Path, posts: Path) -> None:
    env = _env(tmp_path / "models")
    model = tmp_path / "mine.safetensors"
    run(["train", "--data", str(posts), "--out", str(model), "--cv", "0"], env)
    marker = tmp_path / "pwned"
    forged = pickle.dumps(_Booby(str(marker)))
    model.write_bytes(forged)
    sidecar = Path(str(model) + ".sha256.json")
    claims = json.loads(sidecar.read_text())
    claims["sha256"] = hashlib.sha256(forged).hexdigest()
    sidecar.write_text(json.dumps(claims))
    for command in (
        ["score", str(posts), "--out", str(tmp_path / "x.jsonl"), "--model", str(model)],
        ["evaluate", "--model", str(model), "--data", str(posts)],
    ):
        result = run(command, env, check=False)
        assert result.returncode == 2 and "[E018]" in result.stderr, result.stderr
        assert "pickled" in result.stderr and "swarmlens train" in result.stderr
    assert not marker.exists()
