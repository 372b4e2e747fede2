# End-to-end: the trainer killed right after a checkpoint and at the end of
# a disk-full window ends with the baseline's model hash; with
# unsafe_checkpoint the failed write destroys its only checkpoint and
# resumes-from-checkpoint fails.
set -e
. "$(dirname "$0")/pipeline_lib.sh"
check_correct pipeline-trainer-kill
check_defect pipeline-trainer-kill unsafe_checkpoint resumes-from-checkpoint
pipeline_finish
