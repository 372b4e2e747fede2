# End-to-end: `chaosrun shrink` on the reference pipeline.  A ten-fault run
# (nine short stalls of the sink and the queue, one SIGKILL of
# a worker on its third full lease) with CRP_DEFECT=ack_before_commit fails
# no-loss; shrink, one run a candidate to stay short, takes it down to at
# most two faults with the worker kill among them, still anchored to the
# lease (as a time, "earlier" moved it to 0.2 s, where the worker may hold
# nothing yet: the minimal then did not fail again -- CI, stop 28);
# minimal.json validates and fails no-loss again.
# The longer measurement (3 runs a candidate) is in tests/bench/README.md.
set -e
. "$(dirname "$0")/pipeline_lib.sh"
S="$CR_SRC/tests/e2e/scenarios/shrink-pipeline.json"
O="$E2E_TMP/orig" X="$E2E_TMP/shrink"
export CRP_DEFECT=ack_before_commit
# The kill loses records only if it lands while the worker holds a leased
# (already acknowledged) batch: it is anchored to one.  Should a run still
# pass (the kill came after the commit), the test takes the first of three
# seeds whose run fails (the scenario's own seed first) -- selected by the
# run's verdict, not by a guess about this machine's speed.  The same holds
# for shrink's own first step, which runs the original's concrete schedule
# again: when that run passes, shrink rightly says there is nothing to
# shrink, and the test moves on to the next seed.
for seed in 7 8 9; do
    rm -rf "$O" "$X" "$X.out"
    run_chaosrun "$O" --seed "$seed" "$S"
    if unrunnable "$O"; then pipeline_finish; fi
    if [ "$RC" != 1 ]; then
        echo "seed $seed: the ten-fault run passed (the kill found no leased batch); next seed"
        continue
    fi
    set +e
    "$CHAOSRUN" shrink -k 1 --reruns 1 --budget 120s -o "$X" "$O" >"$X.out" 2>&1
    SRC_RC=$?
    set -e
    grep -q "nothing to shrink" "$X.out" || break
    echo "seed $seed: the original's schedule passed when shrink ran it again; next seed"
done
expect_eq "the ten-fault run fails" 1 "$RC"
expect_eq "... no-loss" failed \
    "$(jq -r '.expectations[] | select(.name=="no-loss") | .verdict' "$O/journal.json")"
expect_eq "... with ten faults applied" 10 \
    "$(jq '[.faults[] | select(.outcome=="applied")] | length' "$O/journal.json")"
RC=${SRC_RC:-none}
cat "$X.out" 2>/dev/null || true
expect_eq "shrink exits 0" 0 "$RC"
M="$X/minimal.json"
expect_true "minimal.json is a valid scenario" "$CHAOSRUN" validate "$M"
n=$(jq '.faults | length' "$M" 2>/dev/null || echo none)
expect_true "one or two faults left (got $n)" test "$n" -ge 1 -a "$n" -le 2
expect_true "the worker kill is among them" \
    jq -e '[.faults[] | select(.kind=="kill" and .target=="worker.0")] | length == 1' "$M"
expect_true "no range, no repetition left" \
    jq -e 'all(.faults[]; (has("every_s") | not) and (has("until_s") | not))' "$M"
expect_true "the kill is still anchored to the third full lease, not to a time" \
    jq -e '[.faults[] | select(.kind=="kill")][0] | (has("at_s") | not) and
        .on_event == {"ev": "leased", "svc": "worker.0", "where": {"n": 16}, "count": 3,
            "delay_s": 0.04}' "$M"
expect_true "every stall left is at a time" \
    jq -e 'all(.faults[] | select(.kind=="pause"); (.at_s | type) == "number")' "$M"
expect_true "the summary says so" grep -q "kill-worker.0 on leased #3 of worker.0 +0.04 s" "$X.out"
expect_true "steps.jsonl starts with the original, which failed" \
    jq -e -s '.[0].phase == "original" and .[0].still_fails' "$X/steps.jsonl"
expect_true "every kept candidate failed no-loss in its run" \
    jq -e -s 'all(.[] | select(.still_fails); all(.runs[]; .verdict == "failed"))' "$X/steps.jsonl"
expect_true "a dropped candidate did not fail" \
    jq -e -s 'any(.[]; .phase == "drop" and (.still_fails | not))' "$X/steps.jsonl"
expect_true "every candidate is a run directory with a journal" \
    test -s "$X/step-001/run-0/journal.json"
expect_true "the summary names the reduction" grep -q "faults: 10 -> $n" "$X.out"
expect_eq "minimal.json failed no-loss again in its re-run" 1 \
    "$(jq .reruns_failed "$X/summary.json")"
pipeline_finish
