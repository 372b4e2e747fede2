#!/usr/bin/env bash
# Build test: chaosrun alone needs only jansson, yajl, zstd, libyaml, libnl, libcurl, libseccomp
# and libmicrohttpd (the Toxiproxy API of `chaosrun proxy`).
# Configures CR_BUILD_PIPELINE=OFF CR_BUILD_TESTS=OFF in a scratch
# directory through a pkg-config wrapper that records every module asked
# for and refuses the reference pipeline's and the tests' libraries
# (SQLite, OpenSSL, librabbitmq, libxml2); builds it; checks
# that no cache entry, link line or NEEDED entry of the binaries names one
# of them (nor CUnit, found without pkg-config), and that the chaosrun it
# made works.  (Packages cannot be removed from a shared machine: the
# wrapper is how the build is kept from finding them.)  Built at -O0
# without debug information: what is checked is which libraries the build
# finds and links, not the code (the suite's own build is -O2); -O2 took
# most of this test's 2-5 minutes.
set -u
CR_SRC=${CR_SRC:?CR_SRC names the source tree}
command -v cmake >/dev/null || { echo "SKIPPED: cmake is not installed"; exit 77; }
PKGCONF=$(command -v pkg-config) || { echo "SKIPPED: pkg-config is not installed"; exit 77; }
T=$(mktemp -d /tmp/cr_build.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

FORBIDDEN='sqlite3|rabbitmq|libcrypto|libssl|openssl|libxml|cunit'
cat >"$T/pkg-config" <<WRAP
#!/bin/sh
echo "\$*" >>"$T/asked"
for a in "\$@"; do
    if echo "\$a" | grep -Eqi '$FORBIDDEN'; then
        echo "pkg-config wrapper: module \$a refused (harness-only build)" >&2
        exit 1
    fi
done
exec "$PKGCONF" "\$@"
WRAP
chmod +x "$T/pkg-config"
# The wrapper does refuse (else this test could not fail).
if "$T/pkg-config" --exists sqlite3 2>/dev/null; then bad "the wrapper let sqlite3 through"; else ok "the wrapper refuses sqlite3"; fi
: >"$T/asked"

if ! cmake -S "$CR_SRC" -B "$T/b" -DCR_BUILD_PIPELINE=OFF -DCR_BUILD_TESTS=OFF \
        -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG=-O0 \
        -DPKG_CONFIG_EXECUTABLE="$T/pkg-config" >"$T/configure.log" 2>&1; then
    cat "$T/configure.log"
    bad "configure failed"
    exit 1
fi
ok "configured"
if grep -Eiq "$FORBIDDEN" "$T/asked"; then bad "configure asked pkg-config for: $(grep -Ei "$FORBIDDEN" "$T/asked" | tr '\n' ' ')"; else ok "pkg-config was asked only for: $(tr ' ' '\n' <"$T/asked" | grep -v '^-' | sort -u | tr '\n' ' ')"; fi
if grep -Ei "^[A-Z_]*(SQLITE|RABBITMQ|CRYPTO|LIBXML2|CUNIT)[A-Z_]*:" "$T/b/CMakeCache.txt" >"$T/cache.hits"; then
    bad "CMakeCache.txt has entries for: $(cut -d: -f1 "$T/cache.hits" | tr '\n' ' ')"
else
    ok "CMakeCache.txt names none of them"
fi
if ! cmake --build "$T/b" -j2 >"$T/build.log" 2>&1; then
    tail -30 "$T/build.log"
    bad "build failed"
    exit 1
fi
ok "built"
links=$(find "$T/b" -name link.txt)
[ -n "$links" ] && ok "link lines found" || bad "no link.txt found"
if grep -Eil "$FORBIDDEN" $links >"$T/link.hits"; then bad "link lines name them: $(cat "$T/link.hits")"; else ok "no link line names them"; fi
[ -x "$T/b/bin/chaosrun" ] && ok "chaosrun was built" || bad "no chaosrun"
[ ! -e "$T/b/bin/crp" ] && ok "crp was not built" || bad "crp was built"
ls "$T/b/bin" | grep -q '^test_' && bad "test programs were built" || ok "no test program was built"
if readelf -d "$T/b/bin/chaosrun" | grep NEEDED | grep -Eiq "$FORBIDDEN"; then
    bad "chaosrun needs: $(readelf -d "$T/b/bin/chaosrun" | grep NEEDED | grep -Ei "$FORBIDDEN")"
else
    ok "chaosrun's NEEDED: $(readelf -d "$T/b/bin/chaosrun" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')"
fi
"$T/b/bin/chaosrun" --version >/dev/null && ok "chaosrun --version" || bad "chaosrun --version"
"$T/b/bin/chaosrun" validate "$CR_SRC/scenarios/proxy-retry.json" >/dev/null && ok "chaosrun validates" || bad "chaosrun validate"
echo "$fails failed"
[ $fails -eq 0 ]
