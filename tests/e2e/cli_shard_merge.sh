# End-to-end: a suite split across CI workers -- `chaosrun suite --shard
# K/N` runs the scenarios whose file name hashes to K-1 (FNV-1a 64 of the
# base name, modulo N), and `chaosrun report --merge OUT SHARD...` joins
# the shards' suites into one junit.xml, index.html, index.md and
# suite.json, exiting with the merged verdict.  Four 0.5 s scenarios with
# no port (tiny.json renamed), one failing; ~6 s in all.
set -e
. "$(dirname "$0")/lib.sh"
S="$CR_SRC/tests/e2e/scenarios"
D="$E2E_TMP/suite"
mkdir "$D"
for n in a b c d; do
    jq --arg n "tiny-$n" '.name = $n' "$S/tiny.json" >"$D/$n.json"
done
# b fails (its service dies at once and is restarted: restarts max 0).
jq '.services[0].cmd = ["/bin/sh", "-c", "sleep 0.2; exit 1"]
    | .services[0].restart = "on-failure" | .services[0].restart_delay_s = 0.1' \
    "$D/b.json" >"$D/b.tmp" && mv "$D/b.tmp" "$D/b.json"

# Which shard each file is in, computed here independently: FNV-1a 64 of
# the base name, modulo 2 (python3's integers do the 64-bit arithmetic).
shard_of() {
    python3 -c 'import sys
h = 0xcbf29ce484222325
for c in sys.argv[1].encode():
    h = ((h ^ c) * 0x100000001b3) & 0xffffffffffffffff
print(h % int(sys.argv[2]) + 1)' "$1" "$2"
}
command -v python3 >/dev/null || { echo "SKIPPED: python3 is not installed"; exit 77; }
expected1="" expected2=""
for n in a b c d; do
    k=$(shard_of "$n.json" 2)
    if [ "$k" = 1 ]; then expected1="$expected1 $n.json"; else expected2="$expected2 $n.json"; fi
done
expect_true "both shards hold a scenario (the test means something)" test -n "$expected1" -a -n "$expected2"

rcs=""
for k in 1 2; do
    set +e
    "$CHAOSRUN" suite -q --no-status --color=never --shard "$k/2" --out "$E2E_TMP/shard-$k" "$D" \
        >"$E2E_TMP/shard-$k.out" 2>"$E2E_TMP/shard-$k.err"
    rcs="$rcs $?"
    set -e
done
expected_line() { # K LIST
    local n
    n=$(echo $2 | wc -w)
    echo "shard $1/2: $n of 4 scenarios:$2"
}
expect_eq "shard 1 says which scenarios it runs" "$(expected_line 1 "$expected1")" "$(head -1 "$E2E_TMP/shard-1.out")"
expect_eq "shard 2 says which scenarios it runs" "$(expected_line 2 "$expected2")" "$(head -1 "$E2E_TMP/shard-2.out")"
# b.json's shard exits 1, the other 0.
kb=$(shard_of b.json 2)
expect_eq "exit statuses of the shards" "$([ "$kb" = 1 ] && echo " 1 0" || echo " 0 1")" "$rcs"

# Each scenario ran exactly once, in its own shard.
for n in a b c d; do
    k=$(shard_of "$n.json" 2)
    other=$((3 - k))
    expect_true "tiny-$n ran in shard $k" test -s "$E2E_TMP/shard-$k/tiny-$n/journal.json"
    expect_true "tiny-$n did not run in shard $other" test ! -e "$E2E_TMP/shard-$other/tiny-$n"
done
runs=$(cat "$E2E_TMP"/shard-*/suite.json | jq -r '.runs[].name' | sort | tr '\n' ' ')
expect_eq "the shards' manifests list every scenario once" "tiny-a tiny-b tiny-c tiny-d " "$runs"
expect_eq "shard 1's manifest" '{"index":1,"count":2,"hash":"fnv1a64(basename) % count"}' \
    "$(jq -c .shard "$E2E_TMP/shard-1/suite.json")"

# The merge.
M="$E2E_TMP/merged"
set +e
"$CHAOSRUN" report --merge "$M" "$E2E_TMP/shard-2" "$E2E_TMP/shard-1" >"$E2E_TMP/m.out" 2>"$E2E_TMP/m.err"
rc=$?
set -e
expect_eq "merge exits with the merged verdict (one scenario failed)" 1 "$rc"
expect_true "merge says what it wrote" grep -q "^merged 4 scenarios of 2 suites: " "$E2E_TMP/m.out"
expect_eq "merged junit: one testsuite a scenario" 4 "$(grep -c '<testsuite ' "$M/junit.xml")"
expect_eq "merged junit: one <testsuites>" 1 "$(grep -c '<testsuites ' "$M/junit.xml")"
sum() { # ATTR: the sum of the shards' <testsuites ATTR=>
    cat "$E2E_TMP"/shard-*/junit.xml | sed -n "s/.*<testsuites [^>]* $1=\"\([0-9]*\)\".*/\1/p" |
        awk '{ s += $1 } END { print s }'
}
attr() { sed -n "s/.*<testsuites [^>]* $1=\"\([0-9]*\)\".*/\1/p" "$M/junit.xml"; }
expect_eq "merged junit: tests = the shards' sum" "$(sum tests)" "$(attr tests)"
expect_eq "merged junit: failures = the shards' sum" "$(sum failures)" "$(attr failures)"
expect_eq "merged junit: one failure (tiny-b)" 1 "$(attr failures)"
if command -v xmllint >/dev/null; then
    expect_true "merged junit valid against tests/data/junit.xsd" \
        xmllint --noout --schema "$CR_SRC/tests/data/junit.xsd" "$M/junit.xml"
else
    echo "SKIPPED part: xmllint is not installed (schema check)"
fi
for n in a b c d; do
    expect_true "index.html names tiny-$n" grep -q ">tiny-$n</a>" "$M/index.html"
done
# Every link of the merged index leads to a report that exists.
links=$(grep -o 'href="[^"]*"' "$M/index.html" | sed 's/^href="//; s/"$//' | sort -u)
nl=0
for l in $links; do
    nl=$((nl + 1))
    expect_true "link $l resolves" test -s "$M/$l"
done
expect_eq "index links: html and md of 4 runs" 8 "$nl"
expect_true "index.html: worst first (tiny-b first)" sh -c "grep -o '>tiny-[a-d]</a>' '$M/index.html' | head -1 | grep -q tiny-b"
expect_true "index.md: a row a scenario" test "$(grep -c '^| tiny-' "$M/index.md")" = 4
expect_eq "merged suite.json: status, exit code, inputs" "failed 1 2" \
    "$(jq -r '"\(.status) \(.exit_code) \(.merged_from | length)"' "$M/suite.json")"

# Refusals (exit 2, a message naming the cause).
set +e
"$CHAOSRUN" report --merge "$E2E_TMP/m2" "$E2E_TMP/shard-1" >/dev/null 2>"$E2E_TMP/e1"; r1=$?
"$CHAOSRUN" report --merge "$E2E_TMP/m3" "$E2E_TMP/shard-1" "$E2E_TMP/shard-1" >/dev/null 2>"$E2E_TMP/e2"; r2=$?
cp -R "$E2E_TMP/shard-2" "$E2E_TMP/shard-2v"
jq '.chaosrun = "0.0.1-other"' "$E2E_TMP/shard-2/suite.json" >"$E2E_TMP/shard-2v/suite.json"
"$CHAOSRUN" report --merge "$E2E_TMP/m4" "$E2E_TMP/shard-1" "$E2E_TMP/shard-2v" >/dev/null 2>"$E2E_TMP/e3"; r3=$?
"$CHAOSRUN" report --merge "$E2E_TMP/shard-1" "$E2E_TMP/shard-1" "$E2E_TMP/shard-2" >/dev/null 2>"$E2E_TMP/e4"; r4=$?
"$CHAOSRUN" report --merge --force "$E2E_TMP" "$E2E_TMP/shard-1" "$E2E_TMP/shard-2" >/dev/null 2>"$E2E_TMP/e5"; r5=$?
"$CHAOSRUN" report --merge "$M" "$E2E_TMP/shard-1" "$E2E_TMP/shard-2" >/dev/null 2>"$E2E_TMP/e6"; r6=$?
"$CHAOSRUN" suite --shard 3/2 "$D" >/dev/null 2>"$E2E_TMP/e7"; r7=$?
"$CHAOSRUN" suite --shard 1/1001 "$D" >/dev/null 2>"$E2E_TMP/e8"; r8=$?
"$CHAOSRUN" --shard 1/2 "$D/a.json" >/dev/null 2>"$E2E_TMP/e9"; r9=$?
set -e
expect_eq "a missing shard: exit 2" 2 "$r1"
expect_true "... named" grep -q "shard 2/2 is missing" "$E2E_TMP/e1"
expect_eq "a shard twice: exit 2" 2 "$r2"
expect_true "... named" grep -q "shard 1/2 given twice" "$E2E_TMP/e2"
expect_eq "another chaosrun version: exit 2" 2 "$r3"
expect_true "... named" grep -q "by chaosrun 0.0.1-other: merge suites of one version" "$E2E_TMP/e3"
expect_eq "OUT_DIR holding an input: exit 2" 2 "$r4"
expect_true "... said" grep -q "holds the suite" "$E2E_TMP/e4"
expect_eq "--force OUT_DIR above an input: exit 2" 2 "$r5"
expect_true "the input survived" test -s "$E2E_TMP/shard-1/suite.json"
expect_eq "an OUT_DIR with files, without --force: exit 2" 2 "$r6"
expect_eq "--shard 3/2: exit 2" 2 "$r7"
expect_true "... said" grep -q "expected K/N with 1 <= K <= N <= 1000, got '3/2'" "$E2E_TMP/e7"
expect_eq "--shard 1/1001: exit 2" 2 "$r8"
expect_eq "--shard outside suite: exit 2" 2 "$r9"
expect_true "... said" grep -q "is an option of chaosrun suite" "$E2E_TMP/e9"

# The same scenario in two whole suites: refused.
mkdir "$E2E_TMP/one"
cp "$D/a.json" "$E2E_TMP/one/"
"$CHAOSRUN" suite -q --no-status --out "$E2E_TMP/w1" "$E2E_TMP/one" >/dev/null 2>&1
set +e
"$CHAOSRUN" report --merge "$E2E_TMP/m5" "$E2E_TMP/w1" "$E2E_TMP/shard-$(shard_of a.json 2)" >/dev/null 2>"$E2E_TMP/e10"; r10=$?
set -e
expect_eq "a whole suite with a shard: exit 2" 2 "$r10"
"$CHAOSRUN" suite -q --no-status --out "$E2E_TMP/w2" "$E2E_TMP/one" >/dev/null 2>&1
set +e
"$CHAOSRUN" report --merge "$E2E_TMP/m6" "$E2E_TMP/w1" "$E2E_TMP/w2" >/dev/null 2>"$E2E_TMP/e11"; r11=$?
set -e
expect_eq "a scenario in two suites: exit 2" 2 "$r11"
expect_true "... named" grep -q "scenario 'tiny-a' is in .*each scenario must be in one suite only" "$E2E_TMP/e11"
expect_true "... nothing written" test ! -e "$E2E_TMP/m6/junit.xml"

# An empty shard (more shards than scenarios) still leaves a suite.
for k in $(seq 1 7); do
    [ -n "$(for n in a b c d; do [ "$(shard_of "$n.json" 7)" = "$k" ] && echo x; done)" ] || break
done
expect_true "shard $k/7 is empty" test -z "$(for n in a b c d; do [ "$(shard_of "$n.json" 7)" = "$k" ] && echo x; done)"
set +e
"$CHAOSRUN" suite -q --no-status --shard "$k/7" --out "$E2E_TMP/empty" "$D" >"$E2E_TMP/empty.out" 2>&1; r=$?
set -e
expect_eq "an empty shard exits 0" 0 "$r"
expect_true "... says so" grep -q "^shard $k/7: 0 of 4 scenarios (an empty shard)" "$E2E_TMP/empty.out"
expect_eq "... and leaves an empty suite" "0 $k" "$(jq -r '"\(.runs | length) \(.shard.index)"' "$E2E_TMP/empty/suite.json")"
expect_eq "... with an empty junit.xml" 0 "$(grep -c '<testsuite ' "$E2E_TMP/empty/junit.xml" || true)"
finish
