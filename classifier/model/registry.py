"""The model registry: ``manifest.json`` and the artifacts it vouches for.

Artifacts are arrays + JSON (``artifact``): loading one parses bytes and can never run
code, whatever the file or its sidecar claim. Its SHA-256 is still checked against what
swarmlens recorded when it wrote it (the manifest entry of a registered version, or the
``.sha256.json`` sidecar ``train`` writes beside an artifact saved at a path), on the same
bytes that are then parsed. A tampered, missing or unreadable model is an error; nothing
replaces it silently. The default model is built only when the registry holds no model.

The registry directory is ``Settings.models_dir``: ``$SWARMLENS_MODELS_DIR``, else the
user's data directory (``~/.local/share/swarmlens/models``), never the installed package.
"""

from __future__ import annotations

import contextlib
import errno
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

from swarmlens.classifier.errors import IntegrityError, ModelNotFoundError
from swarmlens.classifier.fsio import NotRegularFileError, atomic_write_text, read_regular
from swarmlens.classifier.model import artifact
from swarmlens.classifier.settings import get_settings

MANIFEST_NAME = "manifest.json"
DEFAULT_MODEL_NAME = "default"
SIDECAR_SUFFIX = ".sha256.json"
SYNTHETIC_DEMO = "synthetic-demo"
SYNTHETIC_NOTE = "trained on synthetic demo data: train on your own labels"
MAX_ARTIFACT_BYTES = 1 << 30
"""An artifact larger than this (1 GiB) is refused before a byte of it is read: the default
model is ~35 MB, and a file swapped for ``/dev/zero`` or a huge file must not be read
into memory just to find that its SHA-256 does not match."""
_MAX_MANIFEST_BYTES = 64 << 20  # ~1.5 KB per registered version
_MAX_SIDECAR_BYTES = 1 << 20
_TRACKED_LIBRARIES = (
    "scikit-learn", "numpy", "scipy", "pyarrow", "numba", "safetensors", "wordllama"
)


@dataclass
class ModelEntry:
    """One model version as the manifest records it.

    id: version id ('<name>-<data fingerprint>-<artifact hash>', both shortened).
    path: artifact file, relative to the registry directory (absolute for sidecars).
    sha256: hash of the artifact bytes, checked before every load.
    data_fingerprint: hash of the training examples (order-independent).
    metrics: whatever training measured (cross-validated F1...).
    library_versions: versions that wrote the artifact (for the record).
    training_data: what the model was trained on: ``kind`` ('synthetic-demo' or
        'labelled'), ``description``, ``files``; a model trained on the synthetic demo
        corpus is shown as such, without a quality figure.
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
    training_data: dict[str, Any] = field(default_factory=dict)

    @property
    def synthetic(self) -> bool:
        """Trained on the synthetic demo corpus: its figures say nothing about real posts."""
        return self.training_data.get("kind") == SYNTHETIC_DEMO

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
    root = directory or registry_dir()
    path = root / MANIFEST_NAME
    if not path.exists():
        return {"current": None, "models": []}
    try:
        manifest = json.loads(read_regular(path, _MAX_MANIFEST_BYTES).decode("utf-8"))
        valid = (
            isinstance(manifest, dict)
            and isinstance(manifest.get("models"), list)
            and all(
                isinstance(m, dict) and isinstance(m.get("id"), str) for m in manifest["models"]
            )
            and (manifest.get("current") is None or isinstance(manifest.get("current"), str))
        )
    except (OSError, UnicodeDecodeError, ValueError):
        valid = False
    if not valid:
        raise IntegrityError(
            f"{path} is not a readable swarmlens manifest: restore it from a backup, or move "
            "the registry aside and retrain (`swarmlens train ... --register`)"
        )
    return manifest


def list_models(directory: Path | None = None) -> list[ModelEntry]:
    """Registered versions, oldest first."""
    return [ModelEntry.from_dict(m) for m in read_manifest(directory)["models"]]


def current_id(directory: Path | None = None) -> str | None:
    return read_manifest(directory).get("current")


def save_artifact(model: Any, path: Path, entry_fields: dict[str, Any]) -> ModelEntry:
    """Write ``model`` (arrays + JSON) to ``path`` atomically, with its sidecar.

    model: a fitted model with ``to_arrays()``.
    entry_fields: ModelEntry fields other than id, path, sha256, created_at and
    library_versions, which are filled in here.
    """
    path = Path(path)
    arrays, config = model.to_arrays()
    digest = artifact.write(path, arrays, config)
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
        target = root / f"{name}-{stamp}{artifact.SUFFIX}"
        entry = save_artifact(model, target, entry_fields)
        entry.path = target.name
        manifest = read_manifest(root)
        manifest["models"] = [m for m in manifest["models"] if m["id"] != entry.id]
        manifest["models"].append(asdict(entry))
        manifest["current"] = entry.id
        atomic_write_text(root / MANIFEST_NAME, json.dumps(manifest, indent=2) + "\n")
        return entry


def resolve(ref: str | None, directory: Path | None = None) -> tuple[Path, ModelEntry]:
    """Artifact path and trusted entry for ``ref``: a version id, a path, or None (current)."""
    path, entry, _ = _resolve(ref, directory)
    return path, entry


def vouched_by(ref: str | None, directory: Path | None = None) -> str:
    """What recorded the SHA-256 ``ref``'s artifact must have: 'the manifest PATH' or 'the
    sidecar PATH', so that a mismatch names the file to look at."""
    return _resolve(ref, directory)[2]


def _resolve(ref: str | None, directory: Path | None = None) -> tuple[Path, ModelEntry, str]:
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
            return _inside(root, entry), entry, f"the manifest {root / MANIFEST_NAME}"
    path = Path(ref)
    if path.is_file():
        sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
        if not sidecar.exists():
            raise IntegrityError(
                f"{path} has no {SIDECAR_SUFFIX} sidecar, so its origin cannot be checked; "
                "only artifacts written by `swarmlens train` or the registry are loaded"
            )
        return path, _sidecar_entry(sidecar), f"the sidecar {sidecar}"
    known = ", ".join(m["id"] for m in manifest["models"][-5:]) or "none registered"
    raise ModelNotFoundError(f"{ref!r} is neither a registered version ({known}) nor a file")


def _inside(root: Path, entry: ModelEntry) -> Path:
    """The artifact path of a registered ``entry``, once it (or the file a symlink there
    leads to) lies inside the registry ``root``: a manifest, or a link, that points
    elsewhere (``/dev/zero``, another user's files) is an integrity error, never read."""
    path = root / str(entry.path)
    try:
        real, base = path.resolve(), root.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        real, base = None, root
    if real is None or base not in real.parents:
        raise IntegrityError(
            f"artifact {path} of model {entry.id} lies (or links) outside the registry {root}: "
            "it is not read. Restore the original file or retrain (`swarmlens train ... "
            "--register`)."
        )
    return path


def _sidecar_entry(sidecar: Path) -> ModelEntry:
    """The entry a sidecar records; anything malformed is an integrity error, never a crash."""
    try:
        data = json.loads(read_regular(sidecar, _MAX_SIDECAR_BYTES).decode("utf-8"))
        digest = data.get("sha256") if isinstance(data, dict) else None
        if not (isinstance(digest, str) and len(digest) == 64 and isinstance(data.get("id"), str)):
            raise ValueError("no id and 64-hex-digit sha256")
        int(digest, 16)
        return ModelEntry.from_dict(data)
    except (OSError, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise IntegrityError(
            f"{sidecar} cannot vouch for its artifact ({exc}): retrain it with `swarmlens train`"
        ) from None


def verified_bytes(path: Path, sha256: str, version: str, source: str | None = None) -> bytes:
    """The bytes of artifact ``path`` once their SHA-256 is ``sha256``: the bytes parsed
    are the bytes checked, so a file swapped between check and load is never read.

    version: the model's id, to name it in errors. source: what recorded ``sha256``
    (``vouched_by``), named in a mismatch error.
    """
    try:
        # A regular file of at most MAX_ARTIFACT_BYTES, checked on the open file before
        # reading: a symlink to /dev/zero or a FIFO would be read forever (or block).
        data = read_regular(path, MAX_ARTIFACT_BYTES)
    except FileNotFoundError:
        raise ModelNotFoundError(
            f"artifact {path} of model {version} is missing: restore it, or retrain with "
            "`swarmlens train`"
        ) from None
    except NotRegularFileError:
        raise IntegrityError(
            f"artifact {path} of model {version} is not a regular file (a device, FIFO or "
            "socket, or a link to one): it was replaced, so it is not read. Restore the "
            "original file or retrain (`swarmlens train ... --register`)."
        ) from None
    except OSError as exc:
        if exc.errno == errno.EFBIG:
            raise IntegrityError(
                f"artifact {path} of model {version} is {exc.strerror}: no swarmlens model is "
                "that large, so it is not read. Restore the original file or retrain."
            ) from None
        raise IntegrityError(f"artifact {path} cannot be read: {exc.strerror}") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise IntegrityError(
            f"artifact {path} has SHA-256 {actual[:16]}..., {source or 'the registry'} says "
            f"{sha256[:16]}...: it was modified or replaced, so it is not loaded. "
            "Restore the original file or retrain (`swarmlens train ... --register`)."
        )
    return data


def verify(ref: str | None = None, directory: Path | None = None) -> tuple[Path, ModelEntry]:
    """Resolve ``ref`` and check its artifact's SHA-256 (without parsing it)."""
    path, entry, source = _resolve(ref, directory)
    verified_bytes(path, entry.sha256, entry.id, source)
    return path, entry


def model_from_bytes(data: bytes, version: str) -> Any:
    """A fitted model from verified artifact bytes (arrays + JSON; no code runs).

    version: the model's id, recorded on it as ``model_version_``.
    """
    # The scoring-only model: no scikit-learn import in processes that only score.
    from swarmlens.classifier.model.linear import LinearStanceModel

    arrays, config = artifact.from_bytes(data, f"model {version}")
    model = LinearStanceModel.from_arrays(arrays, config)
    model.model_version_ = version
    return model


def load(ref: str | None = None, directory: Path | None = None) -> tuple[Any, ModelEntry]:
    """Load a model after checking its SHA-256; a mismatch or a bad file is an error."""
    path, entry, source = _resolve(ref, directory)
    return model_from_bytes(verified_bytes(path, entry.sha256, entry.id, source), entry.id), entry


def has_models(directory: Path | None = None) -> bool:
    """Whether the registry holds any model at all (the default is built only when not).

    Artifacts without a manifest count too: a lost manifest is a damaged registry, and
    building the default in its place would hide that.
    """
    root = directory or registry_dir()
    manifest = read_manifest(root)
    if manifest.get("current") or manifest.get("models"):
        return True
    orphans = sorted(root.glob(f"*{artifact.SUFFIX}")) if root.is_dir() else []
    if orphans:
        raise ModelNotFoundError(
            f"{root} holds model artifacts ({orphans[0].name}...) but no manifest lists them: "
            "restore manifest.json, or move the directory aside to start a new registry"
        )
    return False
