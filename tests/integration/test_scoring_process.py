"""A scoring process: kernels loaded from numba's on-disk cache score exactly as freshly
compiled ones, the cache a CLI scoring leaves (as ``scripts/install.sh`` warms it) serves
the API paths too, and a process never imports pandas (answering pyarrow's probe)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

_COMPILED = """
import sys

def compiled():
    from numba.core.dispatcher import Dispatcher
    kernels = {id(v): v for name, m in list(sys.modules.items())
               if name.startswith("swarmlens.") for v in vars(m).values()
               if isinstance(v, Dispatcher)}.values()
    used = [k.stats for k in kernels if k.stats.cache_hits or k.stats.cache_misses]
    print("COMPILED=" + str(sum(sum(s.cache_misses.values()) for s in used)),
          "LOADED=" + str(sum(sum(s.cache_hits.values()) for s in used)),
          "CACHE=" + " ".join(sorted({s.cache_path for s in used})), file=sys.stderr)
"""

_RUN_CLI = _COMPILED + """
from swarmlens.classifier.cli.main import main
sys.argv = ["swarmlens", *sys.argv[1:]]
try:
    main()
finally:
    print("PANDAS_IMPORTED=" + str("pandas" in sys.modules), file=sys.stderr)
    compiled()
"""


def _awkward_lines() -> list[str]:
    texts = ["", "ＡＢＣ ＃ｔａｇ @ｍｅ", "\u200bw\u200bww.example.org/x", "@عربي مرحبا #باريس",
             "İstanbul ΣΑΣ ς", "a\x00b\x1f\tc", "#Paris " * 300, "🙂" * 40,
             "RT @demo_x: https://archive.org/web/2015/https://justpaste.it/abc?x=1#f"]
    return [json.dumps({"id": f"awkward-{i}", "platform": "twitter", "author": "a",
                        "text": text, "created_at": "2015-11-14T00:00:00Z"})
            for i, text in enumerate(texts)]


def _figures(stderr: str) -> dict[str, str]:
    line = next(line for line in stderr.splitlines() if line.startswith("COMPILED="))
    return dict(part.split("=", 1) for part in line.split(" ", 2))


def _score(env: dict[str, str], posts: Path, out: Path) -> dict[str, str]:
    result = subprocess.run(
        [sys.executable, "-c", _RUN_CLI, "score", str(posts), "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "PANDAS_IMPORTED=False" in result.stderr  # pyarrow's probe answered
    return _figures(result.stderr)


# What scripts/install.sh runs after its CLI scoring to warm the cache.
_EXPLAIN = """from swarmlens.classifier.model.training import ensure_model
ensure_model()[0].explain('warm #up @it', label='neutral')"""


@pytest.fixture(scope="module")
def warmed_cache(
    shared_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, str], Path, bytes]:
    """(environment with an empty user cache, posts, output of the process that compiled
    every kernel into that cache). Then warmed further as ``scripts/install.sh`` does."""
    from swarmlens.classifier.demo.generator import generate_demo

    root = tmp_path_factory.mktemp("kernel-cache")
    env = {**shared_env, "XDG_CACHE_HOME": str(root / "cache")}
    env.pop("NUMBA_CACHE_DIR", None)  # set by this test process's own swarmlens import
    lines = [json.dumps(r) for _, r in zip(range(3000), generate_demo(), strict=False)]
    posts = root / "posts.jsonl"
    posts.write_text("\n".join(lines + _awkward_lines()) + "\n", encoding="utf-8")
    first = _score(env, posts, root / "compiled.jsonl")
    assert int(first["COMPILED"]) > 0 and first["LOADED"] == "0", first
    assert all(path.startswith(str(root / "cache" / "swarmlens" / "numba"))
               for path in first["CACHE"].split()), first
    subprocess.run([sys.executable, "-c", _EXPLAIN], env=env, check=True, timeout=600)
    return env, posts, (root / "compiled.jsonl").read_bytes()


def test_cached_kernels_score_byte_for_byte_as_freshly_compiled_ones(
    warmed_cache: tuple[dict[str, str], Path, bytes], tmp_path: Path
) -> None:
    env, posts, compiled = warmed_cache
    figures = _score(env, posts, tmp_path / "cached.jsonl")
    assert figures["COMPILED"] == "0" and int(figures["LOADED"]) > 0, figures
    assert compiled.count(b"\n") == 3009
    assert (tmp_path / "cached.jsonl").read_bytes() == compiled


_API_PATH = _COMPILED + """
import numba  # before swarmlens: its cache must still be swarmlens's
from swarmlens.classifier.batch.scoring import label_probabilities, score_batch
from swarmlens.classifier.model.training import ensure_model
from swarmlens.classifier.posts.readers import record_to_posts

model, entry = ensure_model()
texts = ["Paris #PrayForParis", "", "@عربي مرحبا", "ＡＢＣ ＃ｔａｇ", "x" * 3000]
label_probabilities(model, texts)
model.predict_proba(texts[:1])
model.explain(texts[0], label="neutral")
[post] = record_to_posts({"id": "p1", "platform": "twitter", "author": "a",
                         "text": texts[2], "created_at": "2015-11-14T00:00:00Z"}, "api", 1)
score_batch(model, [post], entry.id)
compiled()
"""


def test_the_api_paths_load_every_kernel_the_install_warmed(
    warmed_cache: tuple[dict[str, str], Path, bytes],
) -> None:
    """What the server calls (classify, explain, ingest) compiles nothing once the cache
    is warmed as ``scripts/install.sh`` does, even in a process that imported numba first."""
    env = warmed_cache[0]
    result = subprocess.run([sys.executable, "-c", _API_PATH], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    figures = _figures(result.stderr)
    assert figures["COMPILED"] == "0" and int(figures["LOADED"]) > 0, figures
    assert all(path.startswith(env["XDG_CACHE_HOME"]) for path in figures["CACHE"].split())


_AFTER_THE_PROBE = """
import sys
from swarmlens.classifier.cli.scoring import _answer_pyarrows_pandas_probe
import pyarrow as pa
_answer_pyarrows_pandas_probe()
assert "pandas" not in sys.modules
pa.array([1, None])
import pandas as pd
frame = pd.DataFrame({"n": [1, 2], "s": ["a", None]})
table = pa.Table.from_pandas(frame, preserve_index=False)
assert table.column("n").to_pylist() == [1, 2] and table.column("s").to_pylist() == ["a", None]
assert pa.array(pd.Series([1.5, None])).to_pylist() == [1.5, None]
print("OK")
"""


def test_pandas_still_converts_after_pyarrows_probe_was_answered() -> None:
    result = subprocess.run([sys.executable, "-c", _AFTER_THE_PROBE], capture_output=True,
                            text=True, timeout=120)
    assert result.stdout.strip() == "OK", result.stderr
