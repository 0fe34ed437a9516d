#!/usr/bin/env bash
# The main job: installs what is missing, builds the release preset, and runs the example
# validation (for now: a triple comparison and its report).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
cmake --preset release >/dev/null
cmake --build --preset release --parallel "$(nproc)"
exec build/release/examples/001-first-report
