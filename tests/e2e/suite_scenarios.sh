# End-to-end: the whole scenarios/ folder as one suite (what CI users run):
# every shipped scenario passes on the reference systems, one combined
# junit.xml validates as a testsuites document, and an index links them.
# pipeline-containers needs its image: built here (build-image.sh, a name
# of this test's own, removed at the end) where containers can run; where
# they cannot (no podman, runc, busybox-static or root) that one scenario
# must be unrunnable (exit 3, its reason) and every other one pass.
set -e
. "$(dirname "$0")/lib.sh"
export CRP_IMAGE="localhost/chaosrun-crp:suite$$"
CTR=0
if (. "$CR_SRC/tests/e2e/container_lib.inc" && ctr_preflight) >"$E2E_TMP/preflight" &&
    bash "$CR_SRC/sample_pipeline/scripts/build-image.sh" podman "$CR_BIN" >>"$E2E_TMP/preflight" 2>&1; then
    CTR=1
    trap 'podman rmi -f "$CRP_IMAGE" >/dev/null 2>&1 || true; rm -rf "$E2E_TMP"' EXIT
else
    echo "note: no container image ($(tail -1 "$E2E_TMP/preflight")): pipeline-containers must be unrunnable"
fi
set +e
"$CHAOSRUN" suite -j 2 --no-status --out "$E2E_TMP/out" "$CR_SRC/scenarios" >"$E2E_TMP/suite.out" 2>&1
rc=$?
set -e
n=$(ls "$CR_SRC"/scenarios/*.json | wc -l)
if [ "$CTR" = 1 ]; then
    expect_eq "every shipped scenario passes" 0 "$rc"
else
    expect_eq "every shipped scenario passes but pipeline-containers (unrunnable: exit 3)" 3 "$rc"
    expect_eq "...which says why" unrunnable \
        "$(jq -r .status "$E2E_TMP"/out/pipeline-containers*/journal.json 2>/dev/null)"
    expect_eq "...and nothing else failed" "" \
        "$(for j in "$E2E_TMP"/out/*/journal.json; do jq -r 'select(.name != "pipeline-containers" and .status != "passed") | .name' "$j"; done)"
fi
expect_eq "one testsuite per scenario" "$n" "$(grep -c '<testsuite ' "$E2E_TMP/out/junit.xml")"
expect_true "index.html written" test -s "$E2E_TMP/out/index.html"
for j in "$E2E_TMP"/out/*/journal.json; do
    s=$(jq -r .status "$j")
    [ "$s" = passed ] || [ "$CTR$(jq -r .name "$j")" = 0pipeline-containers ] || { echo "--- $(jq -r .name "$j"): $s"; jq -r '.expectations[] | select(.verdict!="passed") | "\(.name): \(.summary)"' "$j"; }
done
if [ "$rc" != 0 ]; then tail -40 "$E2E_TMP/suite.out"; fi
finish
