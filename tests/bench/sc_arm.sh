#!/bin/bash
# sc_arm.sh: how soon after a syscall fault window's scheduled start the
# first call is faulted, through chaosrun, for each backend side by side.
#
# One service, cr_tgt_spin (write() to /dev/null every 100 us through the C
# library, so both backends reach it; it prints the first failing call of
# each window); a disk_full fault every 0.1 s for 0.05 s over 20 s (~198
# windows), once with backend seccomp (path /dev/null, so its log is not
# touched) and once with libfiu; ROUNDS alternations (default 1).
#
# Per backend, over all windows, median and p99 of:
#   scheduled -> armed        the journal's armed[0].t - scheduled_t
#   scheduled -> 1st faulted  the program's first failing call of the
#                             window (its end: an upper bound) minus the
#                             scheduled instant (t0_unix + scheduled_t)
#   seccomp only, scheduled -> verdict: the supervisor's first_fault_t
#   window end -> disarmed    disarmed[0].t - (scheduled_t + for_s)
#
# Usage (from the build directory): ../tests/bench/sc_arm.sh [ROUNDS] [BIN_DIR]
#        ../tests/bench/sc_arm.sh --quick   (ctest: 3 s, ~28 windows each;
#        fails when a backend faulted no window; 77 without seccomp)
set -eu
DUR=20
if [ "${1:-}" = --quick ]; then
    DUR=3
    shift
fi
ROUNDS=${1:-1}
BIN=${2:-${CR_BIN:-$PWD/bin}}
if ! grep -qw user_notif /proc/sys/kernel/seccomp/actions_avail 2>/dev/null; then
    echo "SKIPPED: no seccomp user notification (actions_avail)"
    exit 77
fi
command -v jq >/dev/null || { echo "SKIPPED: jq missing"; exit 77; }
UNTIL=$(awk -v d="$DUR" 'BEGIN { print d - 0.2 }')
T=$(mktemp -d /tmp/cr_bench_scarm.XXXXXX)
trap 'rm -rf "$T"' EXIT
scen() { # BACKEND EXTRA-KEYS
    cat >"$T/$1.json" <<EOS
{"name": "arm-bench-$1", "seed": 1, "duration_s": $DUR, "drain_s": 0.2,
 "services": [{"name": "w", "cmd": ["$BIN/cr_tgt_spin", "--interval-us", "100"],
               "ready": {"kind": "log", "regex": "spin ready"}}],
 "faults": [{"kind": "syscall", "name": "df", "target": "w", "preset": "disk_full",
             "backend": "$1" $2, "at_s": 0.1, "every_s": 0.1, "until_s": $UNTIL, "for_s": 0.05}]}
EOS
}
scen seccomp ', "path": "/dev/null"'
scen libfiu ''
for r in $(seq "$ROUNDS"); do
    for b in seccomp libfiu; do
        rm -rf "$T/run-$b-$r"
        CHAOSRUN_BINDIR=$BIN "$BIN/chaosrun" --no-status -q --out "$T/run-$b-$r" "$T/$b.json" >/dev/null
        J="$T/run-$b-$r/journal.json"
        T0=$(jq -r .t0_unix "$J")
        jq -r --argjson t0 "$T0" '.faults[] | select(.outcome == "applied") |
            "\(($t0 + .scheduled_t) * 1e6 | floor) \(.details.armed[0].t - .scheduled_t) \(.details.disarmed[0].t - .scheduled_t - .for_s) \(if .details.first_fault_t then .details.first_fault_t - .scheduled_t else "-" end) \(.details.disarmed[0].unix_us)"' \
            "$J" >>"$T/win-$b"
        grep '^fail_start' "$T/run-$b-$r/logs/w.0.log" | sed 's/.*done=\([0-9]*\).*/\1/' >>"$T/fs-$b"
    done
done
FAILED=0
stats() { sort -g | awk '{v[NR]=$1} END {if (!NR) {print "no samples"; exit}
          m=v[int((NR+1)/2)]; p=v[int(NR*0.99+0.999)];
          printf "median %.3f ms, p99 %.3f ms over %d windows\n", m*1000, p*1000, NR}'; }
for b in seccomp libfiu; do
    echo "$b:"
    echo "  scheduled -> armed:        $(cut -d' ' -f2 "$T/win-$b" | stats)"
    # each window's first faulted call: the first fail_start after its
    # scheduled instant and before its disarm
    sort -n "$T/fs-$b" >"$T/fs-$b.s"
    awk 'NR == FNR { fs[n++] = $1; next }
         { s = $1; z = $5; best = -1
           for (i = 0; i < n; i++) if (fs[i] >= s && fs[i] <= z) { best = fs[i]; break }
           if (best >= 0) print (best - s) / 1e6; else missed++ }
         END { if (missed) print "missed " missed > "/dev/stderr" }' "$T/fs-$b.s" "$T/win-$b" >"$T/lat-$b"
    echo "  scheduled -> 1st faulted:  $(stats <"$T/lat-$b")"
    if [ "$b" = seccomp ]; then
        echo "  scheduled -> verdict:      $(cut -d' ' -f4 "$T/win-$b" | grep -v '^-' | stats)"
    fi
    echo "  window end -> disarmed:    $(cut -d' ' -f3 "$T/win-$b" | stats)"
    [ -s "$T/lat-$b" ] || { echo "sc_arm: $b faulted no window"; FAILED=1; }
done
exit "${FAILED:-0}"
