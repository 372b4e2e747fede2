# End-to-end: the io fault (cgroup v1 blkio) throttling disk I/O of a direct-I/O writer
# (tests/targets/cr_tgt_hog.c, mode dio: 64 KiB every 10 ms into the run
# directory).  Its own throughput inside the window is about the limit
# (1 MiB/s) and well below its throughput before; it recovers after; the
# cgroup counts the bytes; the cgroups are removed at the end.
set -e
. "$(dirname "$0")/lib.sh"
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
T0=$(jq .t0_unix "$J"); A=$(jq '.faults[0].applied_t' "$J"); R=$(jq '.faults[0].reverted_t' "$J")
RATES=$(jq -s -r --argjson t0 "$T0" --argjson a "$A" --argjson r "$R" '
  def rate($lo; $hi): [ .[] | select(.ev == "io" and (.ts - .ms / 1000) >= $lo and .ts <= $hi) ]
    | (map(.bytes) | add) / (map(.ms) | add) * 1000;
  [rate($t0 + 0.2; $t0 + $a), rate($t0 + $a + 0.3; $t0 + $r), rate($t0 + $r + 0.3; $t0 + 100)]
  | "\(.[0]) \(.[1]) \(.[2])"' "$E2E_TMP/io/events.jsonl")
read -r before during after <<<"$RATES"
echo "io: bytes/s before $before, during $during, after $after"
# Ratios only: during / limit (the throttle is a token bucket, so about 1;
# generous bounds), and during / before (the writer was not already slower).
expect_true "throughput inside the window about the limit ($during B/s)" \
    awk -v x="$during" 'BEGIN { exit !(x / 1048576 > 0.5 && x / 1048576 < 1.5) }'
expect_true "well below the writer's own rate before ($before B/s)" \
    awk -v x="$during" -v b="$before" 'BEGIN { exit !(b > 0 && x / b < 0.5) }'
expect_true "back after the window ($after B/s)" \
    awk -v x="$after" -v b="$before" 'BEGIN { exit !(b > 0 && x / b > 0.5) }'
expect_true "the cgroup counted the writes in the window" \
    jq -e '.faults[0].details.cgroups[0].in_window.write_bytes > 1048576' "$J"
left=$(sed -n 's/^+[0-9]* cgroup //p' "$E2E_TMP/io/ledger" | while read -r d; do
    if [ -e "$d" ]; then echo "$d"; fi
done)
expect_eq "blkio cgroups removed" "" "$left"
finish
