# End-to-end: `chaosrun explore` on the reference pipeline's fault space
# (tests/e2e/scenarios/explore-pipeline.json: worker kills and short stalls
# of the other services, two to four a schedule).  On the correct pipeline
# three schedules find nothing (no false failure); with
# CRP_DEFECT=ack_before_commit a failure of no-loss is found within six,
# (with two runs at once, -j 2, as root), and its concrete scenario
# (fixed times, no ranges) reproduces it.
set -e
. "$(dirname "$0")/pipeline_lib.sh"
S="$CR_SRC/tests/e2e/scenarios/explore-pipeline.json"
OK="$E2E_TMP/ok" BAD="$E2E_TMP/bad"

unset CRP_DEFECT
set +e
"$CHAOSRUN" explore --strategy coverage --runs 3 --budget 90s -o "$OK" "$S" >"$OK.out" 2>&1
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
expect_true "the summary says the strategy" grep -q "strategy coverage" "$OK.out"
expect_eq "... so do summary.json and explore.jsonl" coverage,coverage \
    "$(jq -r .strategy "$OK/summary.json"),$(jq -r -s 'map(.strategy) | unique | join(",")' "$OK/explore.jsonl")"
# The coverage strategy draws no combination (template x target x third of
# the start window) twice before every one was drawn once.
NF=$(jq -s '[.[].faults | length] | add' "$OK/explore.jsonl")
expect_eq "... no combination drawn twice while another was never drawn" \
    "$(jq --argjson f "$NF" '[.combinations.total, $f] | min' "$OK/summary.json")" \
    "$(jq .combinations.tried "$OK/summary.json")"
# Resilience coverage of the three runs, checked against their journals.
C="$OK/coverage.json"
expect_true "coverage.json written, the section in index.html" \
    sh -c "test -s '$C' && grep -q 'id=\"coverage\"' '$OK/index.html'"
expect_eq "... over the three runs" 3 "$(jq .runs "$C")"
expect_eq "... every applied fault counted" \
    "$(jq -s '[.[].faults[] | select(.outcome == "applied")] | length' "$OK"/run-*/journal.json)" \
    "$(jq .faults_applied "$C")"
expect_eq "... never faulted: the services no applied fault targeted" \
    "$(jq -c -s '([.[].services[].service] | unique) - [.[].faults[] | select(.outcome == "applied") | .target | split(",")[] | sub("\\.[0-9]+$"; "")]' "$OK"/run-*/journal.json)" \
    "$(jq -c .never_faulted "$C")"
expect_true "... every kill of a worker was followed by its restart" \
    jq -e '[.rows[] | select(.kind == "kill")] | all(.reactions.restarted.faults == .occurrences)' "$C"

# The defect is searched for with two runs at once (-j 2, each run in a
# network namespace of its own: root only), which must find it as one at a
# time does; the runs drawn beyond the failure are cancelled.
J=1
[ "$(id -u)" = 0 ] && J=2
export CRP_DEFECT=ack_before_commit
set +e
"$CHAOSRUN" explore --runs 6 --budget 120s -j "$J" -o "$BAD" "$S" >"$BAD.out" 2>&1
RC=$?
set -e
cat "$BAD.out"
expect_eq "ack_before_commit: explore -j $J finds a failure (exit 1)" 1 "$RC"
if [ "$J" = 2 ]; then
    expect_true "... runs in parallel" grep -q "runs in parallel" "$BAD.out"
    expect_true "... the runs recorded are those up to the failure, in order" \
        jq -e -s --argjson f "$(jq .first_failure_run "$BAD/summary.json")" \
        '(map(.run) == [range(0; $f + 1)]) and (last.status == "failed")' "$BAD/explore.jsonl"
fi
expect_true "... with the default strategy, uniform" grep -q "strategy uniform" "$BAD.out"
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
