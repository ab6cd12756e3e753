#!/usr/bin/env bash
# Set up everything Ratchet needs on a fresh machine, idempotently:
#   - a virtual environment in .venv with ratchet (editable) and its test tools;
#   - git and bubblewrap (the test sandbox) from the system packages when missing and we may install.
# Used by scripts/demo.sh and scripts/test.sh; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
command -v git >/dev/null 2>&1 || need_pkgs+=(git)
command -v bwrap >/dev/null 2>&1 || need_pkgs+=(bubblewrap)
if [ ${#need_pkgs[@]} -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=""; fi
  fi
  if [ "$(id -u)" = 0 ] || [ -n "$SUDO" ]; then
    echo "bootstrap: installing ${need_pkgs[*]} (apt)" >&2
    $SUDO apt-get install -y -q "${need_pkgs[@]}" >/dev/null 2>&1 \
      || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q "${need_pkgs[@]}" >/dev/null; } \
      || echo "bootstrap: could not install ${need_pkgs[*]}; continuing" >&2
  fi
fi
command -v git >/dev/null 2>&1 || { echo "bootstrap: git is required; install it first" >&2; exit 1; }

PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
  || { echo "bootstrap: Python 3.11+ is required (found $("$PY" --version 2>&1))" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.ratchet-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  # uv installs the dependency set in ~3 s instead of ~30 s with pip; fall back to pip when uv
  # is missing or fails (uv trusts the system's certificates only with UV_NATIVE_TLS, which a
  # TLS-intercepting proxy needs; older and newer uv spell it differently, so set both).
  if [ ! -x .venv/bin/uv ]; then .venv/bin/python -m pip install -q uv >/dev/null 2>&1 || true; fi
  if ! { [ -x .venv/bin/uv ] && VIRTUAL_ENV="$PWD/.venv" UV_NATIVE_TLS=1 UV_SYSTEM_CERTS=1 \
         .venv/bin/uv pip install -q --compile-bytecode -e ".[test]"; }; then
    [ -x .venv/bin/uv ] && echo "bootstrap: uv could not install; using pip" >&2
    .venv/bin/python -m pip install -q -e ".[test]"
  fi
  touch "$stamp"
fi
