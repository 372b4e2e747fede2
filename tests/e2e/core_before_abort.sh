# End-to-end: a steady state that never holds before the faults aborts
# the experiment.  It used to be reported "passed" (exit 0): the engine
# skipped the faults, then judged the expectations anyway, and a service
# expectation holds trivially on a run with no fault.  Now: no fault
# fired, every expectation "unknown" (not judged, reason "aborted"), journal
# status "aborted" naming the probe and its last answer, exit 5, JUnit red.
set -e
. "$(dirname "$0")/lib.sh"
S="$CR_SRC/tests/e2e/scenarios"
J="$E2E_TMP/run/journal.json"

run_chaosrun "$E2E_TMP/run" "$S/before-abort.json"
expect_eq "run exits 5 (not 0: nothing was tested)" 5 "$RC"
expect_eq "journal status" aborted "$(jq -r .status "$J")"
expect_true "the error names the probe and its answer" \
    grep -q "nothing-listens: tcp 127.0.0.1:1" <<<"$(jq -r .error "$J")"
expect_eq "no fault fired" 0 \
    "$(jq '[.faults[] | select(.outcome == "applied")] | length' "$J")"
expect_eq "expectation not judged" "unknown/aborted" \
    "$(jq -r '.expectations[0] | "\(.verdict)/\(.details.not_judged)"' "$J")"
expect_true "the summary says why" \
    grep -q "NOT JUDGED 1 expectation (idle-ran): the steady state did not hold" "$E2E_TMP/run.out"
expect_true "JUnit has an error" \
    grep -q 'errors="1"' "$E2E_TMP/run/junit.xml"
expect_true "the report says aborted" grep -q "aborted (no steady state)" "$E2E_TMP/run/report.md"
expect_true "no process of the run left" test -z "$(procs_of_run "$E2E_TMP/run")"

# A legitimately slow system: ready (it says so) 7 s before it serves.
# The default before_timeout_s (5 s) aborts it -- by at least 2 s, however
# slow the machine, since a slower machine only serves later; with the
# scenario's own before_timeout_s it is judged and passes.
run_chaosrun "$E2E_TMP/slow5" "$S/before-slow.json"
expect_eq "slow to serve, default 5 s: aborted" 5 "$RC"
expect_true "the error names the time allowed" \
    grep -q "checked for 5 s, before_timeout_s" <<<"$(jq -r .error "$E2E_TMP/slow5/journal.json")"
jq '.before_timeout_s = 60' "$S/before-slow.json" >"$E2E_TMP/before-slow-60.json"
run_chaosrun "$E2E_TMP/slow60" "$E2E_TMP/before-slow-60.json"
expect_eq "slow to serve, before_timeout_s 60: judged and passed" 0 "$RC"
expect_eq "journal status" passed "$(jq -r .status "$E2E_TMP/slow60/journal.json")"
expect_true "no process of the run left" test -z "$(procs_of_run "$E2E_TMP/slow60")"
finish
