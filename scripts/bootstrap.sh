#!/usr/bin/env bash
# Installs the Debian packages equiv builds with, and only those that are missing.
# Usage: scripts/bootstrap.sh [--with-fuzzers] [--with-browser] [--with-golden-tools]
#                             [--with-python]
#   --with-fuzzers       also installs clang and libFuzzer (the asan preset: sanitizers, fuzzers).
#   --with-browser       also installs Chromium, for the HTML report's browser test (without
#                        it that test is skipped).
#   --with-golden-tools  also installs python3-torch, needed only to regenerate tests/data.
#   --with-python        also installs python3-numpy and python3-torch, for the capture package
#                        python/equiv_dump and its tests (without them those tests are skipped).
set -euo pipefail

packages=(cmake g++ make libgtest-dev libgmock-dev libbenchmark-dev libeigen3-dev
          nlohmann-json3-dev libcli11-dev libdnnl-dev)
for option in "$@"; do
  case "$option" in
    --with-fuzzers) packages+=(clang-14 libclang-rt-14-dev) ;;
    --with-browser) packages+=(chromium) ;;
    --with-golden-tools) packages+=(python3-torch python3-numpy) ;;
    --with-python) packages+=(python3-numpy python3-torch) ;;
    *) echo "bootstrap: unknown option $option" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} == 0 )); then
  echo "bootstrap: all build dependencies present"
  exit 0
fi

echo "bootstrap: installing missing Debian packages: ${missing[*]}"
sudo=()
if (( EUID != 0 )); then
  command -v sudo >/dev/null || { echo "bootstrap: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
