# Shared by the pipeline benchmarks (bench_pipeline.sh, bench_queue.sh,
# bench_fairness.sh): start a `crp` stage as the harness would, read the
# figures off an event file, medians.  The caller sets BIN (build/bin),
# PIDS=() (what cleanup stops) and START_ARGS (peer addresses appended to
# every stage's command line).

start() { # dir name replica args...
    local dir=$1 name=$2 rep=$3; shift 3
    CHAOSRUN_RUN_DIR=$dir CHAOSRUN_EVENTS=$dir/events.jsonl CHAOSRUN_SERVICE=$name \
    CHAOSRUN_INSTANCE=$name.$rep CHAOSRUN_REPLICA=$rep \
        "$BIN/crp" "$@" "${START_ARGS[@]}" >"$dir/$name.$rep.log" 2>&1 &
    PIDS+=($!)
}

# stats EVENTS -> "throughput p50 p99 delivered": records/s from the first
# `accepted` to the last `delivered`, and the sink's latency_ms percentiles.
stats() {
    awk -F'"ts":' '
        /"ev":"accepted"/ { split($2, a, ","); if (first == "" || a[1] < first) first = a[1] }
        /"ev":"delivered"/ { split($2, a, ","); if (a[1] > last) last = a[1]; n++
                             match($0, /"latency_ms":[0-9.]+/); print substr($0, RSTART + 13, RLENGTH - 13) > "/dev/stderr" }
        END { printf "%.1f %d\n", (last > first ? n / (last - first) : 0), n }' "$1" 2>"$1.lat" |
    { read -r tp n; sort -n "$1.lat" | awk -v tp="$tp" -v n="$n" '
        { v[NR] = $1 } END { if (NR == 0) { print tp, 0, 0, n; exit }
          i50 = int(NR * 0.50); i99 = int(NR * 0.99); if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1
          printf "%s %.1f %.1f %s\n", tp, v[i50], v[i99], n }'; }
}

wait_for() { # file n seconds: until n delivered events
    local i n
    for ((i = 0; i < $3 * 10; i++)); do
        n=$(grep -c '"ev":"delivered"' "$1" 2>/dev/null)
        [ "${n:-0}" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : 0) }'; }
