#!/usr/bin/env bash
# README's second command: install the test extras, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh test
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
