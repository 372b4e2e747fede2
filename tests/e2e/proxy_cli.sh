# End-to-end: `chaosrun proxy` used by hand, in front of a service, driven
# by the line protocol on stdin (as a developer would), unprivileged.
set -e
. "$(dirname "$0")/lib.sh"

AS=()
PXBIN="$CHAOSRUN"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    AS=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
    if ! "${AS[@]}" test -x "$CHAOSRUN"; then # a build tree nobody cannot reach
        chmod 755 "$E2E_TMP"
        cp "$CHAOSRUN" "$E2E_TMP/chaosrun"
        PXBIN="$E2E_TMP/chaosrun"
    fi
fi

PORT=$(free_port 28471)
"$CR_BIN/cr_tgt_server" --port $PORT >"$E2E_TMP/srv.out" 2>&1 &
SRV=$!
trap 'kill $SRV 2>/dev/null; [ -n "${PX:-}" ] && kill $PX 2>/dev/null; rm -rf "$E2E_TMP"' EXIT
for _ in $(seq 100); do grep -q listening "$E2E_TMP/srv.out" && break; sleep 0.05; done

coproc PXP { exec "${AS[@]}" "$PXBIN" proxy --listen 127.0.0.1:0 --upstream 127.0.0.1:$PORT \
    --name api --seed 5 2>"$E2E_TMP/px.err"; }
PX=$PXP_PID
cmd() { echo "$1" >&"${PXP[1]}"; read -r -t 5 REPLY <&"${PXP[0]}"; echo "$REPLY"; }

LINKS=$(cmd links)
LP=$(echo "$LINKS" | jq -r '.links[0].port')
expect_true "listening on an ephemeral loopback port ($LP)" test "$LP" -gt 0
get() { # prints the status line of one request through the proxy, or "fail"
    exec 3<>/dev/tcp/127.0.0.1/$LP || { echo fail; return; }
    printf 'GET / HTTP/1.0\r\n\r\n' >&3
    timeout 3 head -1 <&3 | tr -d '\r' || echo fail
    exec 3<&-
}
expect_eq "relays a request" "HTTP/1.0 200 OK" "$(get)"
expect_eq "toxic add" "ok toxic slow added to api" "$(cmd 'toxic add api slow latency latency=300')"
t0=$(date +%s%N); r=$(get); t1=$(date +%s%N)
expect_eq "still relays under latency" "HTTP/1.0 200 OK" "$r"
expect_true "latency toxic adds >= 300 ms ($(( (t1 - t0) / 1000000 )) ms)" test $(( (t1 - t0) / 1000000 )) -ge 300
expect_eq "toxic remove" "ok toxic slow removed from api" "$(cmd 'toxic remove api slow')"
expect_eq "link down" "ok toxic off added to api" "$(cmd 'toxic add api off down')"
expect_true "refused while down" bash -c "! exec 3<>/dev/tcp/127.0.0.1/$LP" 2>/dev/null
cmd 'toxic remove api off' >/dev/null
expect_eq "heals" "HTTP/1.0 200 OK" "$(get)"
expect_eq "unknown toxic is an error" "err unknown toxic 'latncy' (did you mean 'latency'?)" \
    "$(cmd 'toxic add api x latncy latency=1')"
expect_eq "negative latency is an error" "err latency: latency must be within [0, 3.6e+06] ms (got -1)" \
    "$(cmd 'toxic add api x latency latency=-1')"
STATS=$(cmd stats)
ACC=$(echo "$STATS" | jq '.links[0].connections.accepted')
expect_true "stats count connections ($ACC)" test "$ACC" -ge 3
expect_eq "quit" "ok bye" "$(cmd quit)"
wait $PX; PXRC=$?
expect_eq "exits 0" 0 "$PXRC"
PX=
finish
