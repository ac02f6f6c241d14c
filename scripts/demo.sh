#!/usr/bin/env bash
# README's first command: install, then run the main job on the embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
exec .venv/bin/swarmlens demo "$@"
