# End-to-end: the reference pipeline through a feature-service outage.
# Correct: retries with backoff, breaker opens and closes, degraded results,
# no loss.  Each of the defects no_backoff, no_retry_limit and
# breaker_never_opens makes the check that covers it fail.
set -e
. "$(dirname "$0")/pipeline_lib.sh"
check_correct pipeline-feature-outage
check_defects pipeline-feature-outage no_backoff feature-backoff no_retry_limit feature-backoff breaker_never_opens feature-breaker
pipeline_finish
