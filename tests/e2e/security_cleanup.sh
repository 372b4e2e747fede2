# End-to-end (issue 13, "The ledger and the janitor must trust only what
# they wrote"):
#   - a ledger planted in --out before the run ("+99 file VICTIM") is never
#     trusted: the run refuses the non-empty directory, and after a SIGKILL
#     nothing of the planted line is undone (the janitor deleted VICTIM);
#   - `chaosrun cleanup RUN_DIR` on a live run refuses (exit 2) and its
#     services keep running (it SIGKILLed them); once the run is over it
#     cleans (exit 0).
set -e
. "$(dirname "$0")/lib.sh"
S=$E2E_TMP/s.json
cat >"$S" <<'JSON'
{"name": "sec", "duration_s": 4, "drain_s": 0,
 "services": [{"name": "idle", "cmd": ["sleep", "60"], "stop_timeout_s": 1}]}
JSON

# wait_for COND...: poll up to 10 s.
wait_for() {
    for _ in $(seq 200); do
        "$@" && return 0
        sleep 0.05
    done
    return 1
}
started() { test -n "$(procs_of_run "$1")"; }

# A planted ledger.
V=$E2E_TMP/victim
echo precious >"$V"
R=$E2E_TMP/planted
mkdir "$R"
printf '+99 file %s\n+98 dir %s\n' "$V" "$E2E_TMP/keep" >"$R/ledger"
mkdir "$E2E_TMP/keep" && echo x >"$E2E_TMP/keep/f"
"$CHAOSRUN" --no-status --out "$R" "$S" >"$R.out" 2>&1 &
pid=$!
wait_for started "$R" || true
kill -KILL "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null && rc=0 || rc=$?
# The janitor (if any) works after its owner died: give it time.
wait_for test -z "$(procs_of_run "$R")" || true
sleep 0.5
expect_true "the planted ledger's file is not deleted" test -f "$V"
expect_true "the planted ledger's directory is not deleted" test -f "$E2E_TMP/keep/f"
expect_true "the non-empty --out was refused" grep -q "is not empty" "$R.out"
"$CHAOSRUN" cleanup "$R" >"$R.cl" 2>&1 || true
expect_true "cleanup of that directory does not delete it either" test -f "$V" -a -f "$E2E_TMP/keep/f"

# cleanup on a live run.
R=$E2E_TMP/live
"$CHAOSRUN" --no-status --out "$R" "$S" >"$R.out" 2>&1 &
pid=$!
expect_true "the run started its service" wait_for started "$R"
set +e
"$CHAOSRUN" cleanup "$R" >"$R.cl" 2>&1
rc=$?
set -e
expect_eq "cleanup of a live run is refused (exit 2)" 2 "$rc"
expect_true "it says the run is alive" grep -q "alive" "$R.cl"
sleep 0.3
expect_true "the live run's service still runs" started "$R"
set +e
wait "$pid"
rc=$?
set -e
expect_eq "the live run then passes" 0 "$rc"
set +e
"$CHAOSRUN" cleanup "$R" >"$R.cl2" 2>&1
rc=$?
set -e
expect_eq "cleanup after the run is over: nothing to undo (exit 0)" 0 "$rc"
finish
