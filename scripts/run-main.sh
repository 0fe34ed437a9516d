#!/usr/bin/env bash
# The main job: installs what is missing, builds the release preset, and runs the example
# validation of the built-in port on the simulated device (tools/validate/validate_port.cc):
# clean, then with one injected fault; results and HTML reports under out/validation/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
cmake --preset release >/dev/null
cmake --build --preset release --parallel "$(nproc)"
exec build/release/tools/validate/validate_port "$@"
