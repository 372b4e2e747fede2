# End-to-end: pause with mode "freezer" freezes the replica's whole cgroup,
# also a child that left its process group (setsid), which mode "signal"
# (SIGSTOP to the group) misses; both beat again after the window.  After
# a SIGKILLed harness the janitor thaws the frozen cgroup (a frozen task
# cannot even die of SIGKILL before that), so nothing is left.  Without
# the right to make cgroups the run exits 3 with the reason.
set -e
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIPPED: needs root (cgroups)"; exit 77; }
grep -qE "^[0-9]+:([^:]*,)?freezer(,[^:]*)?:" /proc/self/cgroup ||
    { echo "SKIPPED: no cgroup v1 freezer controller"; exit 77; }
S="$CR_SRC/tests/e2e/scenarios"

cgroups_left() {
    sed -n 's/^+[0-9]* cgroup //p' "$1/ledger" | while read -r d; do
        [ -e "$d" ] && echo "$d"
    done
    return 0
}

# beats WHO LO HI RUN: beats of parent/child with LO <= ts - t0 <= HI.
beats() {
    local J="$4/journal.json"
    jq -s --arg who "$1" --argjson t0 "$(jq .t0_unix "$J")" --argjson lo "$2" --argjson hi "$3" \
        '[.[] | select(.ev == "beat" and .who == $who and (.ts - $t0) >= $lo and (.ts - $t0) <= $hi)] | length' \
        "$4/events.jsonl"
}

# window RUN: "applied_t revert_began_t" of the pause: from the freeze
# complete to the thaw's start (the target runs as soon as it is thawed; at
# load the harness returned from the thaw late, and beats came before
# reverted_t - 0.1 s: a loaded ./setup.sh test).
window() { jq -r '.faults[0] | "\(.applied_t) \(.revert_began_t)"' "$1/journal.json"; }

for mode in signal freezer; do
    jq --arg m "$mode" '.faults[0].mode = $m' "$S/pause-freezer.json" >"$E2E_TMP/$mode.json"
    run_chaosrun "$E2E_TMP/$mode" "$E2E_TMP/$mode.json"
    expect_eq "$mode: scenario passes" 0 "$RC"
    [ "$RC" = 0 ] || tail -5 "$E2E_TMP/$mode.err"
    R="$E2E_TMP/$mode"
    expect_eq "$mode: pause applied" applied "$(jq -r '.faults[0].outcome' "$R/journal.json")"
    read -r a v <<<"$(window "$R")"
    # Inside the window, with a margin for the freeze itself and the
    # event writer's last line.
    lo=$(jq -n "$a + 0.2"); hi=$(jq -n "$v - 0.1")
    pin=$(beats parent "$lo" "$hi" "$R"); cin=$(beats child "$lo" "$hi" "$R")
    paft=$(beats parent "$(jq -n "$v + 0.1")" 100 "$R"); caft=$(beats child "$(jq -n "$v + 0.1")" 100 "$R")
    pbef=$(beats parent 0 "$a" "$R"); cbef=$(beats child 0 "$a" "$R")
    echo "$mode: beats before (parent $pbef, child $cbef), in the window (parent $pin, child $cin), after (parent $paft, child $caft)"
    expect_true "$mode: both beat before the window" test "$pbef" -ge 5 -a "$cbef" -ge 5
    expect_eq "$mode: the parent is silent in the window" 0 "$pin"
    if [ "$mode" = signal ]; then
        expect_true "signal: the child that left the group beats on ($cin)" test "$cin" -ge 5
    else
        expect_eq "freezer: the child is frozen too" 0 "$cin"
        expect_true "freezer: journal names the cgroup" \
            jq -e '.faults[0].details.cgroups[0] | test("/freezer/.*/beater.0$")' "$R/journal.json"
        expect_true "freezer: history has paused and resumed" jq -e \
            '[.services[0].history[] | .what] | (index("paused") != null and index("resumed") != null)' "$R/journal.json"
        expect_eq "freezer: cgroups removed" "" "$(cgroups_left "$R")"
        expect_true "freezer: the thaw is closed in the ledger" \
            awk '/^\+[0-9]+ thaw /{id=substr($1,2)} /^-/{done[substr($1,2)]=1} END{exit !(id && done[id])}' "$R/ledger"
    fi
    expect_true "$mode: both beat after the window" test "$paft" -ge 5 -a "$caft" -ge 5
done

# ---- a SIGKILLed harness while frozen: the janitor thaws, then kills.
jq '.duration_s = 30 | .faults[0].at_s = 1 | .faults[0].for_s = 25' \
    "$S/pause-freezer.json" >"$E2E_TMP/long.json"
out="$E2E_TMP/kill"
"$CHAOSRUN" --no-status --out "$out" "$E2E_TMP/long.json" >"$out.out" 2>"$out.err" &
pid=$!
for _ in $(seq 1 100); do
    grep -q "fault freeze (pause) applied" "$out.err" 2>/dev/null && break
    sleep 0.1
done
expect_true "the freeze was applied" grep -q "fault freeze (pause) applied" "$out.err"
d=$(sed -n 's/^+[0-9]* thaw //p' "$out/ledger" | head -1)
expect_eq "the cgroup is frozen" FROZEN "$(cat "$d/freezer.state" 2>/dev/null)"
kill -KILL $pid
wait $pid 2>/dev/null || true
left="x"
for _ in $(seq 1 80); do
    left="$(procs_of_run "$out")$(cgroups_left "$out")"
    [ -z "$left" ] && break
    sleep 0.1
done
expect_eq "no process and no cgroup left after SIGKILL of chaosrun" "" "$left"
expect_true "the janitor thawed" grep -q "cleanup: thaw .*: undone" "$out/ledger.janitor"
[ -z "$left" ] || { cat "$out/ledger.janitor"; for p in $left; do [ -d "/proc/$p" ] && { echo THAWED > "$d/freezer.state"; kill -9 "$p"; }; done; } 2>/dev/null

# ---- no right to make cgroups: exit 3 with the reason.
U=$(mktemp -d /tmp/cr_e2e_frz.XXXXXX)
chmod 777 "$U"
set +e
setpriv --reuid=65534 --regid=65534 --clear-groups env CHAOSRUN_BINDIR="$CR_BIN" \
    "$CHAOSRUN" --no-status --out "$U/run" "$S/pause-freezer.json" >"$U/out" 2>"$U/err"
rc=$?
set -e
expect_eq "unprivileged run exits 3" 3 "$rc"
expect_true "and says why" grep -q "fault freeze (pause, mode freezer): cgroup controller freezer: cannot create cgroups" "$U/err"
tail -2 "$U/err"
rm -rf "$U"
finish
