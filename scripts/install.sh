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
# The kernels' ahead-of-time build (numba.pycc, needs a C compiler): without it numba's
# JIT runs them, same results, about 0.7 s more per process. Rebuilt only when the
# kernel sources or numba/numpy/Python change.
if ! command -v cc >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev >/dev/null
fi
.venv/bin/python -m swarmlens.classifier.kernels build
# Bytecode for the sources (an editable install has none, and PYTHONDONTWRITEBYTECODE
# would otherwise make every process compile them again).
.venv/bin/python -m compileall -q classifier serve annotation >/dev/null
