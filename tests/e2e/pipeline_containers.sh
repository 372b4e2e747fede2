# End-to-end: the reference pipeline with every stage a container
# (scenarios/pipeline-containers.json, issue 17).  The image is built
# offline by sample_pipeline/scripts/build-image.sh under a name of this
# test's own ($CRP_IMAGE) and removed at the end.  Two runs side by side
# (each its own hosts, containers and run directory; no port of the
# harness's namespace is used):
#  1. the correct pipeline passes (the image looked up once for its six
#     services: podman's commands logged by a wrapper), and each fault
#     really happened: both workers ended by SIGKILL of their fault (seen
#     through the container's process) and came back, the queue container
#     frozen (no record accepted for most of the freeze: ingest cannot
#     commit to a frozen queue), the feature container partitioned away
#     and healed, the producer stopped by its fault;
#  2. CRP_DEFECT=ack_before_commit (given to every container through the
#     scenario's env): the killed workers had acknowledged the batch they
#     held, so no-loss fails (exit 1);
# and after both: no container, network namespace or process of either run
# is left, and the image is gone after the test's cleanup.
# Needs root, podman, runc and busybox-static (else 77 with the reason).
# ~2 min (118-121 s at load 12-16): 13-15 s for the image, the two runs
# side by side ~100 s.
set -e
. "$(dirname "$0")/pipeline_lib.sh"
. "$(dirname "$0")/container_lib.inc"
ctr_preflight
BGPIDS=""
trap 'for p in $BGPIDS; do kill -KILL $p 2>/dev/null || true; done; ctr_cleanup; rm -rf "$E2E_TMP"' EXIT
export CRP_IMAGE="localhost/chaosrun-crp:e2e$$"
set +e
bash "$CR_SRC/sample_pipeline/scripts/build-image.sh" podman "$CR_BIN" >"$E2E_TMP/image.out" 2>&1
brc=$?
set -e
CTR_IMAGES="$CTR_IMAGES $CRP_IMAGE"
if [ "$brc" = 3 ]; then
    echo "SKIPPED: $(cat "$E2E_TMP/image.out")"
    exit 77
fi
expect_eq "build-image.sh builds the image" 0 "$brc"
expect_true "a second build-image.sh finds it up to date" sh -c \
    "bash '$CR_SRC/sample_pipeline/scripts/build-image.sh' podman '$CR_BIN' | grep -q 'is up to date'"
echo "image built after ${SECONDS}s"

# podman as chaosrun finds it (in PATH), logging its commands (the correct
# run only): the image is looked up once for the six services that run it.
mkdir -p "$E2E_TMP/wrap"
cat >"$E2E_TMP/wrap/podman" <<EOF
#!/bin/sh
echo "\$*" >>"$E2E_TMP/podman.log"
exec $(command -v podman) "\$@"
EOF
chmod +x "$E2E_TMP/wrap/podman"

S="$SC/pipeline-containers.json"
OK="$E2E_TMP/ok" BAD="$E2E_TMP/pipeline-containers-ack_before_commit"
(
    set +e
    env -u CRP_DEFECT PATH="$E2E_TMP/wrap:$PATH" "$CHAOSRUN" --no-status --out "$OK" "$S" >"$OK.out" 2>"$OK.err"
    echo $? >"$OK.rc"
) &
BGPIDS="$BGPIDS $!"
(
    set +e
    CRP_DEFECT=ack_before_commit "$CHAOSRUN" --no-status --out "$BAD" "$S" >"$BAD.out" 2>"$BAD.err"
    echo $? >"$BAD.rc"
) &
BGPIDS="$BGPIDS $!"
wait $BGPIDS || true
BGPIDS=""
echo "both runs done after ${SECONDS}s"

# ---- 1. the correct pipeline -------------------------------------------------
RC=$(cat "$OK.rc")
ctr_skip_if_refused "$OK" "$RC"
expect_eq "pipeline-containers passes" 0 "$RC"
[ "$RC" = 0 ] || { sed -n '/: failed/,$p' "$OK.out" | head -30; tail -20 "$OK.err"; }
J="$OK/journal.json"
for f in kill-worker0 kill-worker1 freeze-queue cut-feature stop-producer; do
    expect_eq "$f applied" applied "$(jq -r ".faults[] | select(.name==\"$f\") | .outcome" "$J")"
done
for w in 0 1; do
    expect_eq "worker.$w ended by its kill, seen through its container's process" \
        "SIGKILL fault:kill-worker$w container process" \
        "$(jq -r --arg i "worker.$w" '[.services[] | select(.instance==$i) | .history[] | select(.what=="exit")][0] | "\(.signal) \(.cause) \(.seen_by)"' "$J")"
    expect_eq "worker.$w came back (1 restart)" 1 \
        "$(jq -r --arg i "worker.$w" '.services[] | select(.instance==$i) | .restarts' "$J")"
done
expect_eq "the producer was stopped by its fault" "0 fault:stop-producer" \
    "$(jq -r '[.services[] | select(.instance=="producer.0") | .history[] | select(.what=="exit")][0] | "\(.code) \(.cause)"' "$J")"
expect_eq "the freeze was undone" true \
    "$(jq -r '.faults[] | select(.name=="freeze-queue") | (.reverted_t != null and (.details.resumed | index("queue.0")) != null)' "$J")"
expect_eq "the partition cut both ways between feat and core and was undone" "feat->core,core->feat true" \
    "$(jq -r '.faults[] | select(.name=="cut-feature") | "\(.details.flows | join(",")) \(.reverted_t != null)"' "$J")"
expect_eq "the image was looked up once for its six services" 1 \
    "$(grep -c '^image inspect' "$E2E_TMP/podman.log")"
echo "podman commands of the run: $(wc -l <"$E2E_TMP/podman.log") ($(cut -d' ' -f1 "$E2E_TMP/podman.log" | sort | uniq -c | tr -s ' \n' ' '))"
# A frozen queue cannot commit: ingest accepts nothing for most of the
# freeze (only answers already on their way at its start may still be
# read).  The longest pause between accepted records that overlaps the
# freeze must cover at least half of its 3 s.
gap=$(jq -rs --slurpfile j "$J" '
    ($j[0].t0_unix) as $t0
    | ($j[0].faults[] | select(.name=="freeze-queue")) as $f
    | [.[] | select(.ev=="accepted") | .ts] | sort as $a
    | [range(1; $a | length) as $i
       | select($a[$i] > $t0 + $f.applied_t and $a[$i-1] < $t0 + $f.reverted_t)
       | $a[$i] - $a[$i-1]] | max // 0' "$OK/events.jsonl")
echo "longest pause between accepted records during the freeze: $gap s"
expect_true "no record accepted for >= 1.5 s of the queue's freeze ($gap s)" \
    awk -v g="$gap" 'BEGIN{exit !(g >= 1.5)}'

# ---- 2. the defect is caught -------------------------------------------------
RC=$(cat "$BAD.rc")
defect_verdict pipeline-containers ack_before_commit no-loss
[ "$RC" = 1 ] || tail -20 "$BAD.err"
expect_true "the defect run's kills struck too" test \
    "$(jq -r '[.faults[] | select(.name | startswith("kill-worker")) | .outcome] | join(" ")' "$BAD/journal.json")" = "applied applied"

# ---- nothing of the runs is left ---------------------------------------------
for o in "$OK" "$BAD"; do
    id=$(awk '$2=="container"{print $5; exit}' "$o/ledger" 2>/dev/null)
    expect_true "$(basename "$o"): the ledger recorded its containers" test -n "$id"
    expect_eq "$(basename "$o"): no container of the run left" "" \
        "$(podman ps -a --filter "label=chaosrun.run=$id" --format '{{.Names}}')"
    pre=$(sed -n 's/.*netns \(cr[0-9a-f]*\)-core.*/\1/p' "$o.err" | head -1)
    expect_true "$(basename "$o"): its hosts were named" test -n "$pre"
    expect_eq "$(basename "$o"): no network namespace of the run left" "" \
        "$(ip netns list | grep "^$pre-" || true)"
    expect_eq "$(basename "$o"): no process of the run left" "" "$(procs_of_run "$o")"
done
ctr_cleanup
expect_true "the test's image is removed" sh -c "! podman image exists '$CRP_IMAGE'"
echo "all done after ${SECONDS}s"
finish
