#!/usr/bin/env bash
# Builds the libFuzzer targets (the asan preset: clang, ASan+UBSan) and runs each for a bounded
# time from its seed corpus. Usage: scripts/run-fuzz.sh [seconds per fuzzer, default 15]
# Long runs (a million executions and more) are for a changed parser: docs/dumps.md says how.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-15}"
scripts/bootstrap.sh --with-fuzzers
cmake --preset asan -DEQUIV_FUZZ_SECONDS="$seconds" >/dev/null
cmake --build --preset fuzz --parallel "$(nproc)"
ctest --preset fuzz
