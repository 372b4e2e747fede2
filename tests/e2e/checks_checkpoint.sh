# End-to-end: the checkpoint checker on a counter killed at step 25 (a
# state-triggered fault).  Resuming from the last checkpoint passes; the
# "restores an older step" defect fails with the steps named.  Then a kill
# triggered by the 3rd checkpoint_saved event must land after that event
# and before the 4th.
set -e
. "$(dirname "$0")/lib.sh"
S="$CR_SRC/tests/e2e/scenarios"
verdict() { jq -r ".expectations[] | select(.name==\"$2\") | .verdict" "$1/journal.json"; }
summary() { jq -r ".expectations[] | select(.name==\"$2\") | .summary" "$1/journal.json"; }

run_chaosrun "$E2E_TMP/ok" "$S/checks-checkpoint.json"
expect_eq "correct counter exits 0" 0 "$RC"
expect_eq "checkpoint passed" passed "$(verdict "$E2E_TMP/ok" resumes-from-checkpoint)"

jq '.services[0].cmd += ["--restore-older"]' "$S/checks-checkpoint.json" >"$E2E_TMP/older.json"
run_chaosrun "$E2E_TMP/older" "$E2E_TMP/older.json"
expect_eq "older-restoring counter exits 1" 1 "$RC"
s=$(summary "$E2E_TMP/older" resumes-from-checkpoint)
expect_true "summary names the steps ($s)" grep -q "restored step 10 but step 20 was saved before the crash" <<<"$s"

# State-triggered kill on the 3rd checkpoint_saved (steps 10, 20, 30; one
# every 10 steps of 100 ms, so 1 s apart: room for a harness that a
# loaded machine deschedules, 300 ms was once all).  No restart: the 4th, if any,
# would come from the same process.
jq '.faults[0].on_event = {"ev": "checkpoint_saved", "svc": "counter", "count": 3}
    | .duration_s = 6 | .services[0].restart = "never" | .services[0].cmd += ["--step-ms", "100"]
    | .expect = [{"kind": "events", "name": "three-saves", "ev": "checkpoint_saved", "min": 3, "max": 3}]' \
    "$S/checks-checkpoint.json" >"$E2E_TMP/trig.json"
run_chaosrun "$E2E_TMP/trig" "$E2E_TMP/trig.json"
J="$E2E_TMP/trig/journal.json"
expect_eq "triggered kill applied" applied "$(jq -r '.faults[0].outcome' "$J")"
expect_eq "trigger event is the 3rd save (step 30)" 30 "$(jq -r '.faults[0].trigger.event.step' "$J")"
after=$(jq -r '.faults[0].applied_t - .faults[0].trigger.event_t' "$J")
expect_true "applied after the 3rd event ($after s later)" awk -v d="$after" 'BEGIN{exit !(d >= 0)}'
# Unix times of the 3rd and 4th saves in the event log (the 4th must not
# exist or must come after the kill)
ts3=$(jq -r 'select(.ev=="checkpoint_saved" and .step==30) | .ts' "$E2E_TMP/trig/events.jsonl")
ts4=$(jq -r 'select(.ev=="checkpoint_saved" and .step==40) | .ts' "$E2E_TMP/trig/events.jsonl")
expect_eq "no 4th save (the kill came first)" "" "$ts4"
expect_true "kill within the 1 s before the 4th save was due" awk -v d="$after" 'BEGIN{exit !(d < 1.0)}'
expect_true "3rd save logged ($ts3)" test -n "$ts3"
expect_eq "three saves counted" passed "$(verdict "$E2E_TMP/trig" three-saves)"
finish
