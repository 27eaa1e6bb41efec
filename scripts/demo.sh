#!/usr/bin/env bash
# The one-minute tour: a policy, a program keeping its promises, the same
# program breaking them and being refused, and what the policy allows.
set -uo pipefail
cd "$(dirname "$0")/.."
LEAST=${LEAST:-build/least}
POLICY=examples/reader.least.toml

bold() { if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then printf '\n\033[1m%s\033[0m\n' "$*"; else printf '\n%s\n' "$*"; fi; }
show() { printf '$'; printf ' %q' "$@"; printf '\n'; "$@"; printf '[exit status %s]\n' "$?"; }

bold "1. A policy says what a program does: read documents and print them. Nothing else."
cat "$POLICY"

bold "2. The program keeps its promises and works."
show "$LEAST" run -p "$POLICY" -- wc -l /usr/share/common-licenses/GPL-3

bold "3. It tries to read a secret it never promised to read: Landlock refuses (the kernel reports no details)."
show "$LEAST" run -p "$POLICY" -- cat /etc/shadow

bold "4. It tries to open a network socket without the promise \"inet\": seccomp refuses, least says why."
show "$LEAST" run -p "$POLICY" -- /usr/bin/python3 -c \
  'import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM)'

bold "5. It tries to start a shell without the promise \"exec\": least refuses and says why."
show "$LEAST" run -p "$POLICY" -- env sh -c 'echo pwned'

bold "6. The same limits without a file, pledge-style, on the command line."
show "$LEAST" run --promise "stdio rpath" --read /usr/share/common-licenses -- head -n 2 /usr/share/common-licenses/GPL-3

bold "7. What the policy allows, before anything runs (least explain, abridged)."
"$LEAST" explain -p "$POLICY" | sed -n '1,6p;/^Refused/,/^Compared/p' | sed '/^Compared/d'
"$LEAST" explain -p "$POLICY" | sed -n '/^Compared/,/^$/p'

bold "No policy at all? \`least run -- PROGRAM\` applies a built-in default that runs"
echo "shells, coreutils, python3, git and curl, and refuses mount, ptrace, bpf, kernel"
echo "modules, new namespaces, io_uring and more. See README.md and docs/."
