# End-to-end: the seccomp backend on a Go program, built here from
# tests/e2e/scenarios/sc-dialer.go with Debian's golang-go (skipped, 77,
# without it).  The program dials itself every 20 ms.  backend auto must
# take seccomp and say it is a Go program (whether the build is static or,
# with cgo, dynamically linked: the Go runtime never calls the C library's
# connect); net_refused makes its dials fail with ECONNREFUSED inside the
# window and only there, and it recovers; then a connect fault with
# delay_ms 200, ETIMEDOUT and count 5 makes exactly its first five dials
# of that window slow and failed, and nothing else.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sc_helpers.inc"
sc_require
command -v go >/dev/null || { echo "SKIPPED: no Go compiler (Debian package golang-go)"; exit 77; }
S="$CR_SRC/tests/e2e/scenarios"

export SC_DIALER="$E2E_TMP/sc-dialer" SC_PORT
SC_PORT=$(free_port 27311)
if ! (cd "$E2E_TMP" && HOME="$E2E_TMP" GOCACHE="$E2E_TMP/gocache" GOPATH="$E2E_TMP/gopath" \
        GOFLAGS=-buildvcs=false go build -o "$SC_DIALER" "$S/sc-dialer.go") >"$E2E_TMP/go.log" 2>&1; then
    cat "$E2E_TMP/go.log"
    fail "go build"
    finish
fi
echo "built: $(file -b "$SC_DIALER" | cut -c1-80)"

run_chaosrun "$E2E_TMP/go" "$S/sc-go.json"
expect_eq "Go scenario exits 0" 0 "$RC"
[ "$RC" = 0 ] || cat "$E2E_TMP/go.err"
J="$E2E_TMP/go/journal.json"
LOG="$E2E_TMP/go/logs/dialer.0.log"
expect_eq "both windows applied" "applied applied" "$(jq -r '[.faults[].outcome] | join(" ")' "$J")"
expect_eq "auto took seccomp" seccomp "$(jq -r '.faults[0].details.backend' "$J")"
expect_true "because it is a Go program" \
    grep -q "sc-dialer is a Go program (its system calls do not go through the C library): LD_PRELOAD (libfiu) cannot reach" \
    <<<"$(jq -r '.faults[0].details.backend_reason' "$J")"
expect_eq "net_refused notifies connect only" '["connect"] ECONNREFUSED' \
    "$(jq -c -j '.faults[0].details.syscalls' "$J") $(jq -r '.faults[0].details.errno' "$J")"

read -r B1 A1 Z1 D1 <<<"$(sc_window "$J" refused dialer.0)"
read -r B2 A2 Z2 D2 <<<"$(sc_window "$J" timeouts dialer.0)"

# ---- net_refused ----
export SC_FROM=0 SC_TO=$B2
C=$(sc_classify "$LOG" "$B1" "$A1" "$Z1" "$D1" dial)
echo "net_refused: $C"
expect_true "dials were refused inside the window ($(sc_get "$C" fail_in))" test "$(sc_get "$C" fail_in)" -gt 20
expect_eq "every failure was ECONNREFUSED" "ECONNREFUSED:$(sc_get "$C" fail_in) " "$(sed 's/.*errnos=//' <<<"$C")"
expect_eq "no dial failed outside the window" 0 "$(sc_get "$C" fail_out)"
expect_eq "no dial succeeded inside the window" 0 "$(sc_get "$C" ok_in)"
expect_true "dials succeeded before it ($(sc_get "$C" ok_before))" test "$(sc_get "$C" ok_before)" -gt 10
expect_true "and it recovered after it ($(sc_get "$C" ok_after))" test "$(sc_get "$C" ok_after)" -gt 10
expect_eq "the journal counts every refused connect" "$(sc_get "$C" fail_in)" \
    "$(jq -r '.faults[0].details.calls["dialer.0"].connect.failed' "$J")"
nt=$(jq -r '.faults[0].details.faulted_by["dialer.0"].threads' "$J")
expect_true "faulted calls came from the runtime's threads ($nt)" test "$nt" -ge 1

# ---- delay, then ETIMEDOUT, for the first 5 connects ----
export SC_FROM=$D1 SC_TO=0
C=$(sc_classify "$LOG" "$B2" "$A2" "$Z2" "$D2" dial 200)
echo "timeouts: $C"
expect_eq "exactly five dials failed" 5 "$(sc_get "$C" fail_in)"
expect_eq "with ETIMEDOUT" "ETIMEDOUT:5 " "$(sed 's/.*errnos=//' <<<"$C")"
expect_eq "none outside the window" 0 "$(sc_get "$C" fail_out)"
# The window's first five: of the dials that ended after arming began, skip
# those that succeeded having started before it was armed (their connect
# may have come first); the next five failed.  A dial that started just
# before arming began can be one of the five (its connect came after).
first5=$(awk -v B="$B2" -v A="$A2" '/^op=dial/ { c = substr($3, 6) + 0; d = substr($4, 6) + 0
    if (d < B) next; if (n == 0 && $5 == "ok" && c < A) next; n++; if (n <= 5) printf "%s ", $5 }' "$LOG")
expect_eq "they were the window's first five" "failed failed failed failed failed " "$first5"
slow=$(awk -v B="$B2" '/^op=dial.* failed ETIMEDOUT/ { c = substr($3, 6) + 0; d = substr($4, 6) + 0; if (d - c >= 200000) n++ } END { print n + 0 }' "$LOG")
expect_eq "each held at least 200 ms" 5 "$slow"
expect_true "then the dials succeeded again, in the window too ($(sc_get "$C" ok_in))" test "$(sc_get "$C" ok_in)" -gt 0
expect_eq "journal: 5 delayed, 5 failed, count 5" "5 5 5" \
    "$(jq -r '.faults[1].details | "\(.totals.delayed) \(.totals.failed) \(.count)"' "$J")"
unset SC_FROM SC_TO
expect_true "no process of the run left" test -z "$(procs_of_run "$E2E_TMP/go")"
finish
