# End-to-end: a fault chain anchored to readiness (on_ready), a window
# anchored to readiness, and the drain until quiet
# (tests/e2e/scenarios/ready-anchor.json: api SIGKILLed at 0.5 s, paused
# 0.5 s after it is ready again; burst ticks until it exits).
#  - fast boot (0.2 s) and slow boot (2 s): both pass, and the pause starts
#    0.5 s after api's second readiness either way (a wall-clock pause at a
#    fixed time would hit the booting api in the slow case);
#  - too slow (4 s, ready again after duration_s): the pause never fired,
#    the run fails (exit 1) and says why; with duration_max_s the timeline
#    stretches until the pause is over and the run passes (not beyond
#    duration_max_s: 5 s still fails);
#  - a trigger reached during start-up fires at t0 (ready-before-t0.json);
#  - the drain ends 1 s after burst's last tick; when burst never stops, it
#    ends at max_s and the journal says it hit its maximum.
set -e
. "$(dirname "$0")/lib.sh"
S="$CR_SRC/tests/e2e/scenarios/ready-anchor.json"

# A trigger reached during start-up (early is ready 1.5 s before late, so
# before t0) is applied at t0 -- it was skipped ("the fault phase had
# ended") whenever its timer came due before t0.
out="$E2E_TMP/early"
run_chaosrun "$out" "$CR_SRC/tests/e2e/scenarios/ready-before-t0.json"
J="$out/journal.json"
expect_eq "start-up trigger: the run passes" 0 "$RC"
expect_eq "start-up trigger: the pause applied" applied \
    "$(jq -r '.faults[] | select(.name=="pause-early") | .outcome' "$J")"
pa=$(jq -r '.faults[] | select(.name=="pause-early") | .applied_t' "$J")
tr=$(jq -r '.faults[] | select(.name=="pause-early") | .trigger.ready_t' "$J")
expect_true "start-up trigger: reached before t0 ($tr), applied at t0 ($pa)" \
    awk -v r="$tr" -v p="$pa" 'BEGIN{exit !(r < 0 && p >= 0 && p < 0.3)}'

# ready_t J COUNT: the instant api.0 became ready for the COUNT-th time.
ready_t() {
    jq -r --argjson n "$2" '[.services[] | select(.instance=="api.0") | .history[] |
        select(.what=="ready") | .t][$n - 1]' "$1"
}
# near A B TOL: |A - B| <= TOL
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN{d=a-b; if (d<0) d=-d; exit !(d <= t)}'; }

for boot in 0.2 2; do
    out="$E2E_TMP/boot$boot"
    export ANCHOR_BOOT_S=$boot
    run_chaosrun "$out" "$S"
    J="$out/journal.json"
    expect_eq "boot $boot s: passes" 0 "$RC"
    r2=$(ready_t "$J" 2)
    pa=$(jq -r '.faults[] | select(.name=="pause-api") | .applied_t' "$J")
    tr=$(jq -r '.faults[] | select(.name=="pause-api") | .trigger.ready_t' "$J")
    expect_true "boot $boot s: triggered by api's readiness #2 ($tr ~ $r2)" near "$tr" "$r2" 0.01
    expect_true "boot $boot s: pause applied 0.5 s after api was ready again ($r2 -> $pa)" \
        awk -v r="$r2" -v p="$pa" 'BEGIN{exit !(p >= r + 0.5 - 0.001)}'
    expect_eq "boot $boot s: pause applied" applied \
        "$(jq -r '.faults[] | select(.name=="pause-api") | .outcome' "$J")"
    expect_true "boot $boot s: ready again after its boot ($r2 s)" \
        awk -v r="$r2" -v b="$boot" 'BEGIN{exit !(r >= 0.5 + b)}'
    expect_eq "boot $boot s: the trigger names the instance" api.0 \
        "$(jq -r '.faults[] | select(.name=="pause-api") | .trigger.instance' "$J")"
    expect_eq "boot $boot s: the window is anchored at readiness #2" "$r2" \
        "$(jq -r '.expectations[] | select(.name=="ticks-once-back") | .details.anchor_t' "$J")"
    expect_eq "boot $boot s: drain ended by quiet" false "$(jq -r .drain.hit_max "$J")"
    last=$(jq -r .drain.last_event_t "$J")
    waited=$(jq -r .drain.waited_s "$J")
    began=$(jq -r .drain.began_t "$J")
    # From when the drain began (the timeline's end, 4 s, as the loop saw
    # it: a few ms later on a loaded machine).
    expect_true "boot $boot s: drain began at the timeline's end ($began s)" \
        awk -v b="$began" 'BEGIN{exit !(b >= 4 - 0.001 && b < 5)}'
    expect_true "boot $boot s: drained only after 1 s without a tick ($last s, began $began s, waited $waited s)" \
        awk -v b="$began" -v w="$waited" -v l="$last" 'BEGIN{exit !(b + w >= l + 1 - 0.002)}'
    expect_eq "boot $boot s: journal drain_s is the time taken" "$waited" "$(jq -r .drain_s "$J")"
    expect_true "boot $boot s: the log says the drain ended by quiet" \
        grep -q "drain: no tick event from burst for 1 s" "$out.err"
done

out="$E2E_TMP/tooslow"
export ANCHOR_BOOT_S=4
run_chaosrun "$out" "$S"
J="$out/journal.json"
expect_eq "boot 4 s (ready again after duration_s): the run fails" 1 "$RC"
expect_eq "boot 4 s: pause-api never fired" not_fired \
    "$(jq -r '.faults[] | select(.name=="pause-api") | .outcome' "$J")"
expect_eq "boot 4 s: timeline_incomplete names it" pause-api "$(jq -r '.timeline_incomplete[0].fault' "$J")"
expect_true "boot 4 s: the summary says why" \
    grep -q "fault pause-api never fired: its trigger (api ready for the 2nd time) did not come within the timeline (duration_s 4 s; api became ready 1 time)" "$out.out"
expect_true "boot 4 s: the summary counts it" grep -q "1 never fired" "$out.out"

# duration_max_s: the same too-slow boot with a timeline that may stretch
# to 12 s: the run waits for the chain (ready again ~4.5 s, pause 0.5 s
# later for 0.5 s), ends the timeline once the pause is over, and passes.
# (Before duration_max_s, the only outcome was the failure above.)
out="$E2E_TMP/stretch"
jq '.duration_max_s = 12' "$S" >"$E2E_TMP/stretch.json"
run_chaosrun "$out" "$E2E_TMP/stretch.json"
J="$out/journal.json"
expect_eq "boot 4 s, duration_max_s 12: passes" 0 "$RC"
expect_eq "stretched: pause-api applied" applied \
    "$(jq -r '.faults[] | select(.name=="pause-api") | .outcome' "$J")"
pr=$(jq -r '.faults[] | select(.name=="pause-api") | .reverted_t' "$J")
tl=$(jq -r .timeline_s "$J")
expect_true "stretched: the timeline ($tl s) ended once the pause was over ($pr s), within 0.5 s" \
    awk -v t="$tl" -v p="$pr" 'BEGIN{exit !(t >= p - 0.001 && t <= p + 0.5 && t > 4)}'
expect_eq "stretched: duration_s stays the scenario's" 4 "$(jq -r .duration_s "$J")"
expect_true "stretched: the log says so" grep -q "timeline stretched past duration_s 4 s: waiting for pause-api" "$out.err"
# The bound holds: a boot longer than duration_max_s still fails, naming it.
jq '.duration_max_s = 5' "$S" >"$E2E_TMP/stretch5.json"
out="$E2E_TMP/stretch5"
run_chaosrun "$out" "$E2E_TMP/stretch5.json"
J="$out/journal.json"
expect_eq "boot 4 s, duration_max_s 5: fails" 1 "$RC"
expect_true "duration_max_s 5: timeline ended at its maximum ($(jq -r .timeline_s "$J") s)" \
    awk -v t="$(jq -r .timeline_s "$J")" 'BEGIN{exit !(t >= 5 - 0.01 && t < 5.5)}'
expect_true "duration_max_s 5: the summary says why" \
    grep -q "fault pause-api .*at most duration_max_s 5 s" "$out.out"

out="$E2E_TMP/busy"
export ANCHOR_BOOT_S=0.2 ANCHOR_BURST_S=100
run_chaosrun "$out" "$S"
J="$out/journal.json"
expect_eq "burst never quiet: the run goes on and passes" 0 "$RC"
expect_eq "burst never quiet: the drain hit its maximum" true "$(jq -r .drain.hit_max "$J")"
expect_true "burst never quiet: waited max_s ($(jq -r .drain.waited_s "$J") s)" \
    awk -v w="$(jq -r .drain.waited_s "$J")" 'BEGIN{exit !(w >= 3 - 0.01)}'
expect_true "burst never quiet: the log says so" \
    grep -q "drain hit its maximum of 3 s: tick events from burst still came" "$out.err"
unset ANCHOR_BOOT_S ANCHOR_BURST_S
expect_true "no process of the runs left" \
    test -z "$(procs_of_run "$E2E_TMP/boot2")$(procs_of_run "$E2E_TMP/busy")"
finish
