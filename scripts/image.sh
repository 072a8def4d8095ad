#!/usr/bin/env bash
# Builds the OCI image of stash with buildah, `from scratch` (no registry pull):
# the stash binary, the shared libraries it loads (as ldd lists them) with the
# dynamic loader, CA certificates, /etc/passwd and /etc/group with the
# non-root user stash (65532), a world-writable /tmp. The image runs as that
# user; its entrypoint is stash (`podman run IMAGE version`).
#
#   scripts/image.sh [--binary PATH] [--tag NAME:TAG] [--archive FILE.tar]
#
# --binary   the stash binary (default: $STASH_BUILD_DIR/bin/stash, else build/bin/stash)
# --tag      image name (default: localhost/stash:<version>, the tag deploy/ uses)
# --archive  also save the image as an OCI archive, for `kind load image-archive FILE`
#            or `skopeo copy oci-archive:FILE docker://REGISTRY/stash:TAG`
#
# Prints the image id, its size and how long the build took.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BINARY=""
TAG=""
ARCHIVE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) BINARY=$2; shift 2 ;;
    --tag) TAG=$2; shift 2 ;;
    --archive) ARCHIVE=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "image.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [ -z "$BINARY" ]; then
  BINARY=${STASH_BUILD_DIR:-$ROOT/build}/bin/stash
fi
if [ ! -x "$BINARY" ]; then
  echo "image.sh: no stash binary at $BINARY; build it first (./scripts/setup.sh) or pass --binary" >&2
  exit 1
fi
if ! command -v buildah >/dev/null 2>&1; then
  echo "image.sh: buildah is not installed (apt-get install buildah)" >&2
  exit 1
fi
VERSION=$("$BINARY" version | awk '{print $2}')
TAG=${TAG:-localhost/stash:$VERSION}
START=$(date +%s.%N)

ROOTFS=$(mktemp -d)
CTR=""
cleanup() {
  [ -n "$CTR" ] && buildah rm "$CTR" >/dev/null 2>&1 || true
  rm -rf "$ROOTFS"
}
trap cleanup EXIT

# The binary and every library it needs, at the same paths as here.
install -D -m 0755 "$BINARY" "$ROOTFS/usr/local/bin/stash"
ldd "$BINARY" | awk '/=>/ {print $3} !/=>/ && $1 ~ /^\// {print $1}' | sort -u |
  while read -r lib; do
    [ -e "$lib" ] || continue
    mkdir -p "$ROOTFS$(dirname "$lib")"
    cp -L "$lib" "$ROOTFS$lib"
  done
# /lib64 and /lib are symlinks into /usr on Debian: keep them so the loader's path resolves.
for link in /lib /lib64 /bin; do
  if [ -L "$link" ] && [ ! -e "$ROOTFS$link" ]; then ln -s "$(readlink "$link")" "$ROOTFS$link"; fi
done
install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
mkdir -p "$ROOTFS/etc" "$ROOTFS/home/stash"
printf 'root:x:0:0:root:/root:/sbin/nologin\nstash:x:65532:65532:stash:/home/stash:/sbin/nologin\n' \
  > "$ROOTFS/etc/passwd"
printf 'root:x:0:\nstash:x:65532:\n' > "$ROOTFS/etc/group"
printf 'hosts: files dns\n' > "$ROOTFS/etc/nsswitch.conf"
mkdir -m 1777 "$ROOTFS/tmp"
chown 65532:65532 "$ROOTFS/home/stash"

CTR=$(buildah from scratch)
buildah copy --quiet "$CTR" "$ROOTFS/" / >/dev/null
buildah config \
  --user 65532:65532 \
  --workingdir /home/stash \
  --env HOME=/home/stash \
  --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
  --entrypoint '["/usr/local/bin/stash"]' \
  --cmd '["--help"]' \
  --label org.opencontainers.image.title=stash \
  --label org.opencontainers.image.version="$VERSION" \
  --label org.opencontainers.image.description="Stash in C++: Kubernetes backup operator, restic-compatible engine" \
  "$CTR"
ID=$(buildah commit --quiet --rm "$CTR" "$TAG")
CTR=""
if [ -n "$ARCHIVE" ]; then
  rm -f "$ARCHIVE"
  buildah push --quiet "$TAG" "oci-archive:$ARCHIVE:$TAG"
fi
END=$(date +%s.%N)
SIZE=$(buildah inspect --type image --format '{{.OCIv1.RootFS.DiffIDs}}' "$TAG" >/dev/null &&
       buildah images --format '{{.Size}}' --filter "reference=$TAG" | head -1)
echo "image.sh: built $TAG (id ${ID:0:12}, size $SIZE) in $(awk "BEGIN {printf \"%.1f\", $END - $START}") s"
[ -n "$ARCHIVE" ] && echo "image.sh: saved OCI archive $ARCHIVE ($(du -h "$ARCHIVE" | cut -f1))"
exit 0
