#!/usr/bin/env bash
# Verdict stability: every shipped scenario, N seeds, once on a quiet
# machine and once beside a CPU hog that keeps every core busy
# (stress-ng --cpu <nproc>, started here and stopped after).  On the correct
# pipeline every run must pass; with each defect switch (the pairs the e2e
# tests check, read from tests/e2e/pipeline_*.sh `check_defect` lines) every
# run must fail the named expectation.  Prints a Markdown table with the
# pass rates and their 95 % Wilson intervals (the one to paste into
# tests/bench/README.md) and writes it to $OUT/stability.md.
#
#   CR_BIN=build/bin tests/bench/stability.sh [--seeds N] [--defect-seeds M]
#        [--only REGEX] [--no-load] [--no-quiet] [--no-defects] [--out DIR]
#        [--jobs J]
#   tests/bench/stability.sh --quick      (ctest: one short scenario, 2 seeds,
#                                          both columns; checks the script)
#
# Long: 23 scenarios x 20 seeds x 2 columns is several hours one at a time.
# Not in ctest except --quick.  One at a time (--jobs 1), every run of
# chaosrun holds /tmp/cr-e2e.lock (the e2e tests' lock) so nothing else on
# the machine uses the pipeline's fixed ports.  With --jobs J > 1 (root
# only) each scenario's seeds run in a network namespace of their own
# (unshare -n, loopback up), so J scenarios run at once without colliding
# on ports and without the lock; the columns stay apart (the quiet column
# first, then the loaded one with the hog running throughout).
set -u
SRC=${CR_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${CR_BIN:-$SRC/build/bin}
SEEDS=20 DSEEDS=5 ONLY='' LOAD=1 QUIET=1 DEFECTS=1 QUICK=0 JOBS=1 OUT_SET=0
OUT=${TMPDIR:-/tmp}/cr-stability.$$
while [ $# -gt 0 ]; do
    case $1 in
        --seeds) SEEDS=$2; shift ;;
        --defect-seeds) DSEEDS=$2; shift ;;
        --only) ONLY=$2; shift ;;
        --no-load) LOAD=0 ;;
        --no-quiet) QUIET=0 ;;
        --no-defects) DEFECTS=0 ;;
        --out) OUT=$2; OUT_SET=1; shift ;;
        --jobs|-j) JOBS=$2; shift ;;
        --quick) QUICK=1 ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        *) echo "stability.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
[ -x "$BIN/chaosrun" ] || { echo "SKIPPED: $BIN/chaosrun not built"; exit 77; }
mkdir -p "$OUT"
# Quick mode runs under ctest, whose RESOURCE_LOCK keeps other tests off
# the ports; the long mode takes the machine-wide lock for each run.
LOCK=/tmp/cr-e2e.lock
[[ "$JOBS" =~ ^[1-9][0-9]?$ ]] || { echo "stability.sh: --jobs takes 1..99" >&2; exit 2; }
if [ "$JOBS" -gt 1 ]; then
    [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null ||
        { echo "stability.sh: --jobs > 1 needs root and network namespaces (unshare -n)" >&2; exit 3; }
fi
locked() {
    if [ "$QUICK" = 1 ]; then "$@"
    elif [ "$JOBS" -gt 1 ]; then
        # a network namespace of its own: the fixed ports are private
        unshare -n sh -c 'ip link set lo up && exec "$@"' sh "$@"
    else flock "$LOCK" "$@"; fi
}

hog_pid=''
hog_start() {
    command -v stress-ng >/dev/null || { echo "SKIPPED: stress-ng not installed (the loaded column needs it)"; return 1; }
    stress-ng --cpu "$(nproc)" --quiet >/dev/null 2>&1 &
    hog_pid=$!
    sleep 1
}
hog_stop() {
    [ -n "$hog_pid" ] || return 0
    kill "$hog_pid" 2>/dev/null
    wait "$hog_pid" 2>/dev/null
    hog_pid=''
}
trap 'hog_stop' EXIT INT TERM

# wilson K N -> "lo–hi" in percent (95 %)
wilson() {
    awk -v k="$1" -v n="$2" 'BEGIN {
        if (n == 0) { print "-"; exit }
        z = 1.959964; p = k / n; d = 1 + z*z/n
        c = (p + z*z/(2*n)) / d
        h = z * sqrt(p*(1-p)/n + z*z/(4*n*n)) / d
        lo = c - h; hi = c + h; if (lo < 0) lo = 0; if (hi > 1) hi = 1
        printf "%.0f–%.0f %%", lo*100, hi*100 }'
}

# runs SCENARIO NSEEDS TAG [DEFECT CHECK] -> echo "K N": K = runs whose
# verdict was the expected one (correct: passed; defect: CHECK failed).
runs() {
    local sc=$1 n=$2 tag=$3 defect=${4:-} check=${5:-} k=0 dir
    dir="$OUT/$tag"
    rm -rf "$dir"
    if [ -n "$defect" ]; then export CRP_DEFECT=$defect; else unset CRP_DEFECT; fi
    locked "$BIN/chaosrun" --quiet --no-status --seeds "1..$n" --out "$dir" "$sc" \
        >"$dir.log" 2>&1
    unset CRP_DEFECT
    for j in "$dir"/seed-*/journal.json; do
        [ -f "$j" ] || continue
        if [ -z "$defect" ]; then
            [ "$(jq -r .status "$j")" = passed ] && k=$((k + 1))
        else
            [ "$(jq -r --arg c "$check" '.expectations[] | select(.name==$c) | .verdict' "$j")" = failed ] && k=$((k + 1))
        fi
    done
    echo "$k $n"
}

if [ "$QUICK" = 1 ]; then
    scenarios=("$SRC/scenarios/examples/kill-restart.json")
    SEEDS=2 DEFECTS=0
else
    scenarios=()
    # Every shipped scenario but the hour-long soak (scenarios/long/): the
    # reference pipeline's and the examples (JSON; kill-restart.yaml is
    # kill-restart.json written in YAML).
    for f in "$SRC"/scenarios/*.json "$SRC"/scenarios/examples/*.json; do
        [ -n "$ONLY" ] && ! [[ "$(basename "$f" .json)" =~ $ONLY ]] && continue
        scenarios+=("$f")
    done
fi

# pipeline-containers runs containers of an image built offline
# ($CRP_IMAGE, default localhost/chaosrun-crp:dev; idempotent: nothing is
# done when it is up to date).  Without it the scenario is unrunnable.
for f in "${scenarios[@]}"; do
    [ "$(basename "$f")" = pipeline-containers.json ] || continue
    bash "$SRC/sample_pipeline/scripts/build-image.sh" podman "$BIN" >&2 ||
        echo "note: no image: pipeline-containers will be unrunnable" >&2
done

defect_pairs=()
if [ "$DEFECTS" = 1 ]; then
    # check_defect SCEN DEFECT CHECK, or check_defects SCEN D1 C1 D2 C2 ...
    while read -r _ s rest; do
        [ -n "$ONLY" ] && ! [[ "$s" =~ $ONLY ]] && continue
        set -- $rest
        while [ $# -ge 2 ]; do
            defect_pairs+=("$s $1 $2")
            shift 2
        done
    done < <(grep -hE '^check_defects? ' "$SRC"/tests/e2e/pipeline_*.sh)
fi

# A pool of $JOBS jobs; each writes "K N" to $OUT/<tag>.res.
pool=()
pool_wait() {  # until fewer than $1 jobs run
    local live p
    while :; do
        live=()
        for p in "${pool[@]}"; do kill -0 "$p" 2>/dev/null && live+=("$p"); done
        pool=("${live[@]}")
        [ "${#pool[@]}" -lt "$1" ] && return
        sleep 1
    done
}
job() {  # TAG SCENARIO NSEEDS [DEFECT CHECK]
    local tag=$1; shift
    pool_wait "$JOBS"
    ( res=$(runs "$1" "$2" "$tag" "${3:-}" "${4:-}")
      echo "$res" >"$OUT/$tag.res"
      echo "  $tag: $res" >&2 ) &
    pool+=("$!")
}
column() {  # COLUMN (quiet|loaded)
    local sc name pair s d c
    for sc in "${scenarios[@]}"; do
        name=$(basename "$sc" .json)
        job "$name-$1" "$sc" "$SEEDS"
    done
    for pair in "${defect_pairs[@]}"; do
        read -r s d c <<<"$pair"
        job "$s-$d-$1" "$SRC/scenarios/$s.json" "$DSEEDS" "$d" "$c"
    done
    pool_wait 1
}
res() { cat "$OUT/$1.res" 2>/dev/null || echo "0 0"; }

if [ "$QUIET" = 1 ]; then
    echo "quiet column (jobs: $JOBS)" >&2
    column quiet
fi
loaded=0
if [ "$LOAD" = 1 ] && hog_start; then
    echo "loaded column: stress-ng --cpu $(nproc) beside (jobs: $JOBS)" >&2
    column loaded
    hog_stop
    loaded=1
fi

table="$OUT/stability.md"
{
    echo "| scenario | quiet: passed | 95 % CI | loaded: passed | 95 % CI |"
    echo "|---|---:|---|---:|---|"
} >"$table"
fail=0
for sc in "${scenarios[@]}"; do
    name=$(basename "$sc" .json)
    read -r kq nq < <(res "$name-quiet")
    kl=0 nl=0
    [ "$loaded" = 1 ] && read -r kl nl < <(res "$name-loaded")
    [ "$QUIET" = 0 ] || { [ "$nq" -gt 0 ] && [ "$kq" = "$nq" ]; } || fail=1
    [ "$loaded" = 0 ] || { [ "$nl" -gt 0 ] && [ "$kl" = "$nl" ]; } || fail=1
    row="| $name | "
    if [ "$nq" -gt 0 ]; then row+="$kq/$nq | $(wilson "$kq" "$nq") | "; else row+="- | - | "; fi
    if [ "$nl" -gt 0 ]; then row+="$kl/$nl | $(wilson "$kl" "$nl") |"; else row+="- | - |"; fi
    echo "$row" | tee -a "$table"
done

if [ "${#defect_pairs[@]}" -gt 0 ]; then
    {
        echo
        echo "| scenario | defect switch | expectation | caught, quiet | caught, loaded |"
        echo "|---|---|---|---:|---:|"
    } | tee -a "$table"
    for pair in "${defect_pairs[@]}"; do
        read -r s d c <<<"$pair"
        read -r kq nq < <(res "$s-$d-quiet")
        kl=0 nl=0
        [ "$loaded" = 1 ] && read -r kl nl < <(res "$s-$d-loaded")
        [ "$QUIET" = 0 ] || { [ "$nq" -gt 0 ] && [ "$kq" = "$nq" ]; } || fail=1
        [ "$loaded" = 0 ] || { [ "$nl" -gt 0 ] && [ "$kl" = "$nl" ]; } || fail=1
        lcol="-"; [ "$loaded" = 1 ] && lcol="$kl/$nl"
        qcol="-"; [ "$QUIET" = 1 ] && qcol="$kq/$nq"
        echo "| $s | $d | $c | $qcol | $lcol |" | tee -a "$table"
    done
fi
echo
if [ "$QUICK" = 1 ] && [ "$OUT_SET" = 0 ]; then
    # (ctest's quick run: its runs in a directory of its own, not kept)
    rm -rf "$OUT"
    echo "quick run: $OUT removed"
else
    echo "table: $table (runs under $OUT)"
fi
exit $fail
