# End-to-end: the reference pipeline's alerter (crp alerter) through a
# feature-service outage (ports 77xx).  Correct: the error-ratio and
# breaker-open alerts fire during the outage after their for_s and resolve
# after it, nothing fires in the lead-in, nothing is lost.  alert_no_for
# (fires on the first sample) breaks error-ratio-waits-for;
# alert_never_resolves breaks error-ratio-resolves.
set -e
. "$(dirname "$0")/pipeline_lib.sh"
# The alerter refuses bad targets and rules files with a message naming
# them (exit 1, before scraping anything).
set +e
"$CR_BIN/crp" alerter --port 7795 --targets nonsense --data-dir "$E2E_TMP/d" --events "" >"$E2E_TMP/a1.out" 2>&1
expect_eq "alerter with bad --targets exits 1" 1 "$?"
expect_true "the message names the target" grep -q '"nonsense": expected name=port' "$E2E_TMP/a1.out"
echo '{"rules":[{"name":"x","expr":"gauge","metric":"m"}]}' >"$E2E_TMP/r.json"
"$CR_BIN/crp" alerter --port 7795 --rules "$E2E_TMP/r.json" --data-dir "$E2E_TMP/d" --events "" >"$E2E_TMP/a2.out" 2>&1
expect_eq "alerter with a bad rules file exits 1" 1 "$?"
expect_true "the message names file, rule and field" grep -q "rules $E2E_TMP/r.json: rule \"x\": field \"threshold\"" "$E2E_TMP/a2.out"
set -e
check_correct pipeline-alerts
check_defects pipeline-alerts alert_no_for error-ratio-waits-for alert_never_resolves error-ratio-resolves
pipeline_finish
