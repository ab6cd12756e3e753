#!/usr/bin/env bash
# Set up and run the bundled demo (offline unless MINIMAX_API_KEY is set).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/ratchet demo "$@"
