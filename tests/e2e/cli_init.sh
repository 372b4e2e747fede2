# End-to-end: `chaosrun init` writes a starter scenario that validates and
# runs as written (with the stand-in server), and a README that explains
# every key it uses; --example writes the shipped quickstart; existing
# files are refused without --force.
set -e
. "$(dirname "$0")/lib.sh"

D="$E2E_TMP/mine/scenarios"
"$CHAOSRUN" init "$D" >"$E2E_TMP/init.out"
expect_true "scenario.json written" test -s "$D/scenario.json"
expect_true "README.md written" test -s "$D/README.md"
expect_true "says what next" grep -q "next: chaosrun validate $D/scenario.json" "$E2E_TMP/init.out"
"$CHAOSRUN" validate "$D/scenario.json" >/dev/null && pass "the starter validates" || fail "the starter validates"

# The README names every key the starter uses (JSON has no comments: the
# README is where they are explained).
for k in $(jq -r '[paths | map(select(type == "string")) | last] | unique | .[]' "$D/scenario.json"); do
    expect_true "README explains \"$k\"" grep -q "\`$k\`" "$D/README.md"
done
# ... and every fault and expectation says what it does.
expect_eq "every fault and expectation has a description" 0 \
    "$(jq '[.faults[], .expect[] | select(has("description") | not)] | length' "$D/scenario.json")"

# It runs as written, on a free port.
port=$(free_port 18080)
jq --argjson p "$port" '.services[0].port = $p | .steady_state[0].url = "http://127.0.0.1:\($p)/health"' \
    "$D/scenario.json" >"$E2E_TMP/starter.json"
run_chaosrun "$E2E_TMP/run" "$E2E_TMP/starter.json"
expect_eq "the starter passes as written" 0 "$RC"
[ "$RC" = 0 ] || cat "$E2E_TMP/run.out"
expect_eq "its faults were applied" "applied applied" "$(jq -r '[.faults[].outcome] | join(" ")' "$E2E_TMP/run/journal.json")"

# Existing files: refused (nothing written), --force overwrites.
echo '{}' >"$E2E_TMP/mine/scenarios/scenario.json"
set +e
"$CHAOSRUN" init "$D" >/dev/null 2>"$E2E_TMP/again.err"; rc=$?
set -e
expect_eq "existing files: exit 2" 2 "$rc"
expect_true "... named" grep -q "scenario.json exists (--force overwrites it)" "$E2E_TMP/again.err"
expect_eq "... left alone" '{}' "$(cat "$D/scenario.json")"
"$CHAOSRUN" init --force "$D" >/dev/null
expect_true "--force overwrites" "$CHAOSRUN" validate "$D/scenario.json"

# --example: the shipped quickstart, byte for byte, and its README.
"$CHAOSRUN" init --example "$E2E_TMP/ex" >/dev/null 2>"$E2E_TMP/ex.err"
expect_true "example is the shipped quickstart" cmp "$E2E_TMP/ex/scenario.json" "$CR_SRC/scenarios/quickstart.json"
"$CHAOSRUN" validate "$E2E_TMP/ex/scenario.json" >/dev/null && pass "the example validates" || fail "the example validates"
expect_true "example README names crp" grep -q "crp" "$E2E_TMP/ex/README.md"
if [ -x "$CR_BIN/crp" ]; then
    expect_eq "no note when crp is there" "" "$(cat "$E2E_TMP/ex.err")"
fi
# Where the program is missing, init says so (and still writes).
CHAOSRUN_BINDIR="$E2E_TMP/nowhere" "$CHAOSRUN" init --example "$E2E_TMP/ex2" >/dev/null 2>"$E2E_TMP/ex2.err"
expect_true "missing crp is named" grep -q "nowhere/crp is not installed" "$E2E_TMP/ex2.err"

set +e
"$CHAOSRUN" init --bogus >/dev/null 2>&1; rc=$?
set -e
expect_eq "unknown option: exit 2" 2 "$rc"
finish
