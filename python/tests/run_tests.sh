#!/bin/sh
# Runs the unittests of python/equiv_dump with the first interpreter that has numpy and torch
# ($EQUIV_PYTHON, python3, Debian's /usr/bin/python3); exits 77 (CTest's skip) without one.
# Usage: run_tests.sh SOURCE_DIR [EQUIV_BINARY [MODULE]]   (the binary: for the tests that run
# equiv; MODULE: one module of python/tests instead of every test_*.py, e.g. journey)
src=${1:?usage: run_tests.sh SOURCE_DIR [EQUIV_BINARY [MODULE]]}
export EQUIV_BINARY="${2:-}"
export EQUIV_SOURCE_DIR="$src"
for py in "${EQUIV_PYTHON:-}" python3 /usr/bin/python3; do
  [ -n "$py" ] && command -v "$py" >/dev/null 2>&1 || continue
  if "$py" -c "import numpy, torch" >/dev/null 2>&1; then
    cd "$src/python/tests" || exit 2
    export PYTHONPATH="$src/python:$src/python/tests${PYTHONPATH:+:$PYTHONPATH}"
    if [ -n "${3:-}" ]; then
      exec "$py" -m unittest -v "$3"
    fi
    cd "$src/python" || exit 2
    exec "$py" -m unittest discover -s tests -t tests -v
  fi
done
echo "SKIP: python3-torch not installed (or python3-numpy): run scripts/bootstrap.sh --with-python"
exit 77
