#!/usr/bin/env bash
# README's first command: install, run the main job on the embedded defaults (build the
# default model if needed, score the demo archive, print the top hashtags by label), then
# serve the API and dashboard with the scored demo archive attached.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
.venv/bin/swarmlens demo --dir demo-output
exec .venv/bin/swarmlens serve --data-dir demo-output/store --attach demo-output/scored \
  --port "${SWARMLENS_PORT:-8000}"
