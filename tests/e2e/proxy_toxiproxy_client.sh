# End-to-end: a real Toxiproxy client, unchanged, against `chaosrun proxy
# --toxiproxy-api`: the npm package toxiproxy-node-client (pinned below)
# runs proxy_toxiproxy_client.js (create a proxy, add a latency toxic and
# see it through the link as a ratio against the same request without it,
# update it, the client's error for an attribute chaosrun refuses, remove,
# disable/enable, populate, getAll, reset, remove).
#
# Needs node (>= 18, for its fetch) and npm, and the npm registry once: the
# package is installed into the build tree (build/npm-toxiproxy/) and
# reused.  Without them: skipped (77) with the reason.
# e2e-netns: caller (it installs the client from the npm registry)
set -e
. "$(dirname "$0")/lib.sh"
CLIENT=toxiproxy-node-client@4.1.0

command -v node >/dev/null || { echo "SKIPPED: node is not installed (the Toxiproxy client is a Node package)"; exit 77; }
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
[ "$NODE_MAJOR" -ge 18 ] || { echo "SKIPPED: node $NODE_MAJOR is too old for $CLIENT (needs >= 18)"; exit 77; }
NPMDIR="$CR_BIN/../npm-toxiproxy"
if [ ! -f "$NPMDIR/node_modules/toxiproxy-node-client/package.json" ] ||
    [ "$(node -p "require('$NPMDIR/node_modules/toxiproxy-node-client/package.json').version")" != "${CLIENT##*@}" ]; then
    command -v npm >/dev/null || { echo "SKIPPED: npm is not installed (to install $CLIENT)"; exit 77; }
    mkdir -p "$NPMDIR"
    if ! timeout 300 npm install --prefix "$NPMDIR" --no-audit --no-fund --no-save "$CLIENT" >"$E2E_TMP/npm.log" 2>&1; then
        tail -5 "$E2E_TMP/npm.log"
        echo "SKIPPED: npm could not install $CLIENT (registry unreachable?)"
        exit 77
    fi
fi
pass "$CLIENT installed in $NPMDIR"

PORT=$(free_port 28476)
"$CR_BIN/cr_tgt_server" --port "$PORT" >"$E2E_TMP/srv.out" 2>&1 &
SRV=$!
PX=
trap 'kill $SRV 2>/dev/null; [ -n "$PX" ] && kill $PX 2>/dev/null; rm -rf "$E2E_TMP"' EXIT
for _ in $(seq 100); do grep -qs listening "$E2E_TMP/srv.out" && break; sleep 0.05; done

"$CHAOSRUN" proxy --toxiproxy-api 127.0.0.1:0 --seed 9 </dev/null >"$E2E_TMP/px.out" 2>"$E2E_TMP/px.err" &
PX=$!
API=
for _ in $(seq 200); do
    API=$(sed -n 's/.*Toxiproxy API on port \([0-9]*\).*/\1/p' "$E2E_TMP/px.err")
    [ -n "$API" ] && break
    sleep 0.05
done
[ -n "$API" ] || { cat "$E2E_TMP/px.err"; fail "the API did not start"; finish; exit 1; }
pass "Toxiproxy API on port $API"

set +e
NODE_PATH="$NPMDIR/node_modules" node "$(dirname "$0")/proxy_toxiproxy_client.js" \
    "http://127.0.0.1:$API" "$PORT" >"$E2E_TMP/node.out" 2>&1
NRC=$?
set -e
cat "$E2E_TMP/node.out"
N_OK=$(grep -c '^ok: ' "$E2E_TMP/node.out" || true)
expect_eq "the client's checks all pass" 0 "$NRC"
expect_true "the client ran its checks ($N_OK)" test "$N_OK" -ge 20

kill -TERM $PX
set +e
wait $PX
PXRC=$?
set -e
PX=
expect_eq "SIGTERM: exits 0" 0 "$PXRC"
finish
