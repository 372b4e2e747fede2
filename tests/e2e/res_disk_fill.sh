# End-to-end: disk_fill on a 16 MiB tmpfs mounted in the run directory.
# A writer (tests/targets/cr_tgt_hog.c, mode write) gets ENOSPC inside the
# window only and writes again after it; the fill file and the mount are
# gone at the end, and after a SIGKILLed harness the janitor removes them;
# the file system of / is refused with exit 3.
set -e
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIPPED: needs root (tmpfs mount)"; exit 77; }
S="$CR_SRC/tests/e2e/scenarios"
mounted() { grep -q " $1 tmpfs " /proc/mounts; }

run_chaosrun "$E2E_TMP/df" "$S/res-disk-fill.json"
expect_eq "disk_fill scenario passes" 0 "$RC"
J="$E2E_TMP/df/journal.json"
expect_eq "fault applied" applied "$(jq -r '.faults[0].outcome' "$J")"
expect_eq "filled the 16 MiB tmpfs" 16 "$(jq '.faults[0].details.size_mb' "$J")"
expect_true "nothing left free while filled" jq -e '.faults[0].details.free_mb_after < 0.25' "$J"
expect_true "the space came back" \
    jq -e '.faults[0].details.free_mb_released > .faults[0].details.filled_mb - 1' "$J"
# Every write_failed inside [apply began, reverted] (the fill takes
# effect during the apply, before applied_t; event times are when the
# writer reported, so the window is widened by one step of 50 ms), every
# one ENOSPC, and writes before and after.
T0=$(jq .t0_unix "$J"); A=$(jq '.faults[0].apply_began_t' "$J"); R=$(jq '.faults[0].reverted_t' "$J")
C=$(jq -s -r --argjson a "$(jq -n "$T0 + $A")" --argjson r "$(jq -n "$T0 + $R + 0.1")" '
  [.[] | select(.ev == "write_failed")] as $f
  | "\([$f[] | select(.ts < $a or .ts > $r)] | length) \([$f[] | select(.errno != "ENOSPC")] | length) \($f | length)"' \
  "$E2E_TMP/df/events.jsonl")
read -r out_fail not_enospc all_fail <<<"$C"
expect_true "writes failed ($all_fail)" test "$all_fail" -ge 10
expect_eq "no write failed outside the window" 0 "$out_fail"
expect_eq "every failure was ENOSPC" 0 "$not_enospc"
expect_true "the fill file is gone" test ! -e "$E2E_TMP/df/data/.chaosrun-fill-fill-0"
expect_true "the tmpfs is unmounted" sh -c "! grep -q ' $E2E_TMP/df/data tmpfs ' /proc/mounts"

# A SIGKILLed harness inside the window: the janitor removes the fill file
# and unmounts the tmpfs.
out="$E2E_TMP/kill"
"$CHAOSRUN" --no-status --out "$out" "$S/res-disk-fill.json" >"$out.out" 2>"$out.err" &
pid=$!
for _ in $(seq 1 100); do
    grep -q "fault fill (disk_fill) applied" "$out.err" 2>/dev/null && break
    sleep 0.1
done
expect_true "the fill was applied" grep -q "fault fill (disk_fill) applied" "$out.err"
expect_true "the tmpfs is mounted meanwhile" mounted "$out/data"
kill -KILL $pid
wait $pid 2>/dev/null || true
for _ in $(seq 1 50); do
    mounted "$out/data" || break
    sleep 0.1
done
expect_true "the janitor unmounted the tmpfs" sh -c "! grep -q ' $out/data tmpfs ' /proc/mounts"
expect_true "the janitor undid the mount" grep -q "cleanup: mount $out/data: undone" "$out/ledger.janitor"
expect_eq "no process of the run left" "" "$(procs_of_run "$out")"

# The file system of / is refused before anything starts (when the run
# directory is on it, as /tmp is on this kind of machine).
if [ "$(stat -c %d /)" = "$(stat -c %d "$E2E_TMP")" ]; then
    run_chaosrun "$E2E_TMP/root" "$S/res-disk-fill-rootfs.json"
    expect_eq "filling the file system of / exits 3" 3 "$RC"
    expect_true "and says why" grep -q "is on the file system of / (filling it would starve the whole machine)" "$E2E_TMP/root.err"
    expect_eq "nothing was started" "[]" "$(jq -c '[.services[].history[]]' "$E2E_TMP/root/journal.json")"
else
    echo "note: $E2E_TMP is not on the file system of /: the refusal is not exercised"
fi
finish
