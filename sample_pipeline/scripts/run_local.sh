#!/bin/bash
# Run the whole pipeline by hand (no chaosrun): every stage a background
# process, events in $DIR/events.jsonl.  Usage: run_local.sh BIN_DIR DIR [count] [rate]
# Prints a summary (accepted / delivered / dead-lettered) and stops everything.
set -u
BIN=$1; DIR=$2; COUNT=${3:-500}; RATE=${4:-200}
rm -rf "$DIR"; mkdir -p "$DIR"
export CHAOSRUN_RUN_DIR=$DIR CHAOSRUN_EVENTS=$DIR/events.jsonl CHAOSRUN_SEED=${SEED:-7}
pids=()
start() { # name replica args...
    local name=$1 rep=$2; shift 2
    CHAOSRUN_SERVICE=$name CHAOSRUN_INSTANCE=$name.$rep CHAOSRUN_REPLICA=$rep \
        "$BIN/crp" "$@" >"$DIR/$name.$rep.log" 2>&1 &
    pids+=($!)
}
start queue 0 queue; sleep 0.3
start feature 0 feature
start ingest 0 ingest
start worker 0 worker
start worker 1 worker
start sink 0 sink
start trainer 0 trainer --train-n 500 --epochs 2 --step-delay-us 0 --ckpt-every 100
sleep 0.3
start produce 0 produce --count "$COUNT" --rate "$RATE"
for _ in $(seq 1 300); do
    grep -q workload_done "$DIR/events.jsonl" 2>/dev/null && break; sleep 0.1
done
sleep 1
for ((i=${#pids[@]}-1; i>=0; i--)); do kill -TERM "${pids[$i]}" 2>/dev/null; wait "${pids[$i]}" 2>/dev/null; done
acc=$(grep -c '"ev":"accepted"' "$DIR/events.jsonl")
del=$(grep -c '"ev":"delivered"' "$DIR/events.jsonl")
dlq=$(grep -c '"ev":"dead_lettered"' "$DIR/events.jsonl")
echo "accepted=$acc delivered=$del dead_lettered=$dlq"
