# End-to-end: a stress hog whose leader dies before its workers.  Under an
# OOM storm stress-ng's parent can be gone (SIGKILLed 2 s after SIGTERM)
# while its workers live on; they are then the harness's children (it is a
# subreaper) and, once SIGKILLed, zombies that stay members of the group
# until reaped.  The revert must reap them, not wait 10 s for a group that
# never empties and leave its ledger line open (CI, stop 31: e2e
# res_stress_vm, "three hog groups in the ledger, each closed": 2).
#
# The hog here is a stand-in put first on PATH as `stress-ng`: its leader
# exits at SIGTERM, its worker ignores SIGTERM -- the same shape, every
# time, without needing an OOM storm.
set -e
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIPPED: needs root (cgroups)"; exit 77; }
for c in cpu memory; do
    grep -qE "^[0-9]+:([^:]*,)?$c(,[^:]*)?:" /proc/self/cgroup ||
        { echo "SKIPPED: no cgroup v1 $c controller"; exit 77; }
done

mkdir -p "$E2E_TMP/bin"
cat >"$E2E_TMP/bin/stress-ng" <<'EOF'
#!/bin/sh
# The worker ignores SIGTERM (it stays after its leader); the leader ends at
# SIGTERM.  Both write their pid so the test can follow them.
(trap '' TERM; echo "worker $(sh -c 'echo $PPID')" >>"$PWD/fake-hog.pids"; exec sleep 600) &
echo "leader $$" >>"$PWD/fake-hog.pids"
trap 'exit 0' TERM
while :; do sleep 0.1; done
EOF
chmod 755 "$E2E_TMP/bin/stress-ng"

cat >"$E2E_TMP/s.json" <<'EOF'
{
  "name": "res-stress-orphans",
  "seed": 1,
  "duration_s": 4,
  "drain_s": 0.2,
  "services": [{"name": "idle", "cmd": ["sleep", "600"]}],
  "faults": [
    {"kind": "stress", "name": "hog", "target": "idle.0", "at_s": 0.5,
     "for_s": 1, "stressor": "cpu", "workers": 1, "placement": "beside"}
  ]
}
EOF
out="$E2E_TMP/run"
set +e
PATH="$E2E_TMP/bin:$PATH" "$CHAOSRUN" --no-status --out "$out" "$E2E_TMP/s.json" >"$out.out" 2>"$out.err"
rc=$?
set -e
J="$out/journal.json"
expect_eq "the fake hog ran: a leader and a worker" "leader worker" \
    "$(awk '{ print $1 }' "$out/fake-hog.pids" 2>/dev/null | sort | xargs)"
expect_eq "the run passes" 0 "$rc"
expect_eq "the fault reverted without error" "" \
    "$(jq -r '.faults[] | select(.name == "hog") | .revert_error // empty' "$J")"
expect_true "reverted within 3 s of its end (not the 10 s bound)" \
    jq -e '.faults[] | select(.name == "hog") | (.reverted_t - .applied_t) < 4' "$J"
expect_eq "its ledger line closed" 1 \
    "$(awk -v l="$(awk '$1 == "leader" { print $2 }' "$out/fake-hog.pids")" \
        '/^\+[0-9]+ pgid / && $3 == l { id = substr($1, 2) }
        /^-[0-9]+$/ && substr($1, 2) == id { n++ } END { print n + 0 }' "$out/ledger")"
w=$(awk '$1 == "worker" { print $2 }' "$out/fake-hog.pids")
expect_true "the worker is gone (pid $w)" test ! -e "/proc/$w"
finish
