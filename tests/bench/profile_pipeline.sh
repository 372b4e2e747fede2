#!/bin/bash
# Profile of the reference pipeline at full load (the source of the
# before/after tables in README.md, "The pipeline's own cost"): one bare
# throughput run of 30,000 records with W workers (bench_pipeline.sh's
# stages and ports), `perf record -a -g` over 1.6 s from 0.4 s after the
# producer starts, then each stage's CPU time (ticks of utime + stime from
# /proc) and the top symbols of the pipeline's processes, as shares of
# their samples.  Needs linux-perf; run under the machine-wide lock.
# Usage: profile_pipeline.sh [W] [OUT.data]   (CR_BIN: build/bin)
set -u
BIN=${CR_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
W=${1:-4} OUT=${2:-/tmp/crp_profile.data}
command -v perf >/dev/null || { echo "SKIPPED: perf is not installed"; exit 77; }
T=$(mktemp -d /tmp/crp_prof.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
PQ=7501 PI=7510 PW=7520 PF=7530 PS=7540 PP=7560
. "$(dirname "$0")/bench_lib.sh"
START_ARGS=(--queue 127.0.0.1:$PQ --ingest 127.0.0.1:$PI --feature 127.0.0.1:$PF)
dir=$T/run
mkdir -p "$dir"
sync; sleep 1
start "$dir" queue 0 queue --port $PQ; sleep 0.3
start "$dir" feature 0 feature --port $PF
start "$dir" ingest 0 ingest --port $PI
for ((r = 0; r < W; r++)); do start "$dir" worker $r worker --port $((PW + r)); done
start "$dir" sink 0 sink --port $PS
sleep 0.5
start "$dir" producer 0 produce --port $PP --rate 50000 --count 30000 --malformed 0 --poison 0 --window 2048
sleep 0.4
perf record -a -F 2999 -g -o "$OUT" sleep 1.6 >/dev/null 2>&1
wait_for "$dir/events.jsonl" 30000 120 || echo "warning: not every record was delivered" >&2
echo "stage CPU ticks (utime + stime, 1/$(getconf CLK_TCK) s), PIDs for perf:"
for p in "${PIDS[@]}"; do
    echo "  $p $(tr '\0' ' ' <"/proc/$p/cmdline" | awk '{ print $2 }') $(awk '{ print $14 + $15 }' "/proc/$p/stat")"
done
echo "throughput p50_ms p99_ms delivered: $(stats "$dir/events.jsonl")"
crp=$(perf report -i "$OUT" --no-children --sort comm -g none --stdio 2>/dev/null |
    awk '$2 == "crp" { sub("%", "", $1); print $1 }')
echo "top symbols of the pipeline's processes (share of their samples; crp = $crp % of all):"
perf report -i "$OUT" --no-children --comm crp --sort dso,sym -g none --stdio 2>/dev/null |
    awk -v c="$crp" '!/^#/ && NF >= 4 { sub("%", "", $1); s = ""; for (i = 4; i <= NF; i++) s = s " " $i
        printf "  %5.1f %%  %s (%s)\n", 100 * $1 / c, s, $2; if (++n == 15) exit }'
