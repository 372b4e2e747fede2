# End-to-end: a kill without restart fails `recovers` (exit 1); with a
# restart policy it passes (exit 0) and the journal holds the recovery
# time; the same seed gives the same fault timeline.
set -e
. "$(dirname "$0")/lib.sh"
S="$CR_SRC/tests/e2e/scenarios"

run_chaosrun "$E2E_TMP/norestart" "$S/kill-norestart.json"
expect_eq "kill without restart exits 1" 1 "$RC"
J="$E2E_TMP/norestart/journal.json"
expect_eq "status failed" failed "$(jq -r .status "$J")"
expect_eq "recovers failed" failed "$(jq -r '.expectations[] | select(.name=="api-recovers") | .verdict' "$J")"
expect_eq "kill applied" applied "$(jq -r '.faults[0].outcome' "$J")"
expect_eq "exit caused by the fault" "fault:kill-api" \
    "$(jq -r '.services[0].history[] | select(.what=="exit") | .cause' "$J" | head -1)"
expect_true "junit.xml written" test -s "$E2E_TMP/norestart/junit.xml"
expect_true "summary names the failed check" grep -q "FAIL.*api-recovers" "$E2E_TMP/norestart.out"

run_chaosrun "$E2E_TMP/restart" "$S/kill-restart.json"
expect_eq "kill with restart exits 0" 0 "$RC"
J2="$E2E_TMP/restart/journal.json"
expect_eq "recovers passed" passed "$(jq -r '.expectations[] | select(.name=="api-recovers") | .verdict' "$J2")"
rt=$(jq -r '.expectations[] | select(.name=="api-recovers") | .measured.value' "$J2")
expect_true "recovery time recorded ($rt s)" awk -v v="$rt" 'BEGIN{exit !(v > 0 && v <= 1.5)}'
expect_eq "one restart" 1 "$(jq -r '.services[0].restarts' "$J2")"

# Same seed: identical timelines (and identical scheduled times).
run_chaosrun "$E2E_TMP/again" "$S/kill-restart.json"
expect_eq "timeline reproducible" "$(jq -c .timeline "$J2")" "$(jq -c .timeline "$E2E_TMP/again/journal.json")"
expect_eq "scheduled times reproducible" "$(jq -c '[.faults[].scheduled_t]' "$J2")" \
    "$(jq -c '[.faults[].scheduled_t]' "$E2E_TMP/again/journal.json")"
run_chaosrun "$E2E_TMP/other" --seed 8 "$S/kill-restart.json"
expect_true "another seed draws another time" \
    test "$(jq -c .timeline "$J2")" != "$(jq -c .timeline "$E2E_TMP/other/journal.json")"
expect_eq "seed override recorded" "command line" "$(jq -r .seed_source "$E2E_TMP/other/journal.json")"
expect_true "no process of the runs left" test -z "$(procs_of_run "$E2E_TMP/restart")$(procs_of_run "$E2E_TMP/norestart")"
finish
