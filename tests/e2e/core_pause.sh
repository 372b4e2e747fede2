# End-to-end: a pause (SIGSTOP) is seen by a during-probe and by the event
# stream; the service recovers once resumed.
set -e
. "$(dirname "$0")/lib.sh"
run_chaosrun "$E2E_TMP/pause" "$CR_SRC/tests/e2e/scenarios/pause.json"
expect_eq "pause scenario passes" 0 "$RC"
J="$E2E_TMP/pause/journal.json"
expect_eq "pause applied" applied "$(jq -r '.faults[0].outcome' "$J")"
expect_true "pause reverted after about 1.2 s" \
    jq -e '.faults[0] | (.reverted_t - .applied_t) > 1.0 and (.reverted_t - .applied_t) < 2.0' "$J"
fails=$(jq '[.probes[] | select(.ok==false)] | length' "$J")
expect_true "probe saw the pause ($fails failed probes)" test "$fails" -ge 1
expect_true "failed probes inside the window" \
    jq -e '[.probes[] | select(.ok==false) | .t] | min >= 0.4' "$J"
if [ "$RC" != 0 ]; then cat "$E2E_TMP/pause.out" "$E2E_TMP/pause.err"; fi
finish
