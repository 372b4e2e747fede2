# End-to-end: the command line — validate (exit 2 with FILE:LINE:COLUMN),
# dry-run timeline, list, usage errors, missing programs (exit 3).
set -e
. "$(dirname "$0")/lib.sh"
S="$CR_SRC/tests/e2e/scenarios"

set +e
"$CHAOSRUN" validate "$S/kill-restart.json" "$S/pause.json" >"$E2E_TMP/v.out" 2>&1; rc=$?
set -e
expect_eq "valid scenarios validate" 0 "$rc"

# Every case of the invalid corpus: exit 2 and exactly the expected lines
# (an expected line ending in "[...]" matches any line with that prefix:
# lists of registered kinds grow; see tests/data/invalid/README.md).
match_expected() {
    awk 'NR == FNR { e[FNR] = $0; ne = FNR; next }
         { g[FNR] = $0; ng = FNR }
         END {
             if (ne != ng) exit 1
             for (i = 1; i <= ne; i++) {
                 x = e[i]
                 if (length(x) >= 5 && substr(x, length(x) - 4) == "[...]") {
                     p = substr(x, 1, length(x) - 5)
                     if (substr(g[i], 1, length(p)) != p) exit 1
                 } else if (x != g[i]) exit 1
             }
         }' "$1" "$2"
}
for d in "$CR_SRC"/tests/data/invalid/*/; do
    [ -f "$d/scenario.json" ] || continue
    set +e
    (cd "$d" && "$CHAOSRUN" validate scenario.json >"$E2E_TMP/out" 2>&1); rc=$?
    set -e
    case_name=$(basename "$d")
    grep -v ': ok$' "$E2E_TMP/out" >"$E2E_TMP/got" || true
    if [ "$rc" = 2 ] && match_expected "$d/expected" "$E2E_TMP/got"; then
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
