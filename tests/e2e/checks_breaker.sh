# End-to-end: the breaker checker on a real client whose dependency is
# frozen for 2 s.  A correct breaker passes; one that never opens fails
# with "never opened".
set -e
. "$(dirname "$0")/lib.sh"
S="$CR_SRC/tests/e2e/scenarios"
verdict() { jq -r ".expectations[] | select(.name==\"$2\") | .verdict" "$1/journal.json"; }
summary() { jq -r ".expectations[] | select(.name==\"$2\") | .summary" "$1/journal.json"; }

run_chaosrun "$E2E_TMP/ok" "$S/checks-breaker.json"
expect_eq "correct breaker exits 0" 0 "$RC"
expect_eq "breaker passed" passed "$(verdict "$E2E_TMP/ok" client-breaker)"
expect_true "it opened at least once" test "$(jq '.expectations[0].details.opened' "$E2E_TMP/ok/journal.json")" -ge 1

jq '.services[1].cmd += ["--never-open"]' "$S/checks-breaker.json" >"$E2E_TMP/never.json"
run_chaosrun "$E2E_TMP/never" "$E2E_TMP/never.json"
expect_eq "never-opening breaker exits 1" 1 "$RC"
s=$(summary "$E2E_TMP/never" client-breaker)
expect_true "summary says it never opened ($s)" grep -q "never opened during fault freeze-dep" <<<"$s"
finish
