#!/usr/bin/env bash
# Boot Debian's stock kernel (which has sch_netem) under qemu/TCG with an
# initramfs built here from Debian packages, run cr_vm_netem inside, and
# report its PASS/FAIL lines.
#
#   tests/vm/run.sh [BIN_DIR]      BIN_DIR holds cr_vm_netem (default $CR_BIN)
#   tests/vm/run.sh --fetch        only download and unpack the kernel package
#                                  (for the set-up step of CI)
#
# The kernel and the initramfs come from tests/vm/vm_lib.inc.  Exit 0 all checks
# passed, 1 a check failed or the VM did not finish, 77 skipped (no qemu,
# busybox-static, cpio or kernel package), with the reason.
set -euo pipefail
. "$(dirname "$0")/vm_lib.inc"
FETCH_ONLY=0
[ "${1:-}" = --fetch ] && FETCH_ONLY=1 && shift
BIN=${1:-${CR_BIN:-}}

if [ "$FETCH_ONLY" = 0 ]; then
vm_require_tools
[ -x "$BIN/cr_vm_netem" ] || { echo "FAIL: $BIN/cr_vm_netem not built"; exit 1; }
fi

vm_kernel
vmlinuz=$VM_VMLINUZ
mods=()
for m in net/sched/sch_netem.ko drivers/net/veth.ko net/sched/sch_tbf.ko \
         net/sched/sch_htb.ko net/sched/cls_u32.ko; do
    vm_module "$m"
    mods+=("$VM_MOD")
done
if [ "$FETCH_ONLY" = 1 ]; then echo "kernel ready: $vmlinuz"; exit 0; fi

work=$(mktemp -d /tmp/cr_vm.XXXXXX)
trap 'rm -rf "$work"' EXIT
root="$work/root"
vm_root "$root" sh mount insmod poweroff mkdir cat echo sleep sed grep ls
cp "${mods[@]}" "$root/modules/"
vm_add_prog "$root" "$BIN/cr_vm_netem" /bin
# iproute2's ip and tc: the commands netem runs on ssh nodes, by dash
# (busybox's sh would run its own ip and tc applets first)
for p in ip tc dash unshare; do
    f=$(command -v "$p" || true)
    [ -n "$f" ] || vm_skip "$p not installed (packages iproute2, dash, util-linux)"
    vm_add_prog "$root" "$(readlink -f "$f")" /bin
    [ "$(basename "$(readlink -f "$f")")" = "$p" ] || ln -sf "$(basename "$(readlink -f "$f")")" "$root/bin/$p"
done
ln -sf dash "$root/bin/sh" # `unshare -n sh -c` of the probe too
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
vm_boot "$root" "$work/console.log" 170
tr -d '\r' <"$work/console.log" | grep -E '^(PASS|FAIL|VM-|insmod)' || true
if [ -n "${CR_VM_KEEP_LOG:-}" ]; then cp "$work/console.log" "$CR_VM_KEEP_LOG"; fi
done_line=$(tr -d '\r' <"$work/console.log" | grep -E '^VM-NETEM-DONE' || true)
[ -n "$done_line" ] || { echo "FAIL: the VM did not finish the checks"; tail -20 "$work/console.log"; exit 1; }
[ "$done_line" = "VM-NETEM-DONE 0" ]
