"""swarmlens's numba kernels: how they are declared and where numba caches them.

Every kernel is declared with ``@kernel`` (``numba.njit``: nopython, releases the GIL,
cached on disk) or ``@inline_kernel`` (a small helper numba inlines into its callers).
numba compiles a kernel on its first call with new argument types and caches the machine
code; later processes load it from the cache (``scripts/install.sh`` warms it).

The cache lives in the user's cache directory, never in the source tree or
site-packages: ``~/.cache/swarmlens/numba/<digest>/``. numba notices a change to a
kernel's own file, not to a kernel it calls from another file (a documented limitation of
its cache), so the folder is named by a digest of every file that declares kernels
(``KERNEL_SOURCES``): changing any of them starts a new folder, and the oldest folders
beyond ``KEEP_CACHES`` are removed. A ``NUMBA_CACHE_DIR`` set by the user is left alone.

``disk_cached`` caches the derived tables the kernels read.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import shutil
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from platformdirs import user_cache_path

log = logging.getLogger(__name__)

CACHE_DIR = user_cache_path("swarmlens")
_CLASSIFIER = Path(__file__).resolve().parent
KERNEL_SOURCES = (
    "model/hashing.py",
    "model/fused.py",
    "model/subwords.py",
)
"""The files (under ``classifier/``) that declare kernels; ``tests/unit/test_kernels.py``
checks every kernel lives in one."""
CHECKED_KERNELS = ("decode_words", "count_ngrams", "_hash_count", "_segment", "_lookup",
                   "_is_piece", "_pool_kernel")
"""The kernels declared with ``checked_kernel`` (their own bounds checks, see there)."""

KEEP_CACHES = 3
"""numba cache folders kept beside the current one: another checkout or environment on
the machine may be using one."""


OPTIONS = {"cache": True, "nogil": True, "boundscheck": True}
"""How every kernel is compiled. Bounds checks are on: the kernels write into buffers
sized from text a user controls, and a sizing mistake must be an IndexError, never a
write past a buffer. The hottest kernels do their own checks instead (``checked_kernel``):
numba's cost 20% of an archive job's CPU (25.9 against 20.8 us a post, 1M demo posts)."""


def numba_cache_dir(classifier: Path = _CLASSIFIER) -> Path:
    """This code's numba cache folder (named by the digest of ``KERNEL_SOURCES`` and the
    compile ``OPTIONS``, which numba's cache index does not key on)."""
    digest = hashlib.sha256(repr(sorted(OPTIONS.items())).encode())
    for source in KERNEL_SOURCES:
        digest.update(source.encode() + b"\0" + (classifier / source).read_bytes())
    return CACHE_DIR / "numba" / digest.hexdigest()[:16]


def _use_cache_dir() -> None:
    """Point numba at ``numba_cache_dir()`` (numba reads NUMBA_CACHE_DIR when imported)."""
    current = os.environ.get("NUMBA_CACHE_DIR")
    if current and not Path(current).is_relative_to(CACHE_DIR / "numba"):
        return  # the user's choice
    folder = numba_cache_dir()
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    if folder.is_dir() or not folder.parent.is_dir():
        return
    try:  # a new folder: drop the oldest others
        others = sorted((d for d in folder.parent.iterdir() if d.is_dir()),
                        key=lambda d: d.stat().st_mtime, reverse=True)
    except OSError:  # another process is pruning them
        return
    for old in others[KEEP_CACHES:]:
        shutil.rmtree(old, ignore_errors=True)


_use_cache_dir()
import numba  # noqa: E402  (after NUMBA_CACHE_DIR is set)

numba.core.config.reload_config()  # for a numba imported before the variable was set

kernel = numba.njit(**OPTIONS)
"""Declare a numba kernel (``@kernel``): nopython, cached, releases the GIL."""
inline_kernel = numba.njit(**OPTIONS, inline="always")
"""Declare a small numba helper that numba inlines into the kernels calling it."""

checked_kernel = numba.njit(**{**OPTIONS, "boundscheck": False})
"""Declare a hot kernel that does its own bounds checking (``@checked_kernel``), where
numba's check of every array access costs most: up to 60% of a kernel's time (the
subword segmentation ran 3.96 us a post with it, 1.53 without). Such a kernel

* checks the room left in every buffer it writes before it writes there (a code point,
  a piece at a time) and raises IndexError when it is short, as numba would;
* reads the text only below the end of its own string (``hashing.utf8_at``), whose
  bounds ``arrow_buffers`` has checked, and tables that cover every index the
  kernel can form (the code-point tables every decodable code point; a subword table's
  ids its rows, checked when it is built).

Each is listed in ``CHECKED_KERNELS``; ``tests/unit/test_kernels.py`` runs every one on
hostile text (invalid UTF-8, truncated sequences, long runs) as plain Python, where numpy
checks every index, and checks that a short buffer raises."""


def disk_cached(builder: Callable[[], Any]) -> Callable[[], Any]:
    """Cache what ``builder`` returns (an array or a tuple of arrays) in memory and on disk.

    For the code-point tables the kernels read, derived from Python's and Arrow's Unicode
    data (0.1-0.2 s each to rebuild, in every process). Stored as ``.npz`` (loaded
    without pickle) under ``CACHE_DIR/tables``, keyed on the builder's module source,
    Python (and its Unicode database), numpy and pyarrow: a change to any rebuilds it.
    An unreadable file is rebuilt: it holds nothing that cannot be derived again.
    """

    @functools.cache
    def cached() -> Any:
        path = CACHE_DIR / "tables" / f"{builder.__qualname__.strip('_')}-{_table_key(builder)}.npz"
        try:
            with np.load(path, allow_pickle=False) as stored:
                arrays = [stored[f"a{i}"] for i in range(len(stored.files))]
            return arrays[0] if len(arrays) == 1 else tuple(arrays)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            pass  # missing or damaged: derive it again
        value = builder()
        arrays = value if isinstance(value, tuple) else (value,)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            with open(temporary, "wb") as handle:
                np.savez(handle, **{f"a{i}": array for i, array in enumerate(arrays)})
            os.replace(temporary, path)
        except OSError as error:  # a read-only cache only costs time
            log.debug("cannot cache %s in %s: %s", builder.__qualname__, path, error)
        return value

    return functools.update_wrapper(cached, builder)


def _table_key(builder: Callable[[], Any]) -> str:
    import unicodedata

    import pyarrow as pa  # imported already by every module with a cached table

    module = sys.modules[builder.__module__]
    digest = hashlib.sha256(Path(module.__file__ or "").read_bytes())
    for part in (builder.__qualname__, sys.version, unicodedata.unidata_version,
                 np.__version__, pa.__version__):
        digest.update(b"\0" + part.encode())
    return digest.hexdigest()[:20]


def arrow_buffers(texts: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(offsets int64, data uint8, valid uint8 or empty) as views of an Arrow string array.

    texts: pyarrow (Large)StringArray / ChunkedArray / StringViewArray, or strings.
    """
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks() if texts.num_chunks else pa.array([], pa.large_string())
    if not isinstance(texts, pa.Array):
        texts = pa.array(list(texts), type=pa.large_string())
    if not (pa.types.is_string(texts.type) or pa.types.is_large_string(texts.type)):
        texts = texts.cast(pa.large_string())  # string_view, dictionary, null arrays
    n = len(texts)
    _, obuf, dbuf = texts.buffers()
    odt = np.int32 if pa.types.is_string(texts.type) else np.int64
    if n == 0 or obuf is None:
        offsets = np.zeros(n + 1, np.int64)
    else:
        offsets = np.frombuffer(obuf, odt, n + 1, texts.offset * odt().itemsize).astype(np.int64)
    empty = dbuf is None or not dbuf.size
    data = np.zeros(1, np.uint8) if empty else np.frombuffer(dbuf, np.uint8)
    valid = texts.is_valid().to_numpy(zero_copy_only=False) if texts.null_count else []
    # The kernels read data[offsets[r]:offsets[r + 1]] unchecked: Arrow promises these
    # bounds, and this makes sure of it (a pass over n + 1 integers) before any kernel runs.
    if offsets[0] < 0 or offsets[-1] > data.size or np.any(offsets[1:] < offsets[:-1]):
        raise ValueError("a string array's offsets are out of order or past its data")
    return offsets, data, np.asarray(valid, np.uint8)
