#!/usr/bin/env bash
# What `least analyze` costs (issue 7): each program with its libraries, cold
# (no summary cache: every object disassembled) and warm (every summary read
# from the cache), in one hyperfine run; peak memory of each cold run with
# /usr/bin/time; and the syscall counts (static, the conservative-fallback
# flag) for docs/analyze.md.
#
#   bench/analyze.sh          writes $RESULTS/analyze.{md,json}
#
# Environment: BUILD (build), LEAST ($BUILD/least), RESULTS (bench/results),
# RUNS (10 per command), PROGRAMS (python3, nginx, redis-server).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD=${BUILD:-build}
LEAST=${LEAST:-$BUILD/least}
RESULTS=${RESULTS:-bench/results}
RUNS=${RUNS:-10}
SERVERS=/var/cache/least/servers
PROGRAMS=${PROGRAMS:-"/usr/bin/python3 $SERVERS/usr/sbin/nginx $SERVERS/usr/bin/redis-server"}

die() {
  echo "bench/analyze.sh: $*" >&2
  exit 1
}
[ -x "$LEAST" ] || die "no $LEAST: build first (cmake --build build)"
command -v hyperfine >/dev/null || die "hyperfine missing: scripts/install-deps.sh"
for p in $PROGRAMS; do [ -x "$p" ] || die "no $p: scripts/install-deps.sh fetches the servers"; done

mkdir -p "$RESULTS"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

args=()
for p in $PROGRAMS; do
  name=$(basename "$p")
  # The warm cache is filled once, before the runs.
  "$LEAST" analyze --cache-dir "$work/cache-$name" -o "$work/$name.toml" "$p" 2>/dev/null
  args+=(-n "$name: cold" "$LEAST analyze --no-cache -o $work/$name-cold.toml $p")
  args+=(-n "$name: warm" "$LEAST analyze --cache-dir $work/cache-$name -o $work/$name-warm.toml $p")
done

hyperfine -N --warmup 1 --runs "$RUNS" --style basic \
  --export-markdown "$RESULTS/analyze.md" --export-json "$RESULTS/analyze.json" "${args[@]}"

echo
printf '%-14s %12s %10s %14s\n' program peak-RSS syscalls non-constant
for p in $PROGRAMS; do
  name=$(basename "$p")
  rss=$(/usr/bin/time -f %M "$LEAST" analyze --no-cache --json -o "$work/$name.json" "$p" 2>&1 >/dev/null | tail -1)
  python3 - "$work/$name.json" "$name" "$rss" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
print(f"{sys.argv[2]:14s} {int(sys.argv[3]) / 1024:9.0f} MiB {len(j['syscalls']):10d} "
      f"{len(j['unknown_numbers']):14d}")
PY
done
