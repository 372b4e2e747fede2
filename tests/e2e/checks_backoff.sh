# End-to-end: the backoff checker on a real retry loop against a frozen
# dependency.  Correct exponential backoff with full jitter passes (exit 0);
# the "no jitter" and "one try too many" defects fail (exit 1) naming the
# broken rule.
set -e
. "$(dirname "$0")/lib.sh"
S="$CR_SRC/tests/e2e/scenarios"
verdict() { jq -r ".expectations[] | select(.name==\"$2\") | .verdict" "$1/journal.json"; }
summary() { jq -r ".expectations[] | select(.name==\"$2\") | .summary" "$1/journal.json"; }

run_chaosrun "$E2E_TMP/ok" "$S/checks-backoff.json"
expect_eq "correct backoff exits 0" 0 "$RC"
expect_eq "backoff passed" passed "$(verdict "$E2E_TMP/ok" client-backoff)"

jq '.services[1].cmd += ["--no-jitter"]' "$S/checks-backoff.json" >"$E2E_TMP/nojitter.json"
run_chaosrun "$E2E_TMP/nojitter" "$E2E_TMP/nojitter.json"
expect_eq "no-jitter defect exits 1" 1 "$RC"
expect_eq "backoff failed" failed "$(verdict "$E2E_TMP/nojitter" client-backoff)"
s=$(summary "$E2E_TMP/nojitter" client-backoff)
expect_true "summary names the missing jitter ($s)" grep -q "not jittered" <<<"$s"
expect_true "stdout names the failed expectation" grep -q "FAIL.*client-backoff" "$E2E_TMP/nojitter.out"

jq '.services[1].cmd += ["--too-many"]' "$S/checks-backoff.json" >"$E2E_TMP/toomany.json"
run_chaosrun "$E2E_TMP/toomany" "$E2E_TMP/toomany.json"
expect_eq "too-many-attempts defect exits 1" 1 "$RC"
s=$(summary "$E2E_TMP/toomany" client-backoff)
expect_true "summary names the attempt limit ($s)" grep -q "max_attempts is 4" <<<"$s"
expect_true "no process of the runs left" test -z "$(procs_of_run "$E2E_TMP/ok")$(procs_of_run "$E2E_TMP/toomany")"
finish
