#!/bin/bash
# Benchmark of the reference pipeline (sample_pipeline/):
#  1. end-to-end throughput, records/s from the first `accepted` to the
#     last `delivered` (durable: queue and sink in SQLite WAL with
#     synchronous=FULL and group commit), with the producer far above
#     capacity, for each number of workers;
#  2. p50/p99 latency (accepted -> delivered, from the sink's latency_ms) at
#     50% of that throughput;
#  3. the same two measures with chaosrun attached (every stage a service
#     of a fault-free scenario), run side by side, reported as ratios.
# 4. chaosrun's own CPU time as a percentage of its services' CPU time, at
#    full load (the throughput runs), read from /proc when the last record
#    is delivered.
# Bare and attached runs alternate, ROUNDS times (BENCH_ROUNDS, default 3);
# the table shows medians and the ratio of the medians.
# Usage: bench_pipeline.sh [--quick] [WORKERS...]   (CR_BIN: build/bin)
#        bench_pipeline.sh --against OLD_BIN [WORKERS...]
# --against: bare throughput only, this build's crp (CR_BIN) and another
# build's (OLD_BIN, e.g. main's build/bin) alternating round by round (which
# goes first alternates too), ROUNDS times; medians and the ratio new/old.
# Timing figures are for comparison within one run only: ratios, never
# absolute thresholds (the machines are shared and noisy).
set -u
BIN=${CR_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
QUICK=0 AGAINST=
if [ "${1:-}" = "--quick" ]; then QUICK=1; shift; fi
if [ "${1:-}" = "--against" ]; then AGAINST=$2; shift 2; fi
WORKERS=("$@")
[ ${#WORKERS[@]} -gt 0 ] || WORKERS=(1 2 4)
N=${BENCH_N:-30000}; LAT_S=${BENCH_LAT_S:-6}; ROUNDS=${BENCH_ROUNDS:-3}
[ $QUICK = 1 ] && { N=1500; LAT_S=2; WORKERS=(1); ROUNDS=1; }
T=$(mktemp -d /tmp/crp_bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
# Ports of this bench (not the scenarios' 72xx ones).
PQ=7501 PI=7510 PW=7520 PF=7530 PS=7540 PP=7560
. "$(dirname "$0")/bench_lib.sh"
START_ARGS=(--queue 127.0.0.1:$PQ --ingest 127.0.0.1:$PI --feature 127.0.0.1:$PF)




# Every run starts with the page cache written back and a second of calm, so
# that no run pays for the previous one's dirty pages (the stores fsync).
settle() { sync; sleep 1; }

run_bare() { # workers rate count -> stats
    local w=$1 rate=$2 count=$3 dir; dir=$(mktemp -d "$T/bare-$1-$2.XXXX")
    settle
    mkdir -p "$dir"; PIDS=()
    start "$dir" queue 0 queue --port $PQ; sleep 0.3
    start "$dir" feature 0 feature --port $PF
    start "$dir" ingest 0 ingest --port $PI
    for ((r = 0; r < w; r++)); do start "$dir" worker $r worker --port $((PW + r)); done
    start "$dir" sink 0 sink --port $PS
    sleep 0.5
    start "$dir" producer 0 produce --port $PP --rate "$rate" --count "$count" --malformed 0 \
        --poison 0 --window 2048
    local valid=$count
    wait_for "$dir/events.jsonl" "$valid" 120 || echo "warning: only $(grep -c delivered "$dir/events.jsonl") delivered" >&2
    # the pipeline's CPU time (utime + stime of every stage, in ticks)
    local cpu=0 t p
    for p in "${PIDS[@]}"; do
        t=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null) && cpu=$((cpu + t))
    done
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done; wait 2>/dev/null; PIDS=()
    echo "$(stats "$dir/events.jsonl") $cpu"
}

run_attached() { # workers rate count -> stats
    local w=$1 rate=$2 count=$3 dir; dir=$(mktemp -u "$T/cr-$1-$2.XXXX")
    settle
    local s="$T/bench-$1-$2.json" dur
    dur=$(awk -v c="$count" -v r="$rate" 'BEGIN { printf "%d", c / r + 8 }')
    local B='${CHAOSRUN_BINDIR}/crp'
    local addr="\"--queue\",\"127.0.0.1:$PQ\",\"--ingest\",\"127.0.0.1:$PI\",\"--feature\",\"127.0.0.1:$PF\""
    cat >"$s" <<JSON
{"name":"bench-pipeline","seed":1,"duration_s":$dur,"drain_s":0.5,
 "services":[
  {"name":"queue","cmd":["$B","queue",$addr],"port":$PQ,"ready":{"kind":"tcp"}},
  {"name":"feature","cmd":["$B","feature",$addr],"port":$PF,"ready":{"kind":"tcp"}},
  {"name":"ingest","cmd":["$B","ingest",$addr],"port":$PI,"ready":{"kind":"tcp"}},
  {"name":"worker","cmd":["$B","worker",$addr],"port":$PW,"replicas":$w,"ready":{"kind":"tcp"}},
  {"name":"sink","cmd":["$B","sink",$addr],"port":$PS,"ready":{"kind":"tcp"}},
  {"name":"producer","cmd":["$B","produce",$addr,"--rate","$rate","--count","$count","--malformed","0","--poison","0","--window","2048"],"port":$PP,"ready":{"kind":"tcp"}}
 ],
 "expect":[{"kind":"events","name":"all-delivered","ev":"delivered","min":$count}]}
JSON
    CHAOSRUN_BINDIR=$BIN "$BIN/chaosrun" --no-status -q --out "$dir" "$s" >"$dir.out" 2>&1 &
    local cpid=$! rc
    # The harness's share of the CPU while the pipeline works: chaosrun's
    # own utime+stime (all its threads) against its services' (its child
    # processes), read when the last record is delivered.
    local share=-1
    if wait_for "$dir/events.live.jsonl" "$count" 120; then
        share=$(cpu_share "$cpid")
    fi
    wait "$cpid"; rc=$?
    [ "$rc" = 0 ] || echo "warning: attached run exit $rc ($(tail -3 "$dir.out" | tr '\n' ' '))" >&2
    echo "$(stats "$dir/events.jsonl") $share"
}

# cpu_share PID: 100 * ticks(PID) / sum of ticks(children of PID), from
# /proc/*/stat fields 14 (utime) and 15 (stime).
cpu_share() {
    local own kids=0 k t
    own=$(awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null) || { echo -1; return; }
    for k in $(pgrep -P "$1"); do
        t=$(awk '{ print $14 + $15 }' "/proc/$k/stat" 2>/dev/null) && kids=$((kids + t))
    done
    awk -v o="$own" -v k="$kids" 'BEGIN { printf "%.2f", (k > 0 ? 100 * o / k : -1) }'
}


FAILED=0
if [ -n "$AGAINST" ]; then
    NEW=$BIN
    echo "records: $N per run, bare, 50000 records/s offered; $ROUNDS rounds alternating new ($NEW) and old ($AGAINST)"
    for w in "${WORKERS[@]}"; do
        TN=() TO=() CN=() CO=()
        hz=$(getconf CLK_TCK)
        for ((k = 0; k < ROUNDS; k++)); do
            for which in $(if [ $((k % 2)) = 0 ]; then echo new old; else echo old new; fi); do
                if [ "$which" = new ]; then BIN=$NEW; else BIN=$AGAINST; fi
                read -r tp _ _ n cpu < <(run_bare "$w" 50000 "$N")
                [ "$n" -ge "$N" ] || { echo "FAIL: $which: $n of $N records delivered"; FAILED=1; }
                # CPU seconds of all stages per 1000 records (start-up included)
                c=$(awk -v t="$cpu" -v h="$hz" -v n="$N" 'BEGIN { printf "%.1f", 1000 * 1000 * t / h / n }')
                if [ "$which" = new ]; then TN+=("$tp") CN+=("$c"); else TO+=("$tp") CO+=("$c"); fi
                echo "$w workers, round $((k + 1)), $which: $tp records/s, pipeline CPU $c ms per 1000 records ($(cut -d' ' -f1-3 /proc/loadavg) load)"
            done
        done
        BIN=$NEW
        tn=$(echo "${TN[*]}" | median) to=$(echo "${TO[*]}" | median)
        cn=$(echo "${CN[*]}" | median) co=$(echo "${CO[*]}" | median)
        awk -v a="$tn" -v b="$to" -v w="$w" -v c="$cn" -v d="$co" 'BEGIN {
            printf "%s workers: new %.0f records/s, old %.0f records/s (medians), new/old %.2f; CPU per 1000 records new %.0f ms, old %.0f ms, new/old %.2f\n",
                   w, a, b, (b > 0 ? a / b : 0), c, d, (d > 0 ? c / d : 0) }'
    done
    exit $FAILED
fi
echo "records: $N per throughput run, latency runs ${LAT_S} s at half the bare throughput; $ROUNDS rounds, medians"
printf "%-8s %-9s %12s %10s %10s %10s\n" workers mode "records/s" "rate" "p50_ms" "p99_ms"
for w in "${WORKERS[@]}"; do
    TB=() TC=() SH=()
    for ((k = 0; k < ROUNDS; k++)); do
        read -r tp_b _ _ n_b _ < <(run_bare "$w" 50000 "$N")
        read -r tp_c _ _ n_c sh < <(run_attached "$w" 50000 "$N")
        for n in "$n_b" "$n_c"; do
            [ "$n" -ge "$N" ] || { echo "FAIL: $n of $N records delivered"; FAILED=1; }
        done
        TB+=("$tp_b") TC+=("$tp_c") SH+=("$sh")
    done
    tp_b=$(echo "${TB[*]}" | median) tp_c=$(echo "${TC[*]}" | median)
    half=$(awk -v t="$tp_b" 'BEGIN { r = int(t / 2); if (r < 10) r = 10; print r }')
    cnt=$(awk -v r="$half" -v s="$LAT_S" 'BEGIN { printf "%d", r * s }')
    P5B=() P9B=() P5C=() P9C=()
    for ((k = 0; k < ROUNDS; k++)); do
        read -r _ a b _ _ < <(run_bare "$w" "$half" "$cnt"); P5B+=("$a") P9B+=("$b")
        read -r _ a b _ < <(run_attached "$w" "$half" "$cnt"); P5C+=("$a") P9C+=("$b")
    done
    p50_b=$(echo "${P5B[*]}" | median) p99_b=$(echo "${P9B[*]}" | median)
    p50_c=$(echo "${P5C[*]}" | median) p99_c=$(echo "${P9C[*]}" | median)
    printf "%-8s %-9s %12s %10s %10s %10s\n" "$w" bare "$tp_b" "$half" "$p50_b" "$p99_b"
    printf "%-8s %-9s %12s %10s %10s %10s\n" "$w" chaosrun "$tp_c" "$half" "$p50_c" "$p99_c"
    echo "$w throughput per round: bare ${TB[*]} / attached ${TC[*]}"
    echo "$w chaosrun CPU, % of its services' CPU, per round: ${SH[*]}"
    awk -v a="$tp_b" -v b="$tp_c" -v p="$p99_b" -v q="$p99_c" -v w="$w" 'BEGIN {
        printf "%-8s ratio     throughput attached/bare %.3f, p99 attached/bare %.2f\n", w,
               (a > 0 ? b / a : 0), (p > 0 ? q / p : 0) }'
done
exit $FAILED
