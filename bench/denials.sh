#!/usr/bin/env bash
# What the supervisor costs: refused calls per second under `least run`
# (each is a seccomp user notification, decoded, answered, counted), and the
# proof that allowed calls never reach it (a getppid loop, bare vs least).
#   bench/denials.sh            (after `make build`)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
LEAST=${LEAST:-build/least}
HELPERS=${HELPERS:-build/bench}
N=${N:-50000}
for i in 1 2 3; do
  "$LEAST" run -- "$HELPERS/denial_loop" "$N" 2>/dev/null
done
echo
hyperfine --style basic -N --warmup 3 --runs 15 \
  --command-name "getppid x5M, bare" "$HELPERS/syscall_loop" \
  --command-name "getppid x5M, least run (allowed: never notified)" "$LEAST run -- $HELPERS/syscall_loop"
