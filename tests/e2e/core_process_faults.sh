# End-to-end: restart (stop + start), terminate (stop signal, then SIGKILL
# after stop_timeout_s), kill with another signal on all replicas.
set -e
. "$(dirname "$0")/lib.sh"
run_chaosrun "$E2E_TMP/rt" "$CR_SRC/tests/e2e/scenarios/restart-terminate.json"
J="$E2E_TMP/rt/journal.json"
expect_eq "run completes (no expectations: passed)" 0 "$RC"
bounced=$(jq -r '.faults[] | select(.name=="bounce-api") | .target' "$J")
expect_true "restart hit one api replica ($bounced)" test "$bounced" = api.0 -o "$bounced" = api.1
expect_eq "that replica was restarted once" 1 \
    "$(jq -r --arg i "$bounced" '.services[] | select(.instance==$i) | .restarts' "$J")"
expect_eq "its exit was the graceful one" 0 \
    "$(jq -r --arg i "$bounced" '[.services[] | select(.instance==$i) | .history[] | select(.what=="exit")][0].code' "$J")"
expect_eq "stubborn needed SIGKILL" SIGKILL \
    "$(jq -r '[.services[] | select(.instance=="stubborn.0") | .history[] | select(.what=="exit")][0].signal' "$J")"
expect_true "stubborn's SIGKILL came after its stop timeout" jq -e \
    '[.services[] | select(.instance=="stubborn.0") | .history[] | select(.what=="exit")][0].t > 1.35' "$J"
expect_eq "terminate is attributed to the fault" "fault:end-stubborn" \
    "$(jq -r '[.services[] | select(.instance=="stubborn.0") | .history[] | select(.what=="exit")][0].cause' "$J")"
expect_eq "polite exited cleanly on SIGTERM" 0 \
    "$(jq -r '[.services[] | select(.instance=="polite.0") | .history[] | select(.what=="exit")][0].code' "$J")"
expect_eq "polite was not restarted (policy never)" 0 "$(jq -r '.services[] | select(.instance=="polite.0") | .restarts' "$J")"
expect_eq "SIGHUP reached both replicas" 2 \
    "$(jq '[.services[] | select(.service=="api") | .history[] | select(.what=="exit" and .signal=="SIGHUP")] | length' "$J")"
expect_eq "the restarted replica emitted ready twice" 2 \
    "$(jq -r --arg i "$bounced" 'select(.ev=="ready" and .inst==$i) | .ts' "$E2E_TMP/rt/events.jsonl" | wc -l)"
finish
