#!/usr/bin/env bash
# Install the Label Studio server in its OWN virtual environment, apart from the app's
# dependencies (the app only needs label-studio-sdk). Idempotent: a second run only checks.
#
# Usage: scripts/labelstudio.sh
#   SWARMLENS_LS_VENV      where the venv goes (default ~/.cache/swarmlens/label-studio-venv)
#   SWARMLENS_LS_VERSION   the pinned version (default 1.23.2, the one our tests were checked on;
#                          if that exact version is unavailable, the newest 1.x is installed
#                          instead and a warning says so)
# The last line printed on stdout is the path of the `label-studio` executable; progress and
# warnings go to stderr. Exit status 3 means the package registry could not be reached.
# A first install downloads ~1 GB and takes 1-4 minutes.
# Do NOT check an install with `label-studio --version`: in 1.23.2 it does not exit but starts a
# server on 0.0.0.0:8080 with the default data dir (~/.local/share/label-studio). The version
# is read from the package metadata instead.
set -euo pipefail

venv="${SWARMLENS_LS_VENV:-$HOME/.cache/swarmlens/label-studio-venv}"
version="${SWARMLENS_LS_VERSION:-1.23.2}"
python="${SWARMLENS_LS_PYTHON:-python3}"
exe="$venv/bin/label-studio"
stamp="$venv/.swarmlens-label-studio-installed"

log() { echo "labelstudio.sh: $*" >&2; }

installed_ok() {
  # The stamp records the version we asked for; the executable must still answer.
  [ -f "$stamp" ] && [ "$(head -n1 "$stamp")" = "$version" ] && [ -x "$exe" ] \
    && "$venv/bin/python" -c "import importlib.metadata as m; m.version('label-studio')" \
      >/dev/null 2>&1
}

if installed_ok; then
  echo "$exe"
  exit 0
fi

mkdir -p "$(dirname "$venv")"
# Two test sessions may start at once: only one installs, the other waits for it.
exec 9>"$venv.lock"
flock 9
if installed_ok; then
  echo "$exe"
  exit 0
fi

if [ ! -x "$venv/bin/python" ]; then
  log "creating $venv"
  "$python" -m venv "$venv"
fi

pip=("$venv/bin/python" -m pip --disable-pip-version-check)
errlog="$(mktemp)"
trap 'rm -f "$errlog"' EXIT

registry_reachable() {
  # pip does not always say that it could not connect (not with PIP_RETRIES=0, nor with
  # --quiet): ask the configured index directly.
  "$venv/bin/python" - <<'PY'
import os, subprocess, sys, urllib.request
url = os.environ.get("PIP_INDEX_URL") or subprocess.run(
    [sys.executable, "-m", "pip", "config", "get", "global.index-url"],
    capture_output=True, text=True,
).stdout.strip() or "https://pypi.org/simple"
try:
    urllib.request.urlopen(url.rstrip("/") + "/pip/", timeout=20).read(1)
except Exception as exc:
    print(f"labelstudio.sh: {url} unreachable: {exc}", file=sys.stderr)
    sys.exit(1)
PY
}

log "installing label-studio==$version (about 1 GB, a few minutes the first time)"
if ! "${pip[@]}" install --quiet "label-studio==$version" 2>"$errlog"; then
  cat "$errlog" >&2
  if ! registry_reachable; then
    log "the package registry is unreachable"
    exit 3
  elif grep -qiE "No matching distribution|Could not find a version" "$errlog"; then
    # The exact pin is gone from the registry: take the newest 1.x and say so.
    log "WARNING: label-studio==$version is unavailable; installing the newest 1.x instead"
    "${pip[@]}" install --quiet "label-studio>=1,<2" 2>"$errlog" || {
      cat "$errlog" >&2
      exit 1
    }
  else
    exit 1
  fi
fi

got="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("label-studio"))')"
[ "$got" = "$version" ] || log "WARNING: installed label-studio $got, not the pinned $version"
# The stamp keys on the requested version, so the next run skips the install.
printf '%s\n%s\n' "$version" "$got" >"$stamp"
log "label-studio $got installed in $venv"
echo "$exe"
