# Helpers for the reference-pipeline end-to-end tests (sourced).
# Each scenario of scenarios/ runs once on the correct pipeline (exit 0) and
# once per defect switch it covers (exit 1, the violated check named in
# journal.json and junit.xml).  The switches reach every stage through the
# scenario's env "CRP_DEFECT": "${CRP_DEFECT:-}".
. "$(dirname "$0")/lib.sh"
SC="$CR_SRC/scenarios"
[ -x "$CR_BIN/crp" ] || { echo "SKIPPED: $CR_BIN/crp not built"; exit 77; }

# check_correct SCENARIO: exit 0, every expectation passed.
check_correct() {
    local s=$1 out="$E2E_TMP/$1"
    unset CRP_DEFECT
    run_chaosrun "$out" "$SC/$s.json"
    expect_eq "$s passes on the correct pipeline" 0 "$RC"
    if [ "$RC" != 0 ]; then
        sed -n '/: failed/,$p' "$out.out" | head -30
    fi
    expect_eq "$s journal status" passed "$(jq -r .status "$out/journal.json" 2>/dev/null)"
}

# check_defect SCENARIO DEFECT CHECK: exit 1 and CHECK failed.
check_defect() {
    local s=$1 d=$2 c=$3 out="$E2E_TMP/$1-$2"
    export CRP_DEFECT=$d
    run_chaosrun "$out" "$SC/$s.json"
    unset CRP_DEFECT
    expect_eq "$s with defect $d exits 1" 1 "$RC"
    expect_eq "$s with defect $d: $c failed" failed \
        "$(jq -r --arg c "$c" '.expectations[] | select(.name==$c) | .verdict' "$out/journal.json" 2>/dev/null)"
    if [ -s "$out/junit.xml" ]; then
        expect_true "$s with defect $d: junit.xml names $c" grep -q "name=\"$c\"" "$out/junit.xml"
    else
        echo "note: no junit.xml in $out (report writers not in this build)"
    fi
    expect_true "$s with defect $d: the summary names $c" grep -q "FAIL.*$c" "$out.out"
}
