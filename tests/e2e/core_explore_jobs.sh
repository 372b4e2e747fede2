# End-to-end: `chaosrun explore -j 2` on sleeping services (no port, no
# pipeline: fast).  The same seed and strategy (coverage, whose draws
# depend on every draw before them) with -j 1 and -j 2: the same runs,
# schedules, verdicts, tally and first failure; with -j 2 two runs ran at
# the same time (their journals' own clocks overlap) and the run drawn
# beyond the failure was cancelled, its files removed.  SIGTERM ends a
# -j 2 exploration: exit 4, the interrupted run recorded, no service of
# any run left.  Without CAP_NET_ADMIN, -j 2 exits 3 saying why.
set -e
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIPPED: -j runs each run in a network namespace of its own, which needs root"; exit 77; }
# The services sleep with an argument of this test's own, to find them.
S="$E2E_TMP/explore-core.json"
jq --arg m "1000.$$" '.services |= map(.cmd = ["sleep", $m])' \
    "$CR_SRC/tests/e2e/scenarios/explore-core.json" >"$S"

# explore ARGS...: runs chaosrun explore, sets RC, output in $E2E_TMP/x.out
explore() {
    set +e
    "$CHAOSRUN" explore "$@" >"$E2E_TMP/x.out" 2>&1
    RC=$?
    set -e
    cat "$E2E_TMP/x.out"
}

# Seed 40, coverage: runs 0 and 1 pass, run 2 (a pause and a kill) fails.
A="$E2E_TMP/j1" B="$E2E_TMP/j2"
explore --budget 2m --runs 10 --strategy coverage --seed 40 -o "$A" "$S"
expect_eq "-j 1 finds the failure (exit 1)" 1 "$RC"
explore --budget 2m --runs 10 --strategy coverage --seed 40 -j 2 -o "$B" "$S"
if [ "$RC" = 3 ]; then echo "SKIPPED: $(tail -1 "$E2E_TMP/x.out")"; exit 77; fi
expect_eq "-j 2 finds it too (exit 1)" 1 "$RC"
expect_eq "... at the same run" "$(jq .first_failure_run "$A/summary.json")" \
    "$(jq .first_failure_run "$B/summary.json")"
expect_true "... not the first one (so the runs before it count)" \
    jq -e '.first_failure_run >= 2' "$B/summary.json"
n=$(jq .first_failure_run "$B/summary.json")
R=$(printf 'schedule-%03d.json' "$n")
expect_true "... with the same schedule file, byte for byte" cmp "$A/$R" "$B/$R"
# Every line but its clocks: run, seed, faults drawn, exit, status, failed
# expectations and the combinations tried as of each draw.
same() { jq -cS 'del(.took_s, .start_s, .end_s)' "$1/explore.jsonl"; }
expect_eq "... the same explore.jsonl (clocks aside)" "$(same "$A")" "$(same "$B")"
expect_eq "... the same summary (tried, failures, groups, combinations)" \
    "$(jq -cS '[.tried, .failures, .groups, .combinations]' "$A/summary.json" | sed "s|$A|OUT|g")" \
    "$(jq -cS '[.tried, .failures, .groups, .combinations]' "$B/summary.json" | sed "s|$B|OUT|g")"
# Overlap, from the runs' own clocks: run 1 started before run 0 ended.
expect_true "two runs ran at the same time (run-001 started_at < run-000 ended_at)" \
    jq -e -n --slurpfile a "$B/run-000/journal.json" --slurpfile b "$B/run-001/journal.json" \
    '$b[0].started_at < $a[0].ended_at'
expect_true "... as explore.jsonl says too" \
    jq -e -s '.[1].start_s < .[0].end_s' "$B/explore.jsonl"
c=$(printf '%03d' $((n + 1)))
expect_true "the run drawn beyond the failure was cancelled" \
    grep -q "run $((n + 1)) (drawn beyond the stop) cancelled" "$E2E_TMP/x.out"
expect_true "... its run-$c/ and schedule-$c.json removed" \
    test ! -e "$B/run-$c" -a ! -e "$B/schedule-$c.json"
expect_eq "... and no service of any run is left" "" "$(pgrep -f "sleep 1000.$$" || true)"

# SIGTERM in the middle: long runs (30 s), the signal once two are running.
L="$E2E_TMP/long.json" I="$E2E_TMP/int"
jq --arg m "86000.$$" '.duration_s = 30 | .services |= map(.cmd = ["sleep", $m])' "$S" >"$L"
set +e
"$CHAOSRUN" explore --budget 5m --runs 20 --keep-going -j 2 -o "$I" "$L" >"$I.out" 2>&1 &
pid=$!
set -e
for _ in $(seq 300); do
    [ -e "$I/run-000/status.json" ] && [ -e "$I/run-001/status.json" ] && break
    sleep 0.1
done
expect_true "two runs started" test -e "$I/run-000/status.json" -a -e "$I/run-001/status.json"
kill -TERM "$pid"
set +e
wait "$pid"
RC=$?
set -e
cat "$I.out"
expect_eq "SIGTERM ends the exploration (exit 4)" 4 "$RC"
expect_eq "... the run it interrupted is recorded as such" interrupted \
    "$(jq -r .status "$I/run-000/journal.json")"
expect_true "... and says so" grep -q "interrupted by SIGTERM" "$I.out"
expect_eq "... no service of any run is left" "" "$(pgrep -f "sleep 86000.$$" || true)"

# Without CAP_NET_ADMIN: exit 3 with the reason, before any run.
set +e
setpriv --bounding-set=-net_admin "$CHAOSRUN" explore --budget 1m -j 2 -o "$E2E_TMP/np" "$S" >"$E2E_TMP/np.out" 2>&1
RC=$?
set -e
expect_eq "-j 2 without CAP_NET_ADMIN exits 3" 3 "$RC"
expect_true "... naming what is missing" grep -q "needs CAP_NET_ADMIN" "$E2E_TMP/np.out"
expect_true "... before any run" test ! -e "$E2E_TMP/np"
finish
