# End-to-end (issue 13, "Leftovers"): nothing of a run is left behind.
#   - a clean disk-full run (syscall fault): no empty fiu/ directory and no
#     open "+N dir .../fiu" entry in its ledger (both were left);
#   - a proxy run whose chaosrun is SIGKILLed: its janitor removes
#     proxy.sock (it was left) and no process of the run survives (the
#     janitor logs to ledger.janitor; the ledger itself keeps the
#     entries it undid open, as a record).
set -e
. "$(dirname "$0")/lib.sh"

# Entries of a ledger that were never closed ("+id" without "-id").
open_entries() {
    awk '/^\+/ { o[substr($1, 2)] = $0 } /^-/ { delete o[substr($1, 2)] }
         END { for (k in o) print o[k] }' "$1"
}

d=${CHAOSRUN_FIU_DIR:-/usr/lib/fiu}
if [ -r "$d/fiu_run_preload.so" ] && [ -r "$d/fiu_posix_preload.so" ]; then
    R=$E2E_TMP/df
    run_chaosrun "$R" "$CR_SRC/scenarios/disk-full.json"
    expect_eq "disk-full run passes" 0 "$RC"
    expect_true "no fiu/ directory left" test ! -e "$R/fiu"
    expect_eq "no open ledger entry" "" "$(open_entries "$R/ledger")"
else
    echo "skipped: disk-full part: no libfiu preload libraries in $d"
fi

# A proxy run killed while its proxy runs.
port=$(free_port 28461)
sed "s/28461/$port/" "$CR_SRC/tests/e2e/scenarios/proxy-retry.json" >"$E2E_TMP/pr.json"
R=$E2E_TMP/pk
"$CHAOSRUN" --no-status --out "$R" "$E2E_TMP/pr.json" >"$R.out" 2>&1 &
pid=$!
for _ in $(seq 200); do
    [ -S "$R/proxy.sock" ] && break
    sleep 0.05
done
expect_true "the run's proxy made its socket" test -S "$R/proxy.sock"
sleep 0.3
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
for _ in $(seq 200); do
    [ -e "$R/proxy.sock" ] || [ -n "$(procs_of_run "$R")" ] || break
    sleep 0.05
done
expect_true "the killed run's proxy.sock is gone" test ! -e "$R/proxy.sock"
expect_eq "no process of the killed run left" "" "$(procs_of_run "$R")"
expect_true "its janitor says what it undid" grep -q "undone" "$R/ledger.janitor"
finish
