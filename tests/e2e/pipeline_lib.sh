# Helpers for the reference-pipeline end-to-end tests (sourced).
# Each scenario of scenarios/ runs once on the correct pipeline (exit 0) and
# once per defect switch it covers (exit 1, the violated check named in
# journal.json and junit.xml).  The switches reach every stage through the
# scenario's env "CRP_DEFECT": "${CRP_DEFECT:-}".
. "$(dirname "$0")/lib.sh"
SC="$CR_SRC/scenarios"
[ -x "$CR_BIN/crp" ] || { echo "SKIPPED: $CR_BIN/crp not built"; exit 77; }

E2E_SKIPS=0
# unrunnable OUT: exit 3 = this machine cannot run it (e.g. no libfiu): skip.
unrunnable() {
    if [ "$RC" = 3 ]; then
        echo "skipped: $(basename "$1"): $(grep -i -m1 'cannot\|unrunnable\|missing' "$1.err" "$1.out" | head -1)"
        E2E_SKIPS=$((E2E_SKIPS + 1))
        return 0
    fi
    return 1
}

# check_correct SCENARIO: exit 0, every expectation passed.
check_correct() {
    local s=$1 out="$E2E_TMP/$1"
    unset CRP_DEFECT
    run_chaosrun "$out" "$SC/$s.json"
    unrunnable "$out" && return 0
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
    unrunnable "$out" && return 0
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

# pipeline_finish: like finish, but exit 77 when every run was unrunnable.
pipeline_finish() {
    if [ "$E2E_PASSES" -eq 0 ] && [ "$E2E_FAILS" -eq 0 ] && [ "$E2E_SKIPS" -gt 0 ]; then
        echo "SKIPPED: this machine cannot run these scenarios (exit 3)"
        exit 77
    fi
    finish
}
