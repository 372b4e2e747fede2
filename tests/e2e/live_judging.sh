# End-to-end: judging while the run goes on (harness/checks/cr_live.h).
# - status.json in the run directory is rewritten about once a second: read
#   while chaosrun runs, it shows the run time growing, and at the end
#   "final": true with the verdicts;
# - --fail-fast on a correct run changes nothing: it runs to its end and
#   passes;
# - a pipeline that delivers id 30 twice: with --fail-fast the run stops
#   early (before its timeline's end), every report is still written, and
#   the exit status and status are those of the full failing run;
# - "unsorted": lines that arrive out of time order (a line stamped in the
#   warm-up written 4.5 s later) are judged in time order at the end (the
#   history used to be sorted only after the verdicts: no_loss then
#   counted id 7 as duplicated), and live judging calls that duplicate
#   violated but never final, so --fail-fast does not stop the run.
set -e
. "$(dirname "$0")/lib.sh"
S="$CR_SRC/tests/e2e/scenarios"
dur=$(jq .duration_s "$S/live-ids.json")

# Correct run with --fail-fast, status.json read while it runs.
out="$E2E_TMP/ok"
"$CHAOSRUN" --no-status --fail-fast --out "$out" "$S/live-ids.json" \
    >"$out.out" 2>"$out.err" &
pid=$!
seen="$E2E_TMP/seen"
: >"$seen"
while kill -0 "$pid" 2>/dev/null; do
    # Replaced atomically (renameat): a read sees a whole file or none.
    jq -r 'select(.final == false) | "\(.t) \(.phase) \(.counts.holding)"' \
        "$out/status.json" >>"$seen" 2>/dev/null || true
    sleep 0.25
done
set +e
wait "$pid"
RC=$?
set -e
expect_eq "correct run with --fail-fast exits 0" 0 "$RC"
n=$(cut -d' ' -f1 "$seen" | sort -u | wc -l)
expect_true "status.json read $n times with a new t while running" test "$n" -ge 2
expect_true "a live state read while running was holding" \
    awk '$3 >= 1 { found = 1 } END { exit !found }' "$seen"
expect_eq "final status.json" "true passed passed holding null" \
    "$(jq -r '"\(.final) \(.status) \(.expectations[0].verdict) \(.expectations[0].state) \(.stopped_early)"' "$out/status.json")"
expect_eq "not stopped early" null "$(jq -c .stopped_early "$out/journal.json")"

# The same pipeline delivering id 30 twice: to the end, then --fail-fast.
jq '.services[0].cmd += ["--dup", "30"]' "$S/live-ids.json" >"$E2E_TMP/dup.json"
run_chaosrun "$E2E_TMP/full" "$E2E_TMP/dup.json"
full_rc=$RC
expect_eq "full run with the duplicate exits 1" 1 "$full_rc"
run_chaosrun "$E2E_TMP/ff" --fail-fast "$E2E_TMP/dup.json"
expect_eq "--fail-fast run exits as the full run" "$full_rc" "$RC"
J="$E2E_TMP/ff/journal.json"
expect_eq "same status" "$(jq -r .status "$E2E_TMP/full/journal.json")" "$(jq -r .status "$J")"
expect_eq "stopped by" "fail-fast every-record-once" \
    "$(jq -r '"\(.stopped_early.reason) \(.stopped_early.expectation)"' "$J")"
t_stop=$(jq .stopped_early.t "$J")
t_viol=$(jq .stopped_early.violated_at "$J")
expect_true "stopped at t=$t_stop, after the duplicate at t=$t_viol, before the timeline's end ($dur s)" \
    awk -v s="$t_stop" -v v="$t_viol" -v d="$dur" 'BEGIN { exit !(v <= s && s < d) }'
expect_true "the journal's error says why" grep -q "stopped early by --fail-fast" <<<"$(jq -r .error "$J")"
expect_eq "no_loss failed, naming the duplicate" failed "$(jq -r '.expectations[0].verdict' "$J")"
expect_true "evidence names id 30" \
    grep -q "id 30 delivered 2 times" <<<"$(jq -r '.expectations[0].evidence[].text' "$J")"
for f in journal.json events.jsonl report.html report.md junit.xml status.json; do
    expect_true "$f written" test -s "$E2E_TMP/ff/$f"
done
expect_eq "final status.json of the stopped run" "true failed violated true" \
    "$(jq -r '"\(.final) \(.status) \(.expectations[0].state) \(.expectations[0].final)"' "$E2E_TMP/ff/status.json")"
expect_true "no event after the stop" \
    test "$(jq -s '[.[] | select(.svc == "pipe")] | length' "$E2E_TMP/ff/events.jsonl")" -lt \
    "$(jq -s '[.[] | select(.svc == "pipe")] | length' "$E2E_TMP/full/events.jsonl")"

# unsorted
run_chaosrun "$E2E_TMP/uns" --fail-fast "$S/live-unsorted.json"
expect_eq "unsorted: exits 0" 0 "$RC"
expect_eq "unsorted: no_loss passed on the history in time order" passed \
    "$(jq -r '.expectations[0].verdict' "$E2E_TMP/uns/journal.json")"
expect_eq "unsorted: not stopped early" null "$(jq -c .stopped_early "$E2E_TMP/uns/journal.json")"
expect_eq "unsorted: the last live state agrees" holding \
    "$(jq -r '.expectations[0].state' "$E2E_TMP/uns/status.json")"
finish
