#!/usr/bin/env bash
# Installs every package least needs to build, test, benchmark and demo.
# Idempotent and quick when everything is present: apt-get runs only for
# packages that are missing.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
  libseccomp-dev libcap-dev libtomlplusplus-dev nlohmann-json3-dev libcli11-dev libfmt-dev
  libgtest-dev libbenchmark-dev clang-format
  # programs the tests and the demo confine
  python3 git curl sqlite3 coreutils busybox
  # peers and tools for tests and benchmarks
  bubblewrap firejail hyperfine valgrind seccomp time
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "least: missing packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "least: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
