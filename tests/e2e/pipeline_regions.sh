# End-to-end: two regions (chaosrun hosts region-a and region-b, one model
# server each, the pipeline on host core; ports 78xx).  region-a is
# partitioned away for 4 s under load.  Correct: the workers fail over to
# region-b by timeout, the registry marks region-a's server unhealthy,
# nothing is lost, and they fail back after the heal.  no_failover (the
# workers keep retrying the unreachable server) breaks
# fails-over-to-region-b.  Needs root (network namespaces): without it the
# run exits 3 and the test is skipped.
set -e
. "$(dirname "$0")/pipeline_lib.sh"
check_correct pipeline-regions
check_defect pipeline-regions no_failover fails-over-to-region-b
pipeline_finish
