# End-to-end (no chaosrun): a feature service that answers errors with
# quotes, backslashes, control bytes and a byte that is not UTF-8.  The
# worker puts the answer into its retry/giveup events: every line of the
# event file must still be one valid JSON object, and the error field must
# decode to the answer (the bad byte as U+FFFD).  The feature calls may
# take 5 s (socat forks a shell a connection: on a loaded machine that took
# longer than the default 200 ms, and the first error was a timeout).
set -e
. "$(dirname "$0")/lib.sh"
[ -x "$CR_BIN/crp" ] || { echo "SKIPPED: $CR_BIN/crp not built"; exit 77; }
command -v socat >/dev/null || { echo "SKIPPED: socat is not installed"; exit 77; }
D="$E2E_TMP/esc"
mkdir -p "$D"
export CHAOSRUN_RUN_DIR=$D CHAOSRUN_EVENTS=$D/events.jsonl
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap 'cleanup; rm -rf "$E2E_TMP"' EXIT
# the answer: ERR "q" \ <SOH> <0xff>
printf 'ERR "q" \\ \001\377\n' >"$D/answer"
socat TCP-LISTEN:7230,bind=127.0.0.1,reuseaddr,fork \
    SYSTEM:"while read -r l; do cat '$D/answer'; done" 2>"$D/socat.log" &
PIDS="$PIDS $!"
"$CR_BIN/crp" queue --data-dir "$D/q" >"$D/queue.log" 2>&1 &
PIDS="$PIDS $!"
sleep 0.3
"$CR_BIN/crp" ingest --data-dir "$D/i" >"$D/ingest.log" 2>&1 &
PIDS="$PIDS $!"
"$CR_BIN/crp" worker --data-dir "$D/w" --retry-base-ms 1 --retry-max-ms 5 --feature-timeout-ms 5000 >"$D/worker.log" 2>&1 &
PIDS="$PIDS $!"
sleep 0.3
"$CR_BIN/crp" produce --data-dir "$D/p" --count 20 --rate 100 --malformed 0 --poison 0 \
    --exit-when-done 1 >"$D/produce.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 1 100); do grep -q '"ev":"breaker"' "$D/events.jsonl" 2>/dev/null && break; sleep 0.1; done
cleanup
PIDS=""
expect_true "the worker wrote retry events" grep -q '"ev":"retry"' "$D/events.jsonl"
bad=0
while IFS= read -r line; do
    printf '%s\n' "$line" | jq -e 'type == "object"' >/dev/null 2>&1 || { bad=$((bad + 1)); [ $bad -le 3 ] && echo "not JSON: $line"; }
done <"$D/events.jsonl"
expect_eq "every event line is one JSON object" 0 "$bad"
err=$(grep -a '"ev":"retry"' "$D/events.jsonl" | head -1 | jq -r '.error' 2>/dev/null | od -An -c | tr -s ' ' | tr -d '\n')
want=$(printf 'error answer: ERR "q" \\ \001\357\277\275\n' | od -An -c | tr -s ' ' | tr -d '\n')
expect_eq "the error field decodes to the feature service's answer" "$want" "$err"
finish
