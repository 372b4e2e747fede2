#!/bin/bash
# Benchmark of the stages' queue backends, side by side: the embedded
# queue service (crp queue: SQLite WAL, synchronous=FULL, group commit)
# against RabbitMQ (--broker: durable quorum queues, persistent messages,
# publisher confirms, manual acks) with the same durability, through the
# whole pipeline (producer -> ingest -> work -> worker -> results -> sink):
#  1. throughput, records/s from the first `accepted` to the last
#     `delivered`, with the producer far above capacity;
#  2. p50/p99 latency (accepted -> delivered, the sink's latency_ms) at a
#     fixed rate: half the slower backend's throughput, the same for both.
# Embedded and RabbitMQ runs alternate, ROUNDS times (BENCH_ROUNDS,
# default 3); the table shows medians and the ratios of the medians.  One
# private broker (sample_pipeline/scripts/rabbitmq.sh, its own epmd) serves
# every RabbitMQ run; its start time is reported.  Ports 81[7-9]x.
# Usage: bench_queue.sh [--quick]   (CR_BIN: build/bin)
# Exit 77 when rabbitmq-server is not installed; 1 when records are missing.
set -u
BIN=${CR_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
if [ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || ! command -v epmd >/dev/null; then
    echo "SKIPPED: rabbitmq-server is not installed"; exit 77
fi
N=${BENCH_N:-10000}; LAT_S=${BENCH_LAT_S:-6}; ROUNDS=${BENCH_ROUNDS:-3}; W=${BENCH_WORKERS:-2}
[ $QUICK = 1 ] && { N=800; LAT_S=2; ROUNDS=1; }
T=$(mktemp -d /tmp/crp_bq.XXXXXX)
PIDS=() BROKER=() 
PQ=8171 PI=8172 PF=8173 PW=8174 PS=8178 PP=8179 PB=8181 PD=8182 PE=8183
cleanup() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${BROKER[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    wait 2>/dev/null; rm -rf "$T"
}
trap cleanup EXIT

. "$(dirname "$0")/bench_lib.sh"
START_ARGS=(--ingest 127.0.0.1:$PI --feature 127.0.0.1:$PF)

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The broker: epmd first (foreground, our port), then rabbitmq.sh.
epmd -port $PE >"$T/epmd.log" 2>&1 & BROKER+=($!)
for ((i = 0; i < 50; i++)); do port_open $PE && break; sleep 0.1; done
t0=$(date +%s.%N)
sh "$BIN/crp-rabbitmq.sh" $PB $PD $PE "$T/broker" >"$T/broker.log" 2>&1 &
BROKER=($! "${BROKER[@]}") # the broker stops before its epmd
for ((i = 0; i < 600; i++)); do port_open $PB && break; sleep 0.1; done
port_open $PB || { echo "FAIL: the broker did not start"; tail "$T/broker.log"; exit 1; }
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "broker start (exec to AMQP port open): %.1f s\n", b - a }'




run() { # backend(queue|amqp) rate count -> stats
    local be=$1 rate=$2 count=$3 dir q
    dir=$(mktemp -d "$T/$1-$2.XXXX")
    sync; sleep 1
    PIDS=()
    if [ "$be" = queue ]; then
        q=(--queue 127.0.0.1:$PQ)
        start "$dir" queue 0 queue --port $PQ --http-port $((PQ + 20)) "${q[@]}"; sleep 0.3
    else
        q=(--broker "amqp://guest:guest@127.0.0.1:$PB/")
    fi
    start "$dir" feature 0 feature --port $PF --http-port $((PF + 20))
    start "$dir" ingest 0 ingest --port $PI --http-port $((PI + 20)) "${q[@]}"
    for ((r = 0; r < W; r++)); do start "$dir" worker $r worker --port $((PW + r)) "${q[@]}"; done
    start "$dir" sink 0 sink --port $PS "${q[@]}"
    sleep 0.5
    start "$dir" producer 0 produce --port $PP --rate "$rate" --count "$count" --malformed 0 \
        --poison 0 --window 2048
    wait_for "$dir/events.jsonl" "$count" 180 ||
        echo "warning: $be: only $(grep -c '"ev":"delivered"' "$dir/events.jsonl") delivered" >&2
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done; PIDS=()
    stats "$dir/events.jsonl"
}


FAILED=0
echo "pipeline with $W workers; $N records per throughput run, latency runs $LAT_S s; $ROUNDS rounds alternating, medians"
TQ=() TA=()
for ((k = 0; k < ROUNDS; k++)); do
    read -r tq _ _ nq < <(run queue 50000 "$N")
    read -r ta _ _ na < <(run amqp 50000 "$N")
    for n in "$nq" "$na"; do [ "$n" -ge "$N" ] || { echo "FAIL: $n of $N records delivered"; FAILED=1; }; done
    TQ+=("$tq") TA+=("$ta")
done
tq=$(echo "${TQ[*]}" | median) ta=$(echo "${TA[*]}" | median)
half=$(awk -v a="$tq" -v b="$ta" 'BEGIN { m = (a < b ? a : b); r = int(m / 2); if (r < 10) r = 10; print r }')
cnt=$(awk -v r="$half" -v s="$LAT_S" 'BEGIN { printf "%d", r * s }')
P5Q=() P9Q=() P5A=() P9A=()
for ((k = 0; k < ROUNDS; k++)); do
    read -r _ a b _ < <(run queue "$half" "$cnt"); P5Q+=("$a") P9Q+=("$b")
    read -r _ a b _ < <(run amqp "$half" "$cnt"); P5A+=("$a") P9A+=("$b")
done
printf "%-10s %12s %10s %10s %10s\n" backend "records/s" "rate" "p50_ms" "p99_ms"
printf "%-10s %12s %10s %10s %10s\n" embedded "$tq" "$half" "$(echo "${P5Q[*]}" | median)" "$(echo "${P9Q[*]}" | median)"
printf "%-10s %12s %10s %10s %10s\n" rabbitmq "$ta" "$half" "$(echo "${P5A[*]}" | median)" "$(echo "${P9A[*]}" | median)"
echo "throughput per round: embedded ${TQ[*]} / rabbitmq ${TA[*]}"
echo "p99 per round: embedded ${P9Q[*]} / rabbitmq ${P9A[*]}"
awk -v a="$tq" -v b="$ta" -v p="$(echo "${P9Q[*]}" | median)" -v q="$(echo "${P9A[*]}" | median)" 'BEGIN {
    printf "ratio rabbitmq/embedded: throughput %.2f, p99 %.2f\n", (a > 0 ? b / a : 0), (p > 0 ? q / p : 0) }'
exit $FAILED
