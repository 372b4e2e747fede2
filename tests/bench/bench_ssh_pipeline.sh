#!/bin/bash
# bench_ssh_pipeline.sh: the reference pipeline's start -> t0 on three SSH
# nodes against the same scenario on three namespace hosts, side by side.
# The scenario is tests/e2e/ssh_pipeline.sh's (ssh_pipeline.inc: seven
# replicas on n1..n3, a worker kill and a partition); the nodes are
# ssh_net.inc's (sshd in network namespaces, chaosrun in a fourth).  Runs
# alternate ssh / namespaces, N each.  Per run, from the journal: start ->
# t0 (t0_unix - started_at: for ssh, the nodes' set-up -- masters, control
# shells, clock offsets, directories, followers -- and every replica
# started over its own session and ready), the node set-up alone (the
# time of chaosrun's "node" log lines), and the verdict.  Medians.
#
# Usage (as root, from the build directory):
#   ../tests/bench/bench_ssh_pipeline.sh [N] [BIN_DIR]
set -eu
N=${1:-3}
BIN=${2:-$PWD/bin}
[ "$(id -u)" = 0 ] || { echo "SKIPPED: needs root"; exit 77; }
[ -x /usr/sbin/sshd ] || { echo "SKIPPED: sshd is not installed (openssh-server)"; exit 77; }
for p in ssh ssh-keygen nft ip setsid jq; do
    command -v "$p" >/dev/null || { echo "SKIPPED: $p is not installed"; exit 77; }
done
[ -x "$BIN/crp" ] || { echo "SKIPPED: $BIN/crp not built"; exit 77; }
T=$(mktemp -d /tmp/cr_bench_sshp.XXXXXX)
CR_BIN=$BIN
. "$(dirname "$0")/../e2e/ssh_net.inc"
. "$(dirname "$0")/../e2e/ssh_pipeline.inc"
trap 'ssh_net_down; rm -rf "$T"' EXIT
ssh_net_up "$T"
export CHAOSRUN_BINDIR=$BIN
ssh_pipeline_scen "$T/ssh.json" "$(ssh_host n1 2), $(ssh_host n2 3), $(ssh_host n3 4)"
ssh_pipeline_scen "$T/local.json" '"n1", "n2", "n3"'

for i in $(seq "$N"); do
    in_ctl "$BIN/chaosrun" --no-status --out "$T/ssh$i" "$T/ssh.json" >"$T/ssh$i.out" 2>"$T/ssh$i.err" || true
    "$BIN/chaosrun" --no-status --out "$T/local$i" "$T/local.json" >"$T/local$i.out" 2>"$T/local$i.err" || true
done

median() { sort -g | awk '{v[NR]=$1} END {if (!NR) print "-"; else printf "%.2f\n", v[int((NR+1)/2)]}'; }
t0() { for i in $(seq "$N"); do jq -r '.t0_unix - .started_at' "$T/$1$i/journal.json"; done | median; }
setup() { # the last "node" line of each ssh run: [  1.234] node n3: ...
    for i in $(seq "$N"); do
        sed -n 's/^\[ *\([0-9.]*\)\] node n[0-9]:.*/\1/p' "$T/ssh$i.err" | tail -n 1
    done | median
}
verdicts() { for i in $(seq "$N"); do jq -r .status "$T/$1$i/journal.json"; done | sort | uniq -c | awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2}'; }
S=$(t0 ssh) L=$(t0 local)
printf '%-22s %-14s %-14s %s\n' "" "ssh nodes" "namespaces" "ratio"
printf '%-22s %-14s %-14s %s\n' "start -> t0 (s)" "$S" "$L" "$(awk -v a="$S" -v b="$L" 'BEGIN {printf "%.1f", a / b}')"
printf '%-22s %-14s %-14s\n' "node set-up (s)" "$(setup)" "-"
printf '%-22s %-14s %-14s\n' "verdicts" "$(verdicts ssh)" "$(verdicts local)"
echo "runs: $N each, load $(cut -d' ' -f1-3 /proc/loadavg)"
# A benchmark that measured nothing must not look like one that did.
for r in ssh local; do
    [ -f "$T/${r}1/journal.json" ] && jq -e '.t0_unix > 0' "$T/${r}1/journal.json" >/dev/null ||
        { echo "FAIL: the $r run reached no t0"; cat "$T/${r}1.err"; exit 1; }
done
