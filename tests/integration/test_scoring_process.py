"""A scoring process: AOT-compiled kernels score exactly as numba's JIT does, and a process
running them imports neither numba nor (answering pyarrow's probe) pandas."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from swarmlens.classifier.kernels.aot import build

_RUN_CLI = """
import sys
from swarmlens.classifier.cli.main import main
sys.argv = ["swarmlens", *sys.argv[1:]]
try:
    main()
finally:
    print("NUMBA_IMPORTED=" + str("numba" in sys.modules), file=sys.stderr)
    print("PANDAS_IMPORTED=" + str("pandas" in sys.modules), file=sys.stderr)
"""


def _awkward_lines() -> list[str]:
    texts = ["", "ＡＢＣ ＃ｔａｇ @ｍｅ", "\u200bw\u200bww.example.org/x", "@عربي مرحبا #باريس",
             "İstanbul ΣΑΣ ς", "a\x00b\x1f\tc", "#Paris " * 300, "🙂" * 40,
             "RT @demo_x: https://archive.org/web/2015/https://justpaste.it/abc?x=1#f"]
    return [json.dumps({"id": f"awkward-{i}", "platform": "twitter", "author": "a",
                        "text": text, "created_at": "2015-11-14T00:00:00Z"})
            for i, text in enumerate(texts)]


def test_aot_kernels_score_byte_for_byte_as_the_jit_without_numba(
    shared_env: dict[str, str], tmp_path: Path
) -> None:
    from swarmlens.classifier.demo.generator import generate_demo

    build()  # a no-op when scripts/install.sh built it for this code
    lines = [json.dumps(r) for _, r in zip(range(3000), generate_demo(), strict=False)]
    posts = tmp_path / "posts.jsonl"
    posts.write_text("\n".join(lines + _awkward_lines()) + "\n", encoding="utf-8")
    outputs = {}
    for mode in ("auto", "jit"):
        out = tmp_path / f"out-{mode}.jsonl"
        result = subprocess.run(
            [sys.executable, "-c", _RUN_CLI, "score", str(posts), "--out", str(out)],
            env={**shared_env, "SWARMLENS_KERNELS": mode}, capture_output=True, text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr
        imported = "NUMBA_IMPORTED=True" in result.stderr
        assert imported == (mode == "jit"), (mode, result.stderr[-2000:])
        assert "PANDAS_IMPORTED=False" in result.stderr  # pyarrow's probe answered
        outputs[mode] = out.read_bytes()
    assert outputs["auto"].count(b"\n") == 3009
    assert outputs["auto"] == outputs["jit"]


_API_PATH = """
import sys
from swarmlens.classifier import kernels
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
print("AOT=" + str(kernels.aot_loaded()), "FALLBACKS=" + repr(sorted(kernels.JIT_FALLBACKS)),
      "NUMBA=" + str("numba" in sys.modules))
"""


def test_the_api_paths_run_on_aot_kernels_alone(shared_env: dict[str, str]) -> None:
    """What the server calls (classify, explain, ingest) finds an AOT export for every
    kernel call: no JIT fallback, no numba in the process."""
    build()
    result = subprocess.run([sys.executable, "-c", _API_PATH], env=shared_env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "AOT=True FALLBACKS=[] NUMBA=False" in result.stdout, result.stdout


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
