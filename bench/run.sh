#!/usr/bin/env bash
# least's benchmarks: what confinement costs, against a bare run and against
# bubblewrap with Docker's default seccomp profile, each benchmark one
# hyperfine run so that all its rows share the same machine state.
#
#   bench/run.sh [startup|tar|dd|getppid|personality|rss]...   (default: all)
#
# Run from anywhere after `make build`; installs nothing (hyperfine, bwrap:
# scripts/install-deps.sh). Results go to $RESULTS: machine.txt, the Docker
# filter, and per round round-N/ with hyperfine's JSON and markdown, the peak
# RSS table and summary.md; $RESULTS/summary.md compares the rounds.
# Environment: BUILD (build), LEAST ($BUILD/least), RESULTS (bench/results),
# ROUNDS (3), and *_RUNS to change the number of runs of one benchmark.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD=${BUILD:-build}
LEAST=${LEAST:-$BUILD/least}
HELPERS=${HELPERS:-$BUILD/bench}
RESULTS=${RESULTS:-bench/results}
PROFILE=bench/data/docker-default-seccomp.json
BPF=$RESULTS/docker-default.bpf

# This VM moves 10-30% between runs: many runs, and the bare command measured
# a second time at the end of each benchmark to show the drift within one run.
STARTUP_RUNS=${STARTUP_RUNS:-300}
TAR_RUNS=${TAR_RUNS:-60}
DD_RUNS=${DD_RUNS:-20}
LOOP_RUNS=${LOOP_RUNS:-20}
RSS_RUNS=${RSS_RUNS:-30}
ROUNDS=${ROUNDS:-3}  # the whole set, again and again: the spread between rounds is the noise
LOOP_N=5000000     # syscalls per syscall_loop run
DD_COUNT=1000000   # dd bs=1: one read and one write per byte

# Peers: bwrap alone, and bwrap loading Docker's filter from descriptor 9.
# bwrap reads that descriptor to its end, so run.sh opens the filter once as
# descriptor 9 (every command inherits it) and hyperfine rewinds it before
# each run (--prepare, not timed). So no command needs a shell: hyperfine runs
# them all directly (-N), with no shell start-up to estimate and subtract.
BWRAP="bwrap --dev-bind / /"
BWRAP_DOCKER="$BWRAP --seccomp 9"
# Closer to what least's default sets up (pid, ipc, uts, cgroup and mount
# namespaces, a pid 1 above the program; the network is shared).
BWRAP_NS_DOCKER="bwrap --unshare-all --share-net --dev-bind / / --seccomp 9"
REWIND_FD9="python3 -c 'import os; os.lseek(9, 0, os.SEEK_SET)'"

die() {
  echo "bench/run.sh: $*" >&2
  exit 1
}

preflight() {
  for tool in hyperfine bwrap python3; do
    command -v "$tool" >/dev/null || die "$tool is missing: run scripts/install-deps.sh"
  done
  for bin in "$LEAST" "$HELPERS/docker_to_bpf" "$HELPERS/syscall_loop" "$HELPERS/peak_rss"; do
    [ -x "$bin" ] || die "$bin is missing: run make build"
  done
  mkdir -p "$RESULTS"
}

# The facts a reader needs to judge the numbers.
record_machine() {
  {
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "nproc: $(nproc)"
    echo "kernel: $(uname -r)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "least: $("$LEAST" --version) ($LEAST, built $(date -u -r "$LEAST" '+%Y-%m-%d %H:%M:%S UTC'))"
    echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' + uncommitted changes')"
    echo "hyperfine: $(hyperfine --version)"
    echo "bwrap: $(bwrap --version)"
    echo "libseccomp: $(pkg-config --modversion libseccomp 2>/dev/null || echo unknown)"
    echo "user: $(id -un)"
  } >"$RESULTS/machine.txt"
  cat "$RESULTS/machine.txt"
}

# Docker's default profile as the BPF program a container would get.
compile_docker_profile() {
  "$HELPERS/docker_to_bpf" "$PROFILE" "$BPF" | tee "$RESULTS/docker_to_bpf.txt"
}

# Every command must succeed before it is timed: a refused syscall must not
# pass for a fast run. (hyperfine also stops on a non-zero exit.)
check() {
  local label=$1 cmd=$2
  if ! sh -c "$cmd" >/dev/null 2>&1 9<"$BPF"; then
    die "'$label' fails: $cmd"
  fi
}

# hyper NAME RUNS WARMUP LABEL COMMAND [LABEL COMMAND]...
# One hyperfine run over all the commands; exports $OUT/NAME.{json,md}.
hyper() {
  local name=$1 runs=$2 warmup=$3
  shift 3
  local args=()
  : >"$OUT/$name.commands.tsv"
  while [ $# -gt 0 ]; do
    check "$1" "$2"
    args+=(--command-name "$1" "$2")
    printf '%s\t%s\n' "$1" "$2" >>"$OUT/$name.commands.tsv"
    shift 2
  done
  echo
  echo "== $name: $runs runs per command (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  record_load "$name" before
  hyperfine --style basic -N --warmup "$warmup" --runs "$runs" --prepare "$REWIND_FD9" \
    --export-json "$OUT/$name.json" --export-markdown "$OUT/$name.md" \
    "${args[@]}" 9<"$BPF"
  record_load "$name" after
}

# Other work on the machine shows up as noise: keep the load average next to
# the numbers, and say so up front when the machine is busy.
record_load() {
  printf '%s\t%s\t%s\n' "$1" "$2" "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/load.tsv"
}

warn_if_busy() {
  local load
  load=$(cut -d' ' -f1 /proc/loadavg)
  if awk -v l="$load" 'BEGIN { exit !(l > 0.5) }'; then
    echo "bench/run.sh: warning: load average $load: other work will add noise" >&2
  fi
}

# The two env rows differ only in least's filter cache (LEAST_NO_CACHE=1
# compiles the filter with libseccomp on every run); env adds its own exec
# to both.
bench_startup() {
  hyper startup "$STARTUP_RUNS" 20 \
    "bare" "/bin/true" \
    "least --version (load only)" "$LEAST --version" \
    "least run --promise 'stdio rpath'" "$LEAST run --promise 'stdio rpath' -- /bin/true" \
    "least run (default policy)" "$LEAST run -- /bin/true" \
    "env, filter cache on" "env LEAST_NO_CACHE=0 $LEAST run -- /bin/true" \
    "env, filter cache off" "env LEAST_NO_CACHE=1 $LEAST run -- /bin/true" \
    "bwrap" "$BWRAP /bin/true" \
    "bwrap + Docker profile" "$BWRAP_DOCKER /bin/true" \
    "bwrap --unshare-all --share-net + Docker profile" "$BWRAP_NS_DOCKER /bin/true" \
    "bare (repeat)" "/bin/true"
}

# tar opens, stats and lists every file (with /dev/null as the archive GNU
# tar skips reading the contents). The /bin/true rows give least's fixed
# start-up cost in the same run, to separate it from the per-syscall cost.
bench_tar() {
  local tar="tar cf /dev/null /usr/include"
  local minimal="stdio rpath wpath cpath"  # tar creat()s its archive
  hyper tar "$TAR_RUNS" 5 \
    "bare" "$tar" \
    "least run (default policy)" "$LEAST run -- $tar" \
    "least run --promise '$minimal'" "$LEAST run --promise '$minimal' -- $tar" \
    "least run --promise '$minimal' + Landlock paths" \
    "$LEAST run --promise '$minimal' --read /usr/include --read /etc --write /dev/null -- $tar" \
    "bare /bin/true" "/bin/true" \
    "least run -- /bin/true" "$LEAST run -- /bin/true" \
    "bare (repeat)" "$tar"
}

bench_dd() {
  local dd="dd if=/dev/zero of=/dev/null bs=1 count=$DD_COUNT"
  hyper dd "$DD_RUNS" 2 \
    "bare" "$dd" \
    "least run (default policy)" "$LEAST run -- $dd" \
    "least run --promise 'stdio rpath wpath'" "$LEAST run --promise 'stdio rpath wpath' -- $dd" \
    "bwrap" "$BWRAP $dd" \
    "bwrap + Docker profile" "$BWRAP_DOCKER $dd" \
    "bare (repeat)" "$dd"
}

# bench_loop getppid|personality: one syscall LOOP_N times (bench/syscall_loop.c).
bench_loop() {
  local call=$1
  local loop="$HELPERS/syscall_loop $LOOP_N $call"
  hyper "$call" "$LOOP_RUNS" 2 \
    "bare" "$loop" \
    "least run (default policy)" "$LEAST run -- $loop" \
    "bwrap" "$BWRAP $loop" \
    "bwrap + Docker profile" "$BWRAP_DOCKER $loop" \
    "bare (repeat)" "$loop"
}

# Peak RSS in KiB (ru_maxrss of the largest process in the tree), with GNU
# time when it is there, else bench/peak_rss.c (the same wait4 number).
peak_rss() {
  local out
  out=$(mktemp)
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f %M -o "$out" "$@" >/dev/null
  else
    "$HELPERS/peak_rss" -o "$out" "$@" >/dev/null
  fi
  cat "$out"
  rm -f "$out"
}

# rss_row LABEL COMMAND...: RSS_RUNS samples -> "label<TAB>min<TAB>median<TAB>max".
rss_row() {
  local label=$1
  shift
  local samples=()
  for _ in $(seq "$RSS_RUNS"); do
    # A fresh descriptor 9 for each run: bwrap --seccomp 9 reads it to the end.
    samples+=("$(peak_rss "$@" 9<"$BPF")")
  done
  printf '%s\n' "${samples[@]}" | sort -n | awk -v label="$label" '
    { v[NR] = $1 }
    END { printf "%s\t%d\t%d\t%d\n", label, v[1], v[int((NR + 1) / 2)], v[NR] }'
}

bench_rss() {
  local tool=bench/peak_rss.c
  [ -x /usr/bin/time ] && tool="/usr/bin/time -f %M"
  echo
  echo "== rss: $RSS_RUNS runs per command, measured with $tool"
  {
    printf 'command\tmin_kib\tmedian_kib\tmax_kib\n'
    rss_row "bare /bin/true" /bin/true
    rss_row "least --version (load only)" "$LEAST" --version
    rss_row "least run -- /bin/true" "$LEAST" run -- /bin/true
    rss_row "least run --promise 'stdio rpath' -- /bin/true" "$LEAST" run --promise "stdio rpath" -- /bin/true
    rss_row "bwrap --dev-bind / / /bin/true" bwrap --dev-bind / / /bin/true
    rss_row "bwrap + Docker profile" bwrap --dev-bind / / --seccomp 9 /bin/true
    rss_row "bwrap --unshare-all --share-net + Docker profile" \
      bwrap --unshare-all --share-net --dev-bind / / --seccomp 9 /bin/true
  } | tee "$OUT/rss.tsv"
  record_load rss after
  echo "$tool" >"$OUT/rss_tool.txt"
}

main() {
  local selected=("$@")
  [ ${#selected[@]} -gt 0 ] || selected=(startup tar dd getppid personality rss)
  preflight
  # The summary describes this invocation only: drop the results of earlier ones.
  rm -rf "$RESULTS"/round-* "$RESULTS"/*.md "$RESULTS"/*.txt "$BPF"
  warn_if_busy
  record_machine
  compile_docker_profile
  local summarize=(python3 bench/summarize.py --loop-iterations "$LOOP_N" --dd-count "$DD_COUNT")
  # Each round runs every selected benchmark once; rounds show how much the
  # numbers move between runs on this machine.
  for round in $(seq "$ROUNDS"); do
    OUT=$RESULTS/round-$round
    mkdir -p "$OUT"
    echo
    echo "##### round $round of $ROUNDS"
    for b in "${selected[@]}"; do
      case $b in
        startup | tar | dd | rss) "bench_$b" ;;
        getppid | personality) bench_loop "$b" ;;
        *) die "unknown benchmark $b (startup tar dd getppid personality rss)" ;;
      esac
    done
    "${summarize[@]}" "$OUT" >"$OUT/summary.md"
  done
  "${summarize[@]}" --across "$RESULTS"/round-* >"$RESULTS/summary.md"
  echo
  echo "Summary: $RESULTS/summary.md (each round: $RESULTS/round-N/summary.md)"
}

main "$@"
