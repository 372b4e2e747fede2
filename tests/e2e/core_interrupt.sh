# End-to-end: SIGTERM to chaosrun stops every service (even one that ignores
# SIGTERM and the children in their groups), reverts the pause, writes the
# journal with status interrupted; SIGKILL to chaosrun leaves no service
# process alive either (the janitor), and `chaosrun cleanup` finds nothing.
set -e
. "$(dirname "$0")/lib.sh"
S="$CR_SRC/tests/e2e/scenarios/long.json"

wait_for_line() {
    for _ in $(seq 1 100); do
        grep -qF "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
wait_for_t0() { wait_for_line "$1" "t0:"; }

out="$E2E_TMP/term"
"$CHAOSRUN" --no-status --out "$out" "$S" >"$out.out" 2>"$out.err" &
pid=$!
expect_true "run reached t0" wait_for_t0 "$out.err"
# The pause (at 0.5 s) in place before the SIGTERM, however late it came.
expect_true "the pause applied" wait_for_line "$out.err" "fault pause-api (pause) applied"
n=$(procs_of_run "$out" | wc -l)
expect_true "services and their children are running ($n)" test "$n" -ge 5
kill -TERM $pid
set +e; wait $pid; rc=$?; set -e
expect_eq "interrupted run exits 4" 4 "$rc"
expect_eq "journal status interrupted" interrupted "$(jq -r .status "$out/journal.json")"
expect_eq "pause reverted on interrupt" interrupt "$(jq -r '.faults[0].reverted_by' "$out/journal.json")"
expect_eq "no process left after SIGTERM" "" "$(procs_of_run "$out")"

out="$E2E_TMP/kill"
"$CHAOSRUN" --no-status --out "$out" "$S" >"$out.out" 2>"$out.err" &
pid=$!
expect_true "second run reached t0" wait_for_t0 "$out.err"
sleep 1
kill -KILL $pid
wait $pid 2>/dev/null || true
left=""
for _ in $(seq 1 50); do
    left=$(procs_of_run "$out")
    [ -z "$left" ] && break
    sleep 0.1
done
expect_eq "no process left after SIGKILL of chaosrun" "" "$left"
# The services die by their parent-death signal, before the janitor has
# woken up: it then undoes the ledger and exits, and its lock on the
# ledger goes with it.  Wait for that (a loaded machine may take seconds),
# not for a guessed moment.
janitor_done() { flock -n "$1/ledger" true; }
for _ in $(seq 1 300); do
    janitor_done "$out" && break
    sleep 0.1
done
expect_true "the janitor finished (the ledger is unlocked)" janitor_done "$out"
expect_true "janitor reverted the ledger" grep -q "undone" "$out/ledger.janitor"
# Other runs may be live beside this test (ctest -j, other worktrees):
# cleanup refuses those and exits non-zero; only this run matters here.
"$CHAOSRUN" cleanup >"$E2E_TMP/cleanup.out" 2>&1 || true
expect_true "cleanup finds nothing of this run left" sh -c "! grep -q '$out' '$E2E_TMP/cleanup.out'"
finish
