#!/usr/bin/env bash
# README's first command: install, run the main job on the embedded defaults (build the
# default model if needed, from a synthetic training corpus, not the demo archive; score the
# demo archive; print the top hashtags by label and the top hashtag's flood share three ways:
# classify-and-count, the simulated audit's estimate with its interval, the truth), then
# serve the API and dashboard with the scored demo archive attached, and the demo's simulated
# audit of its top hashtag stored (the dashboard shows that hashtag's audited estimate).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
.venv/bin/swarmlens demo --dir demo-output
# SWARMLENS_DEMO_SERVE=0 stops here: CI runs this script so (.ci/run) to prove, on a fresh
# clone, the install without the test extras and the main job; the suite tests the server.
[ "${SWARMLENS_DEMO_SERVE:-1}" = 0 ] && exit 0
exec .venv/bin/swarmlens serve --data-dir demo-output/store --attach demo-output/scored \
  --audit demo-output/simulated-audit.jsonl --port "${SWARMLENS_PORT:-8000}"
