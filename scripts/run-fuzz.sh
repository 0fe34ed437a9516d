#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each for a bounded time from
# its seed corpus. Usage: scripts/run-fuzz.sh [seconds per fuzzer, default 60]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
scripts/bootstrap.sh --with-fuzzers
cmake --preset fuzz -DEQUIV_FUZZ_SECONDS="$seconds" >/dev/null
cmake --build --preset fuzz --parallel "$(nproc)"
ctest --preset fuzz -L fuzz   # the fuzzers only (the tools' tests run in the other presets)
