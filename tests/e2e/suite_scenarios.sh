# End-to-end: the whole scenarios/ folder as one suite (what CI users run):
# every shipped scenario passes on the reference systems, one combined
# junit.xml validates as a testsuites document, and an index links them.
set -e
. "$(dirname "$0")/lib.sh"
set +e
"$CHAOSRUN" suite -j 2 --no-status --out "$E2E_TMP/out" "$CR_SRC/scenarios" >"$E2E_TMP/suite.out" 2>&1
rc=$?
set -e
n=$(ls "$CR_SRC"/scenarios/*.json | wc -l)
expect_eq "every shipped scenario passes" 0 "$rc"
expect_eq "one testsuite per scenario" "$n" "$(grep -c '<testsuite ' "$E2E_TMP/out/junit.xml")"
expect_true "index.html written" test -s "$E2E_TMP/out/index.html"
for j in "$E2E_TMP"/out/*/journal.json; do
    s=$(jq -r .status "$j")
    [ "$s" = passed ] || { echo "--- $(jq -r .name "$j"): $s"; jq -r '.expectations[] | select(.verdict!="passed") | "\(.name): \(.summary)"' "$j"; }
done
if [ "$rc" != 0 ]; then tail -40 "$E2E_TMP/suite.out"; fi
finish
