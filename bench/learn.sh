#!/usr/bin/env bash
# What recording costs (issue 5): `least learn` with each backend against the
# bare program and against `strace -f -o /dev/null`, on the two workloads of
# bench/run.sh, in one hyperfine run so that all rows share the machine's
# state. Needs root for the eBPF backend.
#
#   bench/learn.sh            writes $RESULTS/learn.{md,json}
#
# Environment: BUILD (build), LEAST ($BUILD/least), RESULTS (bench/results),
# RUNS (10 per command), DD_COUNT (200000 one-byte copies: 400000 syscalls).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The eBPF backend keeps its verified programs in the BPF filesystem between
# runs (docs/learn.md). systemd mounts one at /sys/fs/bpf; where there is
# none (this CI machine), the benchmark runs in a mount namespace of its own
# with one mounted there, so that it measures what a systemd machine does.
if [ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" != bpf_fs ] && [ -z "${LEAST_BENCH_BPFFS:-}" ]; then
  exec env LEAST_BENCH_BPFFS=1 unshare -m --propagation private \
    sh -c 'mount -t bpf bpf /sys/fs/bpf && exec "$0" "$@"' "$0" "$@"
fi

BUILD=${BUILD:-build}
LEAST=${LEAST:-$BUILD/least}
RESULTS=${RESULTS:-bench/results}
RUNS=${RUNS:-10}
DD_COUNT=${DD_COUNT:-200000}

die() {
  echo "bench/learn.sh: $*" >&2
  exit 1
}
[ -x "$LEAST" ] || die "no $LEAST: build first (cmake --build build)"
command -v hyperfine >/dev/null || die "hyperfine missing: scripts/install-deps.sh"
command -v strace >/dev/null || die "strace missing: scripts/install-deps.sh"
probe=$(mktemp)
# Also the first load, pinned for the runs below.
"$LEAST" learn --backend ebpf -o "$probe" -- true 2>/dev/null ||
  die "the eBPF backend is not available here (root, or CAP_BPF+CAP_PERFMON)"

rm -f "$probe"
mkdir -p "$RESULTS"
policies=$(mktemp -d)
trap 'rm -rf "$policies"' EXIT

TAR="tar cf /dev/null /usr/include"
DD="dd if=/dev/zero of=/dev/null bs=1 count=$DD_COUNT status=none"

args=()
for w in tar dd; do
  if [ $w = tar ]; then cmd=$TAR; else cmd=$DD; fi
  args+=(-n "$w: bare" "$cmd")
  args+=(-n "$w: least learn --backend notify" "$LEAST learn --backend notify -o $policies/$w-notify.toml -- $cmd")
  args+=(-n "$w: least learn --backend ebpf" "$LEAST learn --backend ebpf -o $policies/$w-ebpf.toml -- $cmd")
  args+=(-n "$w: strace -f -o /dev/null" "strace -f -o /dev/null $cmd")
done
args+=(-n "start-up: least learn --backend ebpf -- true" "$LEAST learn --backend ebpf -o $policies/true.toml -- true")

# -N: no shell; every command is run directly, so none pays a shell's start.
hyperfine -N --warmup 1 --runs "$RUNS" --style basic \
  --export-markdown "$RESULTS/learn.md" --export-json "$RESULTS/learn.json" "${args[@]}"

# Ratios per workload: each row against bare, and notify against strace.
python3 - "$RESULTS/learn.json" <<'PY'
import json, sys
rows = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
for w in ("tar", "dd"):
    bare = rows[f"{w}: bare"]["mean"]
    strace = rows[f"{w}: strace -f -o /dev/null"]["mean"]
    for name, r in rows.items():
        if name.startswith(w + ":"):
            print(f"{name:40s} {r['mean']*1000:9.1f} ms ± {r['stddev']*1000:6.1f}  "
                  f"{r['mean']/bare:5.2f}x bare")
    notify = rows[f"{w}: least learn --backend notify"]["mean"]
    print(f"{w}: notify is {strace/notify:.2f}x faster than strace -f")
PY
