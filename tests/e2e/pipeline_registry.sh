# End-to-end: the service registry paused for 4 s, then SIGKILLed and
# restarted with an empty table, under load (ports 78xx).  Correct: the
# workers keep routing with their last known healthy set, deliveries go
# on, no spurious failover, nothing lost.  registry_forgets (the workers
# drop their set when the registry is unreachable) stalls them:
# keeps-serving-while-paused fails.
set -e
. "$(dirname "$0")/pipeline_lib.sh"
check_correct pipeline-registry-down
check_defect pipeline-registry-down registry_forgets keeps-serving-while-paused
pipeline_finish
