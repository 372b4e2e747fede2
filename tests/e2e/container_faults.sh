# End-to-end: services in containers (podman + runc, an image built offline).
#  1. a container service killed, paused and restarted: the faults act on
#     the container (exit by SIGKILL, no ticks while frozen, restarts by
#     policy and by the restart fault), its events reach the run through
#     the bind-mounted event file, its output is logs/api.0.log, and the
#     container is gone after the run;
#  2. chaosrun SIGKILLed: the janitor removes the run's container;
#  3. chaosrun and its janitor SIGKILLed: `chaosrun cleanup RUN_DIR` removes
#     the container the run made and leaves alone a container of the same
#     name that the run did not make (another label);
#  4. a runtime that refuses the container's rlimits (runc under a hard
#     nofile limit below the one chaosrun asks for: the kernel's EPERM, as
#     with podman's default limits on this machine kind): exit 3 with the
#     reason before t0, and its container removed.
# A podman command takes 1-3 s on a loaded machine (far more under heavy
# load), so the image is imported once, no trial container is run (the
# first run says whether containers can run here), and runs 2-4 go side by
# side (own ports, own run directories).  Run 1 goes alone: its verdicts
# rest on fault instants (the exit of a killed container is seen through a
# pidfd on its process, not podman's client, but the restart that brings
# it back is a podman command, which podman contention delays).
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/container_lib.inc"
S="$CR_SRC/tests/e2e/scenarios"
ctr_preflight
BGPIDS=""
trap 'for p in $BGPIDS; do kill -KILL $p 2>/dev/null || true; done; ctr_cleanup; rm -rf "$E2E_TMP"' EXIT
IMG=crtgt$$
ctr_image "$IMG" "$CR_BIN/cr_tgt_server"
export CR_CTR_IMAGE="localhost/$IMG:e2e"

# Containers whose label names the run id of a run directory's ledger.
ctr_of_run() {
    local id
    id=$(awk '$2=="container"{print $5; exit}' "$1/ledger" 2>/dev/null)
    [ -n "$id" ] && podman ps -a --filter "label=chaosrun.run=$id" --format '{{.Names}}'
    return 0
}

# chaosrun in the background: bgrun OUT SCENARIO; its pid in BGPID.
bgrun() {
    "$CHAOSRUN" --no-status --out "$1" "$2" >"$1.out" 2>"$1.err" &
    BGPID=$!
    BGPIDS="$BGPIDS $BGPID"
}

# Wait (bounded) until a background run reached t0 (its replicas are
# ready) or ended.  wait_t0 OUT PID
wait_t0() {
    for _ in $(seq 600); do
        grep -q "t0:" "$1.err" 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || break
        sleep 0.1
    done
    cat "$1.err"
    return 1
}

# Wait (bounded, 30 s) until a process that is not our child is gone.
wait_gone() {
    for _ in $(seq 300); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

# The runtime of run 4: runc itself, under a hard nofile limit of 512
# (chaosrun asks for min(its soft limit, 1024)).  chaosrun takes the runc
# in its PATH.
mkdir -p "$E2E_TMP/refuse"
cat >"$E2E_TMP/refuse/runc" <<EOF
#!/bin/sh
exec prlimit --nofile=512:512 $(command -v runc) "\$@"
EOF
chmod +x "$E2E_TMP/refuse/runc"

F="$E2E_TMP/f" J="$E2E_TMP/j" C="$E2E_TMP/c" R="$E2E_TMP/r"
echo "image imported after ${SECONDS}s"
# ---- 1. kill, pause, restart: alone (its verdicts see fault instants) -------
# Through a runc whose first `pause` fails as runc's cgroup v1 freezer does
# when a task stays FREEZING ("unable to freeze", the container thawed):
# the pause is tried again (once seen beside stress-ng, the queue in fsync).
# Its `kill ID 9` returns only once podman's client of the container has
# ended too, with a SIGCHLD already pending for chaosrun from before the
# kill (an orphan adopted by the subreaper): the order of a loaded
# machine, where the loop reads the signal before the container's pidfd
# (the client's exit was recorded, e2e pipeline_containers in a loaded
# suite).  The exit must still be the container's.
mkdir -p "$E2E_TMP/flaky"
cat >"$E2E_TMP/flaky/runc" <<EOF
#!/bin/sh
if [ "\$1" = pause ]; then
    echo x >>"$E2E_TMP/flaky/pauses"
    if mkdir "$E2E_TMP/flaky/failed" 2>/dev/null; then
        echo "unable to freeze" >&2
        exit 1
    fi
fi
if [ "\$1" = kill ] && [ "\$3" = 9 ]; then
    name=\$(ps -eo args | awk -v id="\$2" '\$1 ~ /conmon\$/ && index(\$0, "-c " id) {
        for (i = 1; i < NF; i++) if (\$i == "-n") { print \$(i + 1); exit } }')
    (sleep 0.05 &)
    sleep 0.3
    $(command -v runc) "\$@" || exit
    i=0
    while [ \$i -lt 50 ] && pgrep -f "podman start --attach \$name\\\$" >/dev/null; do
        sleep 0.1; i=\$((i + 1))
    done
    [ -n "\$name" ] && [ \$i -lt 50 ] && echo x >>"$E2E_TMP/flaky/client-gone"
    exit 0
fi
exec $(command -v runc) "\$@"
EOF
chmod +x "$E2E_TMP/flaky/runc"
PATH="$E2E_TMP/flaky:$PATH" bgrun "$F" "$S/container-faults.json"; FPID=$BGPID
set +e; wait $FPID; RC=$?; set -e
ctr_skip_if_refused "$F" $RC
echo "faults run done after ${SECONDS}s"

expect_eq "container faults scenario passes" 0 "$RC"
Jf="$F/journal.json"
for f in kill-api freeze-api restart-api; do
    expect_eq "$f applied" applied "$(jq -r ".faults[] | select(.name==\"$f\") | .outcome" "$Jf")"
done
expect_eq "the kill ended the container by SIGKILL" "SIGKILL fault:kill-api" \
    "$(jq -r '[.services[0].history[] | select(.what=="exit")][0] | "\(.signal) \(.cause)"' "$Jf")"
expect_true "its client had ended before the kill's runc returned" test -f "$E2E_TMP/flaky/client-gone"
expect_eq "the kill's exit was seen through the container's process, not podman's client" \
    "container process" "$(jq -r '[.services[0].history[] | select(.what=="exit")][0].seen_by' "$Jf")"
echo "kill applied at $(jq -r '.faults[] | select(.name=="kill-api") | .applied_t' "$Jf") s, exit seen at $(jq -r '[.services[0].history[] | select(.what=="exit")][0].t' "$Jf") s, back at $(jq -r '[.services[0].history[] | select(.what=="ready")][1].t' "$Jf") s (information)"
expect_eq "the first pause failed (unable to freeze) and was tried again" "2" \
    "$(test -d "$E2E_TMP/flaky/failed" && wc -l <"$E2E_TMP/flaky/pauses")"
expect_eq "two restarts (policy, restart fault)" 2 "$(jq -r '.services[0].restarts' "$Jf")"
# Frozen from the pause's end (runc confirmed it) to its revert's start:
# no tick in between.  The revert is timed from the schedule, so a late
# apply (the failed first try, runc's time at load) shortens the span;
# it must still be long enough to mean something (>= 0.5 s of 1.5).
read -r fa fr <<<"$(jq -r '.faults[] | select(.name=="freeze-api") | "\(.applied_t) \(.revert_began_t)"' "$Jf")"
in_frz=$(jq -s --argjson a "$(jq -n "$(jq .t0_unix "$Jf") + $fa")" --argjson r "$(jq -n "$(jq .t0_unix "$Jf") + $fr")" \
    '[.[] | select(.ev=="tick" and .ts > $a and .ts < $r)] | length' "$F/events.jsonl")
gap=$(jq -s '[.[] | select(.ev=="tick") | .ts] | [range(1; length) as $i | .[$i] - .[$i-1]] | max' \
    "$F/events.jsonl")
expect_eq "no tick while frozen, from the pause's applied_t ($fa s) to its revert ($fr s; longest gap $gap s)" 0 "$in_frz"
expect_true "and frozen long enough to tell (>= 0.5 s)" awk -v a="$fa" -v r="$fr" 'BEGIN{exit !(r - a >= 0.5)}'
expect_true "events came from inside the container" \
    jq -se 'map(select(.ev=="tick" and .inst=="api.0")) | length > 20' "$F/events.jsonl"
expect_true "its output is in logs/api.0.log" grep -q "listening on 18481" "$F/logs/api.0.log"
expect_true "ledger recorded the container first" \
    sh -c "head -1 '$F/ledger' | grep -q '^+1 container podman chaosrun-'"
expect_eq "its container is gone after the run" "" "$(ctr_of_run "$F")"
if [ "$RC" != 0 ]; then cat "$F.out" "$F.err"; fi

# ---- 2-4 side by side --------------------------------------------------------
bgrun "$J" "$S/container-janitor.json"; JPID=$BGPID
bgrun "$C" "$S/container-crash.json"; CPID=$BGPID
# (its soft nofile limit 1024, so that it asks for 1024 whatever the caller's)
(ulimit -Sn 1024 && PATH="$E2E_TMP/refuse:$PATH" exec "$CHAOSRUN" --no-status \
    --out "$R" "$S/container-janitor.json" >"$R.out" 2>"$R.err") &
RPID=$!
BGPIDS="$BGPIDS $RPID"

# ---- 2. SIGKILL of chaosrun: the janitor ------------------------------------
expect_true "janitor run reached t0" wait_t0 "$J" $JPID
echo "janitor run at t0 after ${SECONDS}s"
name=$(ctr_of_run "$J")
expect_true "one container while it runs" test -n "$name"
envs=$(podman inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$name")
expect_true "container env has the scenario's variable" grep -qx "CR_INSIDE=yes" <<<"$envs"
expect_true "container env has CHAOSRUN_EVENTS" grep -q "^CHAOSRUN_EVENTS=$J/" <<<"$envs"
expect_true "the harness's own environment stays outside" sh -c "! grep -q CR_CTR_IMAGE <<EOT
$envs
EOT"
jan=$(pgrep -f "__janitor $J/ledger" || true)
expect_true "janitor found" test -n "$jan"
kill -KILL $JPID
wait $JPID 2>/dev/null || true
expect_true "janitor finished" wait_gone "${jan:-0}"
expect_eq "janitor removed the container" "" "$(ctr_of_run "$J")"
expect_true "janitor log names it" grep -q "cleanup: container podman chaosrun-.*: undone" "$J/ledger.janitor"

# ---- 3. SIGKILL of chaosrun and its janitor: chaosrun cleanup ---------------
echo "janitor checked after ${SECONDS}s"
expect_true "crash run reached t0" wait_t0 "$C" $CPID
echo "crash run at t0 after ${SECONDS}s"
jan=$(pgrep -f "__janitor $C/ledger" || true)
expect_true "janitor found" test -n "$jan"
kill -KILL $jan
kill -KILL $CPID
wait $CPID 2>/dev/null || true
ours=$(ctr_of_run "$C" | sort)
expect_eq "both containers outlive the harness" 2 "$(echo "$ours" | wc -l)"
# api.1's container replaced by one of the same name the run did not make.
other=$(echo "$ours" | tail -1)
podman rm -f -t 0 "$other" >/dev/null
podman create --name "$other" --label chaosrun.run=someone-else "$CR_CTR_IMAGE" /bin/true >/dev/null
set +e
"$CHAOSRUN" cleanup "$C" >"$E2E_TMP/cleanup.out" 2>&1
crc=$?
set -e
expect_eq "cleanup exits 0" 0 "$crc"
expect_eq "cleanup removed the run's container" "" "$(ctr_of_run "$C")"
expect_eq "the container it did not make is left alone, with its own label" someone-else \
    "$(podman inspect --format '{{index .Config.Labels "chaosrun.run"}}' "$other")"
podman rm -f -t 0 "$other" >/dev/null
[ "$crc" = 0 ] || cat "$E2E_TMP/cleanup.out"

echo "cleanup checked after ${SECONDS}s"
# ---- 4. a runtime that refuses: exit 3 before t0 ----------------------------
set +e; wait $RPID; rrc=$?; set -e
expect_eq "refused runtime: exit 3" 3 "$rrc"
expect_true "...naming the rlimit as the reason" \
    grep -q "the container cannot run: the engine may not set the container's resource limits" "$R.err"
expect_true "...before t0" sh -c "! grep -q 't0:' '$R.err'"
expect_true "...its container recorded in the ledger first" \
    sh -c "head -1 '$R/ledger' | grep -q '^+1 container podman chaosrun-'"
expect_eq "...and removed" "" "$(ctr_of_run "$R")"
[ "$rrc" = 3 ] || cat "$R.err"

echo "all done after ${SECONDS}s"
BGPIDS=""
expect_true "no process of the runs left" test -z "$(procs_of_run "$F")$(procs_of_run "$J")$(procs_of_run "$C")$(procs_of_run "$R")"
finish
