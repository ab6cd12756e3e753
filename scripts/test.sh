#!/usr/bin/env bash
# Run all checks: ruff, then the whole test suite (unit, fakes on 127.0.0.1, end-to-end).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/ruff check src tests benchmarks
exec .venv/bin/python -m pytest "$@"
