# End-to-end: libfiu's random decisions are seeded from the run seed.  A
# deterministic program records which of 200 writes failed under a
# probability-0.5 fault: the same seed gives the same failed call indices,
# another seed gives others; the journal records the seed given to libfiu.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fiu_helpers.inc"
fiu_require
S="$CR_SRC/tests/e2e/scenarios/fiu-prob.json"

pattern() { jq -r 'select(.ev=="result" and .name=="pattern") | .value' "$1/events.jsonl"; }

run_chaosrun "$E2E_TMP/a" "$S"
expect_eq "first run exits 0" 0 "$RC"
run_chaosrun "$E2E_TMP/b" "$S"
expect_eq "second run exits 0" 0 "$RC"
run_chaosrun "$E2E_TMP/c" --seed 12345 "$S"
expect_eq "other-seed run exits 0" 0 "$RC"
PA=$(pattern "$E2E_TMP/a"); PB=$(pattern "$E2E_TMP/b"); PC=$(pattern "$E2E_TMP/c")
expect_eq "a pattern of 200 calls" 200 "${#PA}"
ones=$(tr -cd 1 <<<"$PA" | wc -c)
expect_true "about half failed ($ones of 200)" test "$ones" -gt 60 -a "$ones" -lt 140
expect_eq "same seed, same failed calls" "$PA" "$PB"
expect_true "another seed, other failed calls" test "$PA" != "$PC"
SA=$(jq -r '.faults[0].details.prng_seed["prob.0"]' "$E2E_TMP/a/journal.json")
expect_eq "same seed given to libfiu" "$SA" "$(jq -r '.faults[0].details.prng_seed["prob.0"]' "$E2E_TMP/b/journal.json")"
expect_true "another run seed gives libfiu another seed" \
    test "$SA" != "$(jq -r '.faults[0].details.prng_seed["prob.0"]' "$E2E_TMP/c/journal.json")"
finish
