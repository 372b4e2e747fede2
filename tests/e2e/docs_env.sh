# Doc test: the table "Environment given to every service" in
# harness/README.md names exactly the CHAOSRUN_* variables the engine gives
# a service, and a few values are what the table says; every entry of a
# run directory is in reports/README.md's table of its files.  Services print
# their environment; chaosrun itself runs with no CHAOSRUN_* variable of
# its own, so every one a service sees comes from the engine.  The
# host-only variables need a `hosts` section, hence root: without root the
# rest is checked and the test then reports itself skipped (77).
set -e
. "$(dirname "$0")/lib.sh"

# The documented names: first column of the table, <SERVICE> kept.
doc=$(awk '/^## Environment given to every service/{on=1; next}
           on && /^#/{exit}
           on && /^\| `CHAOSRUN_/{split($0, c, "`"); print c[2]}' \
      "$CR_SRC/harness/README.md" | sort -u)
expect_true "the table lists variables ($(echo $doc | wc -w))" test -n "$doc"

# Names a service saw, CHAOSRUN_ADDR_<NAME> folded to <SERVICE>.
seen() {
    sed -n 's/^\(CHAOSRUN_[A-Z0-9_]*\)=.*/\1/p' "$@" |
        sed -E 's/^(CHAOSRUN_ADDRS?_)(A|B|API)$/\1<SERVICE>/' | sort -u
}

run_env() { # OUT SCENARIO
    set +e
    env -i PATH="$PATH" HOME="${HOME:-/root}" TMPDIR="${TMPDIR:-/tmp}" \
        "$CHAOSRUN" --no-status --out "$1" "$2" >"$1.out" 2>"$1.err"
    RC=$?
    set -e
}

cat >"$E2E_TMP/env.json" <<'EOF'
{"name": "docs-env", "seed": 5, "duration_s": 0.3, "drain_s": 0,
 "services": [
   {"name": "a", "cmd": ["sh", "-c", "env; exec sleep 30"], "port": 18611,
    "replicas": 2},
   {"name": "b", "cmd": ["sh", "-c", "env; exec sleep 30"], "port": 18621}]}
EOF
run_env "$E2E_TMP/env" "$E2E_TMP/env.json"
expect_eq "run completes" 0 "$RC"
L="$E2E_TMP/env/logs"
for f in a.0 a.1 b.0; do expect_true "log of $f" test -s "$L/$f.log"; done
got=$(seen "$L"/*.log)
host_only="CHAOSRUN_HOST CHAOSRUN_HOST_ADDR CHAOSRUN_REGION"
want=$(for v in $doc; do case " $host_only " in *" $v "*) ;; *) echo "$v" ;; esac; done)
expect_eq "variables without hosts = the table minus the host rows" \
    "$(echo $want)" "$(echo $got)"
val() { sed -n "s/^$2=//p" "$L/$1.log"; }
expect_eq "CHAOSRUN_INSTANCE" a.1 "$(val a.1 CHAOSRUN_INSTANCE)"
expect_eq "CHAOSRUN_REPLICA" 1 "$(val a.1 CHAOSRUN_REPLICA)"
expect_eq "CHAOSRUN_PORT is port + replica" 18612 "$(val a.1 CHAOSRUN_PORT)"
expect_eq "CHAOSRUN_SEED" 5 "$(val b.0 CHAOSRUN_SEED)"
expect_eq "CHAOSRUN_ADDR_<SERVICE> is replica 0" 127.0.0.1:18611 "$(val b.0 CHAOSRUN_ADDR_A)"
expect_eq "CHAOSRUN_ADDRS_<SERVICE> lists the replicas" \
    127.0.0.1:18611,127.0.0.1:18612 "$(val b.0 CHAOSRUN_ADDRS_A)"
expect_eq "CHAOSRUN_RUN_DIR is absolute" / "$(val a.0 CHAOSRUN_RUN_DIR | cut -c1)"
ev=$(val a.0 CHAOSRUN_EVENTS)
expect_eq "CHAOSRUN_EVENTS is in the run dir" "$(val a.0 CHAOSRUN_RUN_DIR)/" "${ev%/*}/"
expect_eq "CHAOSRUN_BINDIR is chaosrun's directory" "$(dirname "$(readlink -f "$CHAOSRUN")")" \
    "$(val a.0 CHAOSRUN_BINDIR)"

# Every file of the run directory is in the table of reports/README.md
# ("The run directory" section's table: `file` column; a name with a
# slash stands for its folder).
tab=$(awk '/^\| file \| writer/{on=1; next} on && !/^\|/{exit}
           on && /^\| `/{n = split($2, c, "`"); for (i = 2; i <= n; i += 2) print c[i]}' \
      "$CR_SRC/reports/README.md" | sed -E 's#/.*#/#' | sort -u)
for f in $(cd "$E2E_TMP/env" && ls -p); do
    case " $(echo $tab) " in
        *" $f "*) pass "run dir entry $f is documented" ;;
        *) fail "run dir entry $f is not in reports/README.md's table" ;;
    esac
done

if [ "$(id -u)" != 0 ]; then
    finish || exit 1
    echo "SKIPPED: the host variables need root (network namespaces)"
    exit 77
fi
cat >"$E2E_TMP/hosts.json" <<'EOF'
{"name": "docs-env-hosts", "seed": 5, "duration_s": 0.3, "drain_s": 0,
 "hosts": [{"name": "h1", "region": "eu"}],
 "services": [
   {"name": "api", "host": "h1", "cmd": ["sh", "-c", "env; exec sleep 30"],
    "port": 18631}]}
EOF
run_env "$E2E_TMP/hosts" "$E2E_TMP/hosts.json"
if [ "$RC" = 3 ]; then
    finish || exit 1
    echo "SKIPPED: $(tail -1 "$E2E_TMP/hosts.err")"
    exit 77
fi
expect_eq "run with hosts completes" 0 "$RC"
L="$E2E_TMP/hosts/logs"
expect_eq "variables with hosts = the table" "$(echo $doc)" "$(echo $(seen "$L"/*.log))"
expect_eq "CHAOSRUN_HOST" h1 "$(val api.0 CHAOSRUN_HOST)"
expect_eq "CHAOSRUN_REGION" eu "$(val api.0 CHAOSRUN_REGION)"
expect_true "CHAOSRUN_HOST_ADDR is 10.x.y.1" \
    grep -qE '^CHAOSRUN_HOST_ADDR=10\.[0-9]+\.[0-9]+\.1$' "$L/api.0.log"
finish
