# End-to-end (no chaosrun): `crp supervise` starts every stage, restarts a
# worker that was SIGKILLed (with a `restarted` event), and on SIGTERM stops
# the stages in order, each gracefully (stopped), with every accepted
# record delivered or dead-lettered exactly once.
set -e
. "$(dirname "$0")/lib.sh"
[ -x "$CR_BIN/crp" ] || { echo "SKIPPED: $CR_BIN/crp not built"; exit 77; }
D="$E2E_TMP/sup"
mkdir -p "$D"
cat >"$D/config.json" <<'JSON'
{"rate": 300, "count": 900, "train-n": 300, "epochs": 1, "step-delay-us": 0, "workers": 2}
JSON
CHAOSRUN_RUN_DIR=$D CHAOSRUN_EVENTS=$D/events.jsonl CHAOSRUN_SEED=9 \
    "$CR_BIN/crp" supervise --config "$D/config.json" >"$D/sup.log" 2>&1 &
SUP=$!
ev() { local n; n=$(grep -c "\"ev\":\"$1\"" "$D/events.jsonl" 2>/dev/null); echo "${n:-0}"; }
for _ in $(seq 1 200); do [ "$(ev delivered)" -gt 100 ] && break; sleep 0.1; done
expect_true "records flow through the supervised pipeline" test "$(ev delivered)" -gt 100
[ "$(ev delivered)" -gt 100 ] || head -20 "$D/sup.log"
# the worker.0 child of the supervisor
W=""
for p in $(pgrep -P $SUP); do
    tr '\0' '\n' <"/proc/$p/environ" | grep -qx CHAOSRUN_INSTANCE=worker.0 && W=$p
done
expect_true "worker.0 found" test -n "$W"
[ -n "$W" ] && kill -KILL "$W"
for _ in $(seq 1 50); do [ "$(ev restarted)" -ge 1 ] && break; sleep 0.1; done
expect_eq "the crashed worker was restarted" 1 "$(ev restarted)"
for _ in $(seq 1 200); do grep -q workload_done "$D/events.jsonl" && break; sleep 0.1; done
sleep 1
kill -TERM $SUP
wait $SUP
expect_eq "supervisor exits 0" 0 $?
# 7 stages + 2 workers... : queue feature ingest worker.0 worker.1 sink trainer produce, and the supervisor
expect_eq "every stage and the supervisor stopped gracefully" 9 "$(ev stopped)"
[ "$(ev stopped)" = 9 ] || grep -i "exited\|cannot\|error\|listen" "$D/sup.log" | head -20
expect_true "no process of the supervisor left" test -z "$(procs_of_run "$D")"
echo "accepted $(ev accepted), delivered $(ev delivered), dead-lettered $(ev dead_lettered), restarted $(ev restarted)"
acc=$(jq -r 'select(.ev=="accepted") | .id' "$D/events.jsonl" | sort -u)
fin=$(jq -r 'select(.ev=="delivered" or .ev=="dead_lettered") | .id' "$D/events.jsonl" | sort)
missing=$(comm -23 <(echo "$acc") <(echo "$fin" | sort -u) | head -5 | tr '\n' ' ')
expect_eq "every accepted record delivered or dead-lettered" "" "$missing"
[ -z "$missing" ] || tail -5 "$D/sup.log"
expect_eq "none twice" "" "$(echo "$fin" | uniq -d)"
finish
