# End-to-end: the stress kind on an ssh node (issue 17).
#
# The network of ssh_nodes.sh (namespaces with Debian's sshd; chaosrun in
# "ctl" reaches the nodes only over OpenSSH).  A CPU-bound spinner on n2
# is held to 20 % of a CPU (cpu kind, its cgroup on n2) while a stress-ng
# CPU hog runs inside its cgroups (placement "inside"); later a hog runs
# beside it, in a cgroup of the run's own on n2.  Judged by the kernel's
# counters, not by the machine's speed: the hog's process group, started
# on the node and found by its pidfile in the node's directory, is in the
# spinner's cpu cgroup there; the CPU time the kernel charged to the hog's
# processes (/proc/<pid>/stat) and to the spinner (its own reports, CPU
# time over wall time) add up to at most the quota inside the window --
# the hog shares the replica's budget -- and the kernel throttled the
# cgroup; stress-ng runs inside the window and is gone after it.  A
# SIGKILLed harness (and its janitor, as a machine crash) leaves the hog
# running on the node; `chaosrun cleanup` ends it and leaves nothing.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/stress_lib.inc"
. "$(dirname "$0")/ssh_net.inc"
ssh_net_require
stress_require

ssh_net_start
expect_true "sshd answers on n2" ssh_n "$pre.3" true

scen="$E2E_TMP/stress.json"
cat >"$scen" <<EOF
{"name": "ssh-stress", "seed": 7, "duration_s": 8.5, "drain_s": 0.3,
 "hosts": [$(ssh_host n2 3)],
 "services": [
   {"name": "spinner", "host": "n2", "cmd": ["$CR_BIN/cr_tgt_hog", "spin", "--report-ms", "100"],
    "ready": {"kind": "log", "regex": "cr_tgt_hog spin started"}}],
 "faults": [
   {"kind": "cpu", "name": "quota", "target": "spinner", "quota_pct": 20, "at_s": 1.5, "for_s": 4},
   {"kind": "stress", "name": "hog_in", "target": "spinner", "at_s": 1.5, "for_s": 4,
    "stressor": "cpu", "workers": 1, "placement": "inside"},
   {"kind": "stress", "name": "hog_out", "target": "spinner", "at_s": 6, "for_s": 1.5,
    "stressor": "cpu", "workers": 1, "placement": "beside"}]}
EOF

# wait_for FILE REGEX [PID]: until the line is in FILE (bounded: 30 s;
# with PID, while that process lives).
wait_for() {
    for _ in $(seq 1 300); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        [ -z "${3:-}" ] || kill -0 "$3" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
# node_dir OUT: the run's directory on n2 (its ledger's ssh-dir line).
node_dir() { awk '$2 == "ssh-dir" {print $9; exit}' "$1/ledger"; }
# grp_cpu PGID: CPU seconds the kernel charged to the group's processes
# (utime + stime of /proc/<pid>/stat) -- the nodes share this machine's
# process table.
grp_cpu() {
    cat /proc/[0-9]*/stat 2>/dev/null |
        awk -v g="$1" -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); if ($3 == g) t += $12 + $13 }
                                                   END { printf "%.3f\n", t / hz }'
}
# grp_live PGID: the group's members that are not zombies.
grp_live() {
    ps -e -o pgid= -o pid= -o stat= | awk -v g="$1" '$1 == g && $3 !~ /^Z/ { print $2 }'
}
now() { date +%s.%N; }

# ---- 1. the hog inside the spinner's cgroups, then beside them -------------
out="$E2E_TMP/run"
t_run=$(now)
in_ctl "$CHAOSRUN" --no-status --out "$out" "$scen" >"$out.out" 2>"$out.err" &
pid=$!
if ! wait_for "$out.err" "fault hog_in (stress) applied" "$pid"; then
    fail "hog_in applied"
    set +e
    wait "$pid"
    echo "chaosrun exited $?: $(tail -1 "$out.err")"
    finish
    exit 1
fi
pass "hog_in applied"
d=$(node_dir "$out")
pf="$d/stress-hog_in-0-spinner.0.pid"
g=$(cat "$pf" 2>/dev/null || true)
expect_true "its pidfile in the node's directory names a process group ($pf: $g)" [ -n "$g" ]
g=${g:-0}
# (the answer "ok" comes just before the exec of env, then of stress-ng)
for _ in $(seq 30); do
    [ "$(cat "/proc/$g/comm" 2>/dev/null)" = stress-ng ] && [ "$(grp_live "$g" | wc -l)" -ge 2 ] && break
    sleep 0.1
done
expect_eq "stress-ng runs on the node inside the window" stress-ng "$(cat "/proc/$g/comm" 2>/dev/null || true)"
expect_true "with its worker, in its process group" [ "$(grp_live "$g" | wc -l)" -ge 2 ]
expect_true "it carries the node directory as its CHAOSRUN_RUN_DIR" \
    grep -qzx "CHAOSRUN_RUN_DIR=$d" "/proc/$g/environ"
cg=$(grep -E '^[0-9]+:([^:]*,)?cpu(,[^:]*)?:' "/proc/$g/cgroup" 2>/dev/null | cut -d: -f3 || true)
expect_true "in the spinner's cpu cgroup on the node ($cg)" \
    sh -c "echo '$cg' | grep -qE '^/chaosrun-[^/]*-n2/spinner\\.0\$'"
# Both the hog and the spinner, over 1.5 s inside the window.
t1=$(now) c1=$(grp_cpu "$g")
sleep 1.5
t2=$(now) c2=$(grp_cpu "$g")
expect_true "hog_in reverted" wait_for "$out.err" "fault hog_in reverted"
expect_eq "nothing of stress-ng left on the node after the window" "" "$(grp_live "$g")"
expect_true "its pidfile removed" [ ! -e "$pf" ]
set +e
wait "$pid"
RC=$?
set -e
echo "run took $(awk -v a="$t_run" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}') s"
expect_eq "the scenario exits 0" 0 "$RC"
[ "$RC" = 0 ] || { cat "$out.err"; cat "$out"/logs/ssh-*.log 2>/dev/null || true; }
j="$out/journal.json"
H='.faults[] | select(.name == "hog_in") | .details'
expect_eq "backend and node" "stress-ng over ssh n2" "$(jq -r "$H | \"\(.backend) \(.node)\"" "$j")"
expect_eq "journal: the hog's pid" "$g" "$(jq -r "$H.stress[0].pid" "$j")"
expect_eq "journal: stopped by SIGTERM" SIGTERM "$(jq -r "$H.stress[0].stopped" "$j")"
expect_true "journal: the cgroups it joined, as n2's kernel says (cpu and memory of spinner.0)" jq -e \
    "$H.stress[0].cgroups | any(test(\":cpu:/chaosrun-.*/spinner\\\\.0\$\")) and any(test(\":memory:/chaosrun-.*/spinner\\\\.0\$\"))" "$j"
expect_true "journal: memory counters of the replica's cgroup read on the node" jq -e \
    "$H.stress[0].memory | (.cgroup | test(\"/spinner\\\\.0\$\")) and .usage_bytes > 0 and .usage_bytes_at_end > 0 and .usage_bytes_after > 0" "$j"
expect_true "beside: in a cgroup of the run's own on the node" jq -e \
    '.faults[] | select(.name == "hog_out") | .details.stress[0] | (.cgroups | any(test(":cpu:/chaosrun-.*/stress-hog_out$"))) and .stopped == "SIGTERM"' "$j"
expect_true "stress-ng's output came back into fault-hog_in.log" \
    grep -q "stress-ng on ssh node n2" "$out/fault-hog_in.log"
thr=$(jq '.faults[] | select(.name == "quota") | .details.cgroups[0].periods_throttled' "$j")
expect_true "the kernel on n2 throttled the cgroup ($thr periods)" [ "$thr" -ge 5 ]
# The spinner's share over [t1, t2] from its reports; the hog's from the
# kernel's counters of its processes.
t0=$(jq .t0_unix "$j")
share() { jq -s -r --argjson lo "$1" --argjson hi "$2" '
    [ .[] | select(.ev == "spin" and (.ts - .ms / 1000) >= $lo and .ts <= $hi) ]
    | if length == 0 then -1 else (map(.cpu_ms) | add) / (map(.ms) | add) end' "$out/events.jsonl"; }
spin_in=$(share "$t1" "$t2")
hog_in=$(awk -v a="$c1" -v b="$c2" -v t1="$t1" -v t2="$t2" 'BEGIN { printf "%.3f", (b - a) / (t2 - t1) }')
read -r qa qb qr <<<"$(jq -r '.faults[] | select(.name == "quota") | "\(.applied_t) \(.revert_began_t) \(.reverted_t)"' "$j")"
at() { awk -v t="$t0" -v d="$1" 'BEGIN { printf "%.3f", t + d }'; }
before=$(share "$(at 0.3)" "$(at "$qa")")
after=$(share "$(at "$(awk -v r="$qr" 'BEGIN { print r + 0.3 }')")" "$(at 100)")
echo "CPU shares: spinner before $before, in the window $spin_in (hog $hog_in), after $after"
hb=$(jq -r '.faults[] | select(.name == "hog_in") | .revert_began_t' "$j")
expect_true "the sample [$t1, $t2] lies inside both windows (t0 $t0, quota $qa..$qb, hog_in until $hb)" \
    awk -v t0="$t0" -v t1="$t1" -v t2="$t2" -v qa="$qa" -v qb="$qb" -v hb="$hb" \
        'BEGIN { exit !(t1 >= t0 + qa && t2 <= t0 + qb && t2 <= t0 + hb) }'
expect_true "the hog's processes ran in the window ($hog_in of a CPU)" \
    awk -v h="$hog_in" 'BEGIN { exit !(h >= 0.02) }'
expect_true "spinner + hog inside the window at most the 20 % quota ($spin_in + $hog_in)" \
    awk -v s="$spin_in" -v h="$hog_in" 'BEGIN { exit !(s >= 0 && s + h <= 0.26) }'
cpu_quota_checks " of the spinner" "$before" "$spin_in" "$after"
adds=$(grep -c '^+' "$out/ledger" || true)
dones=$(grep -c '^-' "$out/ledger" || true)
expect_eq "every ledger line reverted" "$adds" "$dones"
runid=$(run_id "$j")
expect_eq "no cgroup of the run left on the node" "" \
    "$(ls -d /sys/fs/cgroup/*/chaosrun-"$runid"-* 2>/dev/null || true)"
expect_eq "nothing left on the nodes" "" "$(node_left "$runid")"

# ---- 2. a SIGKILLed harness: the hog stays, `chaosrun cleanup` ends it ------
out="$E2E_TMP/killed"
ip netns exec "$ctl" "$CHAOSRUN" --no-status --out "$out" "$scen" >"$out.out" 2>&1 &
pid=$!
expect_true "hog_in applied (killed run)" wait_for "$out.out" "fault hog_in (stress) applied"
d=$(node_dir "$out")
g=$(cat "$d/stress-hog_in-0-spinner.0.pid" 2>/dev/null || echo 0)
jan=$(pgrep -P "$pid" -f __janitor || true)
kill -KILL "$pid" $jan 2>/dev/null || true
wait "$pid" 2>/dev/null || true
runid=$(echo "$d" | sed 's|/tmp/chaosrun-||; s|-n2$||')
sleep 0.5
expect_true "stress-ng outlived the SIGKILLed harness on the node (group $g)" [ -n "$(grp_live "$g")" ]
cleanup_run "$out"
cgs() { ls -d /sys/fs/cgroup/*/chaosrun-"$runid"-* 2>/dev/null || true; }
for _ in $(seq 20); do [ -z "$(grp_live "$g")$(node_left "$runid")$(cgs)" ] && break; sleep 0.1; done
expect_eq "no stress-ng left on the node after cleanup" "" "$(grp_live "$g")"
expect_eq "no cgroup of the killed run left" "" "$(cgs)"
expect_eq "nothing else left on the nodes" "" "$(node_left "$runid")"

finish
