#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds a preset (release by default;
# also debug, or asan: the sanitizer run, which leaves out the `long` tests, see the README)
# and runs its tests with ctest.
# Usage: scripts/run-tests.sh [release|debug|asan] [extra ctest arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
shift || true
case "$preset" in
  asan) scripts/bootstrap.sh --with-fuzzers ;;  # the sanitizer build is clang's
  *) scripts/bootstrap.sh ;;
esac
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" --parallel "$(nproc)"
ctest --preset "$preset" "$@"
