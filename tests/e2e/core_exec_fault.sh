# End-to-end: the exec fault kind (issue 19).  A command runs at the
# window's start with the target's pids in its environment, another at its
# end; a failing command fails the occurrence (and its revert still runs);
# after a SIGKILLed harness the janitor runs the revert from the ledger;
# bad keys are refused with their position.
set -e
. "$(dirname "$0")/lib.sh"
S="$CR_SRC/tests/e2e/scenarios"
export MARK="$E2E_TMP/mark"
mkdir -p "$MARK"

run_chaosrun "$E2E_TMP/run" "$S/exec-fault.json"
J="$E2E_TMP/run/journal.json"
expect_eq "run exits 0" 0 "$RC"
expect_eq "fault applied" applied "$(jq -r '.faults[0].outcome' "$J")"
expect_eq "apply exited 0" "exit 0" "$(jq -r '.faults[0].details.apply.result' "$J")"
expect_eq "revert exited 0" "exit 0" "$(jq -r '.faults[0].details.revert.result' "$J")"
expect_true "the flag was removed by the revert" test ! -e "$MARK/flag"
expect_eq "the revert ran once" reverted "$(cat "$MARK/reverted" 2>/dev/null)"
app_pid=$(jq -r '[.services[] | select(.instance=="app.0") | .history[0].pid][0]' "$J")
expect_eq "the command saw the target's pid" "$app_pid" "$(cat "$MARK/pids" 2>/dev/null)"
expect_eq "and its fault, phase, occurrence" "flag apply 0" "$(cat "$MARK/env" 2>/dev/null)"
expect_true "its output is in fault-flag.log" grep -qx applied "$E2E_TMP/run/fault-flag.log"
expect_true "the ledger closed the revert" sh -c "grep -q '^+[0-9]* exec exec-flag-0.json' '$E2E_TMP/run/ledger' && grep -q '^-' '$E2E_TMP/run/ledger'"

# A command that fails: the occurrence fails, naming it; the revert runs.
rm -f "$MARK"/*
jq '.faults[0].apply = ["sh", "-c", "echo on > \"$MARK/flag\"; exit 3"]' \
    "$S/exec-fault.json" >"$E2E_TMP/fail.json"
run_chaosrun "$E2E_TMP/fail" "$E2E_TMP/fail.json"
J="$E2E_TMP/fail/journal.json"
expect_eq "failed occurrence" failed "$(jq -r '.faults[0].outcome' "$J")"
expect_true "the error names the command and its exit" \
    grep -q "apply command sh: exit 3" <<<"$(jq -r '.faults[0].error' "$J")"
expect_true "the revert still ran" test ! -e "$MARK/flag"
expect_true "the summary names the failed fault and why" \
    grep -q "^    flag (occurrence 0, t=[0-9.]* s): .*apply command sh: exit 3" "$E2E_TMP/fail.out"

# SIGKILL of the harness inside the window: the janitor runs the revert.
rm -f "$MARK"/*
jq '.duration_s = 30 | .faults[0].for_s = 25' "$S/exec-fault.json" >"$E2E_TMP/long.json"
out="$E2E_TMP/kill"
"$CHAOSRUN" --no-status --out "$out" "$E2E_TMP/long.json" >"$out.out" 2>"$out.err" &
pid=$!
for _ in $(seq 1 100); do
    test -e "$MARK/flag" && break
    sleep 0.1
done
expect_true "the apply ran" test -e "$MARK/flag"
kill -KILL $pid
wait $pid 2>/dev/null || true
for _ in $(seq 1 100); do
    test -e "$MARK/flag" || break
    sleep 0.1
done
expect_true "the janitor ran the revert" test ! -e "$MARK/flag"
expect_eq "once" reverted "$(cat "$MARK/reverted" 2>/dev/null)"
expect_true "and says so" grep -q "exec exec-flag-0.json: undone" "$out/ledger.janitor"
expect_eq "no process of the run left" "" "$(procs_of_run "$out")"

# Bad keys: positions, exit 2.
jq '.faults[0].for_s = 0' "$S/exec-fault.json" >"$E2E_TMP/bad1.json"
run_chaosrun "$E2E_TMP/bad1" "$E2E_TMP/bad1.json"
expect_eq "revert without a window exits 2" 2 "$RC"
expect_true "and says why at the key" \
    grep -q "bad1.json:[0-9]*:[0-9]*: faults\[0\].revert: a revert command needs \"for_s\" > 0" "$E2E_TMP/bad1.err"
jq '.faults[0].apply = []' "$S/exec-fault.json" >"$E2E_TMP/bad2.json"
run_chaosrun "$E2E_TMP/bad2" "$E2E_TMP/bad2.json"
expect_eq "an empty command exits 2" 2 "$RC"
finish
