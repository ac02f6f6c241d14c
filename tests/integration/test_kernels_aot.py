"""The AOT-compiled kernels score exactly as numba's JIT does, in real processes, and a
process running them never imports numba."""

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
