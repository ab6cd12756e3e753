#!/usr/bin/env bash
# Run all checks: ruff, mypy, then the whole test suite (unit, fakes on 127.0.0.1, end-to-end)
# in parallel workers (two per core, at most 8; RATCHET_TEST_WORKERS overrides) with branch
# coverage of the in-process tests (a floor in pyproject.toml). Arguments go to pytest; with
# arguments (a subset of the tests) the run is serial and coverage is not measured.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/ruff check src tests benchmarks
.venv/bin/mypy
if [ $# -eq 0 ]; then
  workers=${RATCHET_TEST_WORKERS:-$(( $(nproc 2>/dev/null || echo 1) * 2 ))}
  if [ "$workers" -gt 8 ]; then workers=8; fi
  set -- -n "$workers" --cov --cov-report=term
fi
exec .venv/bin/python -m pytest "$@"
