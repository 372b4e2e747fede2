# End-to-end: the ordered, waiting stop at the end of a run, with a real
# redis-server (AOF, appendfsync always) and a client that reads back every
# key redis acknowledged when it gets SIGTERM (tests/targets/
# cr_tgt_redis_client.c).  The client must be stopped, and waited for,
# before redis is signalled; when both got SIGTERM at once (b929a76 and
# before) redis was gone before the read-back and no_loss reported
# thousands of keys lost that were all on disk.
set -e
. "$(dirname "$0")/lib.sh"
command -v redis-server >/dev/null || { echo "SKIPPED: redis-server is not installed (Debian package redis-server)"; exit 77; }
S="$CR_SRC/tests/e2e/scenarios/redis-stop-order.json"
export CR_REDIS_PORT
CR_REDIS_PORT=$(free_port 7461)
verdict() { jq -r '.expectations[0].verdict' "$1/journal.json"; }
stop_of() { jq -r --arg i "$2" ".stops[]? | select(.instance==\$i) | .$3" "$1/journal.json"; }
fresh_redis() { rm -rf "$E2E_TMP/redis"; mkdir -p "$E2E_TMP/redis"; export CR_REDIS_DIR="$E2E_TMP/redis"; }

# Default order: the reverse of `services` -- client first, then redis.
fresh_redis
run_chaosrun "$E2E_TMP/run" "$S"
J="$E2E_TMP/run/journal.json"
expect_eq "run exits 0" 0 "$RC"
expect_eq "no_loss passed: every acknowledged key read back" passed "$(verdict "$E2E_TMP/run")"
expect_true "no key lost ($(jq -r '.expectations[0].summary' "$J"))" \
    grep -q "^lost 0 of" <<<"$(jq -r '.expectations[0].summary' "$J")"
ct=$(stop_of "$E2E_TMP/run" client.0 t); ck=$(stop_of "$E2E_TMP/run" client.0 took_s)
rt=$(stop_of "$E2E_TMP/run" redis.0 t)
expect_true "redis signalled only after the client exited (client $ct + $ck s, redis $rt)" \
    awk -v c="$ct" -v k="$ck" -v r="$rt" 'BEGIN{exit !(c != "" && r >= c + k)}'
expect_eq "the client's stop: SIGTERM" SIGTERM "$(stop_of "$E2E_TMP/run" client.0 signal)"
expect_eq "no SIGKILL needed" "false false" \
    "$(stop_of "$E2E_TMP/run" client.0 killed) $(stop_of "$E2E_TMP/run" redis.0 killed)"
expect_true "summary prints the stops in order" \
    grep -q "stopped: client.0 SIGTERM .* redis.0 SIGTERM" "$E2E_TMP/run.out"
expect_true "no process of the run left" test -z "$(procs_of_run "$E2E_TMP/run")"

# The same run directory again: refused unless --force (issue 13: an
# existing --out is never adopted), which empties it first -- so this
# run's events only (an earlier run's events were once read again, and
# every id counted twice).
run_chaosrun "$E2E_TMP/run" "$S"
expect_eq "again in the same directory without --force: refused" 2 "$RC"
run_chaosrun "$E2E_TMP/run" --force "$S"
expect_eq "again with --force: exits 0" 0 "$RC"
expect_eq "again: no_loss passed" passed "$(verdict "$E2E_TMP/run")"

# stop_order chooses otherwise: redis first, waited for, then the client,
# whose read-back then finds nothing -- the loss is reported.
fresh_redis
jq '.stop_order = ["redis", "client"]' "$S" >"$E2E_TMP/redis-first.json"
run_chaosrun "$E2E_TMP/rf" "$E2E_TMP/redis-first.json"
expect_eq "redis stopped first: exits 1" 1 "$RC"
expect_eq "redis stopped first: no_loss failed" failed "$(verdict "$E2E_TMP/rf")"
# (The client exits when it loses redis, or is stopped after it.)
rft=$(stop_of "$E2E_TMP/rf" redis.0 t)
cx=$(jq -r '.services[] | select(.instance=="client.0") | [.history[] | select(.what=="exit")][0].t' "$E2E_TMP/rf/journal.json")
expect_true "redis stopped first: redis signalled ($rft) before the client ended ($cx)" \
    awk -v r="$rft" -v c="$cx" 'BEGIN{exit !(r != "" && c != "null" && r < c)}'
expect_true "no process of the run left" test -z "$(procs_of_run "$E2E_TMP/rf")"
finish
