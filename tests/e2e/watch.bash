#!/bin/bash
# Runs one end-to-end test script (ctest's command for every e2e test) with
# a deadline below ctest's own TIMEOUT.  A test that hangs is otherwise
# killed by ctest without a word about where it hung.  Past the deadline
# this prints, for every process the test started (its descendants): state,
# wait channel, the system call it is in and its threads' kernel stacks,
# and with gdb installed the user-space backtraces of chaosrun processes;
# then it ends them (TERM, then KILL after 5 s) and fails the test.
#
# Usage: watch.bash SCRIPT [ARGS...]
# CR_E2E_DEADLINE_S (default 570): the deadline, seconds.
deadline=${CR_E2E_DEADLINE_S:-570}
script=$1
shift

descendants() {
    # Every process whose parent chain reaches $1 (not $1 itself).
    ps -e -o pid=,ppid= | awk -v root="$1" '
        { p[$1] = $2 }
        END { for (x in p) { y = p[x]; while (y > 1) { if (y == root) { print x; break } y = p[y] } } }'
}

dump() {
    local root=$1 p t
    echo "=== watch.bash: $(basename "$script") still running after ${deadline} s; where its processes are:"
    for p in $root $(descendants "$root"); do
        [ -d /proc/$p ] || continue
        echo "--- pid $p ppid $(awk '{print $4}' /proc/$p/stat 2>/dev/null):" \
            "$(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null | cut -c1-200)"
        for t in /proc/$p/task/*; do
            echo "  tid ${t##*/} state $(awk '{print $3}' "$t/stat" 2>/dev/null)" \
                "wchan $(cat "$t/wchan" 2>/dev/null) syscall $(cut -d' ' -f1-3 "$t/syscall" 2>/dev/null)"
            sed 's/^/    /' "$t/stack" 2>/dev/null | head -12
        done
        case "$(cat /proc/$p/comm 2>/dev/null)" in
        chaosrun*)
            if command -v gdb >/dev/null; then
                timeout 30 gdb -q -batch -p "$p" -ex 'thread apply all bt' 2>&1 |
                    grep -E '^(Thread|#)' | head -80 | sed 's/^/    /'
            fi
            ;;
        esac
    done
}

holders() {
    # Processes with the test's output file open (a process the test left
    # behind holds it: its stdout or stderr).
    find /proc/[0-9]*/fd -maxdepth 1 -lname "$out" 2>/dev/null | cut -d/ -f3 | sort -u
}

# The test writes to a file, printed when it ends: a process it left behind
# holding ctest's output pipe would keep ctest waiting until its TIMEOUT.
out=$(mktemp /tmp/cr-e2e-out.XXXXXX)
# Each test in a network namespace of its own (as root, where unshare
# works): its loopback and its ports are its own, so tests that use the
# same fixed ports (the reference pipeline's 72xx) run side by side, and no
# test touches the machine's own network.  CR_E2E_NETNS=0: in the caller's
# namespace (then configure with -DCR_E2E_PORT_LOCKS=ON, so that ctest
# runs tests that share ports one at a time).
# A test that fetches what it needs from outside (a kernel from the Debian
# archive, a client from the npm registry) says so with a line
# "# e2e-netns: caller" and runs in the caller's namespace: in one of its
# own it could only skip (its fixed ports, if any, must then not collide).
run=(bash "$script" "$@")
if [ "${CR_E2E_NETNS:-1}" = 1 ] && [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null &&
    ! grep -q '^# e2e-netns: caller' "$script"; then
    run=(unshare -n bash -c 'ip link set lo up && exec bash "$@"' watch.bash "$script" "$@")
fi
"${run[@]}" >"$out" 2>&1 &
pid=$!
sleep "$deadline" </dev/null >/dev/null 2>&1 &
sleeper=$!
done_pid=
wait -n -p done_pid "$pid" "$sleeper"
rc=$?
if [ "$done_pid" = "$sleeper" ]; then
    cat "$out"
    dump "$pid"
    procs="$pid $(descendants "$pid")"
    kill -TERM $procs 2>/dev/null
    sleep 5
    kill -KILL $pid $(descendants "$pid") $procs 2>/dev/null
    wait "$pid" 2>/dev/null
    echo "=== watch.bash: FAIL: $(basename "$script") exceeded its deadline of ${deadline} s"
    rm -f "$out"
    exit 1
fi
kill "$sleeper" 2>/dev/null
wait "$sleeper" 2>/dev/null
cat "$out"
left=$(holders)
if [ -n "$left" ]; then
    echo "=== watch.bash: processes the test left running (they hold its output):"
    for p in $left; do
        echo "  $p $(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null | cut -c1-200)"
    done
    kill -TERM $left 2>/dev/null
fi
rm -f "$out"
exit "$rc"
