# A busybox shell loop that appends to a file and syncs it (fsync), for
# the seccomp backend's end-to-end test (tests/e2e/seccomp_busybox.sh).
# Run as: busybox sh sc-writer.sh [INTERVAL_S]
# Every step prints one line to stdout (the log):
#   op=write|fsync n=N call=US done=US ok|failed
# with Unix microseconds before and after the operation (busybox's adjtimex
# prints the time to the microsecond; its date cannot).
F="$CHAOSRUN_RUN_DIR/data/bb.dat"
mkdir -p "$CHAOSRUN_RUN_DIR/data"
: >"$F"
now_us() {
    set -- $(busybox adjtimex | busybox grep 'time\.tv_')
    printf '%s%06d\n' "$2" "$4"
}
trap 'echo "writer stopping"; exit 0' TERM INT
echo "busybox writer ready file=$F"
i=0
while :; do
    i=$((i + 1))
    c=$(now_us)
    if echo "record $i" >>"$F" 2>/dev/null; then r=ok; else r=failed; fi
    d=$(now_us)
    echo "op=write n=$i call=$c done=$d $r"
    c=$(now_us)
    if busybox sync "$F" 2>/dev/null; then r=ok; else r=failed; fi
    d=$(now_us)
    echo "op=fsync n=$i call=$c done=$d $r"
    busybox usleep "${1:-20000}"
done
