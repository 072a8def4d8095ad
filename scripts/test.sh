#!/usr/bin/env bash
# Set up, build, and run the whole test suite; ends with ctest's summary.
# Extra arguments go to ctest (e.g. -L unit, -R engine).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$ROOT/scripts/setup.sh"
cd "${STASH_BUILD_DIR:-$ROOT/build}"
exec ctest --output-on-failure --parallel "$(nproc)" --timeout 1200 "$@"
