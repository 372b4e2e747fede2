#!/bin/bash
# Benchmark of redundant model serving (sample_pipeline: crp modelsrv,
# crp registry, workers with --scoring remote): failover time = from the
# SIGKILL of the primary model server to the first request served by the
# standby (its first `served` event; the standby is idle before, so that
# event is written at once), over KILLS kills in one run of a variant of
# scenarios/pipeline-failover.json (the primary killed every EVERY s,
# restarted by chaosrun, the workers failing back in between).  A kill
# that finds the workers still on the standby (no failback yet) is not
# counted and is reported.  Also, side by side: the failback time (from
# the kill to the workers' `failover` back to the primary; bounded below
# by --down-ms, 2000 ms) as the run's own yardstick.
# Usage: bench_failover.sh [--quick] [KILLS]    (CR_BIN: build/bin)
# Figures are for comparison within one machine and run only.
set -u
BIN=${CR_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
SRC=${CR_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
KILLS=${1:-20}
EVERY=${BENCH_EVERY:-4}
if [ "${1:-}" = "--quick" ]; then KILLS=3; fi
command -v jq >/dev/null || { echo "SKIPPED: jq not installed"; exit 77; }
T=$(mktemp -d /tmp/crp_bench_fo.XXXXXX)
trap 'rm -rf "$T"' EXIT
DUR=$((3 + KILLS * EVERY))
UNTIL=$((3 + (KILLS - 1) * EVERY))
jq --argjson dur "$DUR" --argjson every "$EVERY" --argjson until "$UNTIL" '
  .name = "bench-failover" | .duration_s = $dur | .drain_s = 3 |
  .services |= map(if .name == "modelsrv-a" then .max_restarts = -1 else . end) |
  .services |= map(if .name == "producer"
                   then .cmd |= (. as $c | [range(0; length)]
                                 | map(if . > 0 and $c[. - 1] == "--duration-s"
                                       then "\($dur)" else $c[.] end))
                   else . end) |
  .faults = [{"kind": "kill", "name": "kill-primary", "target": "modelsrv-a",
              "signal": "SIGKILL", "at_s": 3, "every_s": $every, "until_s": $until}] |
  .expect = [.expect[] | select(.kind == "no_loss")]' \
  "$SRC/scenarios/pipeline-failover.json" >"$T/bench-failover.json" || exit 1
"$BIN/chaosrun" -q --no-status -o "$T/run" "$T/bench-failover.json" >"$T/out" 2>&1
rc=$?
if [ $rc = 3 ]; then echo "SKIPPED: $(tail -1 "$T/out")"; exit 77; fi
if [ $rc != 0 ]; then echo "FAIL: the bench run failed (exit $rc)"; cat "$T/out"; exit 1; fi
jq -r '.t0_unix as $t | .faults[] | select(.outcome == "applied") | "K \($t + .applied_t)"' \
  "$T/run/journal.json" >"$T/times"
jq -r 'select(.ev == "served" and .inst == "modelsrv-b.0") | "B \(.ts)"' \
  "$T/run/events.jsonl" >>"$T/times"
jq -r 'select(.ev == "failover" and .reason == "failback") | "F \(.ts)"' \
  "$T/run/events.jsonl" >>"$T/times"
sort -k2 -g "$T/times" | awk '
  $1 == "K" { if (k != "") fin(); k = $2; fo = ""; fb = ""; idle = (lastb == "" || k - lastb > 0.5); next }
  $1 == "B" { if (k != "" && fo == "") fo = $2; lastb = $2; next }
  $1 == "F" { if (k != "" && fb == "") fb = $2; next }
  function fin() {
      if (!idle) { skipped++; return }
      if (fo == "") { missing++; return }
      print "fo", (fo - k) * 1000
      if (fb != "") print "fb", (fb - k) * 1000
  }
  END { if (k != "") fin(); print "skipped", skipped + 0; print "missing", missing + 0 }' >"$T/m"
stat() { # name -> "n median p99"
    awk -v w="$1" '$1 == w { print $2 }' "$T/m" | sort -g | awk '
      { v[NR] = $1 } END { if (!NR) { print 0, "-", "-"; exit }
        m = v[int((NR + 1) / 2)]; i = int(NR * 0.99 + 0.999); if (i > NR) i = NR
        printf "%d %.1f %.1f\n", NR, m, v[i] }'
}
read -r n fo_med fo_p99 <<<"$(stat fo)"
read -r nb fb_med fb_p99 <<<"$(stat fb)"
skipped=$(awk '$1 == "skipped" { print $2 }' "$T/m")
missing=$(awk '$1 == "missing" { print $2 }' "$T/m")
echo "bench_failover: $KILLS kills of the primary model server, every $EVERY s, under load"
printf '| measure | runs | median (ms) | p99 (ms) |\n|---|---|---|---|\n'
printf '| kill -> first request served by the standby | %s | %s | %s |\n' "$n" "$fo_med" "$fo_p99"
printf '| kill -> failback to the restarted primary | %s | %s | %s |\n' "$nb" "$fb_med" "$fb_p99"
echo "kills not counted (workers not yet back on the primary): $skipped; without any failover: $missing"
echo "run: $(grep -E 'passed|failed' "$T/out" | head -1)"
# Works check (not a timing threshold): every counted kill failed over.
if [ "$missing" != 0 ] || [ "$n" = 0 ]; then echo "FAIL: a kill of the primary found no standby serving"; exit 1; fi
exit 0
