#!/usr/bin/env bash
# Install the toolchains the ecosystem tests build real projects with, when they are missing
# and we may install (root, or passwordless sudo, and apt): Go, Node.js with npm, Rust's
# cargo, PHP with PHPUnit, and Ruby's RSpec with its JUnit formatter. Tests whose toolchain is still missing are skipped with the reason. Idempotent.
# A rustup toolchain under ~/.cargo/bin counts as installed (it is put on PATH by the caller).
set -euo pipefail

need=()
command -v go >/dev/null 2>&1 || need+=(golang-go)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if ! command -v cargo >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/cargo" ]; then need+=(cargo); fi
command -v php >/dev/null 2>&1 || need+=(php-cli)
command -v phpunit >/dev/null 2>&1 || need+=(phpunit)
command -v rspec >/dev/null 2>&1 || need+=(ruby-rspec)
ruby -e 'require "rspec_junit_formatter"' >/dev/null 2>&1 || need+=(ruby-rspec-junit-formatter)
[ ${#need[@]} -gt 0 ] || exit 0
command -v apt-get >/dev/null 2>&1 || { echo "toolchains: no apt-get; missing: ${need[*]}" >&2; exit 0; }
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "toolchains: not root and no sudo; missing: ${need[*]} (their tests will skip)" >&2
    exit 0
  fi
fi
echo "toolchains: installing ${need[*]} (apt)" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
  || { $SUDO apt-get update -q >/dev/null 2>&1 \
       && $SUDO apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null; } \
  || echo "toolchains: could not install ${need[*]}; their tests will skip" >&2
