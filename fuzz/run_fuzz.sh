#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time (ctest's fuzz.<name> tests):
#   run_fuzz.sh BINARY SEED_DIR SECONDS ARTIFACT_DIR
# The checked-in seeds are read, never written: new inputs go to a scratch
# corpus. Exits non-zero on any crash, leak, timeout, out-of-memory or
# sanitizer report, leaving the input in ARTIFACT_DIR (and printing it as
# base64 so a CI log is enough to reproduce it). Prints one summary line:
#   fuzz <name>: <runs> runs in <s> s (<n> exec/s), corpus <k> inputs
set -uo pipefail
bin=$1 seeds=$2 seconds=$3 artifacts=$4
name=$(basename "$bin")
name=${name#fuzz_}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$artifacts"
log="$work/log"
start=$(date +%s.%N)
# -rss_limit_mb / -malloc_limit_mb: a decoder that allocates without bound
# is a finding, as is one input taking over 10 s (-timeout).
"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
  -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/" \
  "$work" "$seeds" >"$log" 2>&1
rc=$?
end=$(date +%s.%N)
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
corpus=$(find "$work" -type f | wc -l)
elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
rate=$(awk -v r="${runs:-0}" -v s="$elapsed" 'BEGIN { printf "%d", (s > 0 ? r / s : 0) }')
if [ "$rc" -ne 0 ] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
  tail -n 80 "$log"
  for f in "$artifacts"/*; do
    [ -f "$f" ] || continue
    echo "fuzz $name: input $f (base64):"
    head -c 4096 "$f" | base64 -w 100
  done
  echo "fuzz $name: FAILED (exit $rc) after ${runs:-?} runs in $elapsed s"
  exit 1
fi
echo "fuzz $name: ${runs:-0} runs in $elapsed s ($rate exec/s), corpus $((corpus)) new inputs"
