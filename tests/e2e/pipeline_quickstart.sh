# End-to-end: the README's main command, and the poison/malformed and
# trainer-kill scenarios on the correct pipeline.
set -e
. "$(dirname "$0")/pipeline_lib.sh"
check_correct quickstart
check_correct pipeline-poison
check_correct pipeline-trainer-kill
finish
