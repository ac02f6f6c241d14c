"""The ahead-of-time build of swarmlens's kernels (``numba.pycc``), run once per install.

    python -m swarmlens.classifier.kernels build [--force]

1. Runs a small workload through the JIT (train a model on a few hundred demo posts,
   load it as the registry does, score a JSONL file and awkward texts) and records the
   argument types every kernel was called with: the build exports exactly the
   signatures that scoring uses, each under its own symbol.
2. Compiles them with ``numba.pycc`` into one extension module for this CPU. The
   exported wrappers release the GIL, as the JIT kernels do (``nogil=True``).
3. Writes it to ``CACHE_DIR/aot/<stamp>/`` through a temporary folder renamed into
   place, then the ``complete`` marker last: a crashed build is never loaded.

It needs a C compiler (numba.pycc compiles its runtime helpers). Without one, or on a
numba without pycc, nothing is built and the JIT keeps running the kernels.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from swarmlens.classifier import kernels
from swarmlens.classifier.kernels import AOT_MODULE, build_dir, build_stamp, type_key


class BuildError(RuntimeError):
    """The AOT build could not be made (the JIT keeps running the kernels)."""


def build(force: bool = False) -> tuple[Path, int, bool]:
    """Build this code's AOT kernels unless already built, in a fresh process (a process
    that already scored has cached what the workload must see being built). Returns
    (folder, exports, built); raises BuildError when it cannot be built."""
    command = [sys.executable, "-m", "swarmlens.classifier.kernels", "build", "--json"]
    done = subprocess.run(command + (["--force"] if force else []), capture_output=True,
                          text=True, check=False)
    lines = done.stdout.strip().splitlines()
    try:
        report = json.loads(lines[-1])
    except (IndexError, ValueError):
        raise BuildError(f"the build process failed ({done.returncode}): "
                         f"{done.stderr.strip()[-2000:]}") from None
    if "error" in report:
        raise BuildError(report["error"])
    return Path(report["folder"]), int(report["exports"]), bool(report["built"])


def build_here(force: bool = False) -> tuple[Path, int, bool]:
    """``build`` in this process (``python -m swarmlens.classifier.kernels build`` runs it)."""
    stamp = build_stamp()
    folder = build_dir(stamp)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent installs build once
        if (folder / "complete").is_file() and not force:
            exports = json.loads((folder / "exports.json").read_text(encoding="utf-8"))
            return folder, len(exports["exports"]), False
        signatures = _recorded_signatures()
        staging = Path(tempfile.mkdtemp(prefix=f".{stamp}-", dir=folder.parent))
        try:
            exports = _compile(signatures, staging)
            (staging / "exports.json").write_text(
                json.dumps({"stamp": stamp, "exports": exports}, indent=1), encoding="utf-8")
            if folder.exists():
                shutil.rmtree(folder)
            staging.rename(folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        (folder / "complete").write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    prune_other_builds(folder)
    return folder, len(exports), True


KEEP_OTHER_BUILDS = 3
"""Builds for other code or versions kept beside a new one: another checkout or virtual
environment on the same machine (a CI clone beside the working tree) may still be using
one, and deleting it would send that one's processes to the JIT."""


def prune_other_builds(folder: Path, keep: int = KEEP_OTHER_BUILDS) -> list[Path]:
    """Remove the builds beside ``folder`` but the ``keep`` most recently built ones;
    returns the removed folders. Unfinished builds (dot names) are left to their builder."""
    others = [d for d in folder.parent.iterdir()
              if d.is_dir() and d.name != folder.name and not d.name.startswith(".")]
    others.sort(key=lambda d: d.stat().st_mtime, reverse=True)
    for old in others[keep:]:
        shutil.rmtree(old, ignore_errors=True)
    return others[keep:]


def _recorded_signatures() -> list[tuple[kernels.Kernel, Any, Any]]:
    """(kernel, type key, numba signature) of every distinct call the workload makes."""
    kernels._RECORDING = []
    kernels._aot_exports.cache_clear()
    try:
        with tempfile.TemporaryDirectory(prefix="swarmlens-aot-workload-") as work:
            _workload(Path(work))
        calls = kernels._RECORDING
    finally:
        kernels._RECORDING = None
        kernels._aot_exports.cache_clear()
    from numba import typeof
    from numba.core.typing.typeof import Purpose

    seen: dict[tuple[str, Any], tuple[kernels.Kernel, Any, Any]] = {}
    for kernel, args in calls:
        key = type_key(args)
        if key is None or (kernel.name, key) in seen:
            continue
        argtypes = tuple(typeof(value, Purpose.argument) for value in args)
        overload = kernel.dispatcher.overloads.get(argtypes)
        if overload is not None:
            seen[kernel.name, key] = (kernel, key, overload.signature)
    if not seen:
        raise BuildError("the workload called no kernel")
    return list(seen.values())


def _compile(signatures: list[tuple[kernels.Kernel, Any, Any]], out: Path) -> list[dict]:
    try:
        with warnings.catch_warnings():  # pycc is "pending deprecation" with no replacement yet
            warnings.simplefilter("ignore")
            import numba.pycc.compiler as pycc_compiler
            from numba.core.compiler import Flags
            from numba.pycc import CC
    except ImportError as error:  # a numba without pycc
        raise BuildError(f"numba.pycc is not available: {error}") from None

    class _ReleasingFlags(Flags):  # the wrappers release the GIL, like nogil=True
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.release_gil = True

    cc = CC(AOT_MODULE, source_module=kernels)
    cc.output_dir = str(out)
    cc.target_cpu = "host"
    exports = []
    for number, (kernel, key, signature) in enumerate(signatures):
        symbol = f"k{number}"
        cc.export(symbol, signature)(kernel.py_func)
        exports.append({"kernel": kernel.name, "symbol": symbol, "key": key,
                        "signature": str(signature)})
    plain = pycc_compiler.Flags
    pycc_compiler.Flags = _ReleasingFlags
    try:
        cc.compile()
    except Exception as error:  # compiler missing, link failure: the JIT stays
        raise BuildError(f"numba.pycc could not compile the kernels: {error}") from error
    finally:
        pycc_compiler.Flags = plain
    return exports


def _workload(work: Path) -> None:
    """Call every kernel the way scoring does: a trained model, loaded from its artifact,
    scoring a JSONL file (read, entities, prepare, n-grams, subwords, JSONL output) and
    awkward texts."""
    import itertools
    import json as jsonlib

    from swarmlens.classifier.batch.jsonl import jsonl_bytes
    from swarmlens.classifier.batch.scoring import score_table
    from swarmlens.classifier.demo.generator import generate_demo
    from swarmlens.classifier.model import registry
    from swarmlens.classifier.model.training import demo_data, entry_fields, train_model
    from swarmlens.classifier.posts.columnar import read_batches

    records = list(itertools.islice(generate_demo(), 600))
    data = demo_data(600)
    model, info = train_model(data, cv_folds=0)
    described = {"kind": "aot-workload", "description": "kernel build workload"}
    entry = registry.register(model, entry_fields("aot-workload", model, info, described),
                              work / "models")
    scorer, _ = registry.load(entry.id, work / "models")
    awkward = ["", " ", "ＡＢＣ ＃ｔａｇ @ｍｅ", "\u200bw\u200bww.example.org/x", "@عربي مرحبا",
               "İstanbul ΣΑΣ", "a\x00b\x1f\tc", "x" * 5000, "#tag https://archive.org/web/"
               "2015/https://justpaste.it/abc?x=1#f @user", "🙂" * 40]
    lines = [jsonlib.dumps({**r, "label": None}) for r in records[:300]]
    lines += [jsonlib.dumps({"id": f"awkward-{i}", "platform": "twitter", "author": "a",
                             "text": text, "created_at": "2015-11-14T00:00:00Z"})
              for i, text in enumerate(awkward)]
    posts = work / "posts.jsonl"
    posts.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for _, batch in read_batches([posts]):
        jsonl_bytes(score_table(scorer, batch.table, entry.id))
    scorer.predict_proba(awkward)
    scorer.predict_proba([""])
    # A model with more than 65,536 distinct scoring rows indexes them by uint32.
    from swarmlens.classifier.model.fused import ScoringTable, decision_scores
    from swarmlens.classifier.model.linear import prepared_texts

    rows, index = scorer.scoring_table_
    decision_scores(prepared_texts(awkward, scorer.params), scorer.params,
                    ScoringTable(rows, index.astype("uint32")))
    scorer.explain(awkward[-2])
    model.predict_proba(awkward)
