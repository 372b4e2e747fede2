# End-to-end: autoscaling of the reference pipeline's workers (ports 79xx).
# `crp supervise --stages worker --autoscale 1:3` runs the workers beside
# the other stages (chaosrun services); a producer burst makes the backlog
# grow.  Correct: scaled up to 3 then back down, within [1, 3], cool-down
# held, every retired worker drained gracefully, nothing lost.
# scale_no_cooldown (changes as soon as the condition held, ignoring the
# cool-down) breaks cooldown-held; scale_down_kill (SIGKILL instead of a
# drain) breaks drains-gracefully.
set -e
. "$(dirname "$0")/pipeline_lib.sh"
# Bad autoscaling options are refused before anything starts (exit 2).
set +e
"$CR_BIN/crp" supervise --stages worker --autoscale 3:1 --port 7989 \
    --data-dir "$E2E_TMP/d" --events "" >"$E2E_TMP/s1.out" 2>&1
expect_eq "supervise with --autoscale 3:1 exits 2" 2 "$?"
expect_true "the message names the option" grep -q -- '--autoscale "3:1"' "$E2E_TMP/s1.out"
"$CR_BIN/crp" supervise --stages worker --autoscale 1:2 --scale-up-depth 5 \
    --scale-down-depth 9 --port 7989 --data-dir "$E2E_TMP/d" --events "" \
    >"$E2E_TMP/s2.out" 2>&1
expect_eq "supervise with down depth > up depth exits 2" 2 "$?"
expect_true "the message names --scale-down-depth" grep -q -- '--scale-down-depth' "$E2E_TMP/s2.out"
"$CR_BIN/crp" supervise --stages worker,bogus --port 7989 --data-dir "$E2E_TMP/d" \
    --events "" >"$E2E_TMP/s3.out" 2>&1
expect_eq "supervise with an unknown stage exits 2" 2 "$?"
expect_true "the message names the stage" grep -q 'unknown stage "bogus"' "$E2E_TMP/s3.out"
set -e
check_correct pipeline-autoscale
out="$E2E_TMP/pipeline-autoscale"
if [ -f "$out/events.jsonl" ]; then
    # a drained worker is neither a crash nor restarted
    expect_eq "no worker restarted by the supervisor" 0 \
        "$(grep -c '"ev":"restarted"' "$out/events.jsonl" || true)"
    expect_true "every scale-down drained gracefully" \
        grep -q '"ev":"drained".*"graceful":true' "$out/events.jsonl"
fi
check_defect pipeline-autoscale scale_no_cooldown cooldown-held
check_defect pipeline-autoscale scale_down_kill drains-gracefully
pipeline_finish
