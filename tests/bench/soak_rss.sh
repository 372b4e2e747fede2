#!/bin/sh
# soak_rss.sh PID CSV [INTERVAL_S]: sample a process's resident memory
# (VmRSS and its peak VmHWM from /proc/PID/status, in kB) every INTERVAL_S
# seconds (default 60) into CSV until the process is gone.  Used for the
# one-hour soak run (tests/bench/README.md, "Soak run"): the harness's RSS
# must stay flat while the run goes on.
# Columns: unix time, seconds since the first sample, VmRSS kB, VmHWM kB.
set -u
[ $# -ge 2 ] || { echo "usage: $0 PID CSV [INTERVAL_S]" >&2; exit 2; }
pid=$1 csv=$2 every=${3:-60}
case $pid in '' | *[!0-9]*) echo "$0: PID must be a number" >&2; exit 2 ;; esac
[ -r "/proc/$pid/status" ] || { echo "$0: no process $pid" >&2; exit 1; }
t0=$(date +%s)
echo "unix_s,elapsed_s,vmrss_kb,vmhwm_kb" >"$csv"
while [ -r "/proc/$pid/status" ]; do
    line=$(awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 }
                END { if (r != "") print r "," h }' "/proc/$pid/status" 2>/dev/null)
    [ -n "$line" ] || break
    now=$(date +%s)
    echo "$now,$((now - t0)),$line" >>"$csv"
    sleep "$every"
done
