# End-to-end: a system under test that does not start.  A service that
# crashes during start-up, and one never ready, end the run with exit 5
# (journal status startup_failed), not 1 like a failed expectation; the
# message names the replica, how it ended or what the readiness check
# probed and its last answer, and the last lines of its log; the
# expectations that could not be judged are one summary line (not one
# UNKNOWN line each), and <skipped> in junit.xml beside the run's <error>.
set -e
. "$(dirname "$0")/lib.sh"
port=$(free_port 23999)

scenario() { # NAME SHELL-COMMAND
    cat >"$E2E_TMP/$1.json" <<JSON
{"name": "$1", "seed": 1, "duration_s": 2,
 "services": [{"name": "api", "cmd": ["/bin/sh", "-c", "$2"], "port": $port,
               "ready": {"kind": "tcp", "timeout_s": 1.5}}],
 "steady_state": [{"kind": "tcp", "name": "up", "port": $port}],
 "faults": [{"kind": "kill", "target": "api", "at_s": 1}],
 "expect": [{"kind": "steady_state", "name": "healthy"},
            {"kind": "service", "name": "no-restarts", "service": "api", "restarts": {"max": 0}},
            {"kind": "recovers", "name": "recovers", "within_s": 5}]}
JSON
}

# 1. Exits during start-up.
scenario crash 'echo starting up; echo config file missing >&2; exit 3'
run_chaosrun "$E2E_TMP/crash" "$E2E_TMP/crash.json"
J="$E2E_TMP/crash/journal.json"
expect_eq "crash at start-up exits 5" 5 "$RC"
expect_eq "journal status" startup_failed "$(jq -r .status "$J")"
expect_eq "journal exit_code" 5 "$(jq -r .exit_code "$J")"
expect_true "error: replica and exit status" grep -q "service api.0 exited with status 3 during start-up" "$E2E_TMP/crash.out"
expect_true "error: the log's last lines" grep -q "| config file missing" "$E2E_TMP/crash.out"
expect_eq "every expectation not judged" "startup startup startup" \
    "$(jq -r '[.expectations[].details.not_judged] | join(" ")' "$J")"
expect_eq "... verdict unknown" "unknown unknown unknown" \
    "$(jq -r '[.expectations[].verdict] | join(" ")' "$J")"
expect_true "one NOT JUDGED line" grep -q "NOT JUDGED 3 expectations (healthy, no-restarts, recovers): the system under test did not start" "$E2E_TMP/crash.out"
expect_eq "no UNKNOWN or FAIL lines" 0 "$(grep -cE '^  (UNKNOWN|FAIL) ' "$E2E_TMP/crash.out" || true)"
expect_eq "junit: the run's error" 1 "$(grep -c '<error message="startup_failed: service api.0 exited' "$E2E_TMP/crash/junit.xml")"
expect_eq "junit: expectations skipped" 3 "$(grep -c '<skipped message="not judged: the system under test did not start"' "$E2E_TMP/crash/junit.xml")"
expect_true "junit: skipped counted" grep -q 'failures="0" errors="1" skipped="3"' "$E2E_TMP/crash/junit.xml"

# 2. Never ready: the check, its last answer, the log.
scenario slow 'echo loading a large model; exec sleep 30'
run_chaosrun "$E2E_TMP/slow" "$E2E_TMP/slow.json"
expect_eq "not ready in time exits 5" 5 "$RC"
expect_true "error: what was probed" grep -q "service api.0 not ready after 1.5 s: tcp 127.0.0.1:$port (last answer: Connection refused)" "$E2E_TMP/slow.out"
expect_true "error: the log's last line" grep -q "| loading a large model" "$E2E_TMP/slow.out"
expect_eq "journal error holds the same" 1 "$(jq -r .error "$E2E_TMP/slow/journal.json" | grep -c 'tcp 127.0.0.1')"
expect_eq "no process left" "" "$(procs_of_run "$E2E_TMP/slow")"

# 3. A suite with one scenario that does not start exits 5 too.
mkdir "$E2E_TMP/suite"
cp "$E2E_TMP/crash.json" "$E2E_TMP/suite/"
set +e
"$CHAOSRUN" suite --no-status --out "$E2E_TMP/suite-out" "$E2E_TMP/suite" >"$E2E_TMP/suite.out" 2>&1; rc=$?
set -e
expect_eq "suite exits 5" 5 "$rc"
expect_true "suite line says startup_failed" grep -q "^\[1/1\] crash: startup_failed in" "$E2E_TMP/suite.out"
finish
