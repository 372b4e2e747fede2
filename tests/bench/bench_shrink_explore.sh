#!/bin/bash
# Benchmark of `chaosrun explore` and `chaosrun shrink` on the reference
# pipeline (tests/e2e/scenarios/explore-pipeline.json and
# shrink-pipeline.json; their fixed ports: run under the machine-wide
# lock, `flock /tmp/cr-e2e.lock tests/bench/bench_shrink_explore.sh`, or
# with CR_BENCH_LOCK=1 to take the lock for each chaosrun command only).
#  - explore, CRP_DEFECT=ack_before_commit, SEEDS first seeds (1000, 2000,
#    ...): schedules and wall time to the first failure, runs per minute;
#    medians over the seeds;
#  - explore on the correct pipeline, CLEAN_RUNS schedules: failures found
#    (must be 0) and runs per minute;
#  - shrink of one failing ten-fault run (ack_before_commit) with K runs a
#    candidate and 5 re-runs: faults before/after, candidates, runs, wall
#    time, the minimal schedule's failure rate.
# Usage: bench_shrink_explore.sh [SEEDS [CLEAN_RUNS [K]]]   (CR_BIN: build/bin)
# SEEDS 0: the shrink part only.
#
# BENCH_DEFECTS=1 instead: time to the first failure of three defects,
# each in a fault space derived (jq) from the shipped scenario that covers
# it, with its fixed faults removed, for each strategy in STRATEGIES
# (default "uniform coverage"), SEEDS seeds each, a budget of
# DEFECT_BUDGET (default 4m) a seed; then CLEAN_RUNS schedules of each
# space on the correct pipeline (must find nothing):
#  - ack_before_commit: explore-pipeline.json (as above);
#  - breaker_never_opens: pipeline-feature-outage without its fixed
#    outage, space: one pause of the feature service, 4-6 s from 1-3 s
#    (the breaker checker judges every fault window as the dependency's
#    when the drawn faults cannot be named, so the space holds only
#    outages of the dependency);
#  - unsafe_checkpoint: pipeline-trainer-kill without its baseline check
#    (same-model) and fixed faults, space: 2-3 faults drawn from a SIGKILL
#    of the trainer and a 0.3-1.5 s disk_full of it, both at 1-8 s.
# Then "shrink": each ack_before_commit failure the uniform search found,
# shrunk with one run a candidate (faults, candidates, wall time, the
# wall time of one run before and after).
# BENCH_PARTS (default "ack breaker ckpt shrink clean") picks the parts.
# EXPLORE_JOBS=J (default 1): the defect and clean explorations run J runs
# at once (`explore -j J`: root, each run in a network namespace of its
# own).
# Figures are for comparison within one machine and run only.
set -u
BIN=${CR_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
SRC=${CR_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
SEEDS=${1:-5} CLEAN=${2:-10} K=${3:-3}
command -v jq >/dev/null || { echo "SKIPPED: jq not installed"; exit 77; }
export CHAOSRUN_BINDIR="$BIN"
T=$(mktemp -d /tmp/cr_bench_shrink.XXXXXX)
# BENCH_KEEP=1: keep the run directories (printed) to read afterwards.
if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "runs kept in $T"; else trap 'rm -rf "$T"' EXIT; fi
EX="$SRC/tests/e2e/scenarios/explore-pipeline.json"
SH="$SRC/tests/e2e/scenarios/shrink-pipeline.json"
median() { sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else if (NR) print (v[NR/2]+v[NR/2+1])/2; else print "none"}'; }
# cr ARGS...: chaosrun, under the machine-wide lock when CR_BENCH_LOCK=1.
cr() {
    if [ "${CR_BENCH_LOCK:-0}" = 1 ]; then flock /tmp/cr-e2e.lock "$BIN/chaosrun" "$@"
    else "$BIN/chaosrun" "$@"; fi
}

if [ "${BENCH_DEFECTS:-0}" = 1 ]; then
    SC="$SRC/scenarios"
    jq '.faults = [] |
        (.expect[] | select(.kind == "breaker")) |= del(.dependency_fault) |
        .explore = {"faults": [{"kind": "pause", "target": "feature",
                                "at_s": [1, 3], "for_s": [4, 6]}],
                    "count": 1}' "$SC/pipeline-feature-outage.json" >"$T/explore-breaker.json"
    jq '.faults = [] | .expect |= map(select(.kind != "same_result")) |
        .expect |= map(select(.name != "trainer-restarted")) |
        .explore = {"faults": [
            {"kind": "kill", "target": "trainer", "signal": "SIGKILL", "at_s": [1, 8]},
            {"kind": "syscall", "target": "trainer", "preset": "disk_full",
             "at_s": [1, 8], "for_s": [0.3, 1.5]}],
          "count": [2, 3]}' "$SC/pipeline-trainer-kill.json" >"$T/explore-ckpt.json"
    "$BIN/chaosrun" validate "$T/explore-breaker.json" "$T/explore-ckpt.json" || exit 1
    PARTS=${BENCH_PARTS:-ack breaker ckpt shrink clean}
    BUDGET=${DEFECT_BUDGET:-4m}
    # defect NAME DEFECT SCENARIO STRATEGY
    defect() {
        local name=$1 d=$2 scen=$3 st=$4 s o found=0
        echo "== explore, $d, strategy $st, -j ${EXPLORE_JOBS:-1}, $SEEDS seed(s), budget $BUDGET a seed"
        for s in $(seq 1 "$SEEDS"); do
            o="$T/$name-$st-$s"
            CRP_DEFECT=$d cr explore -q -j "${EXPLORE_JOBS:-1}" --strategy "$st" --seed $((s * 1000)) \
                --runs 60 --budget "$BUDGET" -o "$o" "$scen" >"$o.out" 2>&1
            jq -r --arg s "$s" '"seed \($s)000: \(.tried) schedule(s), " +
                (if .failures > 0 then "first failure at schedule \(.first_failure_run + 1) after \(.first_failure_s | . * 10 | round / 10) s"
                 else "NO failure within the budget" end) +
                ", \(.tried * 60 / .wall_s | . * 100 | round / 100) runs/min, combinations \(.combinations.tried)/\(.combinations.total)"' "$o/summary.json"
            found=$((found + $(jq '(.failures > 0) | if . then 1 else 0 end' "$o/summary.json")))
        done
        echo "found in $found of $SEEDS seed(s)"
        echo "median schedules to the first failure (seeds that found it): $(for s in $(seq 1 "$SEEDS"); do jq 'select(.failures > 0) | .first_failure_run + 1' "$T/$name-$st-$s/summary.json"; done | median)"
        echo "median time to the first failure (s): $(for s in $(seq 1 "$SEEDS"); do jq 'select(.failures > 0) | .first_failure_s' "$T/$name-$st-$s/summary.json"; done | median)"
        echo "median runs per minute: $(for s in $(seq 1 "$SEEDS"); do jq '.tried * 60 / .wall_s' "$T/$name-$st-$s/summary.json"; done | median)"
    }
    for st in ${STRATEGIES:-uniform coverage}; do
        case " $PARTS " in *" ack "*) defect ack ack_before_commit "$EX" "$st" ;; esac
        case " $PARTS " in *" breaker "*) defect breaker breaker_never_opens "$T/explore-breaker.json" "$st" ;; esac
        case " $PARTS " in *" ckpt "*) defect ckpt unsafe_checkpoint "$T/explore-ckpt.json" "$st" ;; esac
    done
    # Shrink each failure the uniform ack_before_commit search found (one
    # run a candidate, one re-run): the explore -> shrink path.
    case " $PARTS " in *" shrink "*)
        echo "== shrink of each ack_before_commit failure found above (K = 1, 1 re-run, budget 4m)"
        for s in $(seq 1 "$SEEDS"); do
            o="$T/ack-uniform-$s"
            [ -s "$o/summary.json" ] && [ "$(jq .failures "$o/summary.json")" -gt 0 ] || continue
            r=$(printf '%s/run-%03d' "$o" "$(jq .first_failure_run "$o/summary.json")")
            CRP_DEFECT=ack_before_commit cr shrink -q -k 1 --reruns 1 --budget 4m \
                -o "$T/shrink-$s" "$r" >"$T/shrink-$s.out" 2>&1
            [ -s "$T/shrink-$s/summary.json" ] || { echo "seed ${s}000: shrink wrote no summary: $(tail -1 "$T/shrink-$s.out")"; continue; }
            jq -r --arg s "$s" --slurpfile st "$T/shrink-$s/steps.jsonl" '
                ($st[0].took_s / ($st[0].runs | length)) as $a |
                ([$st[] | select(.still_fails)] | last | .took_s / (.runs | length)) as $b |
                "seed \($s)000: faults \(.faults_before) -> \(.minimal | length), duration_s \(.duration_before_s) -> \(.duration_after_s), \(.candidates) candidates, \(.runs) runs, wall \(.wall_s | round) s; a run \($a | . * 10 | round / 10) s -> \($b | . * 10 | round / 10) s; minimal failed \(.reruns_failed) of \(.reruns)"' "$T/shrink-$s/summary.json"
        done
        echo "median shrink candidates: $(for s in $(seq 1 "$SEEDS"); do [ -s "$T/shrink-$s/summary.json" ] && jq .candidates "$T/shrink-$s/summary.json"; done | median)"
        echo "median shrink wall time (s): $(for s in $(seq 1 "$SEEDS"); do [ -s "$T/shrink-$s/summary.json" ] && jq .wall_s "$T/shrink-$s/summary.json"; done | median)"
        ;;
    esac
    case " $PARTS " in *" clean "*)
        for sp in "ack:$EX" "breaker:$T/explore-breaker.json" "ckpt:$T/explore-ckpt.json"; do
            o="$T/clean-${sp%%:*}"
            echo "== explore, correct pipeline, space ${sp%%:*}, strategy coverage, $CLEAN schedules"
            (unset CRP_DEFECT; cr explore -q -j "${EXPLORE_JOBS:-1}" --strategy coverage --runs "$CLEAN" --budget 30m -o "$o" "${sp#*:}" >"$o.out" 2>&1)
            jq -r '"\(.tried) schedule(s), \(.failures) failure(s), \(.tried * 60 / .wall_s | . * 100 | round / 100) runs/min"' "$o/summary.json"
            grep "runs not judged" "$o.out" || true
        done ;;
    esac
    exit 0
fi

if [ "$SEEDS" -gt 0 ]; then
echo "== explore, ack_before_commit, $SEEDS seeds"
for s in $(seq 1 "$SEEDS"); do
    CRP_DEFECT=ack_before_commit cr explore -q --seed $((s * 1000)) \
        --runs 30 --budget 15m -o "$T/ex$s" "$EX" >/dev/null 2>&1
    jq -r --arg s "$s" '"seed \($s)000: \(.tried) schedule(s), first failure after \(.first_failure_s | . * 10 | round / 10) s (run \(.first_failure_run)), \(.tried * 60 / .wall_s | . * 100 | round / 100) runs/min"' "$T/ex$s/summary.json"
done
echo "median schedules to the first failure: $(for s in $(seq 1 "$SEEDS"); do jq '.first_failure_run + 1' "$T/ex$s/summary.json"; done | median)"
echo "median time to the first failure (s): $(for s in $(seq 1 "$SEEDS"); do jq .first_failure_s "$T/ex$s/summary.json"; done | median)"
echo "median runs per minute: $(for s in $(seq 1 "$SEEDS"); do jq '.tried * 60 / .wall_s' "$T/ex$s/summary.json"; done | median)"

echo "== explore, correct pipeline, $CLEAN schedules"
cr explore -q --runs "$CLEAN" --budget 30m -o "$T/clean" "$EX" >/dev/null 2>&1
jq -r '"\(.tried) schedule(s), \(.failures) failure(s), \(.tried * 60 / .wall_s | . * 100 | round / 100) runs/min"' "$T/clean/summary.json"
fi

echo "== shrink, ack_before_commit, $K runs a candidate"
CRP_DEFECT=ack_before_commit cr -q --no-status -o "$T/orig" "$SH" >/dev/null 2>&1
CRP_DEFECT=ack_before_commit cr shrink -q -k "$K" --reruns 5 --budget 30m \
    -o "$T/shrink" "$T/orig" 2>&1 | grep -v '^step '
jq -r -s '"original schedule: failed \(.[0].runs | map(select(.verdict == "failed")) | length) of \(.[0].runs | length) run(s)"' "$T/shrink/steps.jsonl"
jq -r '"faults \(.faults_before) -> \(.minimal | length), \(.candidates) candidates, \(.runs) runs, wall \(.wall_s | round) s, minimal failed \(.reruns_failed) of \(.reruns) re-runs"' "$T/shrink/summary.json"
