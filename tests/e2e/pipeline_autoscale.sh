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

# Drain timeout (no chaosrun): a worker that does not finish its drain is
# SIGKILLed after --drain-timeout-ms, logged, and reported as a drained
# event with graceful false; it is not restarted.  The test fills the queue
# (the supervisor scales to 2), stops worker.1 (SIGSTOP: SIGTERM stays
# pending), then empties the ready depth with its own GET so that the
# supervisor scales down and drains worker.1.
D="$E2E_TMP/drain"
mkdir -p "$D"
export CHAOSRUN_RUN_DIR=$D CHAOSRUN_EVENTS=$D/events.jsonl
QP=7985
"$CR_BIN/crp" queue --port $QP --http-port 7986 >"$D/queue.log" 2>&1 &
QPID=$!
ev() { local n; n=$(grep -c "\"ev\":\"$1\"" "$D/events.jsonl" 2>/dev/null); echo "${n:-0}"; }
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$QP) 2>/dev/null && break; sleep 0.1; done
exec 5<>/dev/tcp/127.0.0.1/$QP
for i in $(seq 40); do echo "PUT work d-$i 00000000000000000000000000000000 {}" >&5; done
for i in $(seq 40); do read -r -t 5 _ <&5; done
"$CR_BIN/crp" supervise --stages worker --autoscale 1:2 --queue 127.0.0.1:$QP \
    --scale-up-depth 10 --scale-down-depth 5 --scale-for-ms 0 --cooldown-ms 300 \
    --scale-poll-ms 50 --drain-timeout-ms 500 --worker-port 7995 --port 7989 \
    --worker-args "--batch 1 --feature 127.0.0.1:1 --retry-base-ms 500 --retry-max-ms 500" \
    >"$D/sup.log" 2>&1 &
SUP=$!
for _ in $(seq 100); do [ "$(ev scaled)" -ge 1 ] && break; sleep 0.1; done
expect_eq "scaled up to 2 on a full queue" 1 "$(ev scaled)"
# once worker.1 is up (its SIGTERM handler installed): its pid
for _ in $(seq 100); do
    grep -q '"inst":"worker.1","ev":"ready"' "$D/events.jsonl" && break; sleep 0.1
done
W1=""
for p in $(pgrep -P $SUP); do
    tr '\0' '\n' <"/proc/$p/environ" | grep -qx CHAOSRUN_INSTANCE=worker.1 && W1=$p
done
expect_true "worker.1 found" test -n "$W1"
[ -n "$W1" ] && kill -STOP "$W1"
echo "GET work 1000" >&5   # ready depth 0: the supervisor scales down
for _ in $(seq 100); do [ "$(ev drained)" -ge 1 ] && break; sleep 0.1; done
expect_true "the stuck worker.1 drained with graceful false" \
    grep -q '"ev":"drained","instance":"worker.1","ms":[0-9]*,"graceful":false' "$D/events.jsonl"
expect_true "the supervisor says it killed it at the drain timeout" \
    grep -q "worker.1 did not drain within 500 ms: SIGKILL" "$D/sup.log"
expect_eq "a drained worker is not restarted" 0 "$(ev restarted)"
exec 5>&-
kill -TERM $SUP
wait $SUP || true
kill -TERM $QPID
wait $QPID || true
# the supervisor's workers exit after it on a loaded machine: wait (10 s)
for _ in $(seq 100); do [ -z "$(procs_of_run "$D")" ] && break; sleep 0.1; done
left=$(procs_of_run "$D")
expect_true "no process of the drain test left" test -z "$left"
for p in $left; do echo "  left: $p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-160)"; done
unset CHAOSRUN_RUN_DIR CHAOSRUN_EVENTS

check_correct pipeline-autoscale
out="$E2E_TMP/pipeline-autoscale"
if [ -f "$out/events.jsonl" ]; then
    # a drained worker is neither a crash nor restarted
    expect_eq "no worker restarted by the supervisor" 0 \
        "$(grep -c '"ev":"restarted"' "$out/events.jsonl" || true)"
    expect_true "every scale-down drained gracefully" \
        grep -q '"ev":"drained".*"graceful":true' "$out/events.jsonl"
fi
check_defects pipeline-autoscale scale_no_cooldown cooldown-held scale_down_kill drains-gracefully
pipeline_finish
