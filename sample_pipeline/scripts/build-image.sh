#!/bin/bash
# Build the reference pipeline's container image offline (no registry, no
# Dockerfile, no network): busybox-static as /bin/sh and friends, crp in
# /bin with the shared libraries ldd lists, `ENGINE import` of a tarball.
#
#   sample_pipeline/scripts/build-image.sh [ENGINE] [BINDIR]
#
# ENGINE: podman (default) or docker.  BINDIR: where crp is (default
# build/bin of this source tree).  The image is $CRP_IMAGE (default
# localhost/chaosrun-crp:dev, the name scenarios/pipeline-containers.json
# uses).  Idempotent: the image carries a label with the SHA-256 of
# everything it holds (and of this script); when the image in the store
# has the same one nothing is done, else it is imported again under the
# same name and the image it replaces is removed (unless a container still
# uses it).  $BUSYBOX: a statically linked busybox (default /bin/busybox,
# Debian's busybox-static).
#
# Exit: 0 built or up to date; 2 bad use (unknown engine, crp not built);
# 3 this machine cannot (no engine, busybox not statically linked, the
# import failed), with the reason.
set -euo pipefail
ENGINE=${1:-podman}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${2:-$SRC/build/bin}
IMAGE=${CRP_IMAGE:-localhost/chaosrun-crp:dev}
BUSYBOX=${BUSYBOX:-/bin/busybox}
LABEL=chaosrun.crp.digest

die() { # die CODE MESSAGE
    echo "build-image: $2" >&2
    exit "$1"
}

case $ENGINE in
podman | docker) ;;
*) die 2 "unknown engine '$ENGINE' (podman or docker)" ;;
esac
command -v "$ENGINE" >/dev/null || die 3 "$ENGINE is not installed (Debian package $ENGINE)"
[ -x "$BIN/crp" ] || die 2 "$BIN/crp not found: build it first (cmake --build build) or give BINDIR"
[ -x "$BUSYBOX" ] || die 3 "$BUSYBOX not found (apt-get install busybox-static, or set BUSYBOX)"
# ldd says "not a dynamic executable" (exit 1) for a static binary.
if ldd "$BUSYBOX" >/dev/null 2>&1; then
    die 3 "$BUSYBOX is dynamically linked: the image holds no C library for it (apt-get install busybox-static, or set BUSYBOX)"
fi

LIBS=$(ldd "$BIN/crp" | grep -o '/[^ ]*' | sort -u)
# What the image holds, by content: it is rebuilt only when one changes.
DIGEST=$( (sha256sum "$0" "$BUSYBOX" "$BIN/crp"
    for l in $LIBS; do sha256sum <"$l" | sed "s|-\$|$l|"; done) |
    awk '{print $1, $2}' | sed "s|$BIN/crp|crp|; s|$0|build-image.sh|" | sha256sum | cut -c1-64)

old_id=$("$ENGINE" image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
if [ -n "$old_id" ]; then
    have=$("$ENGINE" image inspect --format "{{index .Config.Labels \"$LABEL\"}}" "$IMAGE" 2>/dev/null || true)
    if [ "$have" = "$DIGEST" ]; then
        echo "$IMAGE is up to date (${DIGEST:0:12})"
        exit 0
    fi
fi

# A fresh directory of our own: nothing below it existed before (no link
# planted in it can redirect a write).
TMP=$(mktemp -d "${TMPDIR:-/tmp}/crp-image.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
root=$TMP/root
mkdir -p "$root/bin" "$root/etc" "$root/tmp"
chmod 1777 "$root/tmp"
cp "$BUSYBOX" "$root/bin/busybox"
for p in sh ls cat echo sleep kill ps true false env mkdir rm; do
    ln -s busybox "$root/bin/$p"
done
cp "$BIN/crp" "$root/bin/crp"
for l in $LIBS; do
    mkdir -p "$root$(dirname "$l")"
    cp -L "$l" "$root$l"
done
echo "root:x:0:0:root:/:/bin/sh" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"
tar -C "$root" --numeric-owner --owner=0 --group=0 -cf "$TMP/image.tar" .

if ! "$ENGINE" import --change "LABEL $LABEL=$DIGEST" --change "ENV PATH=/bin" \
    --change 'CMD ["/bin/crp", "help"]' "$TMP/image.tar" "$IMAGE" >"$TMP/import.out" 2>&1; then
    die 3 "$ENGINE import failed: $(tail -3 "$TMP/import.out")"
fi
new_id=$("$ENGINE" image inspect --format '{{.Id}}' "$IMAGE")
if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then
    "$ENGINE" rmi "$old_id" >/dev/null 2>&1 ||
        echo "build-image: the former image ${old_id:0:12} is still in use: left in place" >&2
fi
echo "$IMAGE built (${DIGEST:0:12}, $(du -sh "$TMP/image.tar" | cut -f1)): crp and $(echo "$LIBS" | wc -w) libraries"
