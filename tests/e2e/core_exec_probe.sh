# End-to-end: exec probes and exec readiness checks see their own
# program's exit status.  The engine reaps only the processes it started
# (by pid and process group); a reaper that waited for any child took the
# probe's child first and every exec probe failed with "waitpid: No child
# processes" (and the run was aborted before t0).
set -e
. "$(dirname "$0")/lib.sh"
S="$CR_SRC/tests/e2e/scenarios"
J="$E2E_TMP/run/journal.json"

run_chaosrun "$E2E_TMP/run" "$S/exec-probe.json"
expect_eq "run exits 0" 0 "$RC"
expect_true "t0 reached (the before-probe passed)" \
    test "$(jq '[.phases[] | select(.name=="faults")] | length' "$J")" -eq 1
n=$(jq '[.probes[] | select(.probe=="true-holds")] | length' "$J")
expect_true "probes ran ($n)" test "$n" -ge 10
bad=$(jq -r '[.probes[] | select(.ok != true) | .detail] | unique | join("; ")' "$J")
expect_eq "every exec probe passed" "" "$bad"
expect_true "the flaky service was restarted meanwhile" \
    test "$(jq '.services[] | select(.instance=="flaky.0") | .restarts' "$J")" -ge 5
expect_true "no process of the run left" test -z "$(procs_of_run "$E2E_TMP/run")"
finish
