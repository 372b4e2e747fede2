# End-to-end: the README's main command, the poison/malformed scenario and
# the sink disk-error scenario on the correct pipeline.
set -e
. "$(dirname "$0")/pipeline_lib.sh"
check_correct quickstart
check_correct pipeline-poison
check_correct pipeline-disk-errors
pipeline_finish
