# End-to-end (issue 13, "Services as an unprivileged user"): chaosrun as
# root starts its services as another user.
#   - per-service "user"/"group" and the run-wide --service-user: each
#     service's processes run as that identity, with no supplementary
#     groups; its "dirs" are made for it (owned by it) and it may append
#     to the event file, nothing else of the run directory;
#   - a service placed on a network host still starts, is ready-checked
#     and probed there (the harness keeps its privileges, the service not);
#   - the reference pipeline's worker-kill scenario passes with every
#     service running as nobody, and its defect is still caught.
# Fails on main: the keys and the option do not exist (exit 2).
set -e
. "$(dirname "$0")/pipeline_lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIPPED: starting services as another user needs root"; exit 77; }
id nobody >/dev/null 2>&1 || { echo "SKIPPED: no user nobody"; exit 77; }
NOGROUP=$(id -gn nobody)
# The run directories are made in $E2E_TMP: the services' user must be
# able to reach them (mktemp made it 0700).
chmod 755 "$E2E_TMP"

S=$E2E_TMP/who.json
cat >"$S" <<'JSON'
{"name": "who", "duration_s": 0.5, "drain_s": 0,
 "services": [
  {"name": "dflt", "dirs": ["data"], "stop_timeout_s": 1,
   "cmd": ["sh", "-c", "id -u; id -G; echo '{\"ts\": 0.1, \"type\": \"hello\", \"service\": \"dflt\"}' >>\"$CHAOSRUN_EVENTS\" && echo appended; mkdir \"$CHAOSRUN_RUN_DIR/data/x\" && echo made; touch \"$CHAOSRUN_RUN_DIR/stolen\" 2>/dev/null || echo refused; exec sleep 30"]},
  {"name": "own", "user": "daemon", "group": "NOGID", "stop_timeout_s": 1,
   "cmd": ["sh", "-c", "id -u; id -g; exec sleep 30"]}
 ]}
JSON
sed -i "s/NOGID/$(id -g nobody)/" "$S"
R=$E2E_TMP/who
set +e
"$CHAOSRUN" --no-status --service-user nobody --out "$R" "$S" >"$R.out" 2>&1
RC=$?
set -e
expect_eq "--service-user nobody: the run passes" 0 "$RC"
[ "$RC" = 0 ] || cat "$R.out"
expect_eq "the service without a user key runs as nobody, no other group" \
    "65534 $(id -g nobody)" "$(head -2 "$R/logs/dflt.0.log" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
expect_true "it appended to the event file" grep -qx appended "$R/logs/dflt.0.log"
expect_true "it wrote in its dirs" grep -qx made "$R/logs/dflt.0.log"
expect_eq "its dirs are its own" "nobody $NOGROUP" "$(stat -c '%U %G' "$R/data" 2>/dev/null)"
expect_true "nothing else of the run directory is writable by it" grep -qx refused "$R/logs/dflt.0.log"
expect_true "and nothing was written there" test ! -e "$R/stolen"
expect_eq "a service's own user key wins over --service-user" "$(id -u daemon) $(id -g nobody)" \
    "$(head -2 "$R/logs/own.0.log" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
expect_eq "the ledger stays private" "600 root" "$(stat -c '%a %U' "$R/ledger")"

# Services as other users with different groups: refused (the event
# file is shared with one group only).
sed "s/\"group\": \"$(id -g nobody)\"/\"group\": \"$(id -g daemon)\"/" "$S" >"$E2E_TMP/mixed.json"
set +e
"$CHAOSRUN" --no-status --service-user nobody --out "$E2E_TMP/mixed" "$E2E_TMP/mixed.json" >"$E2E_TMP/mixed.out" 2>&1
rc=$?
set -e
expect_true "services of different groups are refused ($rc)" grep -q "must share one group" "$E2E_TMP/mixed.out"

# A run directory the service's user cannot reach: refused before
# anything starts (exit 2), naming the directory in the way.
mkdir -m 700 "$E2E_TMP/private"
set +e
"$CHAOSRUN" --no-status --service-user nobody --out "$E2E_TMP/private/r" "$S" >"$E2E_TMP/private.out" 2>&1
rc=$?
set -e
expect_eq "an unreachable run directory is refused (exit 2)" 2 "$rc"
expect_true "the message names the directory in the way" grep -q "private is mode 0700" "$E2E_TMP/private.out"

# An unknown user: refused before anything starts (exit 3: unrunnable).
set +e
"$CHAOSRUN" --no-status --service-user no-such-user-cr --out "$E2E_TMP/nouser" "$S" >"$E2E_TMP/nouser.out" 2>&1
rc=$?
set -e
expect_true "an unknown user is refused with a message ($rc)" grep -q "no such user" "$E2E_TMP/nouser.out"
expect_eq "and no service started" "" "$(ls "$E2E_TMP/nouser/logs" 2>/dev/null)"

# Network hosts: the service on h1 runs as nobody, still ready and probed.
R=$E2E_TMP/hosts
run_chaosrun "$R" --service-user nobody "$CR_SRC/tests/e2e/scenarios/hosts-probe.json"
if [ "$RC" = 3 ]; then
    echo "skipped: hosts: $(tail -1 "$R.err")"
else
    expect_eq "hosts as nobody: the run passes" 0 "$RC"
    expect_eq "hosts: the probe from h1 passes" true \
        "$(jq '[.probes[] | select(.probe=="in-h1") | .ok] | all' "$R/journal.json" 2>/dev/null)"
fi

# The reference pipeline, every service as nobody.
SC_WK="$SC/pipeline-worker-kill.json"
R=$E2E_TMP/wk
unset CRP_DEFECT
run_chaosrun "$R" --service-user nobody "$SC_WK"
if ! unrunnable "$R"; then
    expect_eq "pipeline-worker-kill as nobody passes" 0 "$RC"
    [ "$RC" = 0 ] && true || sed -n '/: failed/,$p' "$R.out" | head -30
    expect_eq "its data was written by nobody" nobody \
        "$(find "$R/data" -mindepth 1 -printf '%u\n' | sort -u | tr '\n' ' ' | sed 's/ $//')"
    export CRP_DEFECT=no_dedup
    run_chaosrun "$R-defect" --service-user nobody "$SC_WK"
    unset CRP_DEFECT
    expect_eq "as nobody the defect no_dedup is still caught (exit 1)" 1 "$RC"
fi
# chaosrun suite passes --service-user (and --force) to its runs; it
# read "nobody" as a suite directory before.
mkdir -p "$E2E_TMP/suite-in"
cat >"$E2E_TMP/suite-in/uid.json" <<'JSON'
{"name": "uid", "duration_s": 0.5, "drain_s": 0,
 "services": [{"name": "u", "stop_timeout_s": 1, "cmd": ["sh", "-c", "id -u; exec sleep 30"]}]}
JSON
set +e
"$CHAOSRUN" suite --no-status --service-user nobody -o "$E2E_TMP/suite-out" "$E2E_TMP/suite-in" >"$E2E_TMP/suite.out" 2>&1
RC=$?
"$CHAOSRUN" suite --no-status --force --service-user nobody -o "$E2E_TMP/suite-out" "$E2E_TMP/suite-in" >"$E2E_TMP/suite2.out" 2>&1
RC2=$?
set -e
expect_eq "suite --service-user nobody passes" 0 "$RC"
expect_eq "its service ran as nobody" 65534 "$(head -1 "$E2E_TMP/suite-out/uid/logs/u.0.log" 2>/dev/null)"
expect_eq "suite --force reuses its own output" 0 "$RC2"
pipeline_finish
