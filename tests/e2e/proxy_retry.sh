# End-to-end: a worker reaches its dependency through the built-in fault
# proxy; a latency toxic then a down toxic make its calls time out and be
# refused, it retries, and it recovers when the link heals.  The whole run
# is made as user nobody: the proxy needs no privilege.
set -e
. "$(dirname "$0")/lib.sh"
S="$CR_SRC/tests/e2e/scenarios"

# Run unprivileged: as nobody when we are root, as ourselves otherwise.
AS=()
RBIN="$CR_BIN"
W="$E2E_TMP"
if [ "$(id -u)" = 0 ]; then
    command -v setpriv >/dev/null || { echo "SKIPPED: setpriv (util-linux) is not installed"; exit 77; }
    AS=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
    chmod 755 "$E2E_TMP"
    mkdir -m 777 "$E2E_TMP/w"
    W="$E2E_TMP/w"
    # nobody may not reach the build tree (a checkout under /root): then
    # it runs copies of the three programs.
    if [ -n "${PROXY_E2E_COPY:-}" ] ||
        ! "${AS[@]}" test -x "$CR_BIN/chaosrun" -a -x "$CR_BIN/cr_tgt_server" \
            -a -x "$CR_BIN/cr_tgt_retry_client"; then
        mkdir -m 755 "$W/bin"
        cp "$CR_BIN/chaosrun" "$CR_BIN/cr_tgt_server" "$CR_BIN/cr_tgt_retry_client" "$W/bin/"
        RBIN="$W/bin"
        echo "note: running copies of the programs from $RBIN"
    fi
fi

sed "s/28461/$(free_port 28461)/" "$S/proxy-retry.json" >"$W/proxy-retry.json"
sed "s/28462/$(free_port 28461)/" "$CR_SRC/scenarios/proxy-retry.json" >"$W/example.json"

OUT="$W/run"
set +e
"${AS[@]}" env CHAOSRUN_BINDIR="$RBIN" "$RBIN/chaosrun" --no-status --out "$OUT" \
    "$W/proxy-retry.json" >"$W/out" 2>"$W/err"
RC=$?
set -e
cat "$W/err" | tail -20
J="$OUT/journal.json"
E="$OUT/events.jsonl"
expect_eq "runs unprivileged and passes" 0 "$RC"
expect_eq "run made by an unprivileged user" "$(id -un "${AS:+nobody}" 2>/dev/null || id -un)" "$(stat -c %U "$J")"
expect_eq "latency fault applied" applied "$(jq -r '.faults[] | select(.name=="slow-feature") | .outcome' "$J")"
expect_eq "down fault applied" applied "$(jq -r '.faults[] | select(.name=="feature-down") | .outcome' "$J")"
expect_true "the latency toxic delayed connections" \
    test "$(jq '.faults[] | select(.name=="slow-feature") | .details.effect.affected' "$J")" -ge 1
timeouts=$(jq -s '[.[] | select(.ev=="retry" and .error=="timeout")] | length' "$E")
refused=$(jq -s '[.[] | select(.ev=="retry" and .error=="refused")] | length' "$E")
expect_true "calls timed out under latency and were retried ($timeouts)" test "$timeouts" -ge 1
expect_true "calls were refused while the link was down and retried ($refused)" test "$refused" -ge 1
healed=$(jq -s '([.[] | select(.ev=="retry" and .error=="refused") | .ts] | max) as $last
               | [.[] | select(.ev=="request" and .ts > $last)] | length' "$E")
expect_true "requests succeed again after the link healed ($healed)" test "$healed" -ge 3
expect_true "proxy statistics in the journal" \
    test "$(jq '.proxy.links[0].connections.accepted' "$J")" -ge 10
expect_eq "both toxics recorded" '["latency","down"]' "$(jq -c '[.proxy.links[0].toxics[].type]' "$J")"
expect_true "the worker was pointed at the proxy" \
    grep -q "link w2f: worker -> feature via 127.0.0.1:" "$W/err"
expect_true "the proxy's control socket is gone" test ! -e "$OUT/proxy.sock"
expect_true "no proxy process left" test -z "$(pgrep -f "$OUT/proxy.sock" || true)"
expect_true "no process of the run left" test -z "$(procs_of_run "$OUT")"

# The documented example, with its expectations (events checker), runs
# unprivileged and passes.
if "$CHAOSRUN" list checks 2>/dev/null | grep -q "^  events "; then
    set +e
    "${AS[@]}" env CHAOSRUN_BINDIR="$RBIN" "$RBIN/chaosrun" --no-status --out "$W/example" \
        "$W/example.json" >"$W/ex.out" 2>"$W/ex.err"
    XRC=$?
    set -e
    cat "$W/ex.out"
    expect_eq "scenarios/proxy-retry.json passes unprivileged" 0 "$XRC"
else
    echo "note: events checker not built; scenarios/proxy-retry.json only validated"
    set +e
    "$CHAOSRUN" validate "$CR_SRC/scenarios/proxy-retry.json" >"$W/val" 2>&1
    VRC=$?
    set -e
    # Without the checker, its "expect" entries are unknown kinds (exit 2).
    expect_true "scenarios/proxy-retry.json: only the checker kinds are unknown" \
        bash -c "[ $VRC = 0 ] || ! grep -v 'unknown expectation kind\|unknown checker\|expect\[' '$W/val' | grep -q ':[0-9]*:[0-9]*:'"
fi
finish
