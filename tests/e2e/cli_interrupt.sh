# End-to-end: an interrupted run is not judged.  Ctrl-C (SIGINT) in the
# middle of a run whose records are always in flight: exit 4, status
# interrupted, every expectation "not judged" (verdict unknown,
# details.not_judged "interrupted") -- the records in flight at the
# interrupt are not reported as lost -- one NOT JUDGED line in the
# summary, <skipped> in junit.xml beside the run's <error>.
set -e
. "$(dirname "$0")/lib.sh"
S="$CR_SRC/tests/e2e/scenarios/interrupt-inflight.json"

wait_for() { # FILE PATTERN
    for _ in $(seq 1 100); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

out="$E2E_TMP/int"
"$CHAOSRUN" --no-status --out "$out" "$S" >"$out.out" 2>"$out.err" &
pid=$!
expect_true "run reached t0" wait_for "$out.err" "t0:"
# Until records flow (the history holds accepted ids).
for _ in $(seq 1 50); do
    [ "$(grep -c '"accepted"' "$out/events.live.jsonl" 2>/dev/null || echo 0)" -ge 20 ] && break
    sleep 0.1
done
kill -INT $pid
set +e; wait $pid; rc=$?; set -e
J="$out/journal.json"
expect_eq "interrupted run exits 4" 4 "$rc"
expect_eq "journal status" interrupted "$(jq -r .status "$J")"
expect_eq "no_loss is not judged" "unknown interrupted" \
    "$(jq -r '.expectations[] | select(.name == "nothing-lost") | "\(.verdict) \(.details.not_judged)"' "$J")"
expect_eq "no expectation failed" 0 "$(jq '[.expectations[] | select(.verdict == "failed")] | length' "$J")"
expect_eq "every expectation not judged" 2 "$(jq '[.expectations[] | select(.details.not_judged == "interrupted")] | length' "$J")"
expect_true "summary: one NOT JUDGED line" grep -q "NOT JUDGED 2 expectations (nothing-lost, records-accepted): the run was interrupted" "$out.out"
expect_eq "summary: no FAIL line" 0 "$(grep -c '^  FAIL' "$out.out" || true)"
expect_true "junit: the run's error says so" grep -q "its expectations were not judged" "$out/junit.xml"
expect_eq "junit: both skipped" 2 "$(grep -c '<skipped message="not judged: the run was interrupted by SIGINT"' "$out/junit.xml")"
expect_true "report.md says so" grep -q "its expectations were not judged" "$out/report.md"
expect_eq "no process left" "" "$(procs_of_run "$out")"

# A --seeds campaign: SIGTERM during seed 1 ends the campaign, not just
# that run (before: each TERM ended only the current seed and the next one
# began).  No later seed starts; the multi-run report covers the run made.
camp="$E2E_TMP/camp"
"$CHAOSRUN" --no-status --seeds 1..5 --out "$camp" "$S" >"$camp.out" 2>"$camp.err" &
pid=$!
expect_true "seed 1 reached t0" wait_for "$camp.err" "t0:"
kill -TERM $pid
set +e; wait $pid; rc=$?; set -e
expect_eq "interrupted campaign exits 4" 4 "$rc"
expect_eq "seed 1 was interrupted" interrupted "$(jq -r .status "$camp/seed-1/journal.json")"
expect_true "no seed after it started" test ! -e "$camp/seed-2"
expect_true "the campaign says so" grep -q "interrupted by SIGTERM after 1 of 5 runs" "$camp.out"
expect_true "multi-run report of the run made" test -s "$camp/multi.html"
expect_eq "no process left" "" "$(procs_of_run "$camp/seed-1")"

# A suite interrupted from the terminal: Ctrl-C sends SIGINT to the whole
# foreground process group.  Each run must get one stop request (from the
# suite), not the terminal's SIGINT and then the suite's SIGTERM, which it
# took as "again to force" and SIGKILLed its services without their grace.
suite="$E2E_TMP/suite"
setsid "$CHAOSRUN" suite -j 2 --no-status --out "$suite" "$CR_SRC/tests/e2e/scenarios/suite-int" \
    >"$suite.out" 2>"$suite.err" &
pid=$!
for n in a b; do
    for _ in $(seq 1 300); do
        grep -q '^up' "$suite/grace-$n/logs/svc.0.log" 2>/dev/null && break
        sleep 0.1
    done
    expect_true "suite: grace-$n's service is up" grep -q '^up' "$suite/grace-$n/logs/svc.0.log"
done
kill -INT -- -"$pid"
set +e; wait $pid; rc=$?; set -e
expect_eq "interrupted suite exits 4" 4 "$rc"
for n in a b; do
    expect_eq "suite: grace-$n interrupted" interrupted "$(jq -r .status "$suite/grace-$n/journal.json")"
    expect_true "suite: grace-$n's service had its stop grace (not SIGKILLed)" \
        grep -q "graceful stop" "$suite/grace-$n/logs/svc.0.log"
    expect_eq "suite: grace-$n: no process left" "" "$(procs_of_run "$suite/grace-$n")"
done
finish
