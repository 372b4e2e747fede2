# End-to-end: `chaosrun proxy --toxiproxy-api` driven over HTTP with curl the
# way Toxiproxy 2.x's clients drive Toxiproxy (JSON bodies, POST for updates
# as the Go/Ruby/Node clients send them, PATCH as the newer ones do), in
# front of a real HTTP service: create a proxy, add a latency toxic and see
# its effect through the link (a ratio against the same request without the
# toxic, in the same run), update it, remove it, disable and enable the
# proxy, /reset, /populate, /version, /metrics, delete, and the refusals (an
# attribute chaosrun cannot honour is a 400).  Every port is ephemeral.
set -e
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || { echo "SKIPPED: curl is not installed"; exit 77; }

PORT=$(free_port 28475)
"$CR_BIN/cr_tgt_server" --port "$PORT" >"$E2E_TMP/srv.out" 2>&1 &
SRV=$!
PX=
trap 'kill $SRV 2>/dev/null; [ -n "$PX" ] && kill $PX 2>/dev/null; rm -rf "$E2E_TMP"' EXIT
for _ in $(seq 100); do grep -qs listening "$E2E_TMP/srv.out" && break; sleep 0.05; done

"$CHAOSRUN" proxy --toxiproxy-api 127.0.0.1:0 --seed 7 </dev/null >"$E2E_TMP/px.out" 2>"$E2E_TMP/px.err" &
PX=$!
API=
for _ in $(seq 200); do
    API=$(sed -n 's/.*Toxiproxy API on port \([0-9]*\).*/\1/p' "$E2E_TMP/px.err")
    [ -n "$API" ] && break
    sleep 0.05
done
[ -n "$API" ] || { cat "$E2E_TMP/px.err"; fail "the API did not start"; finish; exit 1; }
pass "Toxiproxy API on port $API"
A=http://127.0.0.1:$API

# api METHOD PATH [BODY]: sets CODE and BODY (the response body), as a
# client sends it (JSON, its own user agent).
api() {
    local args=(-s -o "$E2E_TMP/body" -w '%{http_code}' -X "$1" -A 'toxiproxy-e2e/1.0')
    [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
    CODE=$(curl "${args[@]}" "$A$2" || echo "curl-failed")
    BODY=$(cat "$E2E_TMP/body" 2>/dev/null || true)
}
# through PORT: seconds one GET through the proxy's listener took, or
# "fail" (connection refused, error status).
through() {
    local out
    out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 10 "http://127.0.0.1:$1/") || { echo fail; return; }
    [ "${out%% *}" = 200 ] && echo "${out#* }" || echo fail
}
# median of 5 requests through PORT
median5() {
    local i ts=()
    for i in 1 2 3 4 5; do ts+=("$(through "$1")"); done
    printf '%s\n' "${ts[@]}" | sort -g | sed -n 3p
}
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }

# ---- version, empty collection --------------------------------------------
api GET /version
expect_eq "GET /version" 200 "$CODE"
expect_true "version is Toxiproxy 2.x's, served by chaosrun ($BODY)" \
    sh -c "echo '$BODY' | jq -e '.version | startswith(\"2.\") and contains(\"chaosrun\")'"
api GET /proxies
expect_eq "GET /proxies on an empty proxy" "200 {}" "$CODE $BODY"

# ---- create ---------------------------------------------------------------
api POST /proxies "{\"name\":\"web\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:$PORT\",\"enabled\":true}"
expect_eq "POST /proxies" 201 "$CODE"
expect_eq "proxy fields" '["enabled","listen","name","toxics","upstream"]' "$(echo "$BODY" | jq -c 'keys')"
LP=$(echo "$BODY" | jq -r '.listen' | sed 's/.*://')
expect_true "listening on an ephemeral port ($LP)" test "$LP" -gt 0
api POST /proxies "{\"name\":\"web\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:$PORT\"}"
expect_eq "same name again" '409 {"error":"proxy already exists","status":409}' "$CODE $BODY"
api POST /proxies '{"listen":"127.0.0.1:0","upstream":"127.0.0.1:1"}'
expect_eq "missing name" '400 {"error":"missing required field: name","status":400}' "$CODE $BODY"

BASE=$(median5 "$LP")
expect_true "relays a request ($BASE s)" test "$BASE" != fail

# ---- a latency toxic, seen through the link --------------------------------
api POST /proxies/web/toxics '{"name":"lat","type":"latency","stream":"downstream","toxicity":1.0,"attributes":{"latency":300,"jitter":0}}'
expect_eq "POST toxic (Toxiproxy answers 200)" 200 "$CODE"
expect_eq "toxic as Toxiproxy shows it" \
    '{"attributes":{"latency":300,"jitter":0},"name":"lat","type":"latency","stream":"downstream","toxicity":1}' "$BODY"
T1=$(median5 "$LP")
expect_true "latency 300 ms: a request takes >= 0.3 s ($T1 s)" ge "$T1" 0.3
expect_true "latency: >= 3x the same request without it ($T1 vs $BASE s)" \
    awk -v a="$T1" -v b="$BASE" 'BEGIN { exit !(a >= 3 * b) }'

# An attribute chaosrun cannot honour is refused, and changes nothing.
api POST /proxies/web/toxics '{"name":"x","type":"latency","attributes":{"latency":10,"lantecy":5}}'
expect_eq "unknown attribute: 400" 400 "$CODE"
expect_eq "unknown attribute: the error names it" \
    "bad request body: latency has no attribute 'lantecy' (known: latency, jitter)" "$(echo "$BODY" | jq -r .error)"
api POST /proxies/web/toxics '{"name":"x","type":"bandwidth","attributes":{"rate":0}}'
expect_eq "bandwidth rate 0 (stalls Toxiproxy forever): 400" 400 "$CODE"
api POST /proxies/web/toxics '{"name":"x","type":"warp"}'
expect_eq "unknown type" '400 {"error":"invalid toxic type","status":400}' "$CODE $BODY"
api POST /proxies/web/toxics '{"name":"lat","type":"latency"}'
expect_eq "same toxic again" '409 {"error":"toxic already exists","status":409}' "$CODE $BODY"
api GET /proxies/web/toxics
expect_eq "GET toxics: only the one added" '["lat"]' "$(echo "$BODY" | jq -c '[.[].name]')"

# Update (POST, as the clients send it: the whole toxic back).
api POST /proxies/web/toxics/lat '{"name":"lat","type":"latency","stream":"downstream","toxicity":1,"attributes":{"latency":900,"jitter":0}}'
expect_eq "update toxic" "200 900" "$CODE $(echo "$BODY" | jq .attributes.latency)"
T2=$(through "$LP")
expect_true "updated latency 900 ms: >= 0.9 s ($T2 s)" ge "$T2" 0.9
expect_true "updated latency: longer than before ($T2 vs $T1 s)" \
    awk -v a="$T2" -v b="$T1" 'BEGIN { exit !(a > b) }'
api GET /proxies/web/toxics/lat
expect_eq "GET toxic shows the update" 900 "$(echo "$BODY" | jq .attributes.latency)"

# Remove: the link is as fast as without it again.
api DELETE /proxies/web/toxics/lat
expect_eq "DELETE toxic" "204 " "$CODE $BODY"
T3=$(median5 "$LP")
expect_true "without the toxic: under half the toxic's time ($T3 vs $T2 s)" \
    awk -v a="$T3" -v b="$T2" 'BEGIN { exit !(a != "fail" && 2 * a < b) }'
api DELETE /proxies/web/toxics/lat
expect_eq "DELETE it again" '404 {"error":"toxic not found","status":404}' "$CODE $BODY"

# ---- disable, enable -------------------------------------------------------
api POST /proxies/web "{\"name\":\"web\",\"listen\":\"127.0.0.1:$LP\",\"upstream\":\"127.0.0.1:$PORT\",\"enabled\":false}"
expect_eq "disable" "200 false" "$CODE $(echo "$BODY" | jq .enabled)"
expect_eq "disabled: refused" fail "$(through "$LP")"
api PATCH /proxies/web '{"enabled":true}'
expect_eq "enable (PATCH)" "200 true" "$CODE $(echo "$BODY" | jq .enabled)"
expect_true "enabled: relays on the same port" test "$(through "$LP")" != fail

# ---- reset -----------------------------------------------------------------
api POST /proxies/web/toxics '{"type":"timeout","attributes":{"timeout":0}}'
expect_eq "a timeout toxic (default name)" "200 timeout_downstream" "$CODE $(echo "$BODY" | jq -r .name)"
api PATCH /proxies/web '{"enabled":false}'
api POST /reset
expect_eq "POST /reset" "204 " "$CODE $BODY"
api GET /proxies/web
expect_eq "after reset: enabled, no toxics" "true 0" "$(echo "$BODY" | jq -r '"\(.enabled) \(.toxics | length)"')"
expect_true "after reset: relays" test "$(through "$LP")" != fail

# ---- populate --------------------------------------------------------------
api POST /populate "[{\"name\":\"web\",\"listen\":\"127.0.0.1:$LP\",\"upstream\":\"127.0.0.1:$PORT\"},{\"name\":\"web2\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:$PORT\"}]"
expect_eq "POST /populate" 201 "$CODE"
expect_eq "populate lists both" '["web","web2"]' "$(echo "$BODY" | jq -c '[.proxies[].name]')"
LP2=$(echo "$BODY" | jq -r '.proxies[1].listen' | sed 's/.*://')
expect_true "populated proxy relays" test "$(through "$LP2")" != fail
api POST /populate '[{"name":"web3"}]'
expect_eq "populate without upstream" \
    '400 {"error":"missing required field: upstream at proxy 1","status":400,"proxies":null}' "$CODE $BODY"
api GET /proxies
expect_eq "GET /proxies: by name" '["web","web2"]' "$(echo "$BODY" | jq -c 'keys')"

# ---- metrics ---------------------------------------------------------------
METRICS=$(curl -s "$A/metrics")
SENT=$(echo "$METRICS" | sed -n 's/^toxiproxy_proxy_sent_bytes_total{direction="downstream",.*proxy="web",.*} \([0-9]*\)$/\1/p')
expect_true "metrics: bytes sent downstream through web ($SENT)" test "${SENT:-0}" -gt 0

# ---- refusals --------------------------------------------------------------
CODE=$(curl -s -o /dev/null -w '%{http_code}' -A 'Mozilla/5.0 (X11; Linux x86_64)' "$A/proxies")
expect_eq "a browser is refused" 403 "$CODE"
CODE=$(head -c 1100000 /dev/zero | tr '\0' ' ' | curl -s -o "$E2E_TMP/body" -w '%{http_code}' \
    -H 'Content-Type: application/json' --data-binary @- "$A/proxies")
expect_eq "a body over 1 MiB: 413" 413 "$CODE"
api GET /nope
expect_eq "unknown path" "404 404 page not found" "$CODE $BODY"
api PUT /proxies/web '{}'
expect_eq "known path, other method" "405 " "$CODE $BODY"

# ---- delete ----------------------------------------------------------------
api DELETE /proxies/web
expect_eq "DELETE proxy" "204 " "$CODE $BODY"
api GET /proxies/web
expect_eq "deleted" '404 {"error":"proxy not found","status":404}' "$CODE $BODY"
expect_eq "deleted: its port is closed" fail "$(through "$LP")"
expect_true "the other proxy still relays" test "$(through "$LP2")" != fail

kill -TERM $PX
set +e
wait $PX
PXRC=$?
set -e
PX=
expect_eq "SIGTERM: exits 0" 0 "$PXRC"
finish
