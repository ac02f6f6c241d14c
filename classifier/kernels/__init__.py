"""swarmlens's compiled kernels: numba functions that run ahead-of-time compiled when built.

Every numba kernel is declared with ``@kernel`` (or ``@inline_kernel`` for small helpers
that numba inlines into their callers). A ``Kernel`` is a plain Python object: declaring
one imports nothing. Called from Python, it runs

1. the ahead-of-time (AOT) compiled export for its argument types, from the extension
   module that ``python -m swarmlens.classifier.kernels build`` compiles once per install
   (``scripts/install.sh`` runs it) with ``numba.pycc``. Loading it costs under a
   millisecond and never imports numba; or, when there is none for this code (no build,
   kernel sources changed, other numba/numpy/Python, other CPU, or argument types the
   build never saw),
2. numba's JIT (``njit(cache=True)``): numba is imported on first need (0.3 s), its
   registries are set up on the first call (0.5 s) and compiled code comes from its cache.

Both are compiled from the same Python source by the same numba, so they give the same
results (``tests/unit/test_kernels.py`` runs a scoring through both and compares every
byte). ``SWARMLENS_KERNELS=jit`` forces the JIT. Why it matters: numba's start-up was
about a second of every ``swarmlens`` process (``bench/throughput.py`` times whole
processes).

Kernels call each other as ordinary globals: numba types a ``Kernel`` as its dispatcher.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.machinery
import importlib.util
import json
import logging
import os
import platform
import sys
import threading
import zipfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from platformdirs import user_cache_path

log = logging.getLogger(__name__)

CACHE_DIR = user_cache_path("swarmlens")
"""numba's JIT cache (``numba/``) and the AOT builds (``aot/``) live here, never in the
source tree (an editable install would otherwise write next to the sources)."""
# numba reads NUMBA_CACHE_DIR when it is imported: set it before anyone imports numba.
os.environ.setdefault("NUMBA_CACHE_DIR", str(CACHE_DIR / "numba"))

KERNEL_SOURCES = (
    "model/hashing.py",
    "model/fused.py",
    "model/subwords.py",
    "text/codepoints.py",
    "text/entity_columns.py",
    "batch/jsonl.py",
)
"""The files (under ``classifier/``) that declare kernels: an AOT build is valid only for
these exact bytes. ``tests/unit/test_kernels.py`` checks every kernel lives in one."""
_BUILD_SOURCES = ("kernels/__init__.py", "kernels/aot.py")
"""The build's own code (argument keys, workload): part of the stamp too."""
AOT_MODULE = "_swarmlens_kernels"
_CLASSIFIER = Path(__file__).resolve().parents[1]
_JIT_OPTIONS = {"cache": True, "nogil": True, "boundscheck": False}


class Kernel:
    """A numba kernel, compiled ahead of time or on first call (see the module doc).

    py_func: the Python function numba compiles. inline: numba inlines it into its
    callers (``inline="always"``) instead of calling it.
    """

    def __init__(self, py_func: Callable[..., Any], inline: bool = False) -> None:
        self.py_func = py_func
        self.inline = inline
        self.name = f"{py_func.__module__}:{py_func.__qualname__}"
        self._dispatcher: Any = None
        functools.update_wrapper(self, py_func)
        _KERNELS[self.name] = self

    def __repr__(self) -> str:
        return f"<Kernel {self.name}>"

    def __call__(self, *args: Any) -> Any:
        compiled = _aot_exports().get(self.name)
        if compiled:
            key = type_key(args)
            function = compiled.get(key)  # type: ignore[arg-type]
            if function is not None:
                return function(*args)
            if (self.name, key) not in JIT_FALLBACKS:
                JIT_FALLBACKS.add((self.name, key))
                log.debug("%s: no AOT export for argument types %s: numba's JIT runs it",
                          self.name, key)
        if _RECORDING is not None:
            _RECORDING.append((self, args))
        return self.dispatcher(*args)

    @property
    def dispatcher(self) -> Any:
        """numba's JIT dispatcher for this kernel (imports numba on first use)."""
        if self._dispatcher is None:
            with _LOCK:
                if self._dispatcher is None:
                    numba = _numba()
                    options = dict(_JIT_OPTIONS, **({"inline": "always"} if self.inline else {}))
                    self._dispatcher = numba.njit(**options)(self.py_func)
        return self._dispatcher

    @property
    def targetoptions(self) -> dict[str, Any]:
        """What numba's inlining pass reads off a callee."""
        return self.dispatcher.targetoptions


def kernel(py_func: Callable[..., Any]) -> Kernel:
    """Declare a numba kernel (``@kernel``): nopython, cached, releases the GIL."""
    return Kernel(py_func)


def inline_kernel(py_func: Callable[..., Any]) -> Kernel:
    """Declare a small numba helper that numba inlines into the kernels calling it."""
    return Kernel(py_func, inline=True)


_KERNELS: dict[str, Kernel] = {}
JIT_FALLBACKS: set[tuple[str, Any]] = set()
"""(kernel, argument types) called with an AOT build loaded that had no export for them."""
_LOCK = threading.RLock()
_RECORDING: list[tuple[Kernel, tuple[Any, ...]]] | None = None  # set by ``aot.build``


@functools.cache
def _numba() -> Any:
    """numba, imported once, with a ``Kernel`` typed (and called) as its dispatcher."""
    import numba
    from numba.core import types
    from numba.extending import typeof_impl

    if not numba.config.CACHE_DIR:  # numba was imported before us, without the variable
        numba.config.CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]

    @typeof_impl.register(Kernel)
    def _typeof_kernel(value: Kernel, context: Any) -> Any:
        return types.Dispatcher(value.dispatcher)

    return numba


# ---------------------------------------------------------------- argument types

_SAME_AS_PYTHON = {"|b1": "b", "<i8": "i", "<f8": "f"}
_LAYOUTS = {(True, True): "C", (True, False): "C", (False, True): "F", (False, False): "A"}


def type_key(args: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """What numba's dispatcher would type ``args`` as, as a hashable key computed without
    numba (None: a value an AOT export never takes). Arrays: dtype, dimensions, layout
    and writability (numba compiles each combination separately)."""
    keys = []
    for value in args:
        key = _value_key(value)
        if key is None:
            return None
        keys.append(key)
    return tuple(keys)


def _value_key(value: Any) -> Any:
    kind = type(value)
    if kind is np.ndarray:
        flags = value.flags
        layout = _LAYOUTS[flags.c_contiguous, flags.f_contiguous] if value.ndim else "C"
        return ("a", value.dtype.str, value.ndim, layout, flags.writeable)
    if kind is bool:
        return "b"
    if kind is int:
        return "i" if -(1 << 63) <= value < (1 << 63) else None
    if kind is float:
        return "f"
    if kind is tuple:
        inner = type_key(value)
        return None if inner is None else ("t", inner)
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        # numba types np.bool_, np.int64 and np.float64 as it types bool, int and float
        return _SAME_AS_PYTHON.get(value.dtype.str, ("s", value.dtype.str))
    return None


# ---------------------------------------------------------------- the AOT build on disk


def build_stamp() -> str:
    """What an AOT build is valid for: the kernel sources' bytes, the numba, llvmlite,
    numpy and Python versions, and this CPU (the build targets the host CPU)."""
    digest = hashlib.sha256()
    # numpy's own __version__: a metadata lookup scans sys.path (5-10 ms in every process)
    for name, version in (("numba", metadata.version("numba")),
                          ("llvmlite", metadata.version("llvmlite")), ("numpy", np.__version__)):
        digest.update(f"{name}={version}\n".encode())
    digest.update(f"python={sys.version}\nmachine={platform.machine()}\n".encode())
    digest.update(_cpu_flags().encode())
    for source in KERNEL_SOURCES + _BUILD_SOURCES:
        digest.update(source.encode() + b"\0" + (_CLASSIFIER / source).read_bytes())
    return digest.hexdigest()[:24]


def _cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith(("flags", "Features")):
                    return line
    except OSError:
        pass
    return platform.processor()


def build_dir(stamp: str | None = None) -> Path:
    """Where the AOT build for ``stamp`` (default: this code's) lives."""
    return CACHE_DIR / "aot" / (stamp or build_stamp())


def aot_mode() -> str:
    """``SWARMLENS_KERNELS``: ``auto`` (the AOT build when there is one) or ``jit``."""
    from swarmlens.classifier.settings import get_settings

    return get_settings().kernels


@functools.cache
def _aot_exports() -> dict[str, dict[tuple[Any, ...], Callable[..., Any]]]:
    """{kernel name: {type key: compiled function}} of this code's AOT build ({}: none)."""
    if _RECORDING is not None or aot_mode() == "jit":
        return {}
    folder = build_dir()
    if not (folder / "complete").is_file():  # written last by the build
        log.debug("no AOT kernel build in %s: numba's JIT runs the kernels", folder)
        return {}
    try:
        module = _load_extension(folder)
        exports = json.loads((folder / "exports.json").read_text(encoding="utf-8"))
        table: dict[str, dict[tuple[Any, ...], Callable[..., Any]]] = {}
        for entry in exports["exports"]:
            key = _frozen(entry["key"])
            table.setdefault(entry["kernel"], {})[key] = getattr(module, entry["symbol"])
    except (OSError, ImportError, AttributeError, KeyError, ValueError) as error:
        log.warning("the AOT kernel build in %s cannot be used (%s): numba's JIT runs "
                    "the kernels; rebuild with `python -m swarmlens.classifier.kernels "
                    "build`", folder, error)
        return {}
    return table


def _load_extension(folder: Path) -> Any:
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    spec = importlib.util.spec_from_file_location(AOT_MODULE, folder / (AOT_MODULE + suffix))
    if spec is None or spec.loader is None:
        raise ImportError(f"no extension module in {folder}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _frozen(value: Any) -> Any:
    """A key read back from JSON (lists) as the tuples ``type_key`` builds."""
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    return value


def aot_loaded() -> bool:
    """Whether this process runs kernels from an AOT build."""
    return bool(_aot_exports())


# ---------------------------------------------------------------- derived tables on disk


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


def describe() -> str:
    """Which kernels this process runs, for people (benchmarks print it)."""
    if aot_loaded():
        exports = sum(len(table) for table in _aot_exports().values())
        return f"AOT-compiled ({exports} exports, build {build_dir().name})"
    if aot_mode() == "jit":
        return "numba JIT (SWARMLENS_KERNELS=jit)"
    return ("numba JIT (no AOT build for this code: `python -m swarmlens.classifier.kernels "
            "build`)")
