# Helpers for the syscall-fault end-to-end tests (sourced after lib.sh).

# Skip when libfiu's preload libraries are missing (the fault itself then
# exits 3, which fiu_faults.sh checks on its own).
fiu_require() {
    local d=${CHAOSRUN_FIU_DIR:-/usr/lib/fiu}
    if [ ! -r "$d/fiu_run_preload.so" ] || [ ! -r "$d/fiu_posix_preload.so" ]; then
        echo "SKIPPED: libfiu preload libraries not in $d (install fiu-utils libfiu-dev)"
        exit 77
    fi
}

# fiu_window JOURNAL FAULT INSTANCE: prints "BEGIN_US ARMED_US DISARM_BEGIN_US
# DISARMED_US" for the first arming of INSTANCE by FAULT (Unix microseconds).
fiu_window() {
    jq -r --arg f "$2" --arg i "$3" '
      .faults[] | select(.name == $f) | .details as $d |
      ([$d.armed[] | select(.instance == $i)][0]) as $a |
      ([$d.disarmed[] | select(.instance == $i and .pid == $a.pid)][0]) as $z |
      "\($a.begin_unix_us) \($a.unix_us) \($z.begin_unix_us) \($z.unix_us)"' "$1"
}

# fiu_classify EVENTS PID B A Z D OKEV FAILEV: counts, for one process, events
# OKEV/FAILEV by position against the window (microseconds):
#   fail_out: FAILEV outside [B-tol, D+tol]   ok_in: OKEV inside [A+tol, Z-tol]
#   fail_in, ok_before (< B), ok_after (> D).  tol = 50 ms for calls in flight.
fiu_classify() {
    jq -r --argjson pid "$2" --arg ok "$7" --arg bad "$8" '
      select(.pid == $pid and (.ev == $ok or .ev == $bad)) |
      "\(.ev) \(.ts * 1000000 | floor) \(.errno // "-")"' "$1" |
    awk -v B="$3" -v A="$4" -v Z="$5" -v D="$6" -v OK="$7" -v BAD="$8" '
      BEGIN { tol = 50000 }
      $1 == BAD { if ($2 < B - tol || $2 > D + tol) fo++; else fi++; e[$3]++ }
      $1 == OK { if ($2 > A + tol && $2 < Z - tol) oi++; if ($2 < B) ob++; if ($2 > D) oa++ }
      END { en = ""; for (k in e) en = en k ":" e[k] " ";
            printf "fail_in=%d fail_out=%d ok_in=%d ok_before=%d ok_after=%d errnos=%s\n",
                   fi, fo, oi, ob, oa, en }'
}
