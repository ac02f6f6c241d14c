"""The model registry: ``models/manifest.json`` and the artifacts it vouches for.

Every artifact is a joblib pickle, and unpickling runs code, so nothing is
unpickled before its SHA-256 matches what swarmlens recorded when it wrote it:
the manifest entry for a registered version, or the ``.sha256.json`` sidecar
that ``train`` writes next to an artifact saved at a path.

The registry directory is ``Settings.models_dir``: ``$SWARMLENS_MODELS_DIR``, else the
user's data directory (``~/.local/share/swarmlens/models``), never the installed package.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import platform
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import joblib

from swarmlens.classifier.errors import IntegrityError, ModelNotFoundError
from swarmlens.classifier.fsio import atomic_path, atomic_write_text
from swarmlens.classifier.settings import get_settings

MANIFEST_NAME = "manifest.json"
DEFAULT_MODEL_NAME = "default"
SIDECAR_SUFFIX = ".sha256.json"
_TRACKED_LIBRARIES = ("scikit-learn", "numpy", "scipy", "spacy", "joblib")


@dataclass
class ModelEntry:
    """One model version as the manifest records it.

    id: version id ('<name>-<data fingerprint>-<artifact hash>', both shortened).
    path: artifact file, relative to the registry directory (absolute for sidecars).
    sha256: hash of the artifact bytes, checked before every load.
    data_fingerprint: hash of the training examples (order-independent).
    metrics: whatever training measured (cross-validated F1...).
    library_versions: versions that wrote the artifact; a default model is
        rebuilt when they no longer match the installed ones.
    """

    id: str
    name: str
    created_at: str
    path: str
    sha256: str
    labels: list[str]
    data_fingerprint: str
    n_train: int
    metrics: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    library_versions: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelEntry:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def registry_dir() -> Path:
    """Where the manifest and registered artifacts live."""
    return get_settings().models_dir


def library_versions() -> dict[str, str]:
    """Versions of the libraries whose pickles must match, plus Python's."""
    versions = {"python": platform.python_version()}
    for name in _TRACKED_LIBRARIES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return versions


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def locked(directory: Path | None = None, name: str = ".lock") -> Iterator[Path]:
    """Hold one of the registry's locks (``name``): one process at a time holds it.

    '.lock' guards the manifest; '.build.lock' guards building the default model.
    """
    directory = directory or registry_dir()
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / name).open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield directory
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_manifest(directory: Path | None = None) -> dict[str, Any]:
    """The manifest as a dict: {'current': id | None, 'models': [entry dicts]}."""
    path = (directory or registry_dir()) / MANIFEST_NAME
    if not path.exists():
        return {"current": None, "models": []}
    return json.loads(path.read_text(encoding="utf-8"))


def list_models(directory: Path | None = None) -> list[ModelEntry]:
    """Registered versions, oldest first."""
    return [ModelEntry.from_dict(m) for m in read_manifest(directory)["models"]]


def current_id(directory: Path | None = None) -> str | None:
    return read_manifest(directory).get("current")


def save_artifact(model: object, path: Path, entry_fields: dict[str, Any]) -> ModelEntry:
    """Write ``model`` to ``path`` atomically, with its sidecar; return its entry.

    entry_fields: ModelEntry fields other than id, path, sha256, created_at and
    library_versions, which are filled in here.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        joblib.dump(model, tmp, compress=3)
        digest = sha256_file(tmp)
    name = entry_fields.get("name", "model")
    entry = ModelEntry(
        id=f"{name}-{entry_fields['data_fingerprint'][:8]}-{digest[:8]}",
        created_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        path=str(path.resolve()),
        sha256=digest,
        library_versions=library_versions(),
        **{k: v for k, v in entry_fields.items()},
    )
    atomic_write_text(
        path.with_name(path.name + SIDECAR_SUFFIX), json.dumps(asdict(entry), indent=2)
    )
    return entry


def register(
    model: object, entry_fields: dict[str, Any], directory: Path | None = None
) -> ModelEntry:
    """Save ``model`` into the registry, add it to the manifest and make it current."""
    with locked(directory) as root:
        name = entry_fields.get("name", "model")
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        artifact = root / f"{name}-{stamp}.joblib"
        entry = save_artifact(model, artifact, entry_fields)
        entry.path = artifact.name
        manifest = read_manifest(root)
        manifest["models"] = [m for m in manifest["models"] if m["id"] != entry.id]
        manifest["models"].append(asdict(entry))
        manifest["current"] = entry.id
        atomic_write_text(root / MANIFEST_NAME, json.dumps(manifest, indent=2) + "\n")
        return entry


def set_current(model_id: str, directory: Path | None = None) -> None:
    with locked(directory) as root:
        manifest = read_manifest(root)
        if model_id not in {m["id"] for m in manifest["models"]}:
            raise ModelNotFoundError(f"no registered model {model_id!r}; see `swarmlens models`")
        manifest["current"] = model_id
        atomic_write_text(root / MANIFEST_NAME, json.dumps(manifest, indent=2) + "\n")


def resolve(ref: str | None, directory: Path | None = None) -> tuple[Path, ModelEntry]:
    """Artifact path and trusted entry for ``ref``: a version id, a path, or None (current)."""
    root = directory or registry_dir()
    manifest = read_manifest(root)
    if ref is None:
        ref = manifest.get("current")
        if ref is None:
            raise ModelNotFoundError(
                "no current model: run `swarmlens train` or any scoring command"
            )
    for data in manifest["models"]:
        if data["id"] == ref:
            entry = ModelEntry.from_dict(data)
            return root / entry.path, entry
    path = Path(ref)
    if path.is_file():
        sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
        if not sidecar.exists():
            raise IntegrityError(
                f"{path} has no {SIDECAR_SUFFIX} sidecar, so its origin cannot be checked; "
                "only artifacts written by `swarmlens train` or the registry are loaded"
            )
        return path, ModelEntry.from_dict(json.loads(sidecar.read_text(encoding="utf-8")))
    known = ", ".join(m["id"] for m in manifest["models"][-5:]) or "none registered"
    raise ModelNotFoundError(f"{ref!r} is neither a registered version ({known}) nor a file")


def verify(ref: str | None = None, directory: Path | None = None) -> tuple[Path, ModelEntry]:
    """Resolve ``ref`` and check its artifact's SHA-256 without unpickling it."""
    path, entry = resolve(ref, directory)
    if not path.is_file():
        raise ModelNotFoundError(f"artifact {path} of model {entry.id} is missing")
    actual = sha256_file(path)
    if actual != entry.sha256:
        raise IntegrityError(
            f"artifact {path} has SHA-256 {actual[:16]}..., the manifest says "
            f"{entry.sha256[:16]}...: it was modified or replaced, so it is not loaded. "
            "Retrain it or restore the original file."
        )
    return path, entry


def load(ref: str | None = None, directory: Path | None = None) -> tuple[Any, ModelEntry]:
    """Load a model after checking its SHA-256; never unpickles a mismatching file."""
    path, entry = verify(ref, directory)
    model = joblib.load(path)
    model.model_version_ = entry.id
    return model, entry


def default_is_usable(directory: Path | None = None) -> bool:
    """True when the current model loads here: exists, hash matches, same libraries."""
    root = directory or registry_dir()
    try:
        path, entry = resolve(None, root)
    except ModelNotFoundError:
        return False
    if not path.is_file() or sha256_file(path) != entry.sha256:
        return False
    return not (entry.name == DEFAULT_MODEL_NAME and entry.library_versions != library_versions())
