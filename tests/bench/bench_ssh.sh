#!/bin/bash
# bench_ssh.sh: a fault's scheduled instant -> in effect, on remote nodes
# reached over SSH, against the same faults on local network namespaces
# measured side by side.  Three sshd nodes in namespaces
# (tests/e2e/ssh_net.inc); one run with nodes, one with namespace hosts,
# each with a partition every 0.5 s for 0.25 s, a pause every 0.5 s for
# 0.2 s, a kill every 1 s (restarted by policy) and a bandwidth limit
# between n2 and n3 every 2 s for 0.4 s (tc over ssh; libnl's tbf on the
# veths for namespaces; rarer: at load ~10 its applies every 0.5 s made
# the loop lag behind the timeline).  In effect = the
# journal's applied_t (the partition's nft tables loaded on every node of
# the fault / the signal delivered: the remote `kill` returned); revert =
# reverted_t - (scheduled_t + for_s).  Median and p99 of each, and the
# ratio ssh / local.
#
# Usage (from the build directory, as root):
#   flock /tmp/cr-e2e.lock ../tests/bench/bench_ssh.sh [--quick] [BIN_DIR]
set -eu
DUR=15
[ "${1:-}" = --quick ] && { DUR=4; shift; }
BIN=${1:-$PWD/bin}
[ "$(id -u)" = 0 ] || { echo "SKIPPED: needs root"; exit 77; }
[ -x /usr/sbin/sshd ] || { echo "SKIPPED: sshd is not installed (openssh-server)"; exit 77; }
for p in ssh ssh-keygen nft ip setsid jq; do
    command -v "$p" >/dev/null || { echo "SKIPPED: $p is not installed"; exit 77; }
done
T=$(mktemp -d /tmp/cr_bench_ssh.XXXXXX)
. "$(dirname "$0")/../e2e/ssh_net.inc"
trap 'ssh_net_down; rm -rf "$T"' EXIT
ssh_net_up "$T"
export CHAOSRUN_BINDIR=$BIN

scenario() { # scenario HOSTS-JSON
    cat <<EOS
{"name": "ssh-bench", "seed": 1, "duration_s": $DUR, "drain_s": 0.2,
 "hosts": $1,
 "services": [
   {"name": "sink2", "host": "n2", "port": 9102, "cmd": ["$BIN/cr_tgt_udp", "serve"],
    "ready": {"kind": "log", "regex": "listening on"}},
   {"name": "sink3", "host": "n3", "port": 9103, "cmd": ["$BIN/cr_tgt_udp", "serve"],
    "restart": "always", "restart_delay_s": 0.05, "max_restarts": 1000,
    "ready": {"kind": "log", "regex": "listening on"}},
   {"name": "src", "host": "n1", "ready": {"kind": "log", "regex": "sending"},
    "cmd": ["$BIN/cr_tgt_udp", "send", "sink2", "sink3", "--interval-ms", "10"]}],
 "faults": [
   {"kind": "partition", "name": "part", "groups": [["n1"], ["n2", "n3"]],
    "at_s": 0.3, "every_s": 0.5, "until_s": $((DUR - 1)), "for_s": 0.25},
   {"kind": "pause", "name": "pause", "target": "sink2",
    "at_s": 0.1, "every_s": 0.5, "until_s": $((DUR - 1)), "for_s": 0.2},
   {"kind": "kill", "name": "kill", "target": "sink3",
    "at_s": 0.45, "every_s": 1, "until_s": $((DUR - 1))},
   {"kind": "bandwidth", "name": "bw", "between": ["n2", "n3"], "rate_kbit": 1000,
    "at_s": 0.7, "every_s": 2, "until_s": $((DUR - 1)), "for_s": 0.4}]}
EOS
}
scenario "[$(ssh_host n1 2), $(ssh_host n2 3), $(ssh_host n3 4)]" >"$T/ssh.json"
scenario '["n1", "n2", "n3"]' >"$T/local.json"
in_ctl "$BIN/chaosrun" --no-status -q --out "$T/ssh" "$T/ssh.json" >"$T/ssh.log" 2>&1 || true
"$BIN/chaosrun" --no-status -q --out "$T/local" "$T/local.json" >"$T/local.log" 2>&1 || true

stats() { sort -g | awk '{v[NR]=$1} END {if (!NR) {print "- - 0"; exit}
          printf "%.2f %.2f %d\n", v[int((NR+1)/2)]*1000, v[int(NR*0.99+0.999)]*1000, NR}'; }
lat() { # lat RUN NAME apply|revert
    if [ "$3" = apply ]; then
        jq -r --arg n "$2" '.faults[] | select(.name == $n and .outcome == "applied") |
            .applied_t - .scheduled_t' "$T/$1/journal.json"
    else
        jq -r --arg n "$2" '.faults[] | select(.name == $n and .outcome == "applied" and .reverted_t != null) |
            .reverted_t - .scheduled_t - .for_s' "$T/$1/journal.json"
    fi | stats
}
printf '%-22s %-28s %-28s %s\n' "" "ssh nodes (median/p99, n)" "namespaces (median/p99, n)" "ratio of medians"
for f in "part apply" "part revert" "pause apply" "pause revert" "kill apply" \
         "bw apply" "bw revert"; do
    set -- $f
    read -r sm sp sn <<<"$(lat ssh "$1" "$2")"
    read -r lm lp ln <<<"$(lat local "$1" "$2")"
    ratio=$(awk -v a="$sm" -v b="$lm" 'BEGIN {if (b > 0) printf "%.1f", a / b; else print "-"}')
    printf '%-22s %-28s %-28s %s\n' "$1 $2" "$sm / $sp ms ($sn)" "$lm / $lp ms ($ln)" "$ratio"
done
for r in ssh local; do
    echo "$r outcomes: $(jq -r '[.faults[] | "\(.name)=\(.outcome)"] | group_by(.) | map("\(.[0])x\(length)") | join(" ")' "$T/$r/journal.json")"
done
echo "ssh node clock offsets: $(jq -r '[.ssh_nodes | to_entries[] | "\(.key) \(.value.clock_offset_s * 1e6 | round) µs (round trip \(.value.rtt_s * 1e6 | round) µs)"] | join(", ")' "$T/ssh/journal.json")"
# A benchmark that measured nothing must not look like one that did.
for r in ssh local; do
    jq -e '[.faults[] | select(.outcome == "applied")] | length > 0' "$T/$r/journal.json" >/dev/null ||
        { echo "FAIL: no fault applied in the $r run (see $r.log)"; cat "$T/$r.log"; exit 1; }
done
