# End-to-end: the trainer killed right after a checkpoint and right after a
# checkpoint write failed in a disk-full window ends with the baseline's
# model hash; with
# unsafe_checkpoint the failed write destroys its only checkpoint and
# resumes-from-checkpoint fails.
set -e
. "$(dirname "$0")/pipeline_lib.sh"
check_correct pipeline-trainer-kill
# The fault-free baseline keeps duration_s: its second kill waits for a
# failed checkpoint write, which never comes without the disk-full fault
# (it once stretched the baseline to duration_max_s, 60 s).
[ -f "$E2E_TMP/pipeline-trainer-kill/baseline/journal.json" ] && expect_eq "the baseline's timeline is not stretched" 14 \
    "$(jq '.timeline_s | floor' "$E2E_TMP/pipeline-trainer-kill/baseline/journal.json")"
check_defect pipeline-trainer-kill unsafe_checkpoint resumes-from-checkpoint
pipeline_finish
