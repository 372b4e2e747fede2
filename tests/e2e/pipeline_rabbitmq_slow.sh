# End-to-end: scenarios/pipeline-rabbitmq.json on a machine where the
# broker boots slowly.  CRP_BROKER_BOOT_DELAY_S=20 makes crp-rabbitmq.sh
# sleep 20 s before every start of the broker (its first start and the
# restart after the SIGKILL at 3 s), so the broker is ready again only
# ~25-35 s after t0.  The correct pipeline must still pass: every fault
# after the kill is anchored to the broker's readiness (on_ready), the
# first window starts there, and the drain waits until nothing is
# delivered any more.
#
# Before (the wall-clock timeline: pause at 17 s, partition at 24 s,
# window [3 s, 13 s], drain 12 s), the same run failed: the broker was
# ready again only at 30.6 s, the pause hit the booting broker, and
# delivers-after-broker-restart (0 events), delivers-after-pause (0) and
# poison-dead-lettered (10 of 20) failed.
#
# Checked here besides the verdict: the chain really waited for the
# broker (pause-broker applied 6 s after readiness #2, which came after
# the 20 s sleep), and the drain ended by quiet, not at its maximum.
set -e
if [ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || ! command -v epmd >/dev/null; then
    echo "SKIPPED: rabbitmq-server is not installed (apt-get install rabbitmq-server)"
    exit 77
fi
. "$(dirname "$0")/pipeline_lib.sh"

export CRP_BROKER_BOOT_DELAY_S=20
check_correct pipeline-rabbitmq
unset CRP_BROKER_BOOT_DELAY_S
J="$E2E_TMP/pipeline-rabbitmq/journal.json"
if [ -s "$J" ]; then
    r2=$(jq -r '[.services[] | select(.instance=="queue.0") | .history[] |
        select(.what=="ready") | .t][1]' "$J")
    pa=$(jq -r '.faults[] | select(.name=="pause-broker") | .applied_t' "$J")
    expect_true "the broker was ready again only after its slow boot ($r2 s after t0)" \
        awk -v r="$r2" 'BEGIN{exit !(r >= 23)}'
    expect_true "pause-broker waited for it: applied at $pa s, 6 s after readiness #2" \
        awk -v r="$r2" -v p="$pa" 'BEGIN{exit !(p >= r + 6 - 0.001)}'
    expect_eq "every fault of the chain was applied" "applied applied applied applied applied applied applied" \
        "$(jq -r '[.faults[].outcome] | join(" ")' "$J")"
    expect_eq "the drain ended by quiet, not at its maximum" false "$(jq -r .drain.hit_max "$J")"
    expect_true "the log shows the slow boot" grep -q "slow boot: sleeping 20 s" "$E2E_TMP/pipeline-rabbitmq/logs/queue.0.log"
fi
pipeline_finish
