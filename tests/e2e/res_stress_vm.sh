# End-to-end: the stress fault kind's memory hog (stress-ng --vm, 64 MiB),
# proved with the kernel's cgroup v1 memory counters, no rates:
#   beside: charged to <run cgroup>/stress-<fault>, and the replica's own
#     memory cgroup's watermark (max_usage_in_bytes, its peak since it was
#     made) stays far below the hog's size through that window;
#   inside: the replica's cgroup usage rises by most of the hog's size while
#     it runs (read live here and by the harness at the window's end) and
#     falls back once the hog is gone;
#   inside under a 32 MiB memory limit: the kernel's OOM killer kills the
#     hog's worker (stress-ng makes it the first choice: oom_score_adj
#     1000), never the replica, and the limit holds;
# no stress-ng of the run is left after each window, nor after a SIGKILLed
# harness (the janitor ends the group and the replica's cgroup is gone).
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/stress_lib.inc"
stress_require
MEMROOT=$(awk '$3 == "cgroup" && $4 ~ /(^|,)memory(,|$)/ { print $2; exit }' /proc/mounts)
[ -n "$MEMROOT" ] || { echo "SKIPPED: cgroup v1 memory hierarchy not mounted"; exit 77; }
S="$CR_SRC/tests/e2e/scenarios/res-stress-vm.json"
MIB=1048576
HOG=$((64 * MIB))
BIG=$((HOG * 3 / 4)) # "most of the hog": charged pages of a 64 MiB --vm-keep
SMALL=$((HOG / 4))   # "none of the hog": far below it

# The replica's pid, from the run's stderr.
replica_pid() { sed -n 's/.*started idle\.0 (pid \([0-9]*\)).*/\1/p' "$1.err" | head -1; }
# The memory cgroup directory process $1 is in, as the kernel says.
memcg_of() {
    local p
    p=$(sed -n 's/^[0-9]*:\([^:]*,\)\{0,1\}memory\(,[^:]*\)\{0,1\}:\(.*\)$/\3/p' "/proc/$1/cgroup")
    [ -n "$p" ] && echo "$MEMROOT$p"
}
# The process groups of stress-ng in the run's ledger (all but the replica).
hogs_of() {
    sed -n 's/^+[0-9]* pgid //p' "$1/ledger" | awk -v s="$(replica_pid "$1")" '$1 != s { print $1 }'
}
group_left() { ps -e -o pgid= -o pid= | awk -v g="$1" '$1 == g { print $2 }'; }
# wait_for FILE REGEX: until the line is in FILE (bounded: 60 s).
wait_for() {
    for _ in $(seq 1 600); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
# wait_charged CG ERR FAULT: until CG's usage is at least BIG, or FAULT's
# window is over (its "reverted" line in ERR): the hog must be charged
# inside its window.
wait_charged() {
    local u
    while :; do
        u=$(cat "$1/memory.usage_in_bytes" 2>/dev/null || echo 0)
        [ "$u" -ge "$BIG" ] && { echo "$u"; return 0; }
        grep -q "fault $3 reverted" "$2" && { echo "$u"; return 1; }
        sleep 0.05
    done
}

# ---- beside, inside, inside under a limit.
out="$E2E_TMP/run"
"$CHAOSRUN" --no-status --out "$out" "$S" >"$out.out" 2>"$out.err" &
pid=$!
expect_true "vm_in applied" wait_for "$out.err" "fault vm_in (stress) applied"
cg=$(memcg_of "$(replica_pid "$out")")
expect_true "the replica has a memory cgroup of the run's ($cg)" test -n "$cg" -a -d "$cg"
set +e
u=$(wait_charged "$cg" "$out.err" vm_in)
rc=$?
set -e
echo "replica's cgroup usage seen during vm_in: $u bytes"
expect_eq "live: the replica's cgroup charged with most of the hog inside its window" 0 "$rc"
set +e
wait $pid
RC=$?
set -e
expect_eq "scenario passes" 0 "$RC"
J="$out/journal.json"
mem() { jq -r --arg f "$1" ".faults[] | select(.name == \$f) | .details.stress[0].memory.$2" "$J"; }
for f in vm_out vm_in vm_oom; do
    echo "$f: $(jq -c --arg f "$f" '.faults[] | select(.name == $f) | .details.stress[0].memory | del(.cgroup)' "$J")"
done
expect_true "beside: charged to the run's cgroup stress-vm_out" \
    sh -c "echo '$(mem vm_out cgroup)' | grep -q '/chaosrun-$pid/stress-vm_out\$'"
expect_true "beside: that cgroup held most of the hog at the window's end" \
    test $(($(mem vm_out usage_bytes_at_end) - $(mem vm_out usage_bytes_after))) -ge "$BIG"
expect_eq "inside: charged to the replica's memory cgroup" "$cg" "$(mem vm_in cgroup)"
expect_true "beside: the replica's cgroup's peak before vm_in stayed far below the hog ($(mem vm_in max_usage_bytes) bytes)" \
    test "$(mem vm_in max_usage_bytes)" -ge 0 -a "$(mem vm_in max_usage_bytes)" -lt "$SMALL"
expect_true "inside: the replica's cgroup rose by most of the hog" \
    test $(($(mem vm_in usage_bytes_at_end) - $(mem vm_in usage_bytes))) -ge "$BIG"
expect_true "inside: and fell back once the hog was gone" \
    test "$(mem vm_in usage_bytes_after)" -ge 0 -a $(($(mem vm_in usage_bytes_after) - $(mem vm_in usage_bytes))) -lt "$SMALL"
L='.faults[] | select(.name == "lim") | .details.cgroups[0]'
expect_eq "limit: on the replica's cgroup" "$cg" "$(jq -r "$L.cgroup" "$J")"
expect_true "limit: the 64 MiB hog's cgroup at the window's end within 32 MiB ($(mem vm_oom usage_bytes_at_end) bytes)" \
    test "$(mem vm_oom usage_bytes_at_end)" -ge 0 -a "$(mem vm_oom usage_bytes_at_end)" -le $((32 * MIB))
expect_true "limit: the kernel's OOM killer killed ($(jq -r "$L.oom_kills" "$J") times)" \
    test "$(jq -r "$L.oom_kills" "$J")" -ge 1
if jq -e "$L.oom_killed | type == \"array\"" "$J" >/dev/null; then
    expect_eq "limit: its victims were the hog's workers, never the replica" "stress-ng-vm" \
        "$(jq -r "[$L.oom_killed[].task] | unique | join(\" \")" "$J")"
fi
expect_eq "the replica was never killed: it exited once, at the stop" \
    "idle.0 exited: killed by SIGTERM — stop" "$(grep -o 'idle\.0 exited.*' "$out.err")"
left=""
for g in $(hogs_of "$out"); do left="$left$(group_left "$g")"; done
expect_eq "no stress-ng of the run left ($(hogs_of "$out" | wc -l) groups)" "" "$left$(procs_of_run "$out")"
expect_eq "three hog groups in the ledger, each closed (its -<id> line)" 3 \
    "$(awk -v s="$(replica_pid "$out")" '/^\+[0-9]+ pgid / && $3 != s { hog[substr($1, 2)] = 1 }
        /^-[0-9]+$/ && (substr($1, 2) in hog) { n++ } END { print n + 0 }' "$out/ledger")"

# ---- a SIGKILLed harness while the inside hog is charged: the janitor
# ends the hog and removes the replica's cgroup.
jq '.duration_s = 6 | del(.faults[] | select(.name != "vm_in")) | .faults[0].at_s = 0.2 | .faults[0].for_s = 5' \
    "$S" >"$E2E_TMP/kill.json"
out="$E2E_TMP/kill"
"$CHAOSRUN" --no-status --out "$out" "$E2E_TMP/kill.json" >"$out.out" 2>"$out.err" &
pid=$!
expect_true "vm_in applied" wait_for "$out.err" "fault vm_in (stress) applied"
cg=$(memcg_of "$(replica_pid "$out")")
set +e
u=$(wait_charged "$cg" "$out.err" vm_in)
rc=$?
set -e
expect_eq "live: the replica's cgroup charged ($u bytes)" 0 "$rc"
hk=$(hogs_of "$out" | head -1)
expect_true "the hog runs ($hk)" test -n "$(group_left "$hk")"
kill -KILL $pid
wait $pid 2>/dev/null || true
left=x
for _ in $(seq 1 100); do
    left="$(group_left "$hk")$(procs_of_run "$out")"
    [ -z "$left" ] && [ ! -d "$cg" ] && break
    sleep 0.1
done
expect_eq "no hog and no process left after SIGKILL of chaosrun" "" "$left"
expect_true "the janitor ended the hog's group" grep -q "cleanup: pgid $hk .*undone" "$out/ledger.janitor"
expect_true "and removed the replica's memory cgroup" test ! -d "$cg"
finish
