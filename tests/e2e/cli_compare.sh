# End-to-end: `chaosrun report --compare OLD NEW` exits 1 when the new run
# is less resilient, as --fail-on chooses: regressed (default: an
# expectation that passed no longer does), worse (also a measured figure
# worse beyond the noise), never.
set -e
. "$(dirname "$0")/lib.sh"
S="$CR_SRC/tests/e2e/scenarios"

# Two real runs of one scenario: passing, and failing (the service now
# crashes and is restarted, so "no-restart" regresses).  The failing run's
# timeline is 5 s, not tiny's 0.5: beside a CPU hog the crash 0.2 s after
# the start came after 0.5 s, and the run passed (a loaded ./setup.sh test).
"$CHAOSRUN" -q --no-status --out "$E2E_TMP/good" "$S/tiny.json" >/dev/null
jq '.services[0].cmd = ["/bin/sh", "-c", "sleep 0.2; exit 1"] | .duration_s = 5
    | .services[0].restart = "on-failure" | .services[0].restart_delay_s = 0.1' \
    "$S/tiny.json" >"$E2E_TMP/bad.json"
set +e
"$CHAOSRUN" -q --no-status --out "$E2E_TMP/bad" "$E2E_TMP/bad.json" >/dev/null
set -e
expect_eq "the bad run failed" failed "$(jq -r .status "$E2E_TMP/bad/journal.json")"

cmp_rc() { # OLD NEW ARGS... -> exit status, output in $E2E_TMP/cmp.{out,err}
    set +e
    "$CHAOSRUN" report --compare "$1" "$2" --out "$E2E_TMP/cmp" "${@:3}" >"$E2E_TMP/cmp.out" 2>"$E2E_TMP/cmp.err"
    local rc=$?
    set -e
    echo "$rc"
}
expect_eq "regressed: exit 1 by default" 1 "$(cmp_rc "$E2E_TMP/good" "$E2E_TMP/bad")"
expect_true "... saying why" grep -q "less resilient: 1 expectation regressed; the run passed, now failed (--fail-on regressed)" "$E2E_TMP/cmp.err"
expect_true "... the comparison is still printed" grep -q "no-restart" "$E2E_TMP/cmp.out"
expect_true "... and written" test -s "$E2E_TMP/cmp/compare.html"
expect_eq "--fail-on never: exit 0" 0 "$(cmp_rc "$E2E_TMP/good" "$E2E_TMP/bad" --fail-on never)"
expect_eq "--fail-on=worse: regressed fails too" 1 "$(cmp_rc "$E2E_TMP/good" "$E2E_TMP/bad" --fail-on=worse)"
expect_eq "fixed: exit 0" 0 "$(cmp_rc "$E2E_TMP/bad" "$E2E_TMP/good")"
expect_eq "same run: exit 0" 0 "$(cmp_rc "$E2E_TMP/good" "$E2E_TMP/good")"
expect_eq "--fail-on sometimes: usage" 2 "$(cmp_rc "$E2E_TMP/good" "$E2E_TMP/bad" --fail-on sometimes)"

# A measured figure worse beyond the noise, every verdict the same: a copy
# of the good run whose measured recovery is ten times longer.
for side in old new; do
    mkdir "$E2E_TMP/$side"
    cp "$E2E_TMP/good/journal.json" "$E2E_TMP/good/events.jsonl" "$E2E_TMP/$side/"
done
for pair in "old 0.8" "new 8"; do
    set -- $pair
    jq --argjson v "$2" '.expectations += [{"name": "recovers", "kind": "recovers",
        "verdict": "passed", "summary": "probes passed again",
        "measured": {"value": $v, "unit": "s", "bound": "<= 30"},
        "evidence": [], "details": {}}]' "$E2E_TMP/good/journal.json" >"$E2E_TMP/$1/journal.json"
done
expect_eq "worse figure, --fail-on regressed: exit 0" 0 "$(cmp_rc "$E2E_TMP/old" "$E2E_TMP/new")"
expect_true "... the figure is worse" grep -q "1 worse" "$E2E_TMP/cmp.out"
expect_eq "worse figure, --fail-on worse: exit 1" 1 "$(cmp_rc "$E2E_TMP/old" "$E2E_TMP/new" --fail-on worse)"
expect_true "... saying why" grep -q "1 measured figure worse beyond the noise (--fail-on worse)" "$E2E_TMP/cmp.err"
expect_eq "better figure, --fail-on worse: exit 0" 0 "$(cmp_rc "$E2E_TMP/new" "$E2E_TMP/old" --fail-on worse)"
finish
