# End-to-end: a real run with three faults (kill, pause, restart) leaves
# report.html, report.md and junit.xml in its run directory; the HTML shows
# one fault window per fault, the service states the faults caused and the
# charts of the flow the services reported; `chaosrun report DIR`
# regenerates the same bytes; an interrupted run gets its reports too.
set -e
. "$(dirname "$0")/lib.sh"
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND"' ERR
S="$CR_SRC/tests/e2e/scenarios/report-three-faults.json"

out="$E2E_TMP/run"
run_chaosrun "$out" "$S"
expect_eq "three-fault run exits 0" 0 "$RC"
[ "$RC" = 0 ] || { echo "--- chaosrun output:"; tail -20 "$out.out" "$out.err"; }
for f in report.html report.md junit.xml; do
    expect_true "$f written" test -s "$out/$f"
done
html="$out/report.html"
expect_eq "one fault window per fault" 3 "$(grep -o 'class="fault-window[^"]*"' "$html" | wc -l)"
expect_eq "a lane per instance" 3 "$(grep -o 'class="svc-lane"' "$html" | wc -l)"
expect_true "flow.0 drawn paused" sh -c "grep -o '<g class=\"svc-lane\" data-instance=\"flow.0\">.*' '$html' | head -1 | grep -q 'st-paused'"
expect_true "flow.1 drawn dead then restarting" sh -c "grep -o '<g class=\"svc-lane\" data-instance=\"flow.1\">.*' '$html' | head -1 | grep -q 'st-dead'"
for c in throughput retries latency errors; do
    expect_true "chart $c drawn" grep -q "data-chart=\"$c\"" "$html"
done
expect_true "breaker lane drawn" grep -q 'class="br-open"' "$html"
expect_eq "one section per expectation" 3 "$(grep -o 'class="card expect v-[a-z]*"' "$html" | wc -l)"
expect_eq "verdicts as in the journal" "$(jq '[.expectations[] | select(.verdict == "passed")] | length' "$out/journal.json")" \
    "$(grep -o 'data-verdict="passed"' "$html" | wc -l)"
expect_true "probe lane drawn" grep -q 'class="probe-ok"' "$html"
expect_true "report.md lists the faults" grep -q '^| pause-flow | pause | flow.0 | ' "$out/report.md"
if command -v xmllint >/dev/null; then
    expect_true "junit.xml validates" xmllint --noout --schema "$CR_SRC/tests/data/junit.xsd" "$out/junit.xml"
fi
# No network reference anywhere in the page.
expect_true "report.html is self-contained" sh -c "! grep -Eq '(src|href)=\"(https?:)?//' '$html'"

mkdir "$E2E_TMP/before"
cp "$out"/report.html "$out"/report.md "$out"/junit.xml "$E2E_TMP/before/"
"$CHAOSRUN" report "$out" >/dev/null
for f in report.html report.md junit.xml; do
    expect_true "chaosrun report regenerates the same $f" cmp -s "$out/$f" "$E2E_TMP/before/$f"
done
set +e
"$CHAOSRUN" report --compare "$out" "$out" --out "$E2E_TMP/cmp" >"$E2E_TMP/cmp.md"
rc=$?
set -e
expect_eq "compare exits 0" 0 "$rc"
expect_true "compare of a run with itself changes nothing" grep -q 'No verdict changed' "$E2E_TMP/cmp.md"

# Interrupted: the reports are written on the way out.
long="$E2E_TMP/long.json"
jq '.name = "report-interrupted" | .duration_s = 60 | .faults[1].for_s = 50' "$S" >"$long"
out="$E2E_TMP/int"
"$CHAOSRUN" --no-status --out "$out" "$long" >"$out.out" 2>"$out.err" &
pid=$!
for _ in $(seq 1 100); do grep -q "t0:" "$out.err" 2>/dev/null && break; sleep 0.1; done
sleep 2.5
kill -TERM $pid 2>/dev/null || echo "chaosrun had already exited: $(tail -3 "$out.err")"
set +e; wait $pid; rc=$?; set -e
expect_eq "interrupted run exits 4" 4 "$rc"
expect_true "interrupted run has report.html" test -s "$out/report.html"
expect_true "report says interrupted" grep -q 'class="badge v-interrupted"' "$out/report.html"
expect_true "junit.xml has the run error" grep -q '<error message="interrupted' "$out/junit.xml"
expect_eq "no process left" "" "$(procs_of_run "$out")"
finish
