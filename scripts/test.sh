#!/usr/bin/env bash
# The whole test suite, as `make test` and CI run it:
#   1. the normal build (warnings are errors) and every test in it;
#   2. the same under AddressSanitizer + UBSan (but the escape probes and the
#      export lockstep matrix, which exercise the kernel and other programs
#      rather than least's code: tests/escape and tests/exports say why);
#   3. a short libFuzzer run of the policy front end (clang).
# Tests that need a feature this host lacks fail instead of skipping when
# LEAST_REQUIRE_ALL=1 (set here, as in CI).
set -euo pipefail
cd "$(dirname "$0")/.."
export LEAST_REQUIRE_ALL=${LEAST_REQUIRE_ALL:-1}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
JOBS=$(nproc)

step() { printf '\n==> %s\n' "$*"; }

step "build (RelWithDebInfo, -Werror)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$JOBS"

step "clang-format check"
git ls-files '*.cc' '*.h' '*.c' | xargs clang-format --dry-run --Werror

count_tests() { ctest --test-dir "$1" -N | sed -n 's/^Total Tests: //p'; }

step "tests"
ctest --test-dir build --output-on-failure
passed=$(count_tests build)

step "build with AddressSanitizer + UBSan"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DLEAST_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$JOBS"

step "tests under AddressSanitizer + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure
passed=$((passed + $(count_tests build-asan)))

step "fuzz the policy parser for ${FUZZ_SECONDS}s (libFuzzer)"
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLEAST_FUZZ=ON \
  -DLEAST_TESTS=OFF -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build build-fuzz -j "$JOBS" --target policy_fuzzer
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
build-fuzz/fuzz/policy_fuzzer -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 "$corpus" fuzz/corpus examples 2>&1 | tail -n 12

passed=$((passed + 1))  # the fuzz run: a crash would have stopped the script
echo
echo "summary: ${passed} passed, 0 failed"
