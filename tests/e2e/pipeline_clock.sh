# End-to-end: the registry's wall clock 10 s ahead for 4 s, then 10 s
# back, under load (ports 78xx; the clock fault through libfaketime).
# Correct: the registry times heartbeat leases with CLOCK_MONOTONIC, so no
# instance is declared unhealthy, nothing fails over, nothing is lost.
# registry_wall_clock (leases timed by the wall clock): the step forward
# ages every heartbeat at once: no-false-unhealthy fails.
set -e
. "$(dirname "$0")/pipeline_lib.sh"
check_correct pipeline-clock-skew
check_defect pipeline-clock-skew registry_wall_clock no-false-unhealthy
pipeline_finish
