# End-to-end: the no_loss checker on a pipeline frozen mid-run.  The
# correct pipeline delivers every accepted id (some carried through the
# fault); one that drops id 30 fails naming that id.
set -e
. "$(dirname "$0")/lib.sh"
S="$CR_SRC/tests/e2e/scenarios"
verdict() { jq -r ".expectations[] | select(.name==\"$2\") | .verdict" "$1/journal.json"; }
summary() { jq -r ".expectations[] | select(.name==\"$2\") | .summary" "$1/journal.json"; }

run_chaosrun "$E2E_TMP/ok" "$S/checks-no-loss.json"
expect_eq "correct pipeline exits 0" 0 "$RC"
expect_eq "no_loss passed" passed "$(verdict "$E2E_TMP/ok" every-record-delivered)"
expect_true "ids carried through the fault" \
    test "$(jq '.expectations[0].details.recovered' "$E2E_TMP/ok/journal.json")" -ge 1

jq '.services[0].cmd += ["--drop", "30"]' "$S/checks-no-loss.json" >"$E2E_TMP/drop.json"
run_chaosrun "$E2E_TMP/drop" "$E2E_TMP/drop.json"
expect_eq "dropping pipeline exits 1" 1 "$RC"
s=$(summary "$E2E_TMP/drop" every-record-delivered)
expect_true "summary counts the loss ($s)" grep -q "^lost 1 of" <<<"$s"
expect_true "evidence names id 30" \
    grep -q "id 30 accepted" <<<"$(jq -r '.expectations[0].evidence[].text' "$E2E_TMP/drop/journal.json")"
finish
