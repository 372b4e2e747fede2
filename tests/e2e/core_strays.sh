# End-to-end (issue 12): processes that leave their replica's process
# group (setsid) and outlive their parent -- as `epmd -daemon`, started by
# a RabbitMQ broker, does -- are adopted by the harness (a subreaper), but
# the group kill of their replica does not reach them.  Before the fix the
# ended ones stayed zombies until chaosrun exited, and the live ones
# outlived the run (and a SIGKILLed harness).  Now: an ended stray is
# reaped at once, a live one is recorded (journal "strays", ledger "pid")
# and stopped at the end (SIGTERM, SIGKILL 2 s later), and the janitor of a
# killed harness stops it too.
set -e
. "$(dirname "$0")/lib.sh"
S="$CR_SRC/tests/e2e/scenarios/stray-daemons.json"
# Gone: no such process, or a zombie its new parent has not reaped yet.
gone() { [ ! -e /proc/"$1" ] || [ "$(awk '{print $3}' /proc/"$1"/stat 2>/dev/null)" = Z ]; }
# Children of a process that are zombies (state Z), one pid a line.
zombie_children() {
    local c
    for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        [ "$(awk '{print $3}' /proc/"$c"/stat 2>/dev/null)" = Z ] && echo "$c"
    done
    return 0
}

R=$E2E_TMP/run
mkdir -p "$E2E_TMP"
"$CHAOSRUN" --no-status --out "$R" "$S" >"$R.out" 2>"$R.err" &
pid=$!
for _ in $(seq 200); do
    [ -s "$R/brief.pid" ] && break
    sleep 0.05
done
expect_true "the brief stray ended within the run" test -s "$R/brief.pid"
brief=$(cat "$R/brief.pid" 2>/dev/null || true)
# It writes its pid, then ends: a zombie child of the harness until reaped.
for _ in $(seq 100); do
    [ -n "$brief" ] && gone "$brief" && break
    sleep 0.02
done
# Its exit is a SIGCHLD to the harness, which reaps it at once (the run
# lasts 4 s; before the fix it stayed a zombie until the harness exited).
for _ in $(seq 40); do
    [ -n "$brief" ] && [ ! -e /proc/"$brief" ] && break
    sleep 0.05
done
expect_true "the brief stray ($brief) reaped while the run goes on" \
    test -n "$brief" -a ! -e /proc/"${brief:-1}" -a -d /proc/"$pid"
expect_eq "no zombie child of the harness while it runs" "" "$(zombie_children "$pid")"
set +e
wait "$pid"
RC=$?
set -e
J=$R/journal.json
expect_eq "run exits 0" 0 "$RC"
daemon=$(cat "$R/daemon.pid"); stubborn=$(cat "$R/stubborn.pid")
expect_true "the SIGTERM daemon ($daemon) is gone" gone "$daemon"
expect_true "the stubborn daemon ($stubborn) is gone" gone "$stubborn"
how() { jq -r --argjson p "$1" '.strays[] | select(.pid == $p) | "\(.how) \(.from)"' "$J"; }
expect_eq "journal: the daemon stopped by SIGTERM at the end" "SIGTERM at the end app.0" "$(how "$daemon")"
expect_eq "journal: the stubborn one needed SIGKILL" "SIGKILL at the end app.0" "$(how "$stubborn")"
expect_eq "journal: the brief one is not a stray (it ended by itself)" "" \
    "$(jq -r --argjson p "${brief:-0}" '.strays[] | select(.pid == $p) | .pid' "$J")"
expect_true "journal: orphans reaped >= 1" test "$(jq '.orphans_reaped' "$J")" -ge 1
expect_true "the summary names them" grep -q "outlived its replica: sleep pid $daemon from app.0 (SIGTERM at the end)" "$R.out"
expect_eq "no process of the run left" "" "$(procs_of_run "$R")"

# A harness SIGKILLed while the strays live: its janitor stops them (the
# ledger has them as "pid" entries once the loop has seen them).
R=$E2E_TMP/killed
"$CHAOSRUN" --no-status --out "$R" "$S" >"$R.out" 2>&1 &
pid=$!
daemon=
for _ in $(seq 200); do
    [ -s "$R/daemon.pid" ] && daemon=$(cat "$R/daemon.pid") &&
        grep -q " pid $daemon " "$R/ledger" 2>/dev/null && break
    sleep 0.05
done
expect_true "the daemon ($daemon) is in the ledger" grep -q " pid $daemon " "$R/ledger"
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
for _ in $(seq 200); do
    gone "$daemon" && [ -z "$(procs_of_run "$R")" ] && break
    sleep 0.05
done
expect_true "the killed run's daemon ($daemon) is gone" gone "${daemon:-1}"
expect_eq "no process of the killed run left" "" "$(procs_of_run "$R")"
finish
