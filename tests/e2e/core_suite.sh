# End-to-end: suite mode — several scenarios, run in parallel (--jobs 2)
# except those sharing a port, one combined junit.xml and an index page,
# exit status the worst of the runs.
set -e
. "$(dirname "$0")/lib.sh"
S="$CR_SRC/tests/e2e/scenarios"
mkdir -p "$E2E_TMP/suite"
cp "$S/kill-norestart.json" "$S/kill-restart.json" "$S/pause.json" "$E2E_TMP/suite/"
set +e
"$CHAOSRUN" suite -j 2 --no-status --out "$E2E_TMP/out" "$E2E_TMP/suite" >"$E2E_TMP/suite.out" 2>&1
rc=$?
set -e
expect_eq "worst exit status (one scenario fails)" 1 "$rc"
O="$E2E_TMP/out"
for n in kill-norestart kill-restart pause-probe; do
    expect_true "run directory $n with its journal" test -s "$O/$n/journal.json"
done
expect_eq "combined junit has three suites" 3 "$(grep -c '<testsuite ' "$O/junit.xml")"
expect_true "index links every report" sh -c "grep -q 'kill-norestart' '$O/index.html' && grep -q 'pause-probe' '$O/index.html'"
# Resilience coverage of the suite: the three runs, their applied faults.
expect_eq "coverage.json over the three runs" 3 "$(jq .runs "$O/coverage.json")"
expect_eq "... every applied fault counted" \
    "$(jq -s '[.[].faults[] | select(.outcome == "applied")] | length' "$O"/*/journal.json)" \
    "$(jq .faults_applied "$O/coverage.json")"
expect_true "... the kills in the matrix" jq -e 'any(.rows[]; .kind == "kill")' "$O/coverage.json"
expect_true "... and the section in index.html" grep -q 'id="coverage"' "$O/index.html"
# The two kill scenarios share port 18431: they must not overlap in time.
a_end=$(jq .ended_at "$O/kill-norestart/journal.json"); a_start=$(jq .started_at "$O/kill-norestart/journal.json")
b_end=$(jq .ended_at "$O/kill-restart/journal.json"); b_start=$(jq .started_at "$O/kill-restart/journal.json")
expect_true "runs sharing a port did not overlap" awk -v a="$a_start" -v A="$a_end" -v b="$b_start" -v B="$b_end" 'BEGIN{exit !(A <= b || B <= a)}'
p_start=$(jq .started_at "$O/pause-probe/journal.json"); p_end=$(jq .ended_at "$O/pause-probe/journal.json")
expect_true "a run on other ports ran alongside" awk -v a="$a_start" -v A="$a_end" -v b="$b_start" -v B="$b_end" -v p="$p_start" -v P="$p_end" 'BEGIN{exit !((p < A && a < P) || (p < B && b < P))}'
finish
