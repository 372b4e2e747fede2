# End-to-end: the seccomp backend on a statically linked program -- a
# busybox shell loop that appends to a file and syncs it (forking busybox's
# sync applet each time).  backend auto must take seccomp (LD_PRELOAD cannot
# reach a static program); disk_full makes the writes and fsyncs under
# data/ fail with ENOSPC inside its window and only there, in forked
# children too; slow_disk holds each of them at least delay_ms inside its
# window and none outside; the shell's own log (not under data/) is never
# touched.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sc_helpers.inc"
sc_require
[ -x /bin/busybox ] && /bin/busybox adjtimex >/dev/null 2>&1 ||
    { echo "SKIPPED: /bin/busybox (busybox-static) with adjtimex is missing"; exit 77; }
S="$CR_SRC/tests/e2e/scenarios"

run_chaosrun "$E2E_TMP/bb" "$S/sc-busybox.json"
expect_eq "busybox scenario exits 0" 0 "$RC"
[ "$RC" = 0 ] || cat "$E2E_TMP/bb.err"
J="$E2E_TMP/bb/journal.json"
LOG="$E2E_TMP/bb/logs/bb.0.log"
expect_eq "the three windows applied" "applied applied applied" "$(jq -r '[.faults[].outcome] | join(" ")' "$J")"
expect_eq "auto took seccomp" "seccomp seccomp seccomp" "$(jq -r '[.faults[].details.backend] | join(" ")' "$J")"
expect_true "and says why: path needs it" \
    grep -q "^auto: only seccomp can do what the fault asks (path" <<<"$(jq -r '.faults[0].details.backend_reason' "$J")"
expect_true "and for fsync_fail, which both could do: a static program" \
    grep -q "^auto: /bin/busybox is statically linked: LD_PRELOAD (libfiu) cannot reach" <<<"$(jq -r '.faults[2].details.backend_reason' "$J")"
expect_eq "path filter resolved under the run directory" "$E2E_TMP/bb/data" \
    "$(jq -r '.faults[0].details.path' "$J")"

# The three windows; each is judged against the time up to its neighbours.
read -r B1 A1 Z1 D1 <<<"$(sc_window "$J" df bb.0)"
read -r B2 A2 Z2 D2 <<<"$(sc_window "$J" slow bb.0)"
read -r B3 A3 Z3 D3 <<<"$(sc_window "$J" fs bb.0)"

# ---- disk_full ----
B=$B1 A=$A1 Z=$Z1 D=$D1
export SC_FROM=0 SC_TO=$B2
for op in write fsync; do
    C=$(sc_classify "$LOG" "$B" "$A" "$Z" "$D" $op)
    echo "disk_full, $op: $C"
    # Counts, not rates: how many iterations fit in a window depends on the
    # machine's load (each forks busybox's sync and several adjtimex/awk:
    # beside a CPU hog one iteration took up to 0.5 s); one failure inside,
    # none outside, no success inside and one on each side prove it.
    expect_true "$op failed inside the window ($(sc_get "$C" fail_in))" test "$(sc_get "$C" fail_in)" -ge 1
    expect_eq "no $op failed outside the window" 0 "$(sc_get "$C" fail_out)"
    expect_eq "no $op succeeded inside the window" 0 "$(sc_get "$C" ok_in)"
    expect_true "$op succeeded before and after" test "$(sc_get "$C" ok_before)" -ge 1 -a "$(sc_get "$C" ok_after)" -ge 1
done
expect_eq "errno ENOSPC" ENOSPC "$(jq -r '.faults[0].details.errno' "$J")"
fw=$(sc_classify "$LOG" "$B" "$A" "$Z" "$D" write)
ff=$(sc_classify "$LOG" "$B" "$A" "$Z" "$D" fsync)
jw=$(jq -r '.faults[0].details.calls["bb.0"].write.failed' "$J")
jf=$(jq -r '.faults[0].details.calls["bb.0"].fsync.failed' "$J")
expect_eq "journal counts the failed writes the shell saw" "$(sc_get "$fw" fail_in)" "$jw"
expect_eq "journal counts the failed fsyncs the shell saw" "$(sc_get "$ff" fail_in)" "$jf"
expect_true "more writes were seen than matched (the log is not under data/)" \
    test "$(jq -r '.faults[0].details.calls["bb.0"].write.seen' "$J")" -gt "$jw"
np=$(jq -r '.faults[0].details.faulted_by["bb.0"].processes | length' "$J")
expect_true "forked children were faulted too ($np processes: the shell and its sync children)" test "$np" -ge 2
ft=$(jq -r '.faults[0].details.first_fault_unix_us' "$J")
lt=$(jq -r '.faults[0].details.last_fault_unix_us' "$J")
expect_true "first and last faulted call inside the window" test "$ft" -ge "$B" -a "$lt" -le "$D"

# ---- slow_disk ----
B=$B2 A=$A2 Z=$Z2 D=$D2
export SC_FROM=$D1 SC_TO=$B3
expect_eq "slow_disk delays, fails nothing" "400 null 0" \
    "$(jq -r '.faults[1].details | "\(.delay_ms) \(.errno) \(.totals.failed)"' "$J")"
for op in write fsync; do
    C=$(sc_classify "$LOG" "$B" "$A" "$Z" "$D" $op 400)
    echo "slow_disk, $op: $C"
    expect_true "$op inside the window took >= 400 ms ($(sc_get "$C" slow_in))" test "$(sc_get "$C" slow_in)" -ge 1
    expect_eq "no $op inside the window was quicker" 0 "$(sc_get "$C" quick_in)"
    expect_eq "no $op outside the window was that slow" 0 "$(sc_get "$C" slow_out)"
    expect_eq "no $op failed inside it" 0 "$(sc_get "$C" fail_in)"
done
expect_true "journal counts delayed calls" test "$(jq -r '.faults[1].details.totals.delayed' "$J")" -ge 2

# ---- fsync_fail (no path filter) ----
B=$B3 A=$A3 Z=$Z3 D=$D3
export SC_FROM=$D2 SC_TO=0
C=$(sc_classify "$LOG" "$B" "$A" "$Z" "$D" fsync)
echo "fsync_fail, fsync: $C"
expect_true "fsync failed inside the window" test "$(sc_get "$C" fail_in)" -ge 1
expect_eq "no fsync failed outside it" 0 "$(sc_get "$C" fail_out)"
expect_eq "no fsync succeeded inside it" 0 "$(sc_get "$C" ok_in)"
expect_true "fsync succeeded after it" test "$(sc_get "$C" ok_after)" -ge 1
C=$(sc_classify "$LOG" "$B" "$A" "$Z" "$D" write)
expect_eq "writes were left alone" "0 0" "$(sc_get "$C" fail_in) $(sc_get "$C" fail_out)"
# Every failure in the log belongs to a window: disk_full's or fsync_fail's.
expect_eq "no other failure" "$(( $(sc_get "$fw" fail_in) + $(sc_get "$ff" fail_in) + $(jq -r '.faults[2].details.totals.failed' "$J") ))" \
    "$(grep -c '^op=.* failed' "$LOG")"
unset SC_FROM SC_TO
# The shell's log (not under data/) kept its lines inside the windows.
expect_true "the log has lines from inside the disk_full window" \
    test "$(awk -v B="$B1" -v D="$D1" '/^op=/ { c = substr($3, 6) + 0; if (c > B && c < D) n++ } END { print n + 0 }' "$LOG")" -ge 2
expect_true "no process of the run left" test -z "$(procs_of_run "$E2E_TMP/bb")"

# The same disk_full window on a service that runs as nobody: the filter is
# installed by the child after it dropped to nobody, the listener still
# reaches the (root) supervisor, and paths are still read from its memory.
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
    chmod 755 "$E2E_TMP"
    jq '.duration_s = 3 | .faults = [.faults[0]] | .services[0].dirs = ["data"]' \
        "$S/sc-busybox.json" >"$E2E_TMP/sc-nobody.json"
    cp "$S/sc-writer.sh" "$E2E_TMP/"
    R=$E2E_TMP/nob
    run_chaosrun "$R" --service-user nobody "$E2E_TMP/sc-nobody.json"
    expect_eq "as nobody: exits 0" 0 "$RC"
    [ "$RC" = 0 ] || cat "$R.err"
    expect_eq "as nobody: the window applied" applied "$(jq -r '.faults[0].outcome' "$R/journal.json")"
    expect_eq "as nobody: its data file is nobody's" nobody "$(stat -c %U "$R/data/bb.dat")"
    read -r B A Z D <<<"$(sc_window "$R/journal.json" df bb.0)"
    export SC_FROM=0 SC_TO=0
    C=$(sc_classify "$R/logs/bb.0.log" "$B" "$A" "$Z" "$D" write)
    echo "as nobody, disk_full, write: $C"
    expect_true "as nobody: writes failed inside the window" test "$(sc_get "$C" fail_in)" -ge 1
    expect_eq "as nobody: none failed outside it" 0 "$(sc_get "$C" fail_out)"
    unset SC_FROM SC_TO
    expect_true "as nobody: no process of the run left" test -z "$(procs_of_run "$R")"
else
    echo "as nobody: not run (needs root and a user nobody)"
fi
finish
