#!/usr/bin/env bash
# Startup of `least run` with every layer (namespaces, cgroups off, Landlock,
# capabilities, seccomp with its supervisor) against the peers, one
# hyperfine run, /bin/true as the program; then peak memory of each launcher.
#   bench/startup_peers.sh            (after `make build`; results in bench/results/)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
LEAST=${LEAST:-build/least}
RESULTS=${RESULTS:-bench/results}
RUNS=${RUNS:-200}
mkdir -p "$RESULTS"

peers=(
  --command-name "bare" "/bin/true"
  --command-name "least run (default policy, all layers)" "$LEAST run -- /bin/true"
  --command-name "least run, a file policy (Landlock paths, read-only view)"
  "$LEAST run --promise 'stdio rpath' --read /usr/share -- /bin/true"
  --command-name "unshare -Urmpf --mount-proc" "unshare -Urmpf --mount-proc /bin/true"
  --command-name "bwrap --unshare-all" "bwrap --unshare-all --die-with-parent --ro-bind / / --dev /dev --proc /proc /bin/true"
)
if command -v firejail >/dev/null; then
  peers+=(--command-name "firejail --noprofile" "firejail --quiet --noprofile /bin/true")
fi
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
hyperfine --style basic -N --warmup 20 --runs "$RUNS" \
  --export-json "$RESULTS/startup_peers.json" --export-markdown "$RESULTS/startup_peers.md" "${peers[@]}"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# Peak resident memory of the launcher process itself (GNU time's %M is the
# largest of the process and its waited-for children; /bin/true is tiny).
echo
echo "peak RSS (KiB), median of 5:"
rss() {
  local samples=()
  for _ in 1 2 3 4 5; do
    samples+=("$( { /usr/bin/time -f %M "$@" >/dev/null; } 2>&1 | tail -n1)")
  done
  printf '%s\n' "${samples[@]}" | sort -n | sed -n 3p
}
{
  printf 'least run\t%s\n' "$(rss "$LEAST" run -- /bin/true)"
  printf 'bwrap --unshare-all\t%s\n' "$(rss bwrap --unshare-all --die-with-parent --ro-bind / / --dev /dev --proc /proc /bin/true)"
  command -v firejail >/dev/null && printf 'firejail\t%s\n' "$(rss firejail --quiet --noprofile /bin/true)"
  printf 'bare /bin/true\t%s\n' "$(rss /bin/true)"
} | tee "$RESULTS/startup_peers_rss.tsv"
