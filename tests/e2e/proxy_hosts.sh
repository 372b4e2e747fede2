# End-to-end: the fault proxy between services on two network hosts
# (tests/e2e/scenarios/proxy-hosts.json).  The proxy makes the link's
# sockets in the client's host: the worker on host a reaches the listener
# on a's loopback, the proxy connects from a to b's address, so the server
# sees host a as its peer and a partition of a from b cuts the proxied
# calls as it would direct ones.  Latency and down toxics act as on the
# harness's network.  The loader refuses what cannot work: one service on
# a host and the other not, a service on a remote node.  The same with
# containers: container_links.sh.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/proxy_hosts.inc"

[ "$(id -u)" = 0 ] || { echo "SKIPPED: needs root (network namespaces)"; exit 77; }
[ -e /proc/self/ns/net ] || { echo "SKIPPED: no network namespaces"; exit 77; }
command -v nft >/dev/null || { echo "SKIPPED: nft is not installed"; exit 77; }
S="$CR_SRC/tests/e2e/scenarios"

out="$E2E_TMP/hosts"
run_chaosrun "$out" "$S/proxy-hosts.json"
expect_eq "proxy-hosts passes" 0 "$RC"
[ "$RC" = 0 ] || tail -30 "$out.err"
proxy_hosts_checks "$out"
expect_eq "the proxy is gone" "" "$(procs_of_run "$out")"
expect_eq "no namespace of the run left" "" \
    "$(awk '$2 == "netns" {print $3}' "$out/ledger" | while read -r n; do [ -e "/run/netns/$n" ] && echo "$n"; done)"

# ---- what the loader refuses (exit 2, the link's key named) -------------
jq '.services[1] |= del(.host)' "$S/proxy-hosts.json" >"$E2E_TMP/mixed.json"
run_chaosrun "$E2E_TMP/mixed" "$E2E_TMP/mixed.json"
expect_eq "a link between a host and the harness's network: exit 2" 2 "$RC"
expect_true "... naming the link and why" grep -q \
    'links\[0\].from.*"feature" runs in network host "b" and "worker" on the harness.s network' \
    "$E2E_TMP/mixed.err"
jq '.hosts = [{"name": "a", "ssh": "root@127.0.0.1:22"}, {"name": "b", "ssh": "root@127.0.0.1:23"}]' "$S/proxy-hosts.json" >"$E2E_TMP/remote.json"
run_chaosrun "$E2E_TMP/remote" "$E2E_TMP/remote.json"
expect_eq "a link to a service on a remote node: exit 2" 2 "$RC"
expect_true "... naming the node" grep -q 'links\[0\].from.*remote node "a"' "$E2E_TMP/remote.err"
finish
