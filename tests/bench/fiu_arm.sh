#!/bin/bash
# fiu_arm.sh: time from a syscall fault's scheduled instant to its failure
# points being armed in the target (libfiu's reply received), through
# chaosrun itself: one writer, a disk_full fault every 0.1 s for 0.05 s
# over 20 s (200 arm/disarm cycles); median and p99 of
# armed.t - scheduled_t and of disarmed.t - (scheduled_t + for_s) from the
# journal.
#
# Usage (from the build directory): ../tests/bench/fiu_arm.sh [BIN_DIR]
set -eu
BIN=${1:-$PWD/bin}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d /tmp/cr_bench_arm.XXXXXX)
trap 'rm -rf "$T"' EXIT
cat >"$T/s.json" <<EOS
{"name": "fiu-arm-bench", "seed": 1, "duration_s": 20, "drain_s": 0.2,
 "services": [{"name": "w", "cmd": ["$BIN/cr_tgt_fiuwriter", "--interval-ms", "5"],
               "ready": {"kind": "log", "regex": "writer ready"}}],
 "faults": [{"kind": "syscall", "name": "df", "target": "w", "preset": "disk_full",
             "at_s": 0.1, "every_s": 0.1, "until_s": 19.8, "for_s": 0.05}]}
EOS
CHAOSRUN_BINDIR=$BIN "$BIN/chaosrun" --no-status -q --out "$T/run" "$T/s.json" >/dev/null
jq -r '.faults[] | select(.outcome == "applied") |
       "\(.details.armed[0].t - .scheduled_t) \(.details.disarmed[0].t - .scheduled_t - .for_s)"' \
    "$T/run/journal.json" >"$T/lat"
stats() { sort -g | awk '{v[NR]=$1} END {m=v[int((NR+1)/2)]; p=v[int(NR*0.99+0.999)];
          printf "median %.2f ms, p99 %.2f ms over %d cycles\n", m*1000, p*1000, NR}'; }
echo "scheduled -> armed:    $(cut -d' ' -f1 "$T/lat" | stats)"
echo "window end -> disarmed: $(cut -d' ' -f2 "$T/lat" | stats)"
echo "outcomes: $(jq -r '[.faults[].outcome] | group_by(.) | map("\(.[0])=\(length)") | join(" ")' "$T/run/journal.json")"
