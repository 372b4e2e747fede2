# End-to-end: the seccomp backend on a C program that calls the kernel with
# raw syscall(SYS_write, ...) and syscall(SYS_pread64, ...).  With backend
# seccomp, io_error fails both with EIO inside the window and only there
# (on its data file; its log lines keep coming); the same program under
# backend auto is dynamically linked, so it gets libfiu -- and libfiu's
# wrappers never see a raw system call: not one of its calls fails.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sc_helpers.inc"
. "$(dirname "$0")/fiu_helpers.inc"
sc_require
fiu_require
S="$CR_SRC/tests/e2e/scenarios"

run_chaosrun "$E2E_TMP/raw" "$S/sc-rawsys.json"
expect_eq "raw-syscall scenario exits 0" 0 "$RC"
[ "$RC" = 0 ] || cat "$E2E_TMP/raw.err"
J="$E2E_TMP/raw/journal.json"
expect_eq "backends: seccomp as asked, libfiu by auto" "seccomp libfiu" \
    "$(jq -r '[.faults[].details.backend] | join(" ")' "$J")"
expect_true "auto says why: dynamically linked" \
    grep -q "cr_tgt_rawsys is dynamically linked: libfiu's preload reaches its C library calls" \
    <<<"$(jq -r '.faults[1].details.backend_reason' "$J")"

LOG="$E2E_TMP/raw/logs/raw.0.log"
read -r B A Z D <<<"$(sc_window "$J" eio raw.0)"
for op in write read; do
    C=$(sc_classify "$LOG" "$B" "$A" "$Z" "$D" $op)
    echo "seccomp io_error, $op: $C"
    expect_true "raw $op failed inside the window" test "$(sc_get "$C" fail_in)" -gt 20
    expect_eq "always with EIO" "EIO:$(sc_get "$C" fail_in) " "$(sed 's/.*errnos=//' <<<"$C")"
    expect_eq "no raw $op failed outside it" 0 "$(sc_get "$C" fail_out)"
    expect_eq "no raw $op succeeded inside it" 0 "$(sc_get "$C" ok_in)"
    expect_true "raw ${op}s succeeded before and after" test "$(sc_get "$C" ok_before)" -gt 20 -a "$(sc_get "$C" ok_after)" -gt 20
done
cw=$(sc_classify "$LOG" "$B" "$A" "$Z" "$D" write)
cr=$(sc_classify "$LOG" "$B" "$A" "$Z" "$D" read)
# Each count on its own: the window may open or close between a write and
# its read, so the two can differ by one.
expect_eq "journal: pread64 and write failed as often as the program saw" \
    "$(sc_get "$cw" fail_in) $(sc_get "$cr" fail_in)" \
    "$(jq -r '.faults[0].details.calls["raw.0"] | "\(.write.failed) \(.pread64.failed)"' "$J")"
expect_true "it kept logging inside the window (stdout is not under data/)" \
    test "$(awk -v A="$A" -v Z="$Z" '/^op=/ { c = substr($3, 6) + 0; if (c > A && c < Z) n++ } END { print n + 0 }' "$LOG")" -gt 40

LOG="$E2E_TMP/raw/logs/rawfiu.0.log"
read -r B A Z D <<<"$(fiu_window "$J" eio-fiu rawfiu.0)"
expect_eq "libfiu armed it (every reply 0)" "[0]" "$(jq -c '[.faults[1].details.armed[].replies[]] | unique' "$J")"
C=$(sc_classify "$LOG" "$B" "$A" "$Z" "$D")
echo "libfiu io_error: $C"
expect_true "raw calls inside libfiu's window ($(sc_get "$C" ok_in))" test "$(sc_get "$C" ok_in)" -gt 40
expect_eq "none of them failed: LD_PRELOAD does not see raw syscalls" "0 0" \
    "$(sc_get "$C" fail_in) $(sc_get "$C" fail_out)"
expect_true "no process of the run left" test -z "$(procs_of_run "$E2E_TMP/raw")"
finish
