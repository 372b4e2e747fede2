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
    local s=$1 d=$2 out="$E2E_TMP/$1-$2"
    export CRP_DEFECT=$d
    run_chaosrun "$out" "$SC/$s.json"
    unset CRP_DEFECT
    defect_verdict "$@"
}

# check_defects SCENARIO DEFECT CHECK [DEFECT CHECK ...]: check_defect for
# each pair, the runs at once, each in a network namespace of its own
# (loopback up: the scenario's fixed ports are private to it), so that the
# test takes the time of one run, not of N; one after another where
# namespaces are not available (not root).  Scenarios with "hosts" name
# namespaces of their own: use check_defect for them.
check_defects() {
    local s=$1 d out
    shift
    if [ "$(id -u)" != 0 ] || ! unshare -n true 2>/dev/null; then
        while [ $# -ge 2 ]; do
            check_defect "$s" "$1" "$2"
            shift 2
        done
        return 0
    fi
    local pids=() pairs=("$@")
    while [ $# -ge 2 ]; do
        d=$1 out="$E2E_TMP/$s-$1"
        (
            set +e
            CRP_DEFECT=$d unshare -n sh -c 'ip link set lo up && exec "$@"' sh \
                "$CHAOSRUN" --no-status --out "$out" "$SC/$s.json" >"$out.out" 2>"$out.err"
            echo $? >"$out.rc"
        ) &
        pids+=($!)
        shift 2
    done
    wait "${pids[@]}" || true
    set -- "${pairs[@]}"
    while [ $# -ge 2 ]; do
        RC=$(cat "$E2E_TMP/$s-$1.rc" 2>/dev/null || echo none)
        defect_verdict "$s" "$1" "$2"
        shift 2
    done
}

# The verdict of check_defect's run ($RC, $E2E_TMP/SCENARIO-DEFECT).
defect_verdict() {
    local s=$1 d=$2 c=$3 out="$E2E_TMP/$1-$2"
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
