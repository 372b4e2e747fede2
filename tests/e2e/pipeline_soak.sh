# End-to-end: the soak scenario (scenarios/long/pipeline-soak.json, one hour)
# compressed to two minutes: every time of the fault timeline (at_s,
# every_s, until_s) divided by 30, so the worker kills come every 4-10 s
# instead of every 2-5 min, with the trainer and the producer shortened to
# match (the scenario's ${SOAK_*} variables).  What does not scale is kept
# apart: a feature outage lasts 3.5 s (not 10 s) and the kill after each
# outage's slot is left out, so no worker is killed while its breaker may
# still be open (the breaker check follows a replica across a restart as
# one breaker); the last outage (at 113 s) is left out too: the producer
# has stopped by its end, and a breaker with no traffic never closes.
# The giveup ratio is bounded by the time under outage, here 5 x 3.5 s of
# 120 s (15%, in the hour 1.7%).  The trainer takes 10 ms a step (4
# epochs, ~60 s) so that it saved a checkpoint (every 250 steps) before
# the first kill.  Without same_result: its fault-free baseline run would
# double the wall time (pipeline_trainer covers it).  About 145 s.
# The one-hour run and its figures: tests/bench/README.md, "Soak run".
set -e
. "$(dirname "$0")/pipeline_lib.sh"

S=$E2E_TMP/pipeline-soak-2min.json
jq '
  def scale: if type == "array" then map(. / 30) else . / 30 end;
  .duration_s = 120
  | .faults |= (map(select(((.name | test("^kill-worker-")) | not)
                           or ((.name[12:] | tonumber) % 3 != 2)))
      | map(if has("at_s") then .at_s |= scale else . end
            | if has("every_s") then .every_s |= scale else . end
            | if has("until_s") then .until_s |= scale else . end
            | if (.name | test("^kill-worker-"))
              then .at_s = [((.at_s[0] + .at_s[1]) / 2 - 1), ((.at_s[0] + .at_s[1]) / 2 + 1)]
              else . end
            | if .name == "feature-outage" then .for_s = 3.5 | .until_s = 100 else . end))
  | ([.faults[] | select(.name | test("^kill-worker-"))] | length) as $kills
  | .expect |= (map(select(.kind != "same_result"))
      | map(if .name == "workers-restarted" then .restarts.min = $kills
            elif .name == "soak-error-ratio" then .error_ratio_max = 0.15
            else . end))
' "$SC/long/pipeline-soak.json" >"$S"

export SOAK_PRODUCE_S=115 SOAK_TRAIN_EPOCHS=4 SOAK_STEP_DELAY_US=10000
unset CRP_DEFECT
OUT=$E2E_TMP/soak
run_chaosrun "$OUT" "$S"
if ! unrunnable "$OUT"; then
    expect_eq "the 2-minute soak passes on the correct pipeline" 0 "$RC"
    [ "$RC" = 0 ] || sed -n '/: failed/,$p' "$OUT.out" | head -30
    for c in no-loss feature-backoff feature-breaker trainer-resumes healthy-slo \
             soak-error-ratio delivers-after-queue-restart \
             delivers-after-second-queue-restart sink-commit-retried \
             workers-restarted queue-restarted; do
        expect_eq "$c passed" passed \
            "$(jq -r --arg c "$c" '.expectations[] | select(.name==$c) | .verdict' "$OUT/journal.json" 2>/dev/null)"
    done
    expect_eq "every worker kill applied" 11 \
        "$(jq '[.faults[] | select((.name | test("^kill-worker-")) and .outcome == "applied")] | length' "$OUT/journal.json")"
    expect_eq "every feature outage applied" 5 \
        "$(jq '[.faults[] | select(.name == "feature-outage" and .outcome == "applied")] | length' "$OUT/journal.json")"
fi
pipeline_finish
