#!/bin/bash
# Backup throughput to remote backends on loopback: stash vs restic 0.14, each
# into a fresh repository on the same server — REST (rclone serve restic) and
# S3 (moto_server). Prints wall time and MB/s per tool and the stash/restic
# speed ratio. One run each; not part of the test suite.
#
#   bench/bench_backend.sh [STASH_BIN] [SIZE_MIB] [WORKDIR]
#
# WORKDIR defaults to /dev/shm so the local disk does not dominate. Both tools
# init with the default scrypt parameters outside the timed part.
set -euo pipefail
STASH=${1:-build/bin/stash}
SIZE=${2:-256}
WORK=${3:-/dev/shm}/stash-bench-backend.$$
export RESTIC_PASSWORD=bench TZ=UTC
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret
unset RESTIC_REPOSITORY
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/src" "$WORK/rest-root"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "server on port $1 did not start" >&2
  exit 1
}

head -c "$((SIZE << 20))" /dev/urandom > "$WORK/src/random.bin"

REST_PORT=$(free_port)
rclone serve restic --config /dev/null --addr "127.0.0.1:$REST_PORT" "$WORK/rest-root" \
  > "$WORK/rclone.log" 2>&1 &
PIDS+=($!)
S3_PORT=$(free_port)
moto_server -H 127.0.0.1 -p "$S3_PORT" > "$WORK/moto.log" 2>&1 &
PIDS+=($!)
wait_port "$REST_PORT"
wait_port "$S3_PORT"

measure() {  # label, command... ; prints and leaves seconds in $SECS
  label=$1
  shift
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" > "$WORK/out.log" 2>&1 || {
    cat "$WORK/out.log" >&2
    exit 1
  }
  read -r SECS RSS < "$WORK/time"
  mbps=$(awk -v s="$SECS" -v n="$SIZE" 'BEGIN { printf "%.1f", n * 1.048576 / s }')
  printf "%-14s %7.2f s  %7s MB/s  peak RSS %5d MiB\n" "$label" "$SECS" "$mbps" "$((RSS / 1024))"
}

echo "backup of $SIZE MiB random data over loopback on $(nproc) cores:"
for backend in rest s3; do
  if [ "$backend" = rest ]; then
    base="rest:http://127.0.0.1:$REST_PORT"
  else
    base="s3:http://127.0.0.1:$S3_PORT/bench"
  fi
  restic --no-cache -q -r "$base/restic/" init
  "$STASH" -q -r "$base/stash/" init
  measure "$backend restic" restic --no-cache -q -r "$base/restic/" backup "$WORK/src"
  r=$SECS
  measure "$backend stash" "$STASH" -q -r "$base/stash/" backup "$WORK/src"
  s=$SECS
  awk -v r="$r" -v s="$s" -v b="$backend" \
    'BEGIN { printf "%-14s stash is %.2fx restic'"'"'s speed\n", b " ratio", r / s }'
  # Sanity: restic can read what stash wrote.
  restic --no-cache -q -r "$base/stash/" check > /dev/null
done
