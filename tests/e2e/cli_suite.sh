# End-to-end: `chaosrun suite` says what it does -- a line when each
# scenario starts (not with -q) and when it ends (verdict, time), a tally
# -- and makes a suite even of one scenario (one junit.xml + index.html).
set -e
. "$(dirname "$0")/lib.sh"
S="$CR_SRC/tests/e2e/scenarios"

mkdir "$E2E_TMP/two"
cp "$S/tiny.json" "$E2E_TMP/two/a.json"
jq '.name = "tiny-failing" | .services[0].cmd = ["/bin/sh", "-c", "sleep 0.2; exit 1"]
    | .services[0].restart = "on-failure" | .services[0].restart_delay_s = 0.1' \
    "$S/tiny.json" >"$E2E_TMP/two/b.json"
set +e
"$CHAOSRUN" suite --no-status --color=never --out "$E2E_TMP/out" "$E2E_TMP/two" >"$E2E_TMP/s.out" 2>"$E2E_TMP/s.err"; rc=$?
set -e
expect_eq "a failing scenario makes the suite exit 1" 1 "$rc"
expect_true "started line of the first" grep -q '^\[1/2\] tiny: started$' "$E2E_TMP/s.err"
expect_true "started line of the second" grep -q '^\[2/2\] tiny-failing: started$' "$E2E_TMP/s.err"
expect_true "finished line with verdict and time" grep -qE '^\[1/2\] tiny: passed in [0-9.]+ s$' "$E2E_TMP/s.out"
expect_true "finished line of the failure" grep -qE '^\[2/2\] tiny-failing: failed in [0-9.]+ s$' "$E2E_TMP/s.out"
expect_true "tally" grep -qE '^suite: 2 scenarios in [0-9.]+ s: 1 passed, 1 failed$' "$E2E_TMP/s.out"
expect_true "junit.xml" test -s "$E2E_TMP/out/junit.xml"

# -q: no started lines, the verdicts and the tally still.
set +e
"$CHAOSRUN" suite -q -j 2 --out "$E2E_TMP/outq" "$E2E_TMP/two" >"$E2E_TMP/q.out" 2>"$E2E_TMP/q.err"; rc=$?
set -e
expect_eq "-q -j 2: same exit" 1 "$rc"
expect_eq "-q: no started line" 0 "$(grep -c 'started' "$E2E_TMP/q.err" || true)"
expect_eq "-q: both verdict lines" 2 "$(grep -cE '^\[[12]/2\] tiny(-failing)?: (passed|failed) in' "$E2E_TMP/q.out")"
expect_true "-q: tally" grep -q '^suite: 2 scenarios' "$E2E_TMP/q.out"

# One scenario: still a suite.
mkdir "$E2E_TMP/one"
cp "$S/tiny.json" "$E2E_TMP/one/"
"$CHAOSRUN" suite -q --out "$E2E_TMP/out1" "$E2E_TMP/one" >"$E2E_TMP/one.out" 2>&1
expect_true "one scenario: junit.xml and index.html" test -s "$E2E_TMP/out1/junit.xml" -a -s "$E2E_TMP/out1/index.html"
expect_true "one scenario: its run in the suite" test -s "$E2E_TMP/out1/tiny/journal.json"
expect_true "one scenario: tally" grep -q '^suite: 1 scenario in' "$E2E_TMP/one.out"

# Usage mistakes: a file where a directory belongs, an empty directory.
set +e
"$CHAOSRUN" suite "$S/tiny.json" >/dev/null 2>"$E2E_TMP/e1"; rc1=$?
mkdir "$E2E_TMP/empty"
"$CHAOSRUN" suite "$E2E_TMP/empty" >/dev/null 2>"$E2E_TMP/e2"; rc2=$?
set -e
expect_eq "a file is not a suite" 2 "$rc1"
expect_true "... said so" grep -q "is not a directory" "$E2E_TMP/e1"
expect_eq "an empty directory" 2 "$rc2"
expect_true "... said so" grep -q "no \*.json, \*.yaml or \*.yml in" "$E2E_TMP/e2"
finish
