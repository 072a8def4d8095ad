#!/usr/bin/env bash
# Fails when a C++ file under src/, bench/ or fuzz/ differs from what clang-format
# (the repository's .clang-format, Debian's clang-format) would write.
# Usage: tools/check_format.sh [SOURCE_DIR]   (fix with: clang-format -i FILE)
set -euo pipefail
ROOT=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
cd "$ROOT"
command -v clang-format >/dev/null || { echo "clang-format not installed (scripts/setup.sh installs it)"; exit 1; }
mapfile -t files < <(find src bench fuzz -name '*.cc' -o -name '*.h' | sort)
bad=$(clang-format --dry-run "${files[@]}" 2>&1 | grep -o '^[^:]*\.\(cc\|h\):[0-9]*' | cut -d: -f1 | sort -u || true)
if [ -n "$bad" ]; then
  echo "not formatted as .clang-format says (run clang-format -i on each):"
  echo "$bad"
  exit 1
fi
echo "format: ${#files[@]} files clean"
