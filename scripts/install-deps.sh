#!/usr/bin/env bash
# Installs every package least needs to build, test, benchmark and demo.
# Idempotent and quick when everything is present: apt-get runs only for
# packages that are missing.
set -euo pipefail

# The shared libraries nginx and redis-server need (`apt-cache depends nginx
# redis-tools`); their binaries are unpacked by fetch_servers below.
server_libraries=(libcrypt1 libpcre2-8-0 libssl3 zlib1g libatomic1 libjemalloc2 liblzf1 libsystemd0)

packages=(
  # build
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
  libseccomp-dev libcap-dev libtomlplusplus-dev nlohmann-json3-dev libcli11-dev libfmt-dev
  libgtest-dev libbenchmark-dev clang-format
  # the eBPF backend of least learn: libbpf (static archive, with libelf and zlib)
  libbpf-dev libelf-dev zlib1g-dev
  # least analyze: Zydis disassembles x86-64 code
  libzydis-dev
  # programs the tests and the demo confine
  python3 python3-yaml git curl sqlite3 coreutils busybox
  # peers and tools for tests and benchmarks
  bubblewrap firejail hyperfine valgrind seccomp time strace
  # the real consumers of `least export`: OCI runtimes, AppArmor's parser
  crun runc apparmor
  # the libraries of nginx and redis-server (fetch_servers unpacks the binaries)
  "${server_libraries[@]}"
)

# A static busybox for the OCI bundles' rootfs in the export tests. Its own
# package would remove the dynamic busybox, so it is unpacked, not installed.
static_busybox_dir=/var/cache/least/busybox-static
fetch_static_busybox() {
  [ -x "$static_busybox_dir/bin/busybox" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "least: run as root once to fetch busybox-static into $static_busybox_dir" >&2
    return 1
  fi
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download busybox-static >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get download busybox-static >/dev/null; })
  mkdir -p "$static_busybox_dir"
  dpkg -x "$tmp"/busybox-static_*.deb "$static_busybox_dir"
  rm -rf "$tmp"
}

# nginx and redis-server for the tests and benchmarks of least analyze. Their
# packages would start services listening on the network, so only their
# libraries are installed; the binaries are unpacked from the .debs into
# $servers_dir (nginx: /usr/sbin/nginx; redis-server: /usr/bin/redis-server,
# a link to redis-check-rdb in redis-tools).
servers_dir=/var/cache/least/servers
server_packages=(nginx redis-server redis-tools)
fetch_servers() {
  [ -x "$servers_dir/usr/sbin/nginx" ] && [ -x "$servers_dir/usr/bin/redis-server" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "least: run as root once to unpack nginx and redis-server into $servers_dir" >&2
    return 1
  fi
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download "${server_packages[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get download "${server_packages[@]}" >/dev/null; })
  mkdir -p "$servers_dir"
  local deb
  for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$servers_dir"; done
  rm -rf "$tmp"
  "$servers_dir/usr/sbin/nginx" -v
  "$servers_dir/usr/bin/redis-server" --version
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  fetch_static_busybox
  fetch_servers
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
fetch_static_busybox
fetch_servers
