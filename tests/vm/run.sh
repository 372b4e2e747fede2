#!/usr/bin/env bash
# Boot Debian's stock kernel (which has sch_netem) under qemu/TCG with an
# initramfs built here from Debian packages, run cr_vm_netem inside, and
# report its PASS/FAIL lines.
#
#   tests/vm/run.sh [BIN_DIR]      BIN_DIR holds cr_vm_netem (default $CR_BIN)
#   tests/vm/run.sh --fetch        only download and unpack the kernel package
#                                  (for the set-up step of CI)
#
# The kernel package (linux-image-6.1.0-*-amd64) is fetched with
# `apt-get download` into $CR_VM_CACHE (default /var/cache/chaosrun-vm) and
# unpacked there with `dpkg -x`; nothing is committed.  Exit 0 all checks
# passed, 1 a check failed or the VM did not finish, 77 skipped (no qemu,
# busybox-static, cpio or kernel package), with the reason.
set -euo pipefail
FETCH_ONLY=0
[ "${1:-}" = --fetch ] && FETCH_ONLY=1 && shift
BIN=${1:-${CR_BIN:-}}
CACHE=${CR_VM_CACHE:-/var/cache/chaosrun-vm}
skip() { echo "SKIPPED: $*"; exit 77; }

if [ "$FETCH_ONLY" = 0 ]; then
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed (package qemu-system-x86)"
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] && file -L "$BUSYBOX" 2>/dev/null | grep -q static || BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || skip "busybox not installed (package busybox-static)"
command -v cpio >/dev/null || skip "cpio not installed"
[ -x "$BIN/cr_vm_netem" ] || { echo "FAIL: $BIN/cr_vm_netem not built"; exit 1; }
fi

mkdir -p "$CACHE"
deb=$(ls "$CACHE"/linux-image-6.1.0-*-amd64_*.deb 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$deb" ]; then
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
          awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
    [ -n "$pkg" ] || skip "no linux-image-*-amd64 package known to apt (apt-get update?)"
    (cd "$CACHE" && apt-get download "$pkg" >/dev/null 2>&1) ||
        skip "apt-get download $pkg failed (no access to the Debian archive)"
    deb=$(ls "$CACHE"/linux-image-*-amd64_*.deb | sort -V | tail -1)
fi
kdir="$CACHE/$(basename "$deb" .deb)"
if [ ! -d "$kdir" ]; then
    rm -rf "$kdir.tmp"
    dpkg -x "$deb" "$kdir.tmp"
    mv "$kdir.tmp" "$kdir"
fi
vmlinuz=$(ls "$kdir"/boot/vmlinuz-* | head -1)
mods=()
for m in net/sched/sch_netem.ko drivers/net/veth.ko net/sched/sch_tbf.ko; do
    f=$(ls "$kdir"/lib/modules/*/kernel/$m 2>/dev/null | head -1)
    [ -n "$f" ] || skip "the kernel package has no $m"
    mods+=("$f")
done
if [ "$FETCH_ONLY" = 1 ]; then echo "kernel ready: $vmlinuz"; exit 0; fi

work=$(mktemp -d /tmp/cr_vm.XXXXXX)
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root"/{bin,proc,sys,dev,run,tmp,modules}
cp "$BUSYBOX" "$root/bin/busybox"
for a in sh mount insmod poweroff mkdir cat echo sleep; do ln -s busybox "$root/bin/$a"; done
cp "${mods[@]}" "$root/modules/"
cp "$BIN/cr_vm_netem" "$root/bin/"
for lib in $(ldd "$BIN/cr_vm_netem" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
done
cat >"$root/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs run /run
for m in /modules/*.ko; do insmod "$m" || echo "insmod $m failed"; done
echo VM-BOOTED
/bin/cr_vm_netem
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1 >"$work/initrd.gz")

start=$(date +%s)
set +e
timeout 170 qemu-system-x86_64 -accel tcg -m 512 -smp 1 -nographic -no-reboot \
    -kernel "$vmlinuz" -initrd "$work/initrd.gz" \
    -append "console=ttyS0 panic=-1 quiet loglevel=3" </dev/null >"$work/console.log" 2>&1
qrc=$?
set -e
echo "VM ran $(( $(date +%s) - start )) s (qemu exit $qrc), kernel $(basename "$vmlinuz")"
tr -d '\r' <"$work/console.log" | grep -E '^(PASS|FAIL|VM-|insmod)' || true
if [ -n "${CR_VM_KEEP_LOG:-}" ]; then cp "$work/console.log" "$CR_VM_KEEP_LOG"; fi
done_line=$(tr -d '\r' <"$work/console.log" | grep -E '^VM-NETEM-DONE' || true)
[ -n "$done_line" ] || { echo "FAIL: the VM did not finish the checks"; tail -20 "$work/console.log"; exit 1; }
[ "$done_line" = "VM-NETEM-DONE 0" ]
