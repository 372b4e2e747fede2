# End-to-end: the clock fault kind on small targets.
#  1. cr_tgt_clock (dynamically linked) prints its clocks every 50 ms: its
#     wall clock is 30 s ahead inside the skew window and only there, steps
#     20 s back at the jump and stays there, drifts at 1.5x inside the
#     drift window (the rate, from its first sample there; not before the
#     apply) and keeps what it drifted, time() agrees with it, and
#     its CLOCK_MONOTONIC is never touched.  A second copy runs with its
#     monotonic clock 1000 s ahead from its start (a time namespace).
#  2. a static busybox gets a monotonic offset (time namespace): the
#     /proc/uptime its forked children read is 100000 s ahead.
#  3. a wall clock fault on a static busybox is refused: exit 3 naming it.
# Each sample is placed on the run's timeline by its own real time, known
# from its monotonic clock (never faulted here) and the offset between the
# two before any fault; samples within 50 ms of a window's edge are left
# out (the edge is the write of the offset file, between scheduled and
# applied times).
set -e
. "$(dirname "$0")/lib.sh"
[ -r /proc/self/timens_offsets ] && [ "$(id -u)" = 0 ] ||
    { echo "SKIPPED: needs root and time namespaces"; exit 77; }
ls /usr/lib/*/faketime/libfaketimeMT.so.1 >/dev/null 2>&1 || [ -n "${CHAOSRUN_FAKETIME_LIB:-}" ] ||
    { echo "SKIPPED: libfaketime is not installed (Debian package libfaketime)"; exit 77; }
S="$CR_SRC/tests/e2e/scenarios"

# ---- 1. skew, jump, drift; a monotonic offset -----------------------------
run_chaosrun "$E2E_TMP/c" "$S/clock-small.json"
expect_eq "clock-small exits 0" 0 "$RC"
[ "$RC" = 0 ] || cat "$E2E_TMP/c.err"
J="$E2E_TMP/c/journal.json"
expect_eq "four occurrences applied" "applied applied applied applied" \
    "$(jq -r '[.faults[].outcome] | join(" ")' "$J")"
expect_eq "tools" "libfaketime libfaketime libfaketime time namespace" \
    "$(jq -r '[.faults[].details.via] | join(" ")' "$J")"
T0=$(jq -r .t0_unix "$J")
# A window: applied, revert began, reverted.  Samples between the revert's
# start and its end (+-50 ms: libfaketime reads its file a little late) are
# judged by neither side: at load the harness returns from a revert late.
win() { jq -r --arg n "$1" '.faults[] | select(.name == $n) | "\(.applied_t) \(.revert_began_t) \(.reverted_t)"' "$J"; }
read -r SA SB SZ <<<"$(win skew)"
read -r JA _ _ <<<"$(win jump)"
read -r DA DB DZ <<<"$(win drift)"
KEPT=$(jq -r '.faults[] | select(.name == "drift") | .details.reverted.instances[0].wall_offset_s' "$J")
# 0.5 x the time it drifted, -20 s: from the apply (between its start and
# end) to the revert (likewise), not the scheduled 2 s -- the revert is
# timed from the schedule, so a late apply drifts for less.
read -r KLO KHI <<<"$(jq -r '.faults[] | select(.name == "drift") |
    "\(-20 + 0.5 * (.revert_began_t - .applied_t) - 0.005) \(-20 + 0.5 * (.reverted_t - .apply_began_t) + 0.005)"' "$J")"
expect_true "the drift kept is 0.5 x the time it drifted (about 2 s) - 20 ($KEPT in [$KLO, $KHI])" \
    awk -v k="$KEPT" -v lo="$KLO" -v hi="$KHI" 'BEGIN { exit !(k >= lo && k <= hi && k > -19.5 && k < -18.8) }'
# Per sample: t (s after t0, real), d = wall clock offset seen, whether
# time() agrees with the faked clock -- to within a second either way:
# libfaketime fakes time() from the whole seconds, and with a fractional
# offset (a drift kept: -19.000274 s) its second turns over up to that
# fraction before clock_gettime's does (1 of 190 samples, whole suite, stop
# 30).  Not faked at all, time() would be 19-30 s off.
awk -v t0="$T0" '/^clock real=/ {
        split($2, a, "="); split($3, b, "="); split($5, c, "=")
        if (!n++) d0 = a[2] - b[2]
        printf "%.4f %.6f %d %.6f %.6f\n", b[2] + d0 - t0, a[2] - b[2] - d0, (c[2] >= int(a[2]) - 1 && c[2] <= int(a[2]) + 1), a[2], b[2]
    }' "$E2E_TMP/c/logs/clk.0.log" >"$E2E_TMP/samples"
# The most libfaketime's start can lag the replica's fork, from which the
# drift is timed (S, from /proc: the fork, before the exec and the
# library's start; faults/clock.c): the replica's "ready" line came after
# both.  S is read back from the file written (base - 0.5 x (T - S), T
# within the apply).  At load 6 the first drift sample came out 49 and
# 231 ms back.
GONE=$(jq -r '(.faults[] | select(.name == "drift")) as $f
    | ($f.details.instances[0].faketime | split(" ")[0] | tonumber) as $spec
    | ([.services[] | select(.service == "clk") | .history[] | select(.what == "ready")][0].t) as $ready
    | $ready - ($f.apply_began_t - (-20 - $spec) / 0.5)' "$J")
echo "the replica's ready line came $GONE s after its fork (information)"
classify() { # phase checks; prints "name count bad" lines
    awk -v sa="$SA" -v sb="$SB" -v sz="$SZ" -v ja="$JA" -v da="$DA" -v db="$DB" -v dz="$DZ" -v kept="$KEPT" -v gone="$GONE" '
    function near(t, e) { return t > e - 0.05 && t < e + 0.05 }
    function chk(name, ok) { n[name]++; if (!ok) { bad[name]++; if (bad[name] < 4) printf "bad %s: %s\n", name, $0 > "/dev/stderr" } }
    {
        t = $1; d = $2
        if (!$3) chk("time", 0); else chk("time", 1)
        if (NR > 1) chk("mono", $5 > pm && $5 - pm < 1)
        pm = $5
        if (near(t, sa) || near(t, ja) || near(t, da)) next
        if ((t > sb - 0.05 && t < sz + 0.05) || (t > db - 0.05 && t < dz + 0.05)) next
        if (t < sa) chk("before", d > -0.001 && d < 0.001)
        else if (t < sb) chk("skew", d > 29.999 && d < 30.001)
        else if (t < ja) chk("between", d > -0.001 && d < 0.001)
        else if (t < da) chk("jumped", d > -20.001 && d < -19.999)
        else if (t < db) {
            # the rate, from the first sample in the window (libfaketime
            # reads the changed control file a little after the apply: 66 ms
            # beside stress-ng); that first sample has not drifted more than
            # the time since the apply allows, nor gone back
            # (less 0.5 x gone: the drift is timed from the replica fork,
            # libfaketime scales from its own start, later by up to gone;
            # see faults/clock.c)
            if (!nd++) { t1 = t; d1 = d; chk("drift", d > -20.002 - 0.5 * gone && d < -20 + 0.5 * (t - da) + 0.02) }
            else { e = d1 + 0.5 * (t - t1); chk("drift", d > e - 0.02 && d < e + 0.02) }
        }
        else chk("after", d > kept - 0.002 && d < kept + 0.002)
    }
    END { for (k in n) printf "%s %d %d\n", k, n[k], bad[k] + 0 }' "$E2E_TMP/samples"
}
C=$(classify)
echo "$C"
for ph in before skew between jumped drift after time mono; do
    cnt=$(awk -v p=$ph '$1 == p { print $2 }' <<<"$C")
    bad=$(awk -v p=$ph '$1 == p { print $3 }' <<<"$C")
    expect_true "$ph: samples seen (${cnt:-0})" test "${cnt:-0}" -ge 4
    expect_eq "$ph: every sample as expected" 0 "${bad:-x}"
done
# The monotonic copy: its CLOCK_MONOTONIC (and CLOCK_BOOTTIME) 1000 s ahead
# of the same real instant, seen from the unfaulted copy.
M=$(awk '/^clock real=/ { split($2, a, "="); split($3, b, "="); split($4, c, "=");
        printf "%.6f %.6f\n", a[2] - b[2], c[2] - b[2]; exit }' "$E2E_TMP/c/logs/mono.0.log")
read -r MD MB <<<"$M"
D0=$(awk '/^clock real=/ { split($2, a, "="); split($3, b, "="); printf "%.6f\n", a[2] - b[2]; exit }' "$E2E_TMP/c/logs/clk.0.log")
expect_true "monotonic copy: 1000 s ahead ($D0 - $MD)" \
    awk -v a="$D0" -v b="$MD" 'BEGIN { x = a - b; exit !(x > 999.99 && x < 1000.01) }'
expect_true "monotonic copy: boottime moved with it ($MB)" \
    awk -v b="$MB" 'BEGIN { exit !(b > -1 && b < 1) }'
expect_eq "monotonic copy: in a time namespace of its own" true \
    "$(jq -r '.faults[] | select(.name == "mono") | .details.instances[0].time_namespace' "$J")"
expect_true "the offset files lived in the run directory and are gone" test ! -e "$E2E_TMP/c/clock"

# ---- 2. a monotonic offset for a static program ---------------------------
run_chaosrun "$E2E_TMP/s" "$S/clock-static.json"
expect_eq "clock-static exits 0" 0 "$RC"
[ "$RC" = 0 ] || cat "$E2E_TMP/s.err"
UP=$(awk '{ print $1 }' /proc/uptime)
SEEN=$(awk '/^[0-9.]+ [0-9.]+$/ { print $1; exit }' "$E2E_TMP/s/logs/bb.0.log")
expect_true "static busybox's /proc/uptime is 100000 s ahead ($SEEN vs $UP)" \
    awk -v s="${SEEN:-0}" -v u="$UP" 'BEGIN { exit !(s > u + 99900 && s < u + 100000) }'

# ---- 3. a wall clock fault on a static program is refused -----------------
run_chaosrun "$E2E_TMP/r" "$S/clock-static-realtime.json"
expect_eq "wall clock fault on a static program: exit 3" 3 "$RC"
expect_true "names the service and the reason" \
    grep -q "service bb: /bin/busybox is statically linked; LD_PRELOAD (libfaketime) cannot reach its clock" "$E2E_TMP/r.err"
expect_true "no process of the runs left" test -z "$(procs_of_run "$E2E_TMP/c")$(procs_of_run "$E2E_TMP/s")"
finish
