#!/bin/bash
# Benchmark of `chaosrun explore` and `chaosrun shrink` on the reference
# pipeline (tests/e2e/scenarios/explore-pipeline.json and
# shrink-pipeline.json; their fixed ports: run under the machine-wide
# lock, `flock /tmp/cr-e2e.lock tests/bench/bench_shrink_explore.sh`).
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
median() { sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

if [ "$SEEDS" -gt 0 ]; then
echo "== explore, ack_before_commit, $SEEDS seeds"
for s in $(seq 1 "$SEEDS"); do
    CRP_DEFECT=ack_before_commit "$BIN/chaosrun" explore -q --seed $((s * 1000)) \
        --runs 30 --budget 15m -o "$T/ex$s" "$EX" >/dev/null 2>&1
    jq -r --arg s "$s" '"seed \($s)000: \(.tried) schedule(s), first failure after \(.first_failure_s | . * 10 | round / 10) s (run \(.first_failure_run)), \(.tried * 60 / .wall_s | . * 100 | round / 100) runs/min"' "$T/ex$s/summary.json"
done
echo "median schedules to the first failure: $(for s in $(seq 1 "$SEEDS"); do jq '.first_failure_run + 1' "$T/ex$s/summary.json"; done | median)"
echo "median time to the first failure (s): $(for s in $(seq 1 "$SEEDS"); do jq .first_failure_s "$T/ex$s/summary.json"; done | median)"
echo "median runs per minute: $(for s in $(seq 1 "$SEEDS"); do jq '.tried * 60 / .wall_s' "$T/ex$s/summary.json"; done | median)"

echo "== explore, correct pipeline, $CLEAN schedules"
"$BIN/chaosrun" explore -q --runs "$CLEAN" --budget 30m -o "$T/clean" "$EX" >/dev/null 2>&1
jq -r '"\(.tried) schedule(s), \(.failures) failure(s), \(.tried * 60 / .wall_s | . * 100 | round / 100) runs/min"' "$T/clean/summary.json"
fi

echo "== shrink, ack_before_commit, $K runs a candidate"
CRP_DEFECT=ack_before_commit "$BIN/chaosrun" -q --no-status -o "$T/orig" "$SH" >/dev/null 2>&1
CRP_DEFECT=ack_before_commit "$BIN/chaosrun" shrink -q -k "$K" --reruns 5 --budget 30m \
    -o "$T/shrink" "$T/orig" 2>&1 | grep -v '^step '
jq -r -s '"original schedule: failed \(.[0].runs | map(select(.verdict == "failed")) | length) of \(.[0].runs | length) run(s)"' "$T/shrink/steps.jsonl"
jq -r '"faults \(.faults_before) -> \(.minimal | length), \(.candidates) candidates, \(.runs) runs, wall \(.wall_s | round) s, minimal failed \(.reruns_failed) of \(.reruns) re-runs"' "$T/shrink/summary.json"
