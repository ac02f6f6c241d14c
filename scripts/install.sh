#!/usr/bin/env bash
# Create (or update) the project's virtual environment in .venv with the given extras.
# Usage: scripts/install.sh [EXTRAS]   e.g. scripts/install.sh test
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
spec="."
[ -n "$extras" ] && spec=".[$extras]"
# Reinstall only when the dependency list changed: a warm venv makes reruns fast.
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)-${extras:-none}"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e "$spec"
  touch "$stamp"
fi
# Warm numba's cache of the kernels (~/.cache/swarmlens/numba/): score a few demo posts
# as `swarmlens score` does and explain one as the server does, in a throwaway registry
# (its demo model trains in ~5 s), so that a user's first process loads the compiled
# kernels instead of compiling them (15-30 s). tests/integration/test_scoring_process.py
# checks that this leaves nothing for the API paths to compile.
warm="$(mktemp -d)"
( export SWARMLENS_MODELS_DIR="$warm/models"
  .venv/bin/swarmlens demo-data --n 50 --out "$warm/posts.jsonl"
  .venv/bin/swarmlens score "$warm/posts.jsonl" --out "$warm/scored.jsonl"
  .venv/bin/python -c "from swarmlens.classifier.model.training import ensure_model
ensure_model()[0].explain('warm #up @it', label='neutral')"
) >"$warm/log" 2>&1 || { cat "$warm/log" >&2; rm -rf "$warm"; exit 1; }
rm -rf "$warm"
# Bytecode for the sources (an editable install has none, and PYTHONDONTWRITEBYTECODE
# would otherwise make every process compile them again).
.venv/bin/python -m compileall -q classifier serve annotation >/dev/null
