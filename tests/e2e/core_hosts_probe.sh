# End-to-end: readiness checks and probes of a service placed on a host run
# inside that host's namespace (from_host); other namespaces cannot reach it.
set -e
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIPPED: network namespaces need root"; exit 77; }
run_chaosrun "$E2E_TMP/hp" "$CR_SRC/tests/e2e/scenarios/hosts-probe.json"
J="$E2E_TMP/hp/journal.json"
if [ "$RC" = 3 ]; then echo "SKIPPED: $(cat "$E2E_TMP/hp.err" | tail -1)"; exit 77; fi
expect_eq "run completes" 0 "$RC"
expect_eq "readiness checked inside h1" "tcp 127.0.0.1:18501: connected" \
    "$(jq -r '.services[0].history[] | select(.what=="ready") | .detail' "$J")"
expect_eq "probe from h1 passes" true "$(jq '[.probes[] | select(.probe=="in-h1") | .ok] | all' "$J")"
expect_eq "probe from h2 fails (its own loopback)" false "$(jq '[.probes[] | select(.probe=="from-h2") | .ok] | any' "$J")"
expect_eq "probe from the harness fails" false "$(jq '[.probes[] | select(.probe=="from-root") | .ok] | any' "$J")"
ns=$(awk '$2=="netns"{print $3}' "$E2E_TMP/hp/ledger")
expect_true "the run made namespaces ($(echo $ns))" test -n "$ns"
left=""
for n in $ns; do [ -e "/run/netns/$n" ] && left="$left $n"; done
expect_eq "no namespace left" "" "$left"
finish
