# End-to-end: the syscall fault's other behaviours.
#   count: 1 fails exactly one call; oom is survived by a program that
#   handles NULL; every replica is armed and a replica restarted inside the
#   window is armed again; a static program and missing libfiu libraries
#   are refused before the run (exit 3); invalid parameters exit 2 with
#   the reason.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fiu_helpers.inc"
fiu_require
S="$CR_SRC/tests/e2e/scenarios"

# ---- count: 1 ----
run_chaosrun "$E2E_TMP/count" "$S/fiu-count.json"
expect_eq "count scenario exits 0" 0 "$RC"
J="$E2E_TMP/count/journal.json"
expect_eq "count recorded" 1 "$(jq -r '.faults[0].details.count' "$J")"
expect_eq "exactly one write failed" 1 \
    "$(jq -s '[.[] | select(.ev=="write_failed")] | length' "$E2E_TMP/count/events.jsonl")"
expect_eq "with EIO" EIO "$(jq -r 'select(.ev=="write_failed") | .errno' "$E2E_TMP/count/events.jsonl")"
PID=$(jq -r '.faults[0].details.armed[0].pid' "$J")
read -r B A Z D <<<"$(fiu_window "$J" one-eio writer.0)"
C=$(fiu_classify "$E2E_TMP/count/events.jsonl" "$PID" "$B" "$A" "$Z" "$D" write write_failed)
echo "count events: $C"
expect_true "the failure was inside the window" grep -q "fail_in=1 fail_out=0" <<<"$C"
expect_true "writes went on succeeding in the window" test "$(grep -o 'ok_in=[0-9]*' <<<"$C" | cut -d= -f2)" -gt 20

# ---- oom ----
run_chaosrun "$E2E_TMP/oom" "$S/fiu-oom.json"
expect_eq "oom scenario exits 0" 0 "$RC"
J="$E2E_TMP/oom/journal.json"
expect_eq "oom points" "libc/mm/malloc libc/mm/calloc libc/mm/realloc" \
    "$(jq -r '.faults[0].details.points | join(" ")' "$J")"
nf=$(jq -s '[.[] | select(.ev=="alloc_failed" and .errno=="ENOMEM")] | length' "$E2E_TMP/oom/events.jsonl")
expect_true "allocations failed with ENOMEM ($nf)" test "$nf" -gt 10
expect_eq "the survivor exited only when stopped, with 0" "stop 0" \
    "$(jq -r '[.services[0].history[] | select(.what=="exit")] | "\(.[0].cause) \(.[0].code)"' "$J")"
expect_eq "no restart" 0 "$(jq -r '.services[0].restarts' "$J")"
expect_true "it says it survived" grep -q "survived failures=$nf " "$E2E_TMP/oom/logs/survivor.0.log"
ok_after=$(jq -s --argjson d "$(jq '.faults[0].details.disarmed[0].unix_us' "$J")" \
    '[.[] | select(.ev=="alloc_ok" and (.ts * 1000000) > $d)] | length' "$E2E_TMP/oom/events.jsonl")
expect_true "allocations work again after the window ($ok_after)" test "$ok_after" -gt 0

# ---- every replica, and a restart inside the window ----
run_chaosrun "$E2E_TMP/rep" "$S/fiu-replicas.json"
expect_eq "replicas scenario exits 0" 0 "$RC"
J="$E2E_TMP/rep/journal.json"
expect_eq "io armed both replicas at apply, and the restarted one" \
    "writer.0:false writer.1:false writer.1:true" \
    "$(jq -r '[.faults[] | select(.name=="io") | .details.armed[] | "\(.instance):\(.respawn // false)"] | join(" ")' "$J")"
NEWPID=$(jq -r '.faults[] | select(.name=="io") | .details.armed[] | select(.respawn) | .pid' "$J")
OLDPID=$(jq -r '.faults[] | select(.name=="io") | .details.armed[] | select(.instance=="writer.1" and (.respawn|not)) | .pid' "$J")
expect_eq "the restarted process is the replica's new pid" \
    "$(jq -r '.services[] | select(.instance=="writer.1") | [.history[] | select(.what=="start")][1].pid' "$J")" "$NEWPID"
expect_eq "the old process is noted as exited at revert" exited \
    "$(jq -r --argjson p "$OLDPID" '.faults[] | select(.name=="io") | .details.disarmed[] | select(.pid==$p) | .note' "$J")"
EV="$E2E_TMP/rep/events.jsonl"
for p in "$OLDPID" "$NEWPID" "$(jq -r '.faults[] | select(.name=="io") | .details.armed[0].pid' "$J")"; do
    n=$(jq -s --argjson p "$p" '[.[] | select(.pid==$p and .ev=="write_failed" and .errno=="EIO")] | length' "$EV")
    expect_true "process $p saw EIO ($n)" test "$n" -gt 5
done
read -r B A Z D <<<"$(jq -r '.faults[] | select(.name=="io") | .details | [.armed[] | select(.respawn)][0] as $a |
    [.disarmed[] | select(.pid == $a.pid)][0] as $z | "\($a.begin_unix_us) \($a.unix_us) \($z.begin_unix_us) \($z.unix_us)"' "$J")"
C=$(fiu_classify "$EV" "$NEWPID" "$B" "$A" "$Z" "$D" write write_failed write)
echo "restarted replica: $C"
expect_true "restarted replica's writes failed only while armed" grep -q "fail_out=0 ok_in=0" <<<"$C"
W0=$(jq -r '.faults[] | select(.name=="sync") | .details.armed[0].pid' "$J")
expect_true "fsync_fail made writer.0's fsync fail with EIO" test \
    "$(jq -s --argjson p "$W0" '[.[] | select(.pid==$p and .op=="fsync" and .ev=="write_failed" and .errno=="EIO")] | length' "$EV")" -gt 3
expect_eq "but not writer.1's (io_error has no fsync)" 0 \
    "$(jq -s --argjson a "$OLDPID" --argjson b "$NEWPID" '[.[] | select((.pid==$a or .pid==$b) and .op=="fsync" and .ev=="write_failed")] | length' "$EV")"
expect_eq "the bystander service was not faulted" 0 \
    "$(jq -s '[.[] | select(.svc=="bystander" and .ev=="write_failed")] | length' "$EV")"
expect_eq "the preload was set up once, for writer only" "syscall: writer runs under libfiu" \
    "$(jq -r '[.log[] | .text | select(test("runs under libfiu"))] | map(sub(" [(].*"; "")) | join("|")' "$J")"
expect_true "the bystander ran without the preload" grep -q "writer ready .* preload=none" "$E2E_TMP/rep/logs/bystander.0.log"
expect_true "the writers ran with it" grep -q "writer ready .* preload=.*fiu_run_preload.so .*fiu_posix_preload.so" "$E2E_TMP/rep/logs/writer.0.log"
expect_true "fsync_fail reached writer.0 only" test "$(jq -r '.faults[] | select(.name=="sync") | [.details.armed[].instance] | unique | join(",")' "$J")" = writer.0
expect_true "no process of the run left" test -z "$(procs_of_run "$E2E_TMP/rep")"

# ---- a #! wrapper script with the real program as its child ----
run_chaosrun "$E2E_TMP/wrap" "$S/fiu-wrapper.json"
expect_eq "wrapper scenario exits 0" 0 "$RC"
J="$E2E_TMP/wrap/journal.json"
expect_eq "both processes of the replica armed" 2 "$(jq '[.faults[0].details.armed[].pid] | unique | length' "$J")"
expect_eq "the shell first (the replica's pid)" "$(jq -r '.services[0].history[0].pid' "$J")" \
    "$(jq -r '.faults[0].details.armed[0].pid' "$J")"
WP=$(jq -r '.faults[0].details.armed[1].pid' "$J")
read -r B A Z D <<<"$(jq -r --argjson p "$WP" '.faults[0].details as $d | ($d.armed[] | select(.pid==$p)) as $a |
    ($d.disarmed[] | select(.pid==$p)) as $z | "\($a.begin_unix_us) \($a.unix_us) \($z.begin_unix_us) \($z.unix_us)"' "$J")"
C=$(fiu_classify "$E2E_TMP/wrap/events.jsonl" "$WP" "$B" "$A" "$Z" "$D" write write_failed)
echo "wrapped writer: $C"
expect_true "the child saw ENOSPC only in the window" grep -q "fail_out=0 ok_in=0" <<<"$C"
expect_true "and did see it" test "$(grep -o 'fail_in=[0-9]*' <<<"$C" | cut -d= -f2)" -gt 20
expect_true "the service's own LD_PRELOAD came first" \
    grep -q "preload=libm.so.6 .*/fiu_run_preload.so .*/fiu_posix_preload.so" "$E2E_TMP/wrap/logs/w.0.log"

# ---- a failure to arm is the fault's outcome ----
run_chaosrun "$E2E_TMP/unarm" "$S/fiu-unarmable.json"
J="$E2E_TMP/unarm/journal.json"
expect_eq "fault outcome failed" failed "$(jq -r '.faults[0].outcome' "$J")"
expect_true "error says nobody answered ($(jq -r '.faults[0].error' "$J"))" \
    grep -q "nobody listening" <<<"$(jq -r '.faults[0].error' "$J")"
expect_eq "the process is listed under errors" "$(jq -r '.services[0].history[0].pid' "$J")" \
    "$(jq -r '.faults[0].details.errors[0].pid' "$J")"
expect_eq "and the writer saw no failure" 0 \
    "$(jq -s '[.[] | select(.ev=="write_failed")] | length' "$E2E_TMP/unarm/events.jsonl")"

# ---- a paused replica is not armed ----
run_chaosrun "$E2E_TMP/paused" "$S/fiu-paused.json"
J="$E2E_TMP/paused/journal.json"
expect_eq "syscall on a paused replica: outcome failed" failed \
    "$(jq -r '.faults[] | select(.name=="df") | .outcome' "$J")"
expect_true "skipped as paused" grep -q "paused" \
    <<<"$(jq -r '.faults[] | select(.name=="df") | .details.skipped[0].reason' "$J")"
expect_eq "no write failed" 0 "$(jq -s '[.[] | select(.ev=="write_failed")] | length' "$E2E_TMP/paused/events.jsonl")"

# ---- refused before the run ----
run_chaosrun "$E2E_TMP/static" "$S/fiu-static.json"
expect_eq "static program: exit 3" 3 "$RC"
expect_true "reason names the static program" grep -q "cr_tgt_fiustatic is statically linked; LD_PRELOAD (libfiu) cannot reach it" \
    "$E2E_TMP/static.out" "$E2E_TMP/static.err"
expect_eq "journal status unrunnable" unrunnable "$(jq -r .status "$E2E_TMP/static/journal.json")"
expect_true "the static program was never started" test -z "$(procs_of_run "$E2E_TMP/static")"

CHAOSRUN_FIU_DIR=/nonexistent/fiu run_chaosrun "$E2E_TMP/nolib" "$S/fiu-count.json"
expect_eq "no libfiu: exit 3" 3 "$RC"
expect_true "reason names the packages" grep -q "fiu-utils and libfiu-dev" "$E2E_TMP/nolib.out" "$E2E_TMP/nolib.err"

# ---- invalid parameters: exit 2 with the reason ----
bad() { # NAME FAULT-JSON EXPECTED-TEXT
    sed "s#\"faults\": \[.*#\"faults\": [$2]}#" >"$E2E_TMP/$1.json" <<EOS
{"name": "bad", "seed": 1, "duration_s": 1, "services": [{"name": "w", "cmd": ["$CR_BIN/cr_tgt_fiuwriter"]}], "faults": [x]}
EOS
    run_chaosrun "$E2E_TMP/$1" "$E2E_TMP/$1.json"
    expect_eq "$1: exit 2" 2 "$RC"
    expect_true "$1: says '$3'" grep -qF "$3" "$E2E_TMP/$1.out" "$E2E_TMP/$1.err"
}
bad errno '{"kind":"syscall","target":"w","points":"posix/io/rw/read","errno":"ENOSPC","for_s":1}' \
    "errno ENOSPC cannot be returned by posix/io/rw/read"
bad count '{"kind":"syscall","target":"w","backend":"libfiu","preset":"io_error","count":2,"for_s":1}' \
    'count above 1 (libfiu fails once or always) needs backend "seccomp" (or "auto"), not "libfiu"'
bad both '{"kind":"syscall","target":"w","preset":"oom","points":"libc/mm/malloc","for_s":1}' "exactly one of"
bad preset '{"kind":"syscall","target":"w","preset":"disk-full","for_s":1}' 'unknown preset "disk-full"'
bad point '{"kind":"syscall","target":"w","points":["posix/io/rw/wrte"],"for_s":1}' '"posix/io/rw/wrte" is not one'
bad errname '{"kind":"syscall","target":"w","points":"posix/io/rw/write","errno":"ENOSPACE","for_s":1}' 'unknown errno name "ENOSPACE"'
bad prob '{"kind":"syscall","target":"w","preset":"oom","probability":1.5,"for_s":1}' "probability"
bad nofor '{"kind":"syscall","target":"w","preset":"oom"}' "for_s"
finish
