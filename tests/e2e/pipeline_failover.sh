# End-to-end: redundant model serving (ports 78xx).  The workers score on
# the primary model server found through `crp registry`; it is SIGKILLed
# under load.  Correct: failover to the standby within the bound, the
# primary serves nothing until it is back, failback, nothing lost.
# no_failover (the workers keep retrying the dead primary) breaks
# fails-over; failover_drop (the request in flight at the switch is acked
# without a result) breaks no-loss.
set -e
. "$(dirname "$0")/pipeline_lib.sh"
# Bad options are refused before anything starts (exit 2, naming them).
set +e
"$CR_BIN/crp" worker --scoring nowhere --events "" --data-dir "$E2E_TMP/d" \
    >"$E2E_TMP/w.out" 2>&1
expect_eq "worker with a bad --scoring exits 2" 2 "$?"
expect_true "the message names --scoring" grep -q -- "--scoring must be local or remote" "$E2E_TMP/w.out"
"$CR_BIN/crp" registry --port 7895 --http-port 7896 --bind not-an-ip --events "" --data-dir "$E2E_TMP/d" \
    >"$E2E_TMP/r.out" 2>&1
expect_eq "registry with a bad --bind is refused before it listens (exit 2)" 2 "$?"
expect_true "the message names the address" grep -q -- '--bind must be an IPv4 address, not "not-an-ip"' "$E2E_TMP/r.out"
set -e
check_correct pipeline-failover
check_defects pipeline-failover no_failover fails-over failover_drop no-loss
pipeline_finish
