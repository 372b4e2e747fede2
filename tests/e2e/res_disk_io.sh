# End-to-end: the io fault (cgroup v1 blkio) throttling disk I/O of a direct-I/O writer
# (tests/targets/cr_tgt_hog.c, mode dio: 64 KiB every 10 ms into the run
# directory).  Its own throughput inside the window is about the limit
# (1 MiB/s) and well below its throughput before; it recovers after; the
# cgroup counts the bytes; the cgroups are removed at the end.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/res_io.inc"
[ "$(id -u)" = 0 ] || { echo "SKIPPED: needs root (cgroups)"; exit 77; }
grep -qE "^[0-9]+:([^:]*,)?blkio(,[^:]*)?:" /proc/self/cgroup ||
    { echo "SKIPPED: no cgroup v1 blkio controller"; exit 77; }
# The run directory must be on a block device that takes O_DIRECT.
dev=$(stat -c %d "$E2E_TMP")
[ -e "/sys/dev/block/$((dev >> 8)):$((dev & 255))" ] ||
    { echo "SKIPPED: $E2E_TMP is not on a block device (tmpfs/overlay)"; exit 77; }
S="$CR_SRC/tests/e2e/scenarios"

run_chaosrun "$E2E_TMP/io" "$S/res-io.json"
expect_eq "io scenario passes" 0 "$RC"
J="$E2E_TMP/io/journal.json"
expect_eq "io fault applied" applied "$(jq -r '.faults[0].outcome' "$J")"
expect_eq "limit 1 MiB/s of writes" 1048576 "$(jq '.faults[0].details.cgroups[0].write_bps' "$J")"
io_throttled "$E2E_TMP/io"
left=$(sed -n 's/^+[0-9]* cgroup //p' "$E2E_TMP/io/ledger" | while read -r d; do
    if [ -e "$d" ]; then echo "$d"; fi
done)
expect_eq "blkio cgroups removed" "" "$left"
finish
