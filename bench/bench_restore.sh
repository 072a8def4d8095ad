#!/bin/sh
# Restore throughput: stash vs restic 0.14 on the same repository (written by
# restic), same machine, one run. Prints wall time, MB/s and peak RSS of each
# and the ratio. Not part of the test suite.
#
#   bench/bench_restore.sh [STASH_BIN] [SIZE_MIB] [WORKDIR]
#
# WORKDIR defaults to /dev/shm so the disk does not dominate.
set -eu
STASH=${1:-build/bin/stash}
SIZE=${2:-1024}
WORK=${3:-/dev/shm}/stash-bench-restore.$$
export RESTIC_PASSWORD=bench TZ=UTC
mkdir -p "$WORK/src"
trap 'rm -rf "$WORK"' EXIT

head -c "$((SIZE << 20))" /dev/urandom > "$WORK/src/random.bin"
# Compressible: a tar of system libraries, cut to the same size.
tar cf - /usr/lib/x86_64-linux-gnu 2>/dev/null | head -c "$((SIZE << 20))" > "$WORK/src/libs.tar"
restic -r "$WORK/repo" --no-cache init -q
restic -r "$WORK/repo" --no-cache backup -q "$WORK/src"

measure() {  # name, command...
  name=$1
  shift
  rm -rf "$WORK/target"
  sync
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" > /dev/null
  set -- $(cat "$WORK/time")
  mbps=$(awk -v s="$1" -v n="$((2 * SIZE))" 'BEGIN { printf "%.0f", n * 1.048576 / s }')
  printf "%-8s %7.2f s  %6s MB/s  peak RSS %6d MiB\n" "$name" "$1" "$mbps" "$(($2 / 1024))"
  echo "$1" > "$WORK/$name.secs"
  echo "$2" > "$WORK/$name.rss"
}

echo "restore of $((2 * SIZE)) MiB ($SIZE MiB random + $SIZE MiB compressible) on $(nproc) cores:"
measure restic restic -r "$WORK/repo" --no-cache restore latest --target "$WORK/target"
cmp "$WORK/src/random.bin" "$WORK/target$WORK/src/random.bin"
measure stash "$STASH" -r "$WORK/repo" restore latest --target "$WORK/target"
cmp "$WORK/src/random.bin" "$WORK/target$WORK/src/random.bin"
cmp "$WORK/src/libs.tar" "$WORK/target$WORK/src/libs.tar"
awk -v r="$(cat "$WORK/restic.secs")" -v s="$(cat "$WORK/stash.secs")" \
    -v rr="$(cat "$WORK/restic.rss")" -v sr="$(cat "$WORK/stash.rss")" \
    'BEGIN { printf "speed-up %.2fx, peak RSS ratio (stash/restic) %.2f\n", r / s, sr / rr }'
