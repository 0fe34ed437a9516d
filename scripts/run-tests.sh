#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds a preset (release by default;
# also debug or asan) and runs every test with ctest.
# Usage: scripts/run-tests.sh [release|debug|asan] [extra ctest arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
shift || true
scripts/bootstrap.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" --parallel "$(nproc)"
ctest --preset "$preset" "$@"
