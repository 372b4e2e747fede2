# End-to-end: workers SIGKILLed and stalled under load lose nothing and
# deliver nothing twice; ack_before_commit loses records and no_dedup
# delivers some twice, both caught by no-loss.
set -e
. "$(dirname "$0")/pipeline_lib.sh"
check_correct pipeline-worker-kill
check_defects pipeline-worker-kill ack_before_commit no-loss no_dedup no-loss
pipeline_finish
