# End-to-end: services in containers (podman + runc, an image built offline).
#  1. a container service killed, paused and restarted: the faults act on
#     the container (exit by SIGKILL, no ticks while frozen, restarts by
#     policy and by the restart fault), its events reach the run through
#     the bind-mounted event file, its output is logs/api.0.log, and the
#     container is gone after the run;
#  2. chaosrun SIGKILLed: the janitor removes the run's containers;
#  3. chaosrun and its janitor SIGKILLed: `chaosrun cleanup RUN_DIR` removes
#     the container the run made and leaves alone a container of the same
#     name that the run did not make (another label).
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/container_lib.inc"
S="$CR_SRC/tests/e2e/scenarios"
ctr_preflight
trap 'ctr_cleanup; rm -rf "$E2E_TMP"' EXIT
IMG=crtgt$$
ctr_image "$IMG" "$CR_BIN/cr_tgt_server"
export CR_CTR_IMAGE="localhost/$IMG:e2e"

# Containers whose label names the run id of a run directory's ledger.
ctr_of_run() {
    local id
    id=$(awk '$2=="container"{print $5; exit}' "$1/ledger")
    [ -n "$id" ] && podman ps -a --filter "label=chaosrun.run=$id" --format '{{.Names}}'
    return 0
}

# ---- 1. kill, pause, restart ----------------------------------------------
run_chaosrun "$E2E_TMP/f" "$S/container-faults.json"
expect_eq "container faults scenario passes" 0 "$RC"
J="$E2E_TMP/f/journal.json"
for f in kill-api freeze-api restart-api; do
    expect_eq "$f applied" applied "$(jq -r ".faults[] | select(.name==\"$f\") | .outcome" "$J")"
done
expect_eq "the kill ended the container by SIGKILL" "SIGKILL fault:kill-api" \
    "$(jq -r '[.services[0].history[] | select(.what=="exit")][0] | "\(.signal) \(.cause)"' "$J")"
expect_eq "two restarts (policy, restart fault)" 2 "$(jq -r '.services[0].restarts' "$J")"
# Frozen: no tick for at least the length of the pause minus runc's time.
gap=$(jq -s '[.[] | select(.ev=="tick") | .ts] | [range(1; length) as $i | .[$i] - .[$i-1]] | max' \
    "$E2E_TMP/f/events.jsonl")
expect_true "ticks stopped while frozen (longest gap $gap s)" awk -v g="$gap" 'BEGIN{exit !(g >= 1.0)}'
expect_true "events came from inside the container" \
    jq -se 'map(select(.ev=="tick" and .inst=="api.0")) | length > 20' "$E2E_TMP/f/events.jsonl"
expect_true "its output is in logs/api.0.log" grep -q "listening on 18481" "$E2E_TMP/f/logs/api.0.log"
expect_true "ledger recorded the container first" \
    sh -c "head -1 '$E2E_TMP/f/ledger' | grep -q '^+1 container podman chaosrun-'"
expect_eq "its container is gone after the run" "" "$(ctr_of_run "$E2E_TMP/f")"
if [ "$RC" != 0 ]; then cat "$E2E_TMP/f.out" "$E2E_TMP/f.err"; fi

# Start chaosrun in the background on the crash scenario; wait (bounded)
# until both replicas' containers run.  Sets BGPID.
start_crash() {
    local out=$1
    CR_OUTSIDE_ONLY=1 "$CHAOSRUN" --no-status --out "$out" "$S/container-crash.json" \
        >"$out.out" 2>"$out.err" &
    BGPID=$!
    for _ in $(seq 300); do
        grep -q "t0:" "$out.err" 2>/dev/null && return 0
        kill -0 $BGPID 2>/dev/null || break
        sleep 0.1
    done
    cat "$out.err"
    return 1
}

# ---- 2. SIGKILL of chaosrun: the janitor ------------------------------------
O="$E2E_TMP/j"
expect_true "crash scenario reached t0" start_crash "$O"
n=$(ctr_of_run "$O" | wc -l)
expect_eq "two containers while it runs" 2 "$n"
name=$(ctr_of_run "$O" | sort | head -1)
envs=$(podman inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$name")
expect_true "container env has the scenario's variable" grep -qx "CR_INSIDE=yes" <<<"$envs"
expect_true "container env has CHAOSRUN_EVENTS" grep -q "^CHAOSRUN_EVENTS=$O/" <<<"$envs"
expect_true "the harness's own environment stays outside" sh -c "! grep -q CR_OUTSIDE_ONLY <<EOT
$envs
EOT"
kill -KILL $BGPID
wait $BGPID 2>/dev/null || true
for _ in $(seq 100); do
    [ -z "$(ctr_of_run "$O")" ] && break
    sleep 0.1
done
expect_eq "janitor removed the containers" "" "$(ctr_of_run "$O")"
expect_true "janitor log names them" grep -q "cleanup: container podman chaosrun-.*: undone" "$O/ledger.janitor"

# ---- 3. SIGKILL of chaosrun and its janitor: chaosrun cleanup ---------------
O="$E2E_TMP/c"
expect_true "crash scenario reached t0" start_crash "$O"
jan=$(pgrep -f "__janitor $O/ledger" || true)
expect_true "janitor found" test -n "$jan"
kill -KILL $jan
kill -KILL $BGPID
wait $BGPID 2>/dev/null || true
ours=$(ctr_of_run "$O" | sort)
expect_eq "both containers outlive the harness" 2 "$(echo "$ours" | wc -l)"
# api.1's container replaced by one of the same name the run did not make.
other=$(echo "$ours" | tail -1)
podman rm -f -t 0 "$other" >/dev/null
podman create --name "$other" --label chaosrun.run=someone-else "$CR_CTR_IMAGE" /bin/true >/dev/null
set +e
"$CHAOSRUN" cleanup "$O" >"$E2E_TMP/cleanup.out" 2>&1
crc=$?
set -e
expect_eq "cleanup exits 0" 0 "$crc"
expect_eq "cleanup removed the run's container" "" "$(ctr_of_run "$O")"
expect_true "the container it did not make is left alone" podman container exists "$other"
expect_eq "...with its own label" someone-else \
    "$(podman inspect --format '{{index .Config.Labels "chaosrun.run"}}' "$other")"
podman rm -f -t 0 "$other" >/dev/null
expect_true "no process of the runs left" test -z "$(procs_of_run "$E2E_TMP/f")$(procs_of_run "$E2E_TMP/j")$(procs_of_run "$E2E_TMP/c")"
[ "$crc" = 0 ] || cat "$E2E_TMP/cleanup.out"
finish
