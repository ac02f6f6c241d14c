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
# The editable install is setuptools' strict mode: a tree of links under build/ whose
# paths are the import paths (swarmlens/classifier/... -> classifier/...), which pyright,
# editors and lint-imports follow (the default mode's import hook they cannot). A link
# tree does not see new files, so it is rebuilt when the list of source files changes.
editable=(--config-settings editable_mode=strict)
# pip's output (and setuptools' banners about the editable mode chosen here) goes to a log
# that is shown only when pip fails.
pip_quietly() {
  if ! .venv/bin/python -m pip "$@" >.venv/pip.log 2>&1; then
    cat .venv/pip.log >&2
    return 1
  fi
}
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)-${extras:-none}"
if [ ! -f "$stamp" ]; then
  echo "Installing swarmlens and its dependencies into .venv (a few minutes the first time) ..." >&2
  # setuptools too: the link step below builds without isolation, with the venv's own
  # setuptools, and a new venv's (65.x with Python 3.11) cannot read pyproject's SPDX
  # `license`; build-system asks for >= 77.
  pip_quietly install --upgrade pip "setuptools>=77"
  pip_quietly install -e "$spec" "${editable[@]}"
  touch "$stamp"
fi
sources="$(find classifier serve annotation -type f ! -path '*/__pycache__/*' ! -name '*.pyc' \
  | LC_ALL=C sort | sha256sum | cut -c1-16)"
if [ ! -f ".venv/.linked-$sources" ]; then
  pip_quietly install --no-deps --no-build-isolation -e . "${editable[@]}"
  rm -f .venv/.linked-* && touch ".venv/.linked-$sources"
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
# Bytecode for the sources, where imports look for it (beside the link tree's files): an
# editable install has none, and PYTHONDONTWRITEBYTECODE would otherwise make every
# process compile them again.
.venv/bin/python -m compileall -q build/__editable__.swarmlens-* >/dev/null
