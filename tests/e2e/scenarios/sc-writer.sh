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
# With STA_NANO (0x2000) in the kernel's time status -- any program may
# set it with adjtimex(ADJ_NANO), stress-ng's stressors among them -- the
# field named tv_usec holds nanoseconds.
now_us() {
    busybox adjtimex | busybox awk '/status:/ { s = $2 } /time\.tv_sec/ { t = $2 }
        /time\.tv_usec/ { u = $2 } END { if (int(s / 8192) % 2) u = int(u / 1000)
        printf "%s%06d\n", t, u }'
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
