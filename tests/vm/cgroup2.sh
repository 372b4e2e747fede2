#!/usr/bin/env bash
# Boot Debian's stock kernel under qemu/TCG (tests/vm/vm_lib.inc) with
# cgroup v2 only -- `mount -t cgroup2` at /sys/fs/cgroup, no v1 hierarchy,
# so every controller (cpu, memory, io, pids, freeze) is v2's -- and run
# the real chaosrun binary inside on the resource fault scenarios.  Each
# run directory's journal.json, events.jsonl, ledger and stderr are
# printed to the console between markers and written here into OUT_DIR
# (OUT_DIR/<scenario>/...), for tests/e2e/res_cgroup2_vm.sh to judge.
#
#   tests/vm/cgroup2.sh BIN_DIR OUT_DIR SCENARIO.json...
#
# BIN_DIR holds chaosrun and cr_tgt_hog (and the host's stress-ng goes in,
# when it has one, for the stress kind).  A scenario named "res-io*" runs
# with its run directory on an ext2 file system on a RAM block device
# (brd), so that io.max has a device to throttle.  OUT_DIR/vm.txt gets the
# VM's own lines: "VM-RC <scenario> <exit status>", "VM-CONTROLLERS ...",
# "VM-SUBTREE-END ..." (the root's cgroup.subtree_control after all runs),
# "VM-LEFT ..." (chaosrun-* cgroups left), the SIGKILL and refusal
# checks' lines.  Exit 0 the VM finished, 1 not, 77 skipped (no qemu,
# busybox-static, cpio or kernel package), with the reason.
set -euo pipefail
. "$(dirname "$0")/vm_lib.inc"
BIN=${1:?BIN_DIR}
OUT=${2:?OUT_DIR}
shift 2
vm_require_tools
for p in chaosrun cr_tgt_hog; do
    [ -x "$BIN/$p" ] || { echo "FAIL: $BIN/$p not built"; exit 1; }
done
vm_kernel
mods=()
# In load order: ext2 through ext4 (and what it needs: it loads crc32c at
# every mount), the RAM disk.  Without them the VM has no block device and
# io.max is not tested (the VM says so: "VM-DISK none: ...").
for m in lib/crc16.ko crypto/crc32c_generic.ko fs/mbcache.ko fs/jbd2/jbd2.ko \
    fs/ext4/ext4.ko drivers/block/brd.ko; do
    f=$(ls "$VM_KDIR"/lib/modules/*/kernel/"$m" 2>/dev/null | head -1)
    if [ -n "$f" ]; then mods+=("$f"); else echo "note: the kernel package has no $m"; fi
done

work=$(mktemp -d /tmp/cr_vm.XXXXXX)
trap 'rm -rf "$work"' EXIT
root="$work/root"
vm_root "$root" sh mount umount insmod poweroff mkdir cat echo sleep ls find \
    basename grep sed kill mke2fs ip rmdir tr seq
for m in "${mods[@]}"; do cp "$m" "$root/modules/"; done
vm_add_prog "$root" "$BIN/chaosrun" /opt/cr/bin
vm_add_prog "$root" "$BIN/cr_tgt_hog" /opt/cr/bin
# stress-ng (Debian's) for the stress kind, when the host has it.
if command -v stress-ng >/dev/null; then
    vm_add_prog "$root" "$(command -v stress-ng)" /opt/cr/bin
fi
mkdir -p "$root/scen"
for s in "$@"; do cp "$s" "$root/scen/"; done
cat >"$root/init" <<'INIT'
#!/bin/sh
echo
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs run /run
mount -t tmpfs tmp /tmp
mount -t cgroup2 none /sys/fs/cgroup
ip link set lo up
mkdir -p /disk
if [ "$(ls /modules | grep -c ko)" -lt 6 ]; then
    echo "VM-DISK none: the kernel package lacks the brd or ext4 modules"
else
    for m in crc16 crc32c_generic mbcache jbd2 ext4; do insmod /modules/$m.ko || echo "VM-INSMOD-FAILED $m"; done
    insmod /modules/brd.ko rd_nr=1 rd_size=65536 || echo "VM-INSMOD-FAILED brd"
    if [ -b /dev/ram0 ] && mke2fs /dev/ram0 >/dev/null 2>&1 && mount -t ext4 /dev/ram0 /disk; then
        echo "VM-DISK $(cat /sys/block/ram0/dev)"
    else
        echo "VM-DISK failed: no ext2 file system on /dev/ram0"
    fi
fi
echo "VM-CONTROLLERS $(cat /sys/fs/cgroup/cgroup.controllers)"
echo "VM-SUBTREE-START $(cat /sys/fs/cgroup/cgroup.subtree_control)"
export PATH=/bin:/opt/cr/bin CHAOSRUN_BINDIR=/opt/cr/bin
dump() { # dump RUN NAME FILE
    echo "VM-FILE-BEGIN $2/$(basename "$3")"
    cat "$3" 2>/dev/null
    echo
    echo "VM-FILE-END"
}
for s in /scen/*.json; do
    n=$(basename "$s" .json)
    case "$n" in res-io*) d=/disk ;; *) d=/tmp ;; esac
    chaosrun --no-status --out "$d/$n" "$s" >"$d/$n.out" 2>"$d/$n.err"
    echo "VM-RC $n $?"
    for f in journal.json events.jsonl ledger; do dump "$d/$n" "$n" "$d/$n/$f"; done
    dump "$d/$n" "$n" "$d/$n.err"
done
# A SIGKILLed harness while a limit is set: its janitor removes the
# cgroups and disables what the run enabled (the cpu scenario, killed
# 2 s after the throttle was applied).
if [ -f /scen/res-cpu.json ]; then
    chaosrun --no-status --out /tmp/killed /scen/res-cpu.json >/tmp/killed.out 2>/tmp/killed.err &
    pid=$!
    for i in $(seq 1 300); do
        grep -q "applied" /tmp/killed.err 2>/dev/null && break
        sleep 0.1
    done
    echo "VM-KILLED-CGROUPS $(find /sys/fs/cgroup -maxdepth 2 -name 'chaosrun-*' -o -maxdepth 2 -name 'spinner.0' | sed 's|/sys/fs/cgroup||' | tr '\n' ' ')"
    echo "VM-KILLED-CPUMAX $(cat /sys/fs/cgroup/chaosrun-*/spinner.0/cpu.max 2>/dev/null)"
    kill -KILL $pid
    for i in $(seq 1 100); do
        [ -z "$(find /sys/fs/cgroup -maxdepth 1 -name 'chaosrun-*')" ] && break
        sleep 0.1
    done
    sleep 1
    echo "VM-KILLED-LEFT $(find /sys/fs/cgroup -maxdepth 1 -name 'chaosrun-*' | tr '\n' ' ')"
    echo "VM-KILLED-SUBTREE $(cat /sys/fs/cgroup/cgroup.subtree_control)"
    dump /tmp/killed killed /tmp/killed/ledger.janitor
fi
echo "VM-LEFT $(find /sys/fs/cgroup -name 'chaosrun-*' | tr '\n' ' ')"
echo "VM-SUBTREE-END $(cat /sys/fs/cgroup/cgroup.subtree_control)"
# No honest placement: chaosrun in cgroup /a/b while /a holds a process of
# its own (v2's no-internal-process rule): exit 3 with the reason.
if [ -f /scen/res-pids.json ]; then
    mkdir -p /sys/fs/cgroup/a/b
    sleep 60 &
    sp=$!
    echo $sp >/sys/fs/cgroup/a/cgroup.procs
    sh -c 'echo $$ >/sys/fs/cgroup/a/b/cgroup.procs && exec chaosrun --no-status --out /tmp/refused /scen/res-pids.json' >/tmp/refused.out 2>/tmp/refused.err
    echo "VM-REFUSED-RC $?"
    echo "VM-REFUSED-ERR $(grep -i 'cgroup' /tmp/refused.err | head -1)"
    kill -KILL $sp
fi
echo VM-CGROUP2-DONE
poweroff -f
INIT
chmod +x "$root/init"
vm_boot "$root" "$work/console.log" 170
mkdir -p "$OUT"
tr -d '\r' <"$work/console.log" >"$OUT/console.log"
# The files between the markers, and the VM's own lines.
awk -v out="$OUT" '
    /^VM-FILE-BEGIN / { f = out "/" $2; d = f; sub(/\/[^\/]*$/, "", d);
                        system("mkdir -p \"" d "\""); printf "" > f; next }
    /^VM-FILE-END$/   { if (f) close(f); f = ""; next }
    f                 { print >> f; next }
    /^VM-/            { print > (out "/vm.txt") }' "$OUT/console.log"
grep -q '^VM-CGROUP2-DONE' "$OUT/console.log" ||
    { echo "FAIL: the VM did not finish"; tail -20 "$OUT/console.log"; exit 1; }
