# End-to-end: syscall faults on a service in a container (podman + runc,
# an image built offline) through the seccomp backend: chaosrun gives
# podman a seccomp profile made from podman's default one, with the
# fault's calls as SCMP_ACT_NOTIFY and a listenerPath in the run
# directory; runc hands the filter's listener there at the container's
# start, and the run's supervisor answers it.
#  1. tests/e2e/scenarios/container-syscall.json: the writer's fsync fails
#     with EIO inside the two windows only (every failure EIO) and
#     succeeds between and after; the second window follows a SIGKILL and
#     restart of the container, so the new container's listener came with
#     its start; the journal says backend seccomp and why; the profile
#     notifies fsync and no longer allows it otherwise;
#  2. a call podman's profile allows only under conditions (personality:
#     by its argument) is refused with exit 3 before anything starts --
#     a notify rule would lift the restriction;
#  3. backend "libfiu" on a container: exit 3 (its preload is not in the
#     image).
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/container_lib.inc"
S="$CR_SRC/tests/e2e/scenarios"
ctr_preflight
[ -r /usr/share/containers/seccomp.json ] ||
    { echo "SKIPPED: podman's default seccomp profile is missing (containers-common)"; exit 77; }
trap 'ctr_cleanup; rm -rf "$E2E_TMP"' EXIT
IMG=crsc$$
ctr_image "$IMG" "$CR_BIN/cr_tgt_hog"
export CR_CTR_IMAGE="localhost/$IMG:e2e"

# ---- 1. fsync fails with EIO in the window, from inside the container -----
out="$E2E_TMP/sc"
run_chaosrun "$out" "$S/container-syscall.json"
ctr_skip_if_refused "$out" "$RC"
expect_eq "the container syscall scenario passes" 0 "$RC"
[ "$RC" = 0 ] || { cat "$out.err"; }
J="$out/journal.json"
F='.faults[] | select(.name == "fsync-eio")'
expect_eq "applied through the seccomp backend" "applied seccomp" \
    "$(jq -r "$F | \"\\(.outcome) \\(.details.backend)\"" "$J")"
expect_true "the journal says why (a container)" \
    jq -e "$F | .details.backend_reason | test(\"runs in a container\")" "$J"
T0=$(jq .t0_unix "$J")
# From the apply's start: the supervisor fails calls once armed, before
# the apply returns and applied_t is taken.
win() { jq -r --argjson t0 "$T0" ".faults[] | select(.name == \"$1\") | \"\\(\$t0 + .apply_began_t) \\(\$t0 + .reverted_t + 0.1)\"" "$J"; }
read -r a1 r1 <<<"$(win fsync-eio)"
read -r a2 r2 <<<"$(win fsync-eio-again)"
read -r outside not_eio in1 in2 between <<<"$(jq -s -r --argjson a1 "$a1" --argjson r1 "$r1" \
    --argjson a2 "$a2" --argjson r2 "$r2" '
  [.[] | select(.ev == "write_failed")] as $f
  | "\([$f[] | select((.ts < $a1 or .ts > $r1) and (.ts < $a2 or .ts > $r2))] | length) \([$f[] | select(.errno != "Input/output error")] | length) \([$f[] | select(.ts >= $a1 and .ts <= $r1)] | length) \([$f[] | select(.ts >= $a2 and .ts <= $r2)] | length) \([.[] | select(.ev == "written" and .ts > $r1 and .ts < $a2)] | length)"' \
  "$out/events.jsonl")"
expect_true "fsync failed inside the container in the first window ($in1)" test "$in1" -ge 5
expect_true "and in the restarted container's window ($in2)" test "$in2" -ge 5
expect_eq "none outside the windows" 0 "$outside"
expect_eq "every one EIO" 0 "$not_eio"
expect_true "it wrote between the windows ($between)" test "$between" -ge 3
expect_eq "the kill's exit, then one restart" "SIGKILL 1" \
    "$(jq -r '"\([.services[0].history[] | select(.what=="exit")][0].signal) \(.services[0].restarts)"' "$J")"
P="$out/seccomp-writer.json"
expect_true "the profile notifies fsync" \
    jq -e '[.syscalls[] | select(.action == "SCMP_ACT_NOTIFY") | .names[]] == ["fsync"]' "$P"
expect_true "and allows it nowhere else" \
    jq -e '[.syscalls[] | select(.action != "SCMP_ACT_NOTIFY") | .names[] | select(. == "fsync")] == []' "$P"
expect_eq "its listener path is the run's socket" "$out/sc-writer.sock" "$(jq -r .listenerPath "$P")"
expect_eq "the run's container is gone" "" \
    "$(podman ps -a --filter "label=chaosrun.run=$(awk '$2=="container"{print $5; exit}' "$out/ledger")" --format '{{.Names}}')"

# ---- 2. a call podman's profile restricts: exit 3 ---------------------------
jq '.faults[0].syscalls = ["personality"]' "$S/container-syscall.json" >"$E2E_TMP/pers.json"
run_chaosrun "$E2E_TMP/pers" "$E2E_TMP/pers.json"
expect_eq "a call the engine's profile restricts: exit 3" 3 "$RC"
expect_true "naming the call and why" grep -q "personality is restricted by the engine's seccomp profile" "$E2E_TMP/pers.err"

# ---- 3. libfiu on a container: exit 3 ---------------------------------------
jq '.faults[0] |= (del(.syscalls) | .backend = "libfiu" | .points = ["posix/io/sync/fsync"])' \
    "$S/container-syscall.json" >"$E2E_TMP/fiu.json"
run_chaosrun "$E2E_TMP/fiu" "$E2E_TMP/fiu.json"
expect_eq "backend libfiu on a container: exit 3" 3 "$RC"
expect_true "saying why" grep -q "runs in a container, where only the seccomp backend" "$E2E_TMP/fiu.err"
finish
