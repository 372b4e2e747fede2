# End-to-end: `chaosrun shrink` and `chaosrun explore` on sleeping services
# (no port, no pipeline: fast and deterministic).  A seven-occurrence run
# fails a-never-restarted because of its one kill; shrink (2 runs a
# candidate) keeps that kill alone, aimed at the replica it hit, moves it
# earlier and cuts duration_s; the steps and the minimal scenario are
# checked.  explore finds the kill in the fault space, writes the
# reproducing scenario, and --keep-going groups the failures.
set -e
. "$(dirname "$0")/lib.sh"
S="$CR_SRC/tests/e2e/scenarios"
O="$E2E_TMP/orig" X="$E2E_TMP/shrink"

run_chaosrun "$O" "$S/shrink-core.json"
expect_eq "the seven-fault run fails" 1 "$RC"
expect_eq "... seven occurrences applied" 7 \
    "$(jq '[.faults[] | select(.outcome=="applied")] | length' "$O/journal.json")"
hit=$(jq -r '.faults[] | select(.name=="kill-a") | .target' "$O/journal.json")

set +e
"$CHAOSRUN" shrink -k 2 --reruns 2 -o "$X" "$O" >"$X.out" 2>&1
RC=$?
set -e
cat "$X.out"
expect_eq "shrink exits 0" 0 "$RC"
M="$X/minimal.json"
expect_true "minimal.json is a valid scenario" "$CHAOSRUN" validate "$M"
expect_eq "one fault left: the kill, on the replica it hit" "kill $hit kill-a.0" \
    "$(jq -r '.faults | map("\(.kind) \(.target) \(.name)") | join(",")' "$M")"
expect_true "moved earlier (at_s $(jq '.faults[0].at_s' "$M") < 1.2)" \
    jq -e '.faults[0].at_s < 1.2' "$M"
expect_true "duration_s cut (now $(jq .duration_s "$M"))" jq -e '.duration_s < 3' "$M"
expect_true "the original is step 0, and it failed twice" \
    jq -e -s '.[0].phase == "original" and .[0].still_fails and (.[0].runs | length) == 2' "$X/steps.jsonl"
expect_true "a kept candidate failed in both its runs" \
    jq -e -s 'all(.[] | select(.still_fails); (.runs | length) == 2 and all(.runs[]; .verdict == "failed"))' "$X/steps.jsonl"
expect_true "a candidate without the kill passed at once (one run)" \
    jq -e -s 'any(.[]; (.still_fails | not) and (.runs | length) == 1 and (.faults | index("kill-a.0") | not))' "$X/steps.jsonl"
expect_true "no fault at all was tried" jq -e -s 'any(.[]; .faults == [])' "$X/steps.jsonl"
expect_eq "the minimal scenario failed both re-runs" 2 "$(jq .reruns_failed "$X/summary.json")"
expect_true "the summary names the reduction" grep -q "faults: 7 -> 1: kill-a.0" "$X.out"
# The report: original vs minimal.
expect_true "report.md and report.html written" test -s "$X/report.md" -a -s "$X/report.html"
expect_true "... six of seven faults removed" grep -qF "| faults | 7 | 1 | 6 removed |" "$X/report.md"
expect_true "... the kill kept, moved earlier" \
    grep -qE "^\| kill-a\.0 \| kill \| .* \| kept, at\\\\_s [0-9.]+ → [0-9.]+ \|$" "$X/report.md"
expect_eq "... every other fault removed" 6 "$(grep -c '| removed |$' "$X/report.md")"
expect_true "... duration_s and the time a run saved" \
    grep -qE "^\| duration\\\\_s \(timeline\) \| 3 s \| [0-9.]+ s \| [0-9.]+ s less a run \|$" "$X/report.md"
expect_true "... the wall time of one run, measured" grep -q "saved a run\|more a run" "$X/report.md"
expect_true "... in the HTML too" grep -q 'id="shrink-compare"' "$X/report.html"

# A run that did not fail: nothing to shrink (exit 2).
sed 's/"max": 0/"max": 5/' "$S/shrink-core.json" >"$E2E_TMP/pass.json"
run_chaosrun "$E2E_TMP/pass" "$E2E_TMP/pass.json"
set +e
"$CHAOSRUN" shrink -o "$E2E_TMP/x2" "$E2E_TMP/pass" >"$E2E_TMP/x2.out" 2>&1
RC=$?
set -e
expect_eq "shrink of a passed run exits 2" 2 "$RC"
expect_true "... saying why" grep -q "no expectation failed" "$E2E_TMP/x2.out"

# explore: the first failure, then --keep-going over a fixed number of runs.
E="$E2E_TMP/explore"
set +e
"$CHAOSRUN" explore --budget 2m --runs 20 -o "$E" "$S/explore-core.json" >"$E.out" 2>&1
RC=$?
set -e
cat "$E.out"
expect_eq "explore finds the failure (exit 1)" 1 "$RC"
n=$(jq .tried "$E/summary.json")
expect_eq "... and stops there" "$n" "$(($(jq .first_failure_run "$E/summary.json") + 1))"
R=$(jq -r '.groups["a-never-restarted"].schedule' "$E/summary.json")
expect_true "... the failing schedule has the kill" jq -e 'any(.faults[]; .kind == "kill")' "$R"
expect_true "... every earlier schedule had none" \
    jq -e -s '.[:-1] | all(.[]; all(.faults[]; .kind != "kill"))' "$E/explore.jsonl"
run_chaosrun "$E2E_TMP/repro" "$R"
expect_eq "... and reproduces it" 1 "$RC"
expect_eq "the same seed draws the same schedules" \
    "$(jq -c '.faults' "$R")" \
    "$("$CHAOSRUN" explore --budget 2m --runs "$n" -q -o "$E2E_TMP/again" "$S/explore-core.json" >/dev/null 2>&1; jq -c '.faults' "$E2E_TMP/again/$(basename "$R")")"
K="$E2E_TMP/keep"
set +e
"$CHAOSRUN" explore --budget 2m --runs 6 --keep-going -q -o "$K" "$S/explore-core.json" >"$K.out" 2>&1
RC=$?
set -e
expect_eq "--keep-going runs every schedule" 6 "$(jq .tried "$K/summary.json")"
expect_eq "... failures grouped by expectation" "$(jq .failures "$K/summary.json")" \
    "$(jq '.groups["a-never-restarted"].count' "$K/summary.json")"
expect_eq "... every kill schedule failed, no other" \
    "$(jq -s '[.[] | select(any(.faults[]; .kind == "kill"))] | length' "$K/explore.jsonl")" \
    "$(jq .failures "$K/summary.json")"
# Resilience coverage of the six runs: every kill of a replica of a was
# followed by its restart; b and c are faulted only by pauses.
C="$K/coverage.json"
expect_eq "coverage.json over the six runs" 6 "$(jq .runs "$C")"
expect_eq "... kills of a counted as the journals have them" \
    "$(jq -s '[.[].faults[] | select(.kind == "kill" and .outcome == "applied")] | length' "$K"/run-*/journal.json)" \
    "$(jq '[.rows[] | select(.kind == "kill" and .target == "a") | .occurrences] | add // 0' "$C")"
expect_true "... each followed by a restart" \
    jq -e '[.rows[] | select(.kind == "kill")] | all(.reactions.restarted.faults == .occurrences)' "$C"
expect_true "... and the index shows the section" grep -q 'id="coverage"' "$K/index.html"
set +e
"$CHAOSRUN" explore --budget 1m "$S/shrink-core.json" >"$E2E_TMP/nx.out" 2>&1
RC=$?
set -e
expect_eq "explore of a scenario without a fault space exits 2" 2 "$RC"

# A system that never starts (b is never ready): three unjudged runs in a
# row end the search with exit 5 instead of spending the budget on them.
jq '.services[1].ready = {"kind": "log", "regex": "^never$", "timeout_s": 0.5}' \
    "$S/explore-core.json" >"$E2E_TMP/nostart.json"
set +e
"$CHAOSRUN" explore --budget 2m --runs 20 -q -o "$E2E_TMP/ns" "$E2E_TMP/nostart.json" >"$E2E_TMP/ns.out" 2>&1
RC=$?
set -e
expect_eq "a system that never starts: explore exits 5" 5 "$RC"
expect_eq "... after three runs" 3 "$(wc -l <"$E2E_TMP/ns/explore.jsonl")"
expect_true "... and says why" grep -q "did not start (or its steady state never held) in 3 runs in a row" "$E2E_TMP/ns.out"
finish
