#!/bin/bash
# Load-balancing fairness of the reference pipeline's pull-based workers
# (sample_pipeline/): N workers GET leases of up to --batch records from the
# `work` queue under a steady producer load; per worker it reports
#  - the records it processed (records_out_total from its /metrics),
#  - Jain's fairness index J = (sum x)^2 / (n * sum x^2) (1 = perfectly even,
#    1/n = one worker did everything) and the max/min ratio,
#  - starvation: the time a worker slept idle (after an empty GET,
#    idle_ms_total) in sampling intervals during which the queue held at
#    both ends at least 2 records per worker (ready + leased, asked with
#    DEPTH): a worker idling while another sits on a backlog it leased,
#    as a share of those intervals;
#  - p99 latency accepted -> delivered (the sink's latency_ms).
# For each worker count and each batch size, the run is repeated with the
# queue's fair lease (default) and with it off (--fair-lease 0: every GET
# takes up to its batch), side by side; medians over ROUNDS.
# Usage: bench_fairness.sh [--quick] [WORKERS...]   (CR_BIN: build/bin)
# Timing-dependent figures are for comparison within one run only.
set -u
BIN=${CR_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
QUICK=0
if [ "${1:-}" = "--quick" ]; then QUICK=1; shift; fi
WORKERS=("$@")
[ ${#WORKERS[@]} -gt 0 ] || WORKERS=(2 4)
DUR=${BENCH_S:-10}; ROUNDS=${BENCH_ROUNDS:-3}; BATCHES=(${BENCH_BATCHES:-64 512})
DELAY_US=${BENCH_DELAY_US:-2000} # per record: one worker ~ 450 records/s
LOAD=${BENCH_LOAD:-0.7}          # producer rate, fraction of N workers' capacity
[ $QUICK = 1 ] && { DUR=3; ROUNDS=1; WORKERS=(2); BATCHES=(512); }
T=$(mktemp -d /tmp/crp_fair.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
# Ports of this bench: 798x/799x (the pipeline-autoscale scenario's range).
PQ=7981 PQH=7982 PI=7983 PIH=7984 PF=7985 PFH=7986 PS=7987 PP=7988 PW=7990


. "$(dirname "$0")/bench_lib.sh"
START_ARGS=(--queue 127.0.0.1:$PQ --ingest 127.0.0.1:$PI --feature 127.0.0.1:$PF)

depth() { # -> ready+leased of work (the queue's DEPTH, exact; -1 on error)
    local line
    { exec 3<>/dev/tcp/127.0.0.1/$PQ; } 2>/dev/null || { echo -1; return; }
    echo "DEPTH work" >&3
    read -r -t 1 line <&3
    exec 3<&- 3>&-
    set -- $line
    [ "${1:-}" = DEPTH ] && echo $(($2 + $3)) || echo -1
}

metric() { # port name -> value (0 when absent)
    curl -s --max-time 1 "http://127.0.0.1:$1/metrics" |
        awk -v m="$2" '$1 == m { v = $2 } END { print (v == "" ? 0 : v) }'
}

# run WORKERS BATCH FAIR -> "jain maxmin starve_pct total per-worker-counts"
run() {
    local w=$1 batch=$2 fair=$3 dir r
    dir=$(mktemp -d "$T/run-$w-$batch-$fair.XXXX")
    sync; sleep 0.5
    PIDS=()
    start "$dir" queue 0 queue --port $PQ --http-port $PQH --fair-lease "$fair"; sleep 0.3
    start "$dir" feature 0 feature --port $PF --http-port $PFH
    start "$dir" ingest 0 ingest --port $PI --http-port $PIH
    for ((r = 0; r < w; r++)); do
        start "$dir" worker $r worker --port $((PW + r)) --batch "$batch" \
            --process-delay-us "$DELAY_US"
    done
    start "$dir" sink 0 sink --port $PS
    sleep 0.5
    local rate
    rate=$(awk -v w="$w" -v d="$DELAY_US" -v l="$LOAD" 'BEGIN { printf "%d", l * w * 1e6 / (d + 200) }')
    start "$dir" producer 0 produce --port $PP --rate "$rate" --count 0 --duration-s "$DUR" \
        --malformed 0 --poison 0
    # sample the queue depth and every worker's idle counter
    local t_end=$((SECONDS + DUR)) prev_d=0 d
    declare -a prev_idle starve
    for ((r = 0; r < w; r++)); do prev_idle[r]=0; starve[r]=0; done
    local backlog_ms=0
    while [ $SECONDS -lt $t_end ]; do
        sleep 0.25
        d=$(depth)
        for ((r = 0; r < w; r++)); do
            local i; i=$(metric $((PW + r)) crp_worker_idle_ms_total)
            if [ "$prev_d" -ge $((2 * w)) ] && [ "$d" -ge $((2 * w)) ]; then
                starve[r]=$((starve[r] + ${i%.*} - ${prev_idle[r]%.*}))
            fi
            prev_idle[r]=$i
        done
        if [ "$prev_d" -ge $((2 * w)) ] && [ "$d" -ge $((2 * w)) ]; then backlog_ms=$((backlog_ms + 250)); fi
        prev_d=$d
    done
    sleep 1 # let the backlog drain
    local counts=()
    for ((r = 0; r < w; r++)); do counts+=("$(metric $((PW + r)) crp_worker_records_out_total)"); done
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done; wait 2>/dev/null; PIDS=()
    local st=0 p99
    for ((r = 0; r < w; r++)); do st=$((st + starve[r])); done
    p99=$(grep -o '"latency_ms":[0-9.]*' "$dir/events.jsonl" | cut -d: -f2 | sort -g |
        awk '{ v[NR] = $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; printf "%.0f", (NR ? v[i] : 0) }')
    echo "${counts[*]}" | awk -v st="$st" -v bl="$backlog_ms" -v w="$w" -v p99="$p99" '{
        s = 0; q = 0; mx = 0; mn = -1
        for (i = 1; i <= NF; i++) { s += $i; q += $i * $i; if ($i > mx) mx = $i; if (mn < 0 || $i < mn) mn = $i }
        j = (q > 0 ? s * s / (NF * q) : 0)
        mm = (mn > 0 ? mx / mn : (mx > 0 ? 999 : 1))
        sp = (bl > 0 ? 100 * st / (bl * w) : 0)
        printf "%.4f %.2f %.1f %s %d %s\n", j, mm, sp, p99, s, $0 }'
}


FAILED=0
echo "steady load ${LOAD} x capacity (${DELAY_US} us/record/worker), ${DUR} s per run, $ROUNDS rounds, medians"
printf "%-8s %-6s %-7s %8s %8s %9s %8s %8s  %s\n" workers batch lease jain max/min "starve_%" p99_ms records "per worker (last round)"
for w in "${WORKERS[@]}"; do
    for b in "${BATCHES[@]}"; do
        for fair in 0 1; do
            J=() M=() S=() P=() last=""
            for ((k = 0; k < ROUNDS; k++)); do
                read -r j mm sp p99 tot rest < <(run "$w" "$b" "$fair")
                J+=("$j") M+=("$mm") S+=("$sp") P+=("$p99"); last="$tot $rest"
                [ "${tot:-0}" -gt 0 ] || { echo "FAIL: no record processed ($w workers, batch $b)"; FAILED=1; }
            done
            printf "%-8s %-6s %-7s %8s %8s %9s %8s %8s  %s\n" "$w" "$b" \
                "$([ $fair = 1 ] && echo fair || echo greedy)" \
                "$(echo "${J[*]}" | median)" "$(echo "${M[*]}" | median)" \
                "$(echo "${S[*]}" | median)" "$(echo "${P[*]}" | median)" \
                "${last%% *}" "${last#* }"
        done
    done
done
exit $FAILED
