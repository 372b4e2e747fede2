# End-to-end: the reproduce line reproduces.  The journal used to store the
# command "chaosrun --seed N FILE" alone, so a run that failed because of
# an environment variable the scenario expands (CRP_DEFECT in the pipeline
# scenarios) passed when re-run with that line.  Now the journal records
# every variable the scenario expanded ("variables") and the line sets
# them (unset ones with env -u): run through sh -c, from an environment
# that does not have them (or has other values), it gives the same verdict.
set -e
. "$(dirname "$0")/lib.sh"
S="$CR_SRC/tests/e2e/scenarios"
export PATH="$CR_BIN:$PATH"
unset CR_T_LIFE

# 1. The variable set: the service exits, is restarted, the run fails.
CR_T_LIFE="0.1" run_chaosrun "$E2E_TMP/a" "$S/repro-var.json"
JA="$E2E_TMP/a/journal.json"
expect_eq "run with CR_T_LIFE=0.1 fails" 1 "$RC"
expect_eq "journal records the variable" "0.1" "$(jq -r '.variables.CR_T_LIFE' "$JA")"
repro=$(jq -r .reproduce "$JA")
expect_true "the reproduce line sets it ($repro)" grep -q "^CR_T_LIFE=0.1 chaosrun --seed 3 " <<<"$repro"
expect_true "the summary prints that line" grep -qF "reproduce: $repro" "$E2E_TMP/a.out"
expect_true "the Markdown report has it" grep -qF "$repro" "$E2E_TMP/a/report.md"
set +e
env -u CR_T_LIFE sh -c "$repro --no-status --out '$E2E_TMP/b'" >"$E2E_TMP/b.out" 2>&1
RC=$?
set -e
expect_eq "the reproduce line, run through sh -c, fails too" 1 "$RC"
expect_eq "same verdict on the expectation" \
    "$(jq -r '.expectations[0].verdict' "$JA")" \
    "$(jq -r '.expectations[0].verdict' "$E2E_TMP/b/journal.json")"

# 2. The variable unset: the run passes, and its line keeps a caller's
# CR_T_LIFE out (env -u), so it passes again where the variable is set.
run_chaosrun "$E2E_TMP/c" "$S/repro-var.json"
JC="$E2E_TMP/c/journal.json"
expect_eq "run without CR_T_LIFE passes" 0 "$RC"
expect_eq "journal records it unset" null "$(jq -r '.variables.CR_T_LIFE' "$JC")"
repro=$(jq -r .reproduce "$JC")
expect_true "the line unsets it ($repro)" grep -q "^env -u CR_T_LIFE chaosrun --seed 3 " <<<"$repro"
set +e
CR_T_LIFE=0.1 sh -c "$repro --no-status --out '$E2E_TMP/d'" >"$E2E_TMP/d.out" 2>&1
RC=$?
set -e
expect_eq "re-run from an environment with CR_T_LIFE=0.1 still passes" 0 "$RC"

# 3. A value that needs quoting reaches the re-run intact.
CR_T_LIFE="it's \$HOME; 1" run_chaosrun "$E2E_TMP/e" "$S/repro-var.json"
repro=$(jq -r .reproduce "$E2E_TMP/e/journal.json")
set +e
env -u CR_T_LIFE sh -c "$repro --no-status --out '$E2E_TMP/f'" >"$E2E_TMP/f.out" 2>&1
set -e
expect_eq "a value with a quote, a \$ and a ; survives sh ($repro)" "it's \$HOME; 1" \
    "$(jq -r '.variables.CR_T_LIFE' "$E2E_TMP/f/journal.json")"
expect_true "no leftover process" test -z "$(procs_of_run "$E2E_TMP/a")$(procs_of_run "$E2E_TMP/b")$(procs_of_run "$E2E_TMP/f")"
finish
