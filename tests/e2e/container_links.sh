# End-to-end: proxy links between containers on two network hosts
# (tests/e2e/scenarios/proxy-hosts-ctr.json, podman + runc, an image built
# offline with the two test programs).  The worker's container shares host
# a's namespace (--network ns:...), where the proxy makes the link's
# listener and its upstream connections: the same checks as proxy_hosts.sh
# (latency and down toxics, a partition of a from b cutting the proxied
# calls, the server seeing host a as its peer), and no container left.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/container_lib.inc"
. "$(dirname "$0")/proxy_hosts.inc"
command -v nft >/dev/null || { echo "SKIPPED: nft is not installed"; exit 77; }
ctr_preflight
trap 'ctr_cleanup; rm -rf "$E2E_TMP"' EXIT
IMG=crlinks$$
ctr_image "$IMG" "$CR_BIN/cr_tgt_server" "$CR_BIN/cr_tgt_retry_client"
export CR_CTR_IMAGE="localhost/$IMG:e2e"

out="$E2E_TMP/ctr"
run_chaosrun "$out" "$CR_SRC/tests/e2e/scenarios/proxy-hosts-ctr.json"
ctr_skip_if_refused "$out" "$RC"
expect_eq "proxy-hosts-ctr passes" 0 "$RC"
[ "$RC" = 0 ] || tail -30 "$out.err"
expect_eq "both services ran as containers" 2 \
    "$(awk '$2 == "container"' "$out/ledger" | wc -l)"
proxy_hosts_checks "$out"
id=$(awk '$2=="container"{print $5; exit}' "$out/ledger")
expect_eq "no container of the run left" "" \
    "$(podman ps -a --filter "label=chaosrun.run=$id" --format '{{.Names}}')"
finish
