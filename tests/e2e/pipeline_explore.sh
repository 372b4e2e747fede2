# End-to-end: `chaosrun explore` on the reference pipeline's fault space
# (tests/e2e/scenarios/explore-pipeline.json: worker kills and short stalls
# of the other services, two to four a schedule).  On the correct pipeline
# three schedules find nothing (no false failure); with
# CRP_DEFECT=ack_before_commit a failure of no-loss is found within six,
# and its concrete scenario (fixed times, no ranges) reproduces it.
set -e
. "$(dirname "$0")/pipeline_lib.sh"
S="$CR_SRC/tests/e2e/scenarios/explore-pipeline.json"
OK="$E2E_TMP/ok" BAD="$E2E_TMP/bad"

unset CRP_DEFECT
set +e
"$CHAOSRUN" explore --runs 3 --budget 90s -o "$OK" "$S" >"$OK.out" 2>&1
RC=$?
set -e
cat "$OK.out"
if [ "$RC" = 3 ]; then echo "SKIPPED: this machine cannot run the pipeline"; exit 77; fi
expect_eq "correct pipeline: explore finds nothing (exit 0)" 0 "$RC"
expect_eq "... in three schedules" 3 "$(jq .tried "$OK/summary.json")"
expect_eq "... no failure" 0 "$(jq .failures "$OK/summary.json")"
expect_true "... every run passed" \
    jq -e -s 'length == 3 and all(.[]; .status == "passed")' "$OK/explore.jsonl"
expect_true "... suite index written" test -s "$OK/index.html"
expect_true "the summary says the strategy" grep -q "strategy uniform" "$OK.out"

export CRP_DEFECT=ack_before_commit
set +e
"$CHAOSRUN" explore --runs 6 --budget 120s -o "$BAD" "$S" >"$BAD.out" 2>&1
RC=$?
set -e
cat "$BAD.out"
expect_eq "ack_before_commit: explore finds a failure (exit 1)" 1 "$RC"
expect_eq "... of no-loss" 1 "$(jq '.groups["no-loss"].count' "$BAD/summary.json")"
R=$(jq -r '.groups["no-loss"].schedule' "$BAD/summary.json")
expect_true "... its schedule is a valid scenario" "$CHAOSRUN" validate "$R"
expect_true "... concrete: fixed times, no explore key" \
    jq -e '(has("explore") | not) and (.faults | length >= 2) and all(.faults[]; (.at_s | type) == "number")' "$R"
run_chaosrun "$E2E_TMP/repro" "$R"
expect_eq "... which reproduces the failure" 1 "$RC"
expect_eq "... of no-loss" failed \
    "$(jq -r '.expectations[] | select(.name=="no-loss") | .verdict' "$E2E_TMP/repro/journal.json")"
pipeline_finish
