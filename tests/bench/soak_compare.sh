#!/bin/bash
# soak_compare.sh OLD_BIN NEW_BIN OUT: the 2-minute variant of the soak
# scenario (the one e2e pipeline_soak runs, derived from
# scenarios/long/pipeline-soak.json) run by two chaosrun builds side by
# side, at the same time, each in a network namespace of its own (the
# pipeline's fixed ports are private there), with each chaosrun's memory
# sampled every 10 s (soak_rss.sh) and its peak taken by /usr/bin/time.  Writes OUT/{old,new}/ (run
# directories) and OUT/{old,new}.csv, and prints the two RSS series side
# by side.  Needs root (unshare -n) and both builds' crp.
set -eu
[ $# -eq 3 ] || { echo "usage: $0 OLD_BIN NEW_BIN OUT" >&2; exit 2; }
old=$1 new=$2 out=$3
src=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out"
# The same derivation as tests/e2e/pipeline_soak.sh.
jq '
  def scale: if type == "array" then map(. / 30) else . / 30 end;
  .duration_s = 120
  | .faults |= (map(select(((.name | test("^kill-worker-")) | not)
                           or ((.name[12:] | tonumber) % 3 != 2)))
      | map(if has("at_s") then .at_s |= scale else . end
            | if has("every_s") then .every_s |= scale else . end
            | if has("until_s") then .until_s |= scale else . end
            | if (.name | test("^kill-worker-"))
              then .at_s = [((.at_s[0] + .at_s[1]) / 2 - 1), ((.at_s[0] + .at_s[1]) / 2 + 1)]
              else . end
            | if .name == "feature-outage" then .for_s = 3.5 | .until_s = 100 else . end))
  | ([.faults[] | select(.name | test("^kill-worker-"))] | length) as $kills
  | .expect |= (map(select(.kind != "same_result"))
      | map(if .name == "workers-restarted" then .restarts.min = $kills
            elif .name == "soak-error-ratio" then .error_ratio_max = 0.15
            else . end))
' "$src/scenarios/long/pipeline-soak.json" >"$out/soak-2min.json"
export SOAK_PRODUCE_S=115 SOAK_TRAIN_EPOCHS=4 SOAK_STEP_DELAY_US=10000
unset CRP_DEFECT
pids=()
for side in old new; do
    bin=$old
    [ "$side" = new ] && bin=$new
    rm -rf "${out:?}/$side"
    CHAOSRUN_BINDIR=$bin unshare -n sh -c 'ip link set lo up && exec "$@"' sh \
        /usr/bin/time -f %M -o "$out/$side.maxrss" \
        "$bin/chaosrun" run --no-status --out "$out/$side" "$out/soak-2min.json" \
        >"$out/$side.out" 2>"$out/$side.err" </dev/null &
    pids+=($!)
done
for side in old new; do
    bin=$old
    [ "$side" = new ] && bin=$new
    c=
    while [ -z "$c" ]; do # until unshare's sh and time have exec'd it
        sleep 0.2
        c=$(pgrep -f -- "^$bin/chaosrun run --no-status --out $out/$side ") || :
    done
    "$src/tests/bench/soak_rss.sh" "$c" "$out/$side.csv" 10 &
done
rc=0
wait "${pids[0]}" || rc=$?
echo "old exit $rc"
rc=0
wait "${pids[1]}" || rc=$?
echo "new exit $rc"
wait
printf '%s\t%s\t%s\n' elapsed_s old_rss_mib new_rss_mib
join -t, -j 1 <(tail -n +2 "$out/old.csv" | cut -d, -f2,3 | sort -t, -k1,1) \
    <(tail -n +2 "$out/new.csv" | cut -d, -f2,3 | sort -t, -k1,1) |
    sort -t, -k1,1n | awk -F, '{ printf "%s\t%.1f\t%.1f\n", $1, $2 / 1024, $3 / 1024 }'
for side in old new; do
    # The peak over the whole run, judging and reports included (the
    # samples' VmHWM stops at the last sample).
    printf '%s: peak (max RSS at exit) %.1f MiB, %s events, status %s\n' "$side" \
        "$(awk '{ print $1 / 1024 }' "$out/$side.maxrss")" \
        "$(jq .events.count "$out/$side/journal.json")" "$(jq -r .status "$out/$side/journal.json")"
done
