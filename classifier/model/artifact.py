"""Model artifacts as arrays + JSON: loading one can never run code.

An artifact is one safetensors file: raw little-endian arrays and a JSON header whose
``__metadata__`` holds one JSON document with ``format`` (``swarmlens.stance.v2``) and
``config`` (the model's parameters). Nothing in it is executable, so whatever a file or
its sidecar claims, loading it only ever parses bytes. The bytes are hashed before they are parsed
(``registry``), and the same bytes are parsed, so a file swapped between check and load
is never read. Writing is deterministic: the same arrays and config give the same bytes,
so a model rebuilt identically has the same SHA-256.

Old joblib (pickle) artifacts are refused with a message saying how to retrain.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load as load_arrays
from safetensors.numpy import save as save_arrays

from swarmlens.classifier.errors import ArtifactFormatError
from swarmlens.classifier.fsio import atomic_write_bytes

FORMAT = "swarmlens.stance.v2"
SUFFIX = ".safetensors"
_PICKLE_MAGIC = (b"\x80", b"\x78\x9c", b"\x1f\x8b", b"BZh", b"\xfd7zXZ")  # pickle, zlib, gz...
_MAX_HEADER = 100 * 1024 * 1024


def to_bytes(arrays: dict[str, np.ndarray], config: dict[str, Any]) -> bytes:
    """Serialise ``arrays`` and ``config`` (JSON-able) deterministically."""
    contiguous = {name: np.ascontiguousarray(value) for name, value in arrays.items()}
    # One metadata key: safetensors keeps metadata in a hash map, whose order varies from
    # call to call, and the bytes must not.
    meta = {"swarmlens": json.dumps({"format": FORMAT, "config": config}, sort_keys=True)}
    return save_arrays(contiguous, metadata=meta)


def write(path: str | Path, arrays: dict[str, np.ndarray], config: dict[str, Any]) -> str:
    """Write an artifact atomically; returns the SHA-256 of its bytes."""
    data = to_bytes(arrays, config)
    atomic_write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()


def from_bytes(data: bytes, source: str = "artifact") -> tuple[dict[str, np.ndarray], dict]:
    """Parse an artifact's bytes into (arrays, config); never executes anything.

    source: how to name the file in error messages.
    Raises ArtifactFormatError for a pickle, a foreign file or a corrupt header.
    """
    # A safetensors file starts with its header's length (8 bytes, little-endian) and then
    # the JSON header: its first byte can be anything, 0x80 included, so it is recognised
    # by the '{' after the length before any pickle magic is looked at.
    looks_like_safetensors = len(data) > 8 and data[8:9] == b"{"
    if not looks_like_safetensors and (data.startswith(_PICKLE_MAGIC) or data[:2] == b"PK"):
        raise ArtifactFormatError(
            f"{source} is a pickled (joblib) model from an older swarmlens: such files can run "
            "code when loaded, so they are refused. Retrain it: `swarmlens train --data "
            "LABELLED.jsonl --out model.safetensors` (the default model rebuilds itself when "
            "the registry holds none)."
        )
    if len(data) < 8:
        raise ArtifactFormatError(f"{source} is too short to be a swarmlens model")
    (header_size,) = struct.unpack("<Q", data[:8])
    if header_size > min(_MAX_HEADER, len(data) - 8):
        raise ArtifactFormatError(f"{source} is not a swarmlens model (no safetensors header)")
    try:
        header = json.loads(data[8 : 8 + header_size])
        meta = json.loads((header.get("__metadata__") or {}).get("swarmlens", "{}"))
        if meta.get("format") != FORMAT:
            raise ArtifactFormatError(
                f"{source} has format {meta.get('format')!r}, not {FORMAT!r}: retrain it with "
                "`swarmlens train`"
            )
        config = meta["config"]
        if not isinstance(config, dict):
            raise ArtifactFormatError(f"{source} has no model config")
        arrays = load_arrays(data)
    except ArtifactFormatError:
        raise
    except Exception as exc:  # any parse failure is a bad file, never a crash
        raise ArtifactFormatError(f"{source} cannot be read as a swarmlens model: {exc}") from None
    return arrays, config
