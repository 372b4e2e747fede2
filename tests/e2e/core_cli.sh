# End-to-end: the command line — validate (exit 2 with FILE:LINE:COLUMN),
# dry-run timeline, list, usage errors, missing programs (exit 3).
set -e
. "$(dirname "$0")/lib.sh"
S="$CR_SRC/tests/e2e/scenarios"

set +e
"$CHAOSRUN" validate "$S/kill-restart.json" "$S/pause.json" >"$E2E_TMP/v.out" 2>&1; rc=$?
set -e
expect_eq "valid scenarios validate" 0 "$rc"

# Every case of the invalid corpus: exit 2 and exactly the expected lines.
for d in "$CR_SRC"/tests/data/invalid/*/; do
    [ -f "$d/scenario.json" ] || continue
    set +e
    (cd "$d" && "$CHAOSRUN" validate scenario.json >"$E2E_TMP/out" 2>&1); rc=$?
    set -e
    case_name=$(basename "$d")
    if [ "$rc" = 2 ] && diff -q "$d/expected" <(grep -v ': ok$' "$E2E_TMP/out") >/dev/null; then
        pass "invalid/$case_name"
    else
        fail "invalid/$case_name: exit $rc, output: $(cat "$E2E_TMP/out")"
    fi
done

set +e
"$CHAOSRUN" --dry-run "$S/kill-restart.json" >"$E2E_TMP/dry.out" 2>&1; rc=$?
set -e
expect_eq "dry-run exits 0" 0 "$rc"
expect_true "dry-run shows the fault" grep -q "kill-api" "$E2E_TMP/dry.out"
expect_true "dry-run started nothing" test ! -d chaosrun-out/kill-restart-*

"$CHAOSRUN" list >"$E2E_TMP/list.out"
for k in kill pause restart terminate http tcp exec event recovers steady_state events service; do
    expect_true "list shows $k" grep -qw "$k" "$E2E_TMP/list.out"
done

set +e
"$CHAOSRUN" --bogus >/dev/null 2>&1; rc=$?
set -e
expect_eq "unknown option exits 2" 2 "$rc"
set +e
"$CHAOSRUN" "$E2E_TMP/nonexistent.json" >/dev/null 2>"$E2E_TMP/ne.err"; rc=$?
set -e
expect_eq "missing scenario file exits 2" 2 "$rc"
"$CHAOSRUN" --help | grep -q "Exit status" && pass "--help" || fail "--help"

# A program that does not exist: exit 3 naming it, journal status unrunnable.
sed 's#${CHAOSRUN_BINDIR}/cr_tgt_server#/nonexistent/cr_no_such_program#' "$S/kill-restart.json" >"$E2E_TMP/missing.json"
run_chaosrun "$E2E_TMP/missing" "$E2E_TMP/missing.json"
expect_eq "missing program exits 3" 3 "$RC"
expect_true "message names the program" grep -q "cr_no_such_program" "$E2E_TMP/missing.err"
expect_eq "journal status unrunnable" unrunnable "$(jq -r .status "$E2E_TMP/missing/journal.json")"
finish
