# End-to-end: the Debian packages, installed into a scratch root, run the
# quickstart from the installed files alone.  cpack builds both packages
# from this build; dpkg-deb checks their metadata (dependencies from
# dpkg-shlibdeps); `dpkg -x` unpacks them into a temporary root (never the
# real system); the installed chaosrun, with no CHAOSRUN_BINDIR and a PATH
# without the build, finds its helpers in <root>/usr/libexec/chaosrun,
# runs <root>/usr/share/chaosrun/scenarios/quickstart.json to a pass, and
# nothing of the run (journal, events, logs, the services' environment)
# names the build or source tree.
set -e
. "$(dirname "$0")/lib.sh"
B=$(cd "$CR_BIN/.." && pwd -P)
SRC=$(cd "$CR_SRC" && pwd -P)
for p in cpack dpkg-deb dpkg dpkg-shlibdeps; do
    command -v "$p" >/dev/null || { echo "SKIPPED: $p is not installed"; exit 77; }
done
[ -f "$B/CPackConfig.cmake" ] || { echo "SKIPPED: no CPackConfig.cmake in $B"; exit 77; }
[ -x "$CR_BIN/crp" ] || { echo "SKIPPED: crp not built (CR_BUILD_PIPELINE=OFF): no chaosrun-examples package"; exit 77; }
unset CHAOSRUN_BINDIR

# 1. Build the packages.
if ! cpack -G DEB --config "$B/CPackConfig.cmake" -B "$E2E_TMP/pkg" >"$E2E_TMP/cpack.log" 2>&1; then
    cat "$E2E_TMP/cpack.log"
    fail "cpack failed"
    finish
fi
deb=$(ls "$E2E_TMP"/pkg/chaosrun_*.deb)
ex=$(ls "$E2E_TMP"/pkg/chaosrun-examples_*.deb)
pass "cpack made $(basename "$deb") and $(basename "$ex")"
dep=$(dpkg-deb -f "$deb" Depends)
for lib in libjansson4 libnl-3-200 libnl-route-3-200 libcurl4 libmicrohttpd; do
    expect_true "chaosrun depends on $lib" grep -q "$lib" <<<"$dep"
done
expect_true "chaosrun needs none of the pipeline's libraries" sh -c "! echo '$dep' | grep -Eq 'sqlite|rabbitmq|libssl'"
expect_true "chaosrun recommends libfiu0" grep -q libfiu0 <<<"$(dpkg-deb -f "$deb" Recommends)"
exdep=$(dpkg-deb -f "$ex" Depends)
expect_true "examples depend on this chaosrun" grep -q "chaosrun (= $(dpkg-deb -f "$deb" Version))" <<<"$exdep"
expect_true "examples depend on libmicrohttpd" grep -q libmicrohttpd <<<"$exdep"

# 2. Unpack into a scratch root.
R="$E2E_TMP/root"
mkdir "$R"
dpkg -x "$deb" "$R"
dpkg -x "$ex" "$R"
for f in usr/bin/chaosrun usr/libexec/chaosrun/crp usr/libexec/chaosrun/crp-rabbitmq.sh \
         usr/libexec/chaosrun/cr_tgt_server usr/share/chaosrun/scenarios/quickstart.json \
         usr/share/doc/chaosrun/README.md usr/share/doc/chaosrun/scenarios/README.md \
         usr/share/chaosrun/examples/ci/github-actions.yml usr/share/man/man1/chaosrun.1.gz; do
    expect_true "installed: /$f" test -e "$R/$f"
done
# Every helper a shipped scenario names is installed.
for s in "$R"/usr/share/chaosrun/scenarios/*.json; do
    for h in $(grep -o '${CHAOSRUN_BINDIR}/[A-Za-z0-9_.-]*' "$s" | sed 's#.*/##' | sort -u); do
        [ -x "$R/usr/libexec/chaosrun/$h" ] || fail "$(basename "$s") runs $h, which is not installed"
    done
done
for x in "$R"/usr/bin/chaosrun "$R"/usr/libexec/chaosrun/*; do
    if readelf -d "$x" 2>/dev/null | grep -Eq 'RPATH|RUNPATH'; then fail "$x has an RPATH"; fi
    if strings "$x" | grep -qF -e "$B" -e "$SRC"; then fail "$x names the build or source tree"; fi
done
pass "no installed program names the build or source tree"

# 3. Run from the scratch root only.
W="$E2E_TMP/work"
mkdir "$W"
# A clean environment: only PATH (without the build) and HOME.
inst() { (cd "$W" && env -i PATH=/usr/bin:/bin HOME="$W" "$R/usr/bin/chaosrun" "$@"); }
expect_eq "helpers found in the scratch root" "helpers: $R/usr/libexec/chaosrun" "$(inst version | sed -n 2p)"
set +e
inst validate "$R"/usr/share/chaosrun/scenarios/*.json "$R"/usr/share/chaosrun/examples/*.json >"$W/validate.out" 2>&1; rc=$?
set -e
expect_eq "every installed scenario validates" 0 "$rc"
expect_true "the man page renders" sh -c "zcat '$R/usr/share/man/man1/chaosrun.1.gz' | groff -man -Tutf8 -ww 2>&1 >/dev/null | (! grep -q .)"

# The environment a service gets: an `env` service dumps it to its log.
cat >"$W/env.json" <<JSON
{"name": "env", "seed": 1, "duration_s": 0.3, "drain_s": 0,
 "services": [{"name": "dump", "cmd": ["/bin/sh", "-c", "env; exec sleep 30"]}]}
JSON
inst --no-status --out "$W/env" "$W/env.json" >"$W/env.out" 2>&1 || true
expect_eq "services get CHAOSRUN_BINDIR from the scratch root" "CHAOSRUN_BINDIR=$R/usr/libexec/chaosrun" \
    "$(grep '^CHAOSRUN_BINDIR=' "$W/env/logs/dump.0.log")"
if grep -F -e "$B" -e "$SRC" "$W/env/logs/dump.0.log"; then fail "a service's environment names the build or source tree"; else pass "the services' environment names neither tree"; fi

# The quickstart.
set +e
inst --no-status --out "$W/qs" "$R/usr/share/chaosrun/scenarios/quickstart.json" >"$W/qs.out" 2>"$W/qs.err"; rc=$?
set -e
if [ "$rc" = 3 ]; then
    echo "SKIPPED: this machine cannot run the quickstart: $(head -3 "$W/qs.err")"
    exit 77
fi
expect_eq "the installed quickstart passes" 0 "$rc"
[ "$rc" = 0 ] || tail -30 "$W/qs.out"
expect_eq "journal status" passed "$(jq -r .status "$W/qs/journal.json")"
expect_eq "it ran the installed crp" "$R/usr/libexec/chaosrun/crp" "$(jq -r '.scenario.services[0].cmd[0]' "$W/qs/journal.json" | sed "s#\${CHAOSRUN_BINDIR}#$R/usr/libexec/chaosrun#")"
expect_true "its logs show the installed crp started" grep -rqs . "$W/qs/logs"
if grep -rlF -e "$B" -e "$SRC" "$W/qs" "$W/qs.out" "$W/qs.err" >"$W/hits"; then
    fail "the run names the build or source tree in: $(cat "$W/hits")"
else
    pass "nothing of the run names the build or source tree"
fi
expect_true "the reports were written" test -s "$W/qs/report.html" -a -s "$W/qs/junit.xml"
finish
