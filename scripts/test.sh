#!/usr/bin/env bash
# README's second command: install the test extras (and Debian's chromium for the browser
# tests), then run ruff, the import layers check and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh test
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "note: /usr/bin/chromium missing and not root: the browser tests will be skipped" >&2
  fi
fi
.venv/bin/ruff check .
# The layers and the no-cycles rule (pyproject.toml, [tool.importlinter]).
.venv/bin/lint-imports --no-cache
exec .venv/bin/python -m pytest "$@"
