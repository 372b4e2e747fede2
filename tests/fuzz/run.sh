#!/bin/bash
# run.sh: build the libFuzzer targets of tests/fuzz with clang, in a build
# directory of their own, and run each for a short time (ctest fuzz_quick,
# label fuzz).  Exit 0 when no target found a crash, a leak, undefined
# behaviour or a time-out; 77 (skipped) when clang or libFuzzer is missing;
# 1 otherwise, with the fuzzer's report and the reproducer's path.
#
#   CR_FUZZ_SECONDS  per target (default 15: about 75 s for the five)
#   CR_FUZZ_BUILD    build directory (default build-fuzz in the tree)
#   CR_FUZZ_TARGETS  which targets (default: all five)
# Long runs: tests/fuzz/README.md.
set -u
SRC=${CR_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${CR_FUZZ_BUILD:-$SRC/build-fuzz}
SECS=${CR_FUZZ_SECONDS:-15}
TARGETS=${CR_FUZZ_TARGETS:-fuzz_scen fuzz_yaml fuzz_event fuzz_prom fuzz_proxy_ctl}
FUZZ=$SRC/tests/fuzz

skip() {
    echo "SKIPPED: $*"
    exit 77
}

command -v clang >/dev/null || skip "clang is not installed (Debian: clang, libclang-rt-14-dev)"
tmp=$(mktemp -d /tmp/cr-fuzz.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' >"$tmp/t.c"
clang -fsanitize=fuzzer,address,undefined "$tmp/t.c" -o "$tmp/t" 2>"$tmp/cc.log" ||
    skip "clang cannot link libFuzzer (Debian: libclang-rt-14-dev): $(head -c 300 "$tmp/cc.log")"

echo "fuzz: building the targets with clang in $BUILD"
if ! cmake -S "$SRC" -B "$BUILD" -DCMAKE_C_COMPILER=clang -DCR_FUZZ=ON \
    -DCR_WERROR=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$tmp/cmake.log" 2>&1 ||
    ! cmake --build "$BUILD" --target fuzzers -j2 >>"$tmp/cmake.log" 2>&1; then
    tail -40 "$tmp/cmake.log"
    echo "fuzz: build failed"
    exit 1
fi

# Seed corpora: copied at run time (never duplicated in git) into the
# build directory, where the fuzzer keeps what it learns between runs.
seed() { # target, files...
    local t=$1
    shift
    mkdir -p "$BUILD/corpus/$t"
    for f in "$@"; do
        [ -f "$f" ] || continue
        # Named by content so that repeated runs do not pile up copies.
        cp "$f" "$BUILD/corpus/$t/seed-$(sha1sum <"$f" | cut -c1-16)"
    done
}
seed fuzz_scen "$SRC"/scenarios/*.json "$SRC"/scenarios/examples/*.json \
    "$SRC"/tests/data/invalid/*/scenario.json "$SRC"/tests/e2e/scenarios/*.json \
    "$FUZZ"/seeds/fuzz_scen/*
seed fuzz_yaml "$SRC"/scenarios/examples/*.yaml \
    "$SRC"/tests/data/invalid/*/scenario.yaml "$SRC"/tests/e2e/scenarios/*.yaml \
    "$FUZZ"/seeds/fuzz_yaml/*
for t in fuzz_event fuzz_prom fuzz_proxy_ctl; do
    seed "$t" "$FUZZ"/seeds/"$t"/*
done

fail=0
for t in $TARGETS; do
    bin=$BUILD/bin/$t
    dict=$FUZZ/$t.dict
    mkdir -p "$BUILD/artifacts"
    # Every input that once broke a target stays a test.
    regs=("$FUZZ"/regressions/"$t"/*)
    if [ -e "${regs[0]}" ]; then
        if ! "$bin" -runs=1 "${regs[@]}" >"$tmp/$t.reg.log" 2>&1; then
            tail -40 "$tmp/$t.reg.log"
            echo "fuzz: $t: a regression input fails again"
            fail=1
            continue
        fi
    fi
    args=(-max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048
        -max_len=65536 -print_final_stats=1
        -artifact_prefix="$BUILD/artifacts/$t-")
    [ -f "$dict" ] && args+=(-dict="$dict")
    "$bin" "${args[@]}" "$BUILD/corpus/$t" >"$tmp/$t.log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/$t.log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$tmp/$t.log")
    echo "fuzz: $t: exit $rc, ${execs:-?} runs, ${rate:-?} execs/s in ${SECS}s, corpus $(ls "$BUILD/corpus/$t" | wc -l) inputs"
    if [ $rc -ne 0 ]; then
        grep -E "ERROR|SUMMARY|#[0-9]+ 0x|Test unit written|artifact" "$tmp/$t.log" | head -40
        fail=1
    fi
done
exit $fail
