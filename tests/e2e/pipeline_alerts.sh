# End-to-end: the reference pipeline's alerter (crp alerter) through a
# feature-service outage (ports 77xx).  Correct: the error-ratio and
# breaker-open alerts fire during the outage after their for_s and resolve
# after it, nothing fires in the lead-in, nothing is lost.  alert_no_for
# (fires on the first sample) breaks error-ratio-waits-for;
# alert_never_resolves breaks error-ratio-resolves.
set -e
. "$(dirname "$0")/pipeline_lib.sh"
check_correct pipeline-alerts
check_defect pipeline-alerts alert_no_for error-ratio-waits-for
check_defect pipeline-alerts alert_never_resolves error-ratio-resolves
pipeline_finish
