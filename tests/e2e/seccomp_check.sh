# End-to-end: what the seccomp backend refuses, before anything starts.
#   - a machine without seccomp user notification (simulated with
#     CHAOSRUN_SECCOMP_ACTIONS pointing at an actions list without
#     user_notif): exit 3, naming it; no service started;
#   - scenario errors, exit 2 at FILE:LINE:COLUMN: a misspelt system call
#     ("did you mean"), the oom preset with backend seccomp (and why), a
#     path filter on a call without a path or fd argument, keys one
#     backend cannot do with the other asked for;
#   - `chaosrun list` documents the new keys.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sc_helpers.inc"
sc_require
S="$CR_SRC/tests/e2e/scenarios"

echo "kill_process kill_thread trap errno trace log allow" >"$E2E_TMP/actions"
CHAOSRUN_SECCOMP_ACTIONS="$E2E_TMP/actions" run_chaosrun "$E2E_TMP/nonotif" "$S/sc-busybox.json"
expect_eq "no user notification: exit 3" 3 "$RC"
expect_true "the reason names it" grep -q "this kernel has no seccomp user notification (SECCOMP_RET_USER_NOTIF, Linux >= 5.5: $E2E_TMP/actions does not list user_notif)" \
    "$E2E_TMP/nonotif.out" "$E2E_TMP/nonotif.err"
expect_eq "journal status unrunnable" unrunnable "$(jq -r .status "$E2E_TMP/nonotif/journal.json")"
expect_eq "the service was never started" "[]" "$(jq -c '.services[0].history' "$E2E_TMP/nonotif/journal.json")"
expect_true "no process of the run left" test -z "$(procs_of_run "$E2E_TMP/nonotif")"

# validate: one scenario per mistake, each exit 2 with position and text.
bad() { # NAME FAULT-KEYS EXPECTED-TEXT
    cat >"$E2E_TMP/$1.json" <<EOS
{"name": "bad", "duration_s": 2,
 "services": [{"name": "w", "cmd": ["/bin/busybox", "sleep", "5"]}],
 "faults": [{"kind": "syscall", "target": "w", "at_s": 0.5, "for_s": 1,
             $2}]}
EOS
    set +e
    "$CHAOSRUN" validate "$E2E_TMP/$1.json" >"$E2E_TMP/$1.out" 2>&1
    local rc=$?
    set -e
    expect_eq "$1: exit 2" 2 "$rc"
    expect_true "$1: $3" grep -qF "$E2E_TMP/$1.json:4:" "$E2E_TMP/$1.out"
    expect_true "$1: says: $3" grep -qF "$3" "$E2E_TMP/$1.out"
    grep -F "$E2E_TMP/$1.json" "$E2E_TMP/$1.out" | head -2
}
bad typo '"syscalls": ["write", "fsycn"]' 'faults[0].syscalls[1]: unknown system call "fsycn" (did you mean "fsync"?)'
bad oom '"backend": "seccomp", "preset": "oom"' 'oom fails malloc, calloc and realloc, which are C library functions, not system calls: the seccomp backend cannot fail them'
bad nopath '"syscalls": ["getpid"], "path": "/data"' 'the path filter cannot judge getpid'
bad slowfiu '"backend": "libfiu", "preset": "slow_net"' 'slow_net needs backend "seccomp" (or "auto"), not "libfiu"'
bad both '"preset": "oom", "delay_ms": 10' 'delay_ms (libfiu cannot make calls slow) needs the seccomp backend, but oom needs libfiu'

"$CHAOSRUN" list >"$E2E_TMP/list.out" 2>&1 || true
for k in backend syscalls delay_ms jitter_ms path; do
    expect_true "chaosrun list documents $k" grep -q "$k" "$E2E_TMP/list.out"
done
finish
