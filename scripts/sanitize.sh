#!/usr/bin/env bash
# The sanitizer stage (.ci/sanitize): builds the tree with
# clang, AddressSanitizer + UndefinedBehaviorSanitizer and the libFuzzer
# targets in a build directory of its own, then runs
#   1. every unit test,
#   2. the integration tests labelled "sanitize" (tests/CMakeLists.txt says
#      which and why),
#   3. each fuzz target for STASH_FUZZ_SECONDS (default 10) on its seeds,
# all under the sanitizers: any report, leak or crash fails the stage.
# Extra arguments go to ctest (e.g. -L fuzz, -R api_).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${STASH_SANITIZE_BUILD_DIR:-$ROOT/build-asan}
FUZZ_SECONDS=${STASH_FUZZ_SECONDS:-10}

STASH_SETUP_NO_BUILD=1 "$ROOT/scripts/setup.sh"
export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=1
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DSTASH_BUILD_FUZZ=ON >/dev/null
fi
cmake -S "$ROOT" -B "$BUILD_DIR" -DSTASH_FUZZ_SECONDS="$FUZZ_SECONDS" >/dev/null
cmake --build "$BUILD_DIR" --parallel "$(nproc)"

# Every report of every process (also a `stash` that an integration test
# expected to fail, or a server it killed) is written under $REPORTS as well
# as failing that process; the stage fails if any report was written.
REPORTS="$BUILD_DIR/sanitizer-reports"
rm -rf "$REPORTS" && mkdir -p "$REPORTS"
export ASAN_OPTIONS="detect_leaks=1:strict_string_checks=1:log_path=$REPORTS/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$REPORTS/ubsan"
export LSAN_OPTIONS="suppressions=$ROOT/fuzz/lsan.supp:print_suppressions=0"

cd "$BUILD_DIR"
rc=0
ctest --output-on-failure --parallel "$(nproc)" --timeout 1200 -L 'unit|sanitize|fuzz' "$@" || rc=$?
if [ -n "$(ls -A "$REPORTS")" ]; then
  for f in "$REPORTS"/*; do
    echo "=== sanitizer report $f"
    head -n 60 "$f"
  done
  echo "sanitize: $(ls "$REPORTS" | wc -l) sanitizer report(s) (above)"
  rc=1
fi
exit "$rc"
