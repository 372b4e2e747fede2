# End-to-end: scenarios/disk-full.json (disk_full on a writer for 3 s).
# Done when: the journal and the writer's own output show writes failing
# with ENOSPC inside the window, and only there; before and after, writes
# succeed.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fiu_helpers.inc"
fiu_require

run_chaosrun "$E2E_TMP/df" "$CR_SRC/scenarios/disk-full.json"
expect_eq "disk-full scenario exits 0" 0 "$RC"
J="$E2E_TMP/df/journal.json"
expect_eq "fault applied" applied "$(jq -r '.faults[0].outcome' "$J")"
expect_eq "armed with the preset's points" \
    "posix/io/rw/write posix/io/rw/pwrite posix/io/rw/writev posix/io/rw/pwritev posix/io/sync/fsync posix/io/sync/fdatasync" \
    "$(jq -r '.faults[0].details.points | join(" ")' "$J")"
expect_eq "errno ENOSPC" ENOSPC "$(jq -r '.faults[0].details.errno' "$J")"
expect_eq "every enable replied 0" "[0]" "$(jq -c '[.faults[0].details.armed[].replies[]] | unique' "$J")"
expect_eq "every disable replied 0" "[0]" "$(jq -c '[.faults[0].details.disarmed[].replies[]] | unique' "$J")"
expect_true "journal names the seed given to libfiu" \
    test "$(jq -r '.faults[0].details.prng_seed["writer.0"] | type' "$J")" = number
PID=$(jq -r '.faults[0].details.armed[0].pid' "$J")
expect_eq "armed the writer's process" "$(jq -r '.services[0].history[0].pid' "$J")" "$PID"
read -r B A Z D <<<"$(fiu_window "$J" disk-full writer.0)"
expect_true "window lasted about 3 s ($(( (D - B) / 1000 )) ms)" \
    test $(( D - B )) -gt 2500000 -a $(( D - B )) -lt 5000000
C=$(fiu_classify "$E2E_TMP/df/events.jsonl" "$PID" "$B" "$A" "$Z" "$D" write write_failed)
echo "events: $C"
eval "$(echo "$C" | sed 's/ errnos=.*//')"
expect_true "writes failed inside the window ($fail_in)" test "$fail_in" -gt 50
expect_eq "no write failed outside the window" 0 "$fail_out"
expect_eq "no write succeeded inside the window" 0 "$ok_in"
expect_true "writes succeeded before ($ok_before)" test "$ok_before" -gt 10
expect_true "writes succeeded after ($ok_after)" test "$ok_after" -gt 10
expect_eq "every failure was ENOSPC" "ENOSPC:$fail_in " "$(echo "$C" | sed 's/.*errnos=//')"
# errors_seen counts the events the harness had read when the window
# closed: the last one or two may still be in flight.
seen=$(jq -r '.faults[0].details.errors_seen.ENOSPC' "$J")
expect_true "journal counts the errors the writer reported ($seen of $fail_in)" \
    test "$seen" -le "$fail_in" -a "$seen" -ge $(( fail_in - 3 ))
# The writer's own output (stdout in its log), in its own clock.
LOG="$E2E_TMP/df/logs/writer.0.log"
OUT=$(awk -v B="$B" -v A="$A" -v Z="$Z" -v D="$D" '
  /^call=/ { c = substr($1, 6) + 0; d = substr($2, 6) + 0
             if ($5 == "failed") { if (d < B || c > D) fo++; else if ($6 == "ENOSPC") fi++ }
             else { if (d < B) ob++; if (c > D) oa++; if (c >= A && d <= Z) oi++ } }
  END { printf "%d %d %d %d %d", fi, fo, ob, oa, oi }' "$LOG")
read -r lfi lfo lob loa loi <<<"$OUT"
expect_true "the writer's log shows ENOSPC inside the window ($lfi)" test "$lfi" -gt 50
expect_eq "the writer's log shows no failure outside it" 0 "$lfo"
expect_true "the writer's log shows successes before and after ($lob, $loa)" test "$lob" -gt 10 -a "$loa" -gt 10
expect_eq "the writer's log shows no success inside it" 0 "$loi"
expect_true "fsync failed too" grep -q " fsync n=[0-9]* failed ENOSPC" "$LOG"
expect_true "no process of the run left" test -z "$(procs_of_run "$E2E_TMP/df")"
finish
