#!/usr/bin/env bash
# The main job: set up, build, and run the embedded server with its defaults.
# Extra arguments go to `stash server`.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$ROOT/scripts/setup.sh"
BIN=${STASH_BUILD_DIR:-$ROOT/build}/bin/stash
if "$BIN" server --help >/dev/null 2>&1; then
  exec "$BIN" server "$@"
fi
# Until the embedded server lands, show what the binary offers.
exec "$BIN" --help
