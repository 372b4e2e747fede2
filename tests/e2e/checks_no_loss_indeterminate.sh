# End-to-end: a durable ledger killed between making record 5 durable
# (write + fsync, then `committed`) and acknowledging it (`accepted`): a
# kill triggered by `committed` {id: 5} lands in a 3 s stall the ledger
# takes there.  Restarted, it goes on from record 6; the consumer delivers
# record 5 from the ledger.  With `offered` events the no_loss checker
# counts 5 as indeterminate_delivered and passes; without them it cannot
# tell the write from a phantom: it fails, and says why and what to emit.
set -e
. "$(dirname "$0")/lib.sh"
S="$CR_SRC/tests/e2e/scenarios/checks-no-loss-indeterminate.json"
exp() { jq -r ".expectations[] | select(.name==\"ledger-no-loss\") | $2" "$1/journal.json"; }
# The window was hit: record 5 committed and delivered, never accepted.
window_hit() {
    local ev="$1/events.jsonl"
    test "$(jq -c 'select(.ev=="committed" and .id==5)' "$ev" | wc -l)" -eq 1 &&
        test "$(jq -c 'select(.ev=="accepted" and .id==5)' "$ev" | wc -l)" -eq 0 &&
        test "$(jq -c 'select(.ev=="delivered" and .id==5)' "$ev" | wc -l)" -eq 1
}

run_chaosrun "$E2E_TMP/off" "$S"
expect_eq "with offered: exits 0" 0 "$RC"
expect_eq "kill applied" applied "$(jq -r '.faults[0].outcome' "$E2E_TMP/off/journal.json")"
expect_true "record 5 durable and delivered, never acknowledged" window_hit "$E2E_TMP/off"
expect_eq "with offered: no_loss passed" passed "$(exp "$E2E_TMP/off" .verdict)"
expect_eq "one indeterminate write delivered" 1 "$(exp "$E2E_TMP/off" .details.indeterminate_delivered)"
expect_eq "nothing unexpected" 0 "$(exp "$E2E_TMP/off" .details.unexpected)"
expect_eq "nothing lost" 0 "$(exp "$E2E_TMP/off" .details.lost)"
expect_true "evidence names record 5" \
    grep -q "id 5 offered at t=.*, never acknowledged, delivered" <<<"$(exp "$E2E_TMP/off" '.evidence[].text')"
expect_eq "ledger restarted once" passed \
    "$(jq -r '.expectations[] | select(.name=="ledger-restarted") | .verdict' "$E2E_TMP/off/journal.json")"

# The same ledger without `offered`: delivered but never accepted.
jq '.services[0].cmd -= ["--offered"]' "$S" >"$E2E_TMP/nooff.json"
run_chaosrun "$E2E_TMP/nooff" "$E2E_TMP/nooff.json"
expect_eq "without offered: exits 1" 1 "$RC"
expect_true "record 5 durable and delivered, never acknowledged" window_hit "$E2E_TMP/nooff"
expect_eq "without offered: no_loss failed" failed "$(exp "$E2E_TMP/nooff" .verdict)"
s=$(exp "$E2E_TMP/nooff" .summary)
expect_true "summary counts the id ($s)" grep -q "^1 ids delivered that were never accepted" <<<"$s"
expect_true "summary explains the unacknowledged durable write" \
    grep -q "crashed between commit and acknowledgement" <<<"$s"
expect_true "summary says to emit offered" grep -q 'emit `offered` {id}' <<<"$s"
expect_true "evidence names record 5" \
    grep -q "id 5 delivered but never accepted" <<<"$(exp "$E2E_TMP/nooff" '.evidence[].text')"
finish
