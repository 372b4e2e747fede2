# Shared helpers for the end-to-end tests (sourced, not run).
# ctest sets CR_SRC (source tree) and CR_BIN (build/bin).
set -u
CR_SRC=${CR_SRC:?CR_SRC not set}
CR_BIN=${CR_BIN:?CR_BIN not set}
CHAOSRUN="$CR_BIN/chaosrun"
export CHAOSRUN_BINDIR="$CR_BIN"
E2E_TMP=$(mktemp -d /tmp/cr_e2e.XXXXXX)
E2E_FAILS=0
E2E_PASSES=0
trap 'rm -rf "$E2E_TMP"' EXIT

command -v jq >/dev/null || { echo "SKIPPED: jq is not installed"; exit 77; }

pass() { E2E_PASSES=$((E2E_PASSES + 1)); echo "ok: $*"; }
fail() { E2E_FAILS=$((E2E_FAILS + 1)); echo "FAIL: $*"; }

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
    if [ "$2" = "$3" ]; then pass "$1 ($3)"; else fail "$1: expected '$2', got '$3'"; fi
}

# expect_true WHAT COMMAND...
expect_true() {
    local what=$1; shift
    if "$@" >/dev/null; then pass "$what"; else fail "$what"; fi
}

# run_chaosrun OUTDIR ARGS...: runs chaosrun, sets RC, keeps output in OUTDIR.out
run_chaosrun() {
    local out=$1; shift
    set +e
    "$CHAOSRUN" --no-status --out "$out" "$@" >"$out.out" 2>"$out.err"
    RC=$?
    set -e
}

# Processes whose environment names this run directory.
# One grep over every environ file (NUL-separated entries), not two
# processes per process: on a machine with many processes the old loop took
# seconds a call, and the tests that poll it ran into their timeout.
# grep and cut run without CHAOSRUN_RUN_DIR: a test that exported it would
# otherwise find them (they are among the processes they read).
procs_of_run() {
    # One shell without the variable runs both grep and cut.  With an `env
    # -u` on each side of the pipe, cut's side could still be `env` (its
    # environment holding the variable, where a test exported it) while
    # grep read the environments: in a shell that exported it, the old
    # form found that `env` in 14 of 300 calls beside a loaded suite, this
    # one in 0 of 300 (e2e pipeline_autoscale once reported a process
    # "left").
    env -u CHAOSRUN_RUN_DIR sh -c \
        'grep -lzxF "CHAOSRUN_RUN_DIR=$1" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3' \
        procs_of_run "$1"
    return 0
}

finish() {
    echo "$E2E_PASSES passed, $E2E_FAILS failed"
    [ "$E2E_FAILS" -eq 0 ]
}

# free_port FALLBACK: a loopback TCP port nothing listens on now (fixed ports
# collide with other runs on the same machine), else FALLBACK.
free_port() {
    local p
    for _ in $(seq 100); do
        p=$((20000 + RANDOM % 12000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
    done
    echo "$1"
}

# A CPU quota of 20 % judged from a loop's own CPU share (CPU time over
# wall time) before, inside and after the window: inside at most the quota
# (the kernel's bound, which other load can only lower).  The contrast --
# more after than inside -- says the quota, not the machine, held the loop
# back; it is judged only when the machine gave the loop more than the
# quota before the window (at load 10 it did not: then it shows nothing,
# and the kernel's throttled periods still say the quota bit).
# cpu_quota_checks WHAT BEFORE DURING AFTER
cpu_quota_checks() {
    expect_true "CPU share$1 inside the window at most the quota ($3; before $2, after $4)" \
        awk -v d="$3" 'BEGIN { exit !(d > 0 && d <= 0.26) }'
    if awk -v b="$2" 'BEGIN { exit !(b > 0.3) }'; then
        expect_true "more CPU after the window than inside it ($4 > $3)" \
            awk -v d="$3" -v a="$4" 'BEGIN { exit !(a > d) }'
    else
        echo "note: the loop had $2 of a CPU before the window: the machine, not the quota, bounds it; the contrast is not judged"
    fi
}
