#!/usr/bin/env bash
# Shared set-up for ./scripts/run.sh and ./scripts/test.sh: installs missing
# Debian packages (quietly, only when absent), then configures and builds
# stash in Release. Idempotent: a second run rebuilds incrementally.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${STASH_BUILD_DIR:-$ROOT/build}

# Build and test dependencies; keep in sync with cmake/StashDeps.cmake.
PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git clang-format
  clang libclang-rt-14-dev
  libssl-dev libsodium-dev libzstd-dev libcurl4-openssl-dev libboost-dev libboost-system-dev
  nlohmann-json3-dev libyaml-cpp-dev libsqlite3-dev zlib1g-dev libcli11-dev libspdlog-dev libfmt-dev
  libprotobuf-dev protobuf-compiler libgtest-dev libgmock-dev libbenchmark-dev
  python3 restic rclone python3-kubernetes python3-cryptography
  buildah podman runc uidmap catatonit busybox-static
  prometheus prometheus-pushgateway
)

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    # One apt at a time: several checkouts may set up at once on one machine.
    $sudo flock /tmp/stash-setup-apt.lock sh -c 'apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null' \
      apt "${missing[@]}"
  fi
}

# Test peers from npm (Azurite, the firebase-tools storage emulator) for the
# backend conformance suite. Only when node_modules is missing or the lock file
# changed. --ignore-scripts: the peers run without their install scripts, and
# firebase-tools' optional re2 would otherwise compile C++ for ~20 minutes.
install_npm_peers() {
  local peers="$ROOT/tests/peers"
  local stamp="$peers/node_modules/.stash-lock-sha256"
  if ! command -v npm >/dev/null 2>&1; then
    echo "setup: npm not found; Azure and GCS backend tests will be skipped (and fail under CI=true)"
    return 0
  fi
  local want
  want=$(sha256sum "$peers/package-lock.json" | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "setup: installing npm test peers (tests/peers)"
    npm ci --prefix "$peers" --ignore-scripts --no-audit --no-fund --loglevel=error
    echo "$want" > "$stamp"
  fi
}

build() {
  # Paths relative to the checkout in ccache's keys, so another clone of the
  # same tree (CI's) reuses the cache instead of compiling everything again.
  export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=1
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  cmake --build "$BUILD_DIR" --parallel "$(nproc)"
  install_kubectl_plugin
}

# `kubectl stash`: kubectl finds plugins as kubectl-<name> on PATH; the stash
# binary answers as the plugin under that name. The link follows the last
# checkout built here (tests put their own first on PATH).
install_kubectl_plugin() {
  local bin_dir=/usr/local/bin sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if [ -w "$bin_dir" ] || [ -n "$sudo" ]; then
    $sudo ln -sfn "$BUILD_DIR/src/cli/stash" "$bin_dir/kubectl-stash" || \
      echo "setup: could not link $bin_dir/kubectl-stash; kubectl stash needs it on PATH"
  fi
}

# The guide's Deployment runs `busybox`: with no registry to pull from, the
# embedded node's podman gets docker.io/library/busybox:latest built here
# from Debian's busybox-static (one static binary and its applet links).
build_busybox_image() {
  local name=docker.io/library/busybox:latest
  command -v buildah >/dev/null 2>&1 && command -v podman >/dev/null 2>&1 || return 0
  [ "$(id -u)" -eq 0 ] || return 0  # the node's podman runs as root
  podman image exists "$name" 2>/dev/null && return 0
  echo "setup: building $name from busybox-static"
  local rootfs ctr
  rootfs=$(mktemp -d)
  mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc"
  chmod 1777 "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' \
    > "$rootfs/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' > "$rootfs/etc/group"
  ctr=$(buildah from scratch)
  buildah copy --quiet "$ctr" "$rootfs/" / >/dev/null
  buildah config --cmd sh --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    "$ctr"
  buildah commit --quiet "$ctr" "$name" >/dev/null
  buildah rm "$ctr" >/dev/null
  rm -rf "$rootfs"
}

install_packages
build_busybox_image || echo "setup: could not build the busybox image; podman tests will fail"
install_npm_peers
# scripts/sanitize.sh only needs the packages: it builds its own directory.
[ "${STASH_SETUP_NO_BUILD:-0}" = 1 ] || build
