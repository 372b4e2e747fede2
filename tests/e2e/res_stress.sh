# End-to-end: the stress fault kind (stress-ng hogs).  An idle replica under
# a 10 % CPU quota is throttled by the kernel only while a CPU hog runs
# inside its cgroups, not while one runs beside them (the kernel's own
# counters, no rates); each hog is gone once its window is reverted; after
# a SIGKILLed harness the janitor ends the hog; unprivileged: exit 3.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/stress_lib.inc"
stress_require
S="$CR_SRC/tests/e2e/scenarios/res-stress.json"

# The hogs' entries of a run's ledger ("pgid <pid> <start>" lines but the
# replica's, whose pid the run's stderr names).
hogs_of() {
    local svc
    svc=$(sed -n 's/.*started idle\.0 (pid \([0-9]*\)).*/\1/p' "$1.err" | head -1)
    sed -n 's/^+[0-9]* pgid //p' "$1/ledger" | awk -v s="$svc" '$1 != s'
}
# Members of process group $1 still there.
group_left() { ps -e -o pgid= -o pid= | awk -v g="$1" '$1 == g { print $2 }'; }

# wait_for FILE REGEX: until the line is in FILE (bounded: 60 s).
wait_for() {
    for _ in $(seq 1 600); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# ---- inside vs beside, and each hog gone when its window is reverted.
out="$E2E_TMP/run"
"$CHAOSRUN" --no-status --out "$out" "$S" >"$out.out" 2>"$out.err" &
pid=$!
expect_true "hog_in applied" wait_for "$out.err" "fault hog_in (stress) applied"
read -r hin _ <<<"$(hogs_of "$out" | sed -n 1p)"
expect_true "hog_in's stress-ng running ($hin)" test -n "$(group_left "$hin")"
expect_true "hog_in reverted" wait_for "$out.err" "fault hog_in reverted"
expect_eq "hog_in's process group gone at its window's end" "" "$(group_left "$hin")"
expect_true "hog_out reverted" wait_for "$out.err" "fault hog_out reverted"
read -r hout _ <<<"$(hogs_of "$out" | sed -n 2p)"
expect_eq "hog_out's process group gone at its window's end" "" "$(group_left "$hout")"
set +e
wait $pid
RC=$?
set -e
expect_eq "scenario passes" 0 "$RC"
J="$out/journal.json"
expect_eq "journal: pids of the hogs" "$hin $hout" \
    "$(jq -r '[.faults[] | select(.kind == "stress") | .details.stress[0].pid] | join(" ")' "$J")"
expect_eq "journal: placements" "inside beside" \
    "$(jq -r '[.faults[] | select(.kind == "stress") | .details.placement] | join(" ")' "$J")"
expect_true "inside: the hog is in the replica's cpu cgroup" jq -e \
    '.faults[] | select(.name == "hog_in") | .details.stress[0].cgroups | any(test(":cpu:/.*/idle\\.0$"))' "$J"
expect_true "beside: the hog is in a cgroup of the run's own" jq -e \
    '.faults[] | select(.name == "hog_out") | .details.stress[0].cgroups | any(test("/stress-hog_out$"))' "$J"
thr_in=$(jq '.faults[] | select(.name == "quota_in") | .details.cgroups[0].periods_throttled' "$J")
thr_out=$(jq '.faults[] | select(.name == "quota_out") | .details.cgroups[0].periods_throttled' "$J")
echo "periods throttled: hog inside $thr_in, hog beside $thr_out"
expect_true "hog inside: the replica's cgroup throttled ($thr_in periods)" test "$thr_in" -ge 1
expect_eq "hog beside: the replica's cgroup not throttled" 0 "$thr_out"

# ---- a SIGKILLed harness inside the window: the janitor ends the hog.
out="$E2E_TMP/kill"
"$CHAOSRUN" --no-status --out "$out" "$S" >"$out.out" 2>"$out.err" &
pid=$!
expect_true "hog_in applied" wait_for "$out.err" "fault hog_in (stress) applied"
read -r hk _ <<<"$(hogs_of "$out" | sed -n 1p)"
expect_true "the hog runs ($hk)" test -n "$(group_left "$hk")"
kill -KILL $pid
wait $pid 2>/dev/null || true
left=x
for _ in $(seq 1 100); do
    left="$(group_left "$hk")$(procs_of_run "$out")"
    [ -z "$left" ] && break
    sleep 0.1
done
expect_eq "no hog and no process left after SIGKILL of chaosrun" "" "$left"
expect_true "the janitor ended the hog's group" grep -q "cleanup: pgid $hk .*undone" "$out/ledger.janitor"

# ---- the stress faults alone: without the right to make cgroups, or
# without stress-ng, exit 3 with the reason.
U=$(mktemp -d /tmp/cr_e2e_stress.XXXXXX)
chmod 777 "$U"
jq 'del(.faults[] | select(.kind == "cpu"))' "$S" >"$U/s.json"
set +e
setpriv --reuid=65534 --regid=65534 --clear-groups env CHAOSRUN_BINDIR="$CR_BIN" \
    "$CHAOSRUN" --no-status --out "$U/run" "$U/s.json" >"$U/out" 2>"$U/err"
rc=$?
set -e
expect_eq "unprivileged run exits 3" 3 "$rc"
expect_true "and says why" grep -q "fault hog_in (stress): .*cannot create cgroups" "$U/err"
tail -1 "$U/err"
mkdir "$U/bin"
ln -s "$(command -v sleep)" "$U/bin/sleep"
set +e
env PATH="$U/bin" "$CHAOSRUN" --no-status --out "$U/run2" "$U/s.json" >"$U/out" 2>"$U/err"
rc=$?
set -e
expect_eq "without stress-ng: exit 3" 3 "$rc"
expect_true "and says why" grep -q "fault hog_in (stress): stress-ng not found" "$U/err"
tail -1 "$U/err"
rm -rf "$U"
finish
