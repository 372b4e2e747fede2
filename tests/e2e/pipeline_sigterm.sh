# End-to-end: SIGTERM to every stage drains gracefully; drop_inflight
# (a shutdown that acknowledges and drops the batch in hand) loses records.
set -e
. "$(dirname "$0")/pipeline_lib.sh"
check_correct pipeline-sigterm
check_defect pipeline-sigterm drop_inflight no-loss
pipeline_finish
