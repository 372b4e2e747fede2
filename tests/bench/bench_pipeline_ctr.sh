#!/bin/bash
# Overhead of containers per scenario (issue 17, "Measured"): the reference
# pipeline's scenarios/pipeline-containers.json (every stage a podman+runc
# container) against its twin with every stage a process (the same
# services, hosts, faults and expectations; each "container" replaced by
# "cmd": crp with the same arguments), alternating, REPS runs each.  Per
# run, from its journal:
#   start->t0   started_at .. t0_unix (hosts, containers created, every
#               stage started and ready, the before-probes)
#   stop->end   the "stop" phase .. ended_at (stages stopped, containers
#               removed, hosts deleted)
# and the verdict.  Prints the medians side by side and their ratio, and
# every run's figures.  Needs root, podman, runc and busybox-static (the
# image is built by sample_pipeline/scripts/build-image.sh under a name of
# its own and removed at the end).  Every run is in a network namespace of
# its own (the services are on hosts anyway).
#   bash tests/bench/bench_pipeline_ctr.sh [REPS] [BINDIR]
set -eu
REPS=${1:-3}
BIN=${2:-$(cd "$(dirname "$0")/../../build/bin" 2>/dev/null && pwd)}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
CHAOSRUN=$BIN/chaosrun
E2E_TMP=$(mktemp -d /tmp/bench_pipeline_ctr.XXXXXX)
. "$SRC/tests/e2e/container_lib.inc"
ctr_preflight
command -v jq >/dev/null || { echo "SKIPPED: jq is not installed"; exit 77; }
export CRP_IMAGE="localhost/chaosrun-crp:bench$$"
trap 'podman rmi -f "$CRP_IMAGE" >/dev/null 2>&1 || true; rm -rf "$E2E_TMP"' EXIT
bash "$SRC/sample_pipeline/scripts/build-image.sh" podman "$BIN" >/dev/null
export CHAOSRUN_BINDIR=$BIN

C=$SRC/scenarios/pipeline-containers.json
P=$E2E_TMP/pipeline-processes.json
jq '.name = "pipeline-processes"
    | .services |= map(if .container then
        .cmd = ["${CHAOSRUN_BINDIR}/crp"] + .container.args[1:] | del(.container)
      else . end)' "$C" >"$P"

# one KIND FILE N: appends "verdict start_t0 stop_end" to $E2E_TMP/KIND.
one() {
    local out=$E2E_TMP/run-$1-$3
    unshare -n sh -c 'ip link set lo up && exec "$@"' sh \
        "$CHAOSRUN" --no-status --out "$out" "$2" >"$out.out" 2>&1 || true
    jq -r '"\(.status) \(.t0_unix - .started_at) \(.ended_at - .t0_unix - ([.phases[] | select(.name=="stop")][0].t))"' \
        "$out/journal.json" >>"$E2E_TMP/$1"
    rm -rf "$out" "$out.out"
}
for i in $(seq "$REPS"); do
    one processes "$P" "$i"
    one containers "$C" "$i"
done

median() { # median COLUMN FILE
    awk -v c="$1" '{print $c}' "$2" | sort -g | awk '{v[NR]=$1} END {
        if (NR % 2) printf "%.3f", v[(NR+1)/2]; else printf "%.3f", (v[NR/2]+v[NR/2+1])/2 }'
}
echo "runs (verdict start->t0 stop->end, seconds):"
for k in processes containers; do
    sed "s/^/  $k: /" "$E2E_TMP/$k"
done
echo
echo "| median of $REPS, load $(cut -d' ' -f1 /proc/loadavg) | processes | containers | ratio |"
echo "|---|---:|---:|---:|"
for col in 2 3; do
    p=$(median $col "$E2E_TMP/processes")
    c=$(median $col "$E2E_TMP/containers")
    name=$([ $col = 2 ] && echo "start->t0" || echo "stop->end")
    awk -v n="$name" -v p="$p" -v c="$c" 'BEGIN{printf "| %s | %s | %s | %.1fx |\n", n, p, c, c/p}'
done
