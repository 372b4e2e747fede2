#!/bin/bash
# Overhead of services in containers vs processes (issue 17, "Measured"):
# the same small scenario (one cr_tgt_server, ready by tcp, a 1 s
# timeline, no fault, no drain) run as a process and as a podman+runc
# container, alternating, REPS times each.  Per run, from chaosrun's
# stderr lines stamped as they arrive:
#   start->t0   chaosrun started .. "t0: every service ready"
#   stop->done  "timeline over" .. chaosrun exited (services stopped,
#               containers removed)
# Prints the medians side by side and their ratio.  Needs root, podman,
# runc, busybox-static (like tests/e2e/container_faults.sh); uses port
# 18487: run it under the machine-wide lock or in a network namespace.
#   bash tests/bench/bench_ctr.sh [REPS] [BINDIR]
set -e
REPS=${1:-5}
BIN=${2:-$(cd "$(dirname "$0")/../../build/bin" 2>/dev/null && pwd)}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
CHAOSRUN=$BIN/chaosrun
E2E_TMP=$(mktemp -d /tmp/bench_ctr.XXXXXX)
. "$SRC/tests/e2e/container_lib.inc"
ctr_preflight
trap 'ctr_cleanup; rm -rf "$E2E_TMP"' EXIT
IMG=crbench$$
ctr_image "$IMG" "$BIN/cr_tgt_server"

scen() { # scen FILE container|process
    local svc
    if [ "$2" = container ]; then
        svc="\"container\": {\"image\": \"localhost/$IMG:e2e\", \"args\": [\"/bin/cr_tgt_server\"]}"
    else
        svc="\"cmd\": [\"$BIN/cr_tgt_server\"]"
    fi
    cat >"$1" <<EOF
{"name": "bench-ctr-$2", "seed": 1, "duration_s": 1, "drain_s": 0,
 "services": [{"name": "api", "port": 18487, $svc, "ready": {"kind": "tcp"}}]}
EOF
}
scen "$E2E_TMP/process.json" process
scen "$E2E_TMP/container.json" container

now() { date +%s.%N; }
# one KIND N: appends "start_t0 stop_done" to $E2E_TMP/KIND.
one() {
    local s t0="" stop="" line
    s=$(now)
    while IFS= read -r line; do
        case $line in
        *"t0: every service ready"*) t0=$(now) ;;
        *"timeline over"*) stop=$(now) ;;
        esac
    done < <("$CHAOSRUN" --no-status --out "$E2E_TMP/run-$1-$2" "$E2E_TMP/$1.json" 2>&1 >/dev/null)
    local d
    d=$(now)
    [ -n "$t0" ] && [ -n "$stop" ] || { echo "run $1 $2 failed" >&2; exit 1; }
    echo "$t0 $s $d $stop" | awk '{printf "%.3f %.3f\n", $1-$2, $3-$4}' >>"$E2E_TMP/$1"
}
for i in $(seq "$REPS"); do
    one process "$i"
    one container "$i"
done
med() { sort -n | awk '{a[NR]=$1} END{print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
printf '%-12s %-10s %-10s %s\n' "" process container "ratio"
for col in 1 2; do
    p=$(awk -v c=$col '{print $c}' "$E2E_TMP/process" | med)
    c=$(awk -v c=$col '{print $c}' "$E2E_TMP/container" | med)
    name=$([ $col = 1 ] && echo "start->t0" || echo "stop->done")
    printf '%-12s %-10s %-10s %s\n' "$name" "${p}s" "${c}s" "$(awk -v p="$p" -v c="$c" 'BEGIN{printf "%.1fx", c/p}')"
done
echo "(medians of $REPS alternating runs each; seconds)"
