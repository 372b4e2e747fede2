# End-to-end: versioned models (sample_pipeline/crp_artifact.c).
# 1. pipeline-model-versions passes on the correct pipeline; with no_gate
#    the shuffled-labels model is promoted and bad-model-refused fails.
# 2. `crp models` exit codes and messages on a store made by two trainer
#    runs (gate refusal 1, nothing to roll back to 1, unknown version 3,
#    usage 2), and promote --force / rollback moving the pointer.
# 3. A running worker whose current pointer is moved (behind the store's
#    back) to a corrupt blob keeps its model: model_load_failed, never
#    model_loaded for the corrupt version.
# Ports: 7600-7699 only (the scenario and the worker below).
set -e
. "$(dirname "$0")/pipeline_lib.sh"
check_correct pipeline-model-versions
check_defect pipeline-model-versions no_gate bad-model-refused

CRP="$CR_BIN/crp"
D="$E2E_TMP/direct"
S="$D/store"
EV="$D/events.jsonl"
mkdir -p "$D"
M() { "$CRP" models --store "$S" --events "$EV" "$@"; }
# mrc CMD...: exit code of crp models (stderr kept in $D/err)
mrc() {
    set +e
    M "$@" >"$D/out" 2>"$D/err"
    echo $?
    set -e
}

"$CRP" trainer --store "$S" --data-dir "$D/t1" --events "$EV" --port 7690 \
    --exit-when-done 1 --step-delay-us 0 --train-n 1000 2>"$D/t1.log"
CRP_DEFECT=shuffled_labels "$CRP" trainer --store "$S" --data-dir "$D/t2" \
    --events "$EV" --port 7690 --exit-when-done 1 --step-delay-us 0 \
    --train-n 1000 2>"$D/t2.log"
good=$(jq -r 'select(.ev=="model_promoted") | .version' "$EV" | head -1)
bad=$(jq -r 'select(.ev=="model_rejected") | .version' "$EV" | head -1)
expect_true "the first trainer's model was promoted" test -n "$good"
expect_true "the shuffled-labels model was rejected" test -n "$bad"
expect_eq "list shows one current model" 1 "$(M list | grep -c ' current ')"
expect_eq "list shows the good model current" "${good:0:12}" \
    "$(M list | awk '$4 == "current" { print $1 }')"
expect_eq "two training sets (true and shuffled labels) are stored" 2 \
    "$(M --kind all list | awk '$2 == "train"' | wc -l)"
expect_eq "one held-out set: the same bytes, stored once" 1 \
    "$(M --kind all list | awk '$2 == "holdout"' | wc -l)"

expect_eq "promote without --force: gate refuses (exit 1)" 1 "$(mrc promote "${bad:0:8}")"
expect_true "  ... naming the version" grep -q "${bad:0:12}.*refused by the gate" "$D/err"
expect_eq "rollback with one promotion: exit 1" 1 "$(mrc rollback)"
expect_true "  ... saying there is nothing before" grep -q "no previous promoted model" "$D/err"
expect_eq "show of an unknown version: exit 3" 3 "$(mrc show 0000deadbeef)"
expect_true "  ... naming it" grep -q '"0000deadbeef": no such version' "$D/err"
expect_eq "a bad version string: exit 3" 3 "$(mrc show xyz)"
expect_eq "unknown command: exit 2" 2 "$(mrc frobnicate)"
expect_eq "no --store: exit 2" 2 "$(set +e; "$CRP" models list >/dev/null 2>&1; echo $?)"
expect_eq "promote --force of the bad model: exit 0" 0 "$(mrc promote "${bad:0:8}" --force)"
expect_eq "  ... it is current" "${bad:0:12}" "$(M list | awk '$4 == "current" { print $1 }')"
expect_eq "rollback: exit 0" 0 "$(mrc rollback)"
expect_eq "  ... the good model is current again" "${good:0:12}" \
    "$(M list | awk '$4 == "current" { print $1 }')"
expect_eq "history: promote, force, rollback in order" "promote force rollback" \
    "$(M history | awk 'NR > 1 { printf "%s%s", (NR > 2 ? " " : ""), $3 }')"
expect_eq "force promotion and rollback are events" "force $good" \
    "$(jq -r 'select(.ev=="model_promoted" and .by=="force") | "force " + .parent' "$EV")"
expect_eq "rollback event names both versions" "$good $bad" \
    "$(jq -r 'select(.ev=="model_rolled_back") | .version + " " + .from' "$EV")"

# 3. a worker and a corrupt blob behind the current pointer
if command -v sqlite3 >/dev/null; then
    WEV="$D/worker.jsonl"
    "$CRP" worker --store "$S" --events "$WEV" --data-dir "$D/w" --port 7691 \
        --queue 127.0.0.1:7699 --feature 127.0.0.1:7698 2>"$D/worker.log" &
    wpid=$!
    # waits: polls of at most 10 s for what must happen (not timing checks)
    for _ in $(seq 100); do
        grep -q '"ev":"model_loaded"' "$WEV" 2>/dev/null && break
        sleep 0.1
    done
    expect_eq "the worker loaded the current (good) model" "$good" \
        "$(jq -r 'select(.ev=="model_loaded") | .version' "$WEV" 2>/dev/null | head -1)"
    printf 'garbage' >"$S/objects/$bad"
    sqlite3 "$S/store.db" "UPDATE current SET id='$bad' WHERE kind='model'"
    for _ in $(seq 100); do
        grep -q '"ev":"model_load_failed"' "$WEV" && break
        sleep 0.1
    done
    sleep 1 # a few more polls: the failure must not be retried into a load
    kill -TERM "$wpid"
    wait "$wpid" || true
    expect_eq "a corrupt current blob: model_load_failed names it" "$bad" \
        "$(jq -r 'select(.ev=="model_load_failed") | .version' "$WEV" | head -1)"
    expect_eq "  ... reported once" 1 "$(grep -c '"ev":"model_load_failed"' "$WEV")"
    expect_eq "  ... and never loaded" 0 \
        "$(jq -r 'select(.ev=="model_loaded") | .version' "$WEV" | grep -c "$bad" || true)"
    expect_true "  ... the log says the good model is kept" \
        grep -q "not loaded, keeping ${good:0:12}.*corrupt" "$D/worker.log"
else
    echo "note: the sqlite3 program is missing: the corrupt-blob worker check is skipped"
fi
pipeline_finish
