#!/bin/bash
# Benchmark of `chaosrun explore -j J`: runs per minute with -j 1 and -j J
# side by side, on
#  - explore-core.json (three sleeping services: a run is its 2 s
#    timeline, start-up and stop; little CPU), CORE_RUNS schedules;
#  - explore-pipeline.json on the correct pipeline (start-up, 5 s
#    timeline, 4 s drain, stop; CPU-bound on a small machine),
#    PIPE_RUNS schedules;
# each with --keep-going (every schedule run) from the same seed, and a
# check that both made the same runs (explore.jsonl without its clocks).
# -j > 1 needs root (a network namespace a run); the pipeline's fixed
# ports: run it in a namespace of its own or under the machine-wide lock:
#   unshare -n sh -c 'ip link set lo up && tests/bench/bench_explore_jobs.sh'
# Usage: bench_explore_jobs.sh [CORE_RUNS [PIPE_RUNS [J]]]  (CR_BIN: build/bin)
# Figures are for comparison within one machine and run only.
set -u
BIN=${CR_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
SRC=${CR_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
CORE=${1:-8} PIPE=${2:-6} J=${3:-2}
command -v jq >/dev/null || { echo "SKIPPED: jq not installed"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIPPED: -j needs root (network namespaces)"; exit 77; }
export CHAOSRUN_BINDIR="$BIN"
T=$(mktemp -d /tmp/cr_bench_jobs.XXXXXX)
trap 'rm -rf "$T"' EXIT

# one NAME SCENARIO RUNS JOBS: prints runs/min, wall s; keeps the lines.
one() {
    local out="$T/$1-j$4"
    "$BIN/chaosrun" explore --budget 1h --runs "$3" --keep-going -q -j "$4" \
        -o "$out" "$2" >"$out.txt" 2>&1
    local rc=$?
    if [ "$rc" -gt 1 ]; then echo "explore -j $4 on $1 exited $rc:" >&2; tail -5 "$out.txt" >&2; exit 1; fi
    jq -cS 'del(.took_s, .start_s, .end_s)' "$out/explore.jsonl" >"$out.lines"
    jq -r '"\(.tried) \(.wall_s)"' "$out/summary.json"
}

printf '| scenario | runs | -j 1: wall s | runs/min | -j %s: wall s | runs/min | ratio | same runs |\n' "$J"
printf '|---|---|---|---|---|---|---|---|\n'
for spec in "core:$SRC/tests/e2e/scenarios/explore-core.json:$CORE" \
    "pipeline:$SRC/tests/e2e/scenarios/explore-pipeline.json:$PIPE"; do
    IFS=: read -r name file runs <<<"$spec"
    [ "$runs" -gt 0 ] || continue
    read -r n1 w1 <<<"$(one "$name" "$file" "$runs" 1)"
    read -r nj wj <<<"$(one "$name" "$file" "$runs" "$J")"
    same=no
    cmp -s "$T/$name-j1.lines" "$T/$name-j$J.lines" && same=yes
    awk -v n="$name" -v r="$runs" -v a="$w1" -v b="$wj" -v n1="$n1" -v nj="$nj" -v s="$same" \
        'BEGIN { x = n1 * 60 / a; y = nj * 60 / b;
                 printf "| %s | %d | %.1f | %.2f | %.1f | %.2f | %.2fx | %s |\n", n, r, a, x, b, y, y / x, s }'
done
