# End-to-end: rotating the event file and the logs (scenario key "rotate",
# issue 20).  cr_tgt_firehose writes about 1.5 MB of events and 1 MB of
# log a second, and a copy of both; with max_mb 1 the run cuts several
# segments of each.  Checked: the allocated blocks of the live files stay
# bounded while they grow; the segments in index order plus the live
# tail are exactly what was written (zstd -dc); ids are in every segment;
# `chaosrun report RUN_DIR` reads events.jsonl.zst and the rotated log
# (an excerpt from the log's first segment, before its last 4 MiB); the verdicts; and a defect
# that drops one id in the first segment is caught, by the checker and by
# the report's recount; a file system without hole punching is refused.
set -e
. "$(dirname "$0")/lib.sh"
command -v zstd >/dev/null || { echo "SKIPPED: the zstd program is not installed"; exit 77; }
S="$CR_SRC/tests/e2e/scenarios/core-rotate.json"
started=$(date +%s)

# run_sampled NAME: chaosrun in the background; the most blocks (KiB)
# events.live.jsonl and the log held at any sample -> MAX_EV, MAX_LOG.
run_sampled() {
    local out="$E2E_TMP/$1" b
    mkdir -p "$E2E_TMP/$1.copies"
    export CR_ROT_DIR="$E2E_TMP/$1.copies"
    set +e
    "$CHAOSRUN" --no-status --out "$out" "$S" >"$out.out" 2>"$out.err" &
    local pid=$!
    MAX_EV=0 MAX_LOG=0
    local e l
    while kill -0 "$pid" 2>/dev/null; do
        # st_blocks: 512-byte units
        read -r e l < <(stat -c %b "$out/events.live.jsonl" "$out/logs/hose.0.log" 2>/dev/null | tr '\n' ' ')
        [ "$((${e:-0} / 2))" -gt "$MAX_EV" ] && MAX_EV=$((e / 2))
        [ "$((${l:-0} / 2))" -gt "$MAX_LOG" ] && MAX_LOG=$((l / 2))
        sleep 0.2
    done
    wait "$pid"
    RC=$?
    set -e
}

# history DIR LIVE INDEX: the segments in index order, then the live tail.
history() {
    local dir=$1 live=$2 idx=$3 stem n end=0
    stem=${live%.log}
    stem=${stem%.live.jsonl}
    while read -r line; do
        n=$(jq -r .n <<<"$line")
        end=$(jq -r .to <<<"$line")
        case $live in
        *.log) zstd -dcq "$dir/$stem.$n.log.zst" ;;
        *) zstd -dcq "$dir/$stem.$n.jsonl.zst" ;;
        esac
    done <"$dir/$idx"
    tail -c +$((end + 1)) "$dir/$live"
}

verdict() { jq -r ".expectations[] | select(.name==\"$2\") | .$3" "$1/journal.json"; }

run_sampled ok
ok="$E2E_TMP/ok"
expect_eq "the run exits 0" 0 "$RC"
expect_eq "no_loss passed" passed "$(verdict "$ok" every-id-delivered verdict)"
expect_true "lost 0 ($(verdict "$ok" every-id-delivered summary))" \
    grep -q "^lost 0 of" <<<"$(verdict "$ok" every-id-delivered summary)"
nev=$(ls "$ok"/events.*.jsonl.zst 2>/dev/null | grep -c 'events\.[0-9]*\.jsonl\.zst' || true)
nlog=$(ls "$ok"/logs/hose.0.*.log.zst 2>/dev/null | wc -l)
expect_true "several event segments were cut ($nev)" test "$nev" -ge 4
expect_true "several log segments were cut ($nlog)" test "$nlog" -ge 2
expect_eq "the index names every event segment" "$nev" "$(wc -l <"$ok/events.segments")"
expect_eq "the journal lists them" "$nev" \
    "$(jq '.rotate.files[] | select(.file=="events.live.jsonl") | .segments | length' "$ok/journal.json")"

size=$(stat -c %s "$ok/events.live.jsonl")
lsize=$(stat -c %s "$ok/logs/hose.0.log")
expect_true "the event file grew past 6 MiB ($size bytes)" test "$size" -ge $((6 << 20))
expect_true "its allocated blocks stayed under 5 MiB (at most $MAX_EV KiB)" \
    test "$MAX_EV" -le 5120
expect_true "the log grew past 5 MiB ($lsize bytes)" test "$lsize" -ge $((5 << 20))
expect_true "its allocated blocks stayed under 2 MiB (at most $MAX_LOG KiB)" \
    test "$MAX_LOG" -le 2048
expect_true "the live file's cut ranges are holes (zeros)" \
    test "$(head -c 4096 "$ok/events.live.jsonl" | tr -d '\0' | wc -c)" -eq 0

history "$ok" events.live.jsonl events.segments >"$E2E_TMP/ev.back"
history "$ok/logs" hose.0.log hose.0.segments >"$E2E_TMP/log.back"
expect_true "events: segments + live tail = what was written" \
    cmp "$E2E_TMP/ev.back" "$E2E_TMP/ok.copies/events.copy"
expect_true "log: segments + live tail = what was written" \
    cmp "$E2E_TMP/log.back" "$E2E_TMP/ok.copies/log.copy"
empty=0
for z in "$ok"/events.[0-9]*.jsonl.zst; do
    zstd -dcq "$z" | grep -q '"ev":"delivered","id":' || empty=$((empty + 1))
done
expect_eq "delivered ids in every segment" 0 "$empty"
expect_eq "the journal names events.jsonl.zst" events.jsonl.zst "$(jq -r .events.file "$ok/journal.json")"
expect_eq "events.jsonl.zst holds every line written" \
    "$(wc -l <"$E2E_TMP/ok.copies/events.copy")" "$(zstd -dcq "$ok/events.jsonl.zst" | wc -l)"

# The reports again from the files alone.
rm -f "$ok/report.html" "$ok/report.md" "$ok/junit.xml"
rrc=0
"$CHAOSRUN" report "$ok" >"$E2E_TMP/rep.out" 2>&1 || rrc=$?
expect_eq "chaosrun report RUN_DIR" 0 "$rrc"
expect_true "report.md: the same verdict" grep -q "every-id-delivered.*passed\|passed.*every-id-delivered" "$ok/report.md"
expect_eq "junit.xml: no failure" 0 "$(grep -c '<failure' "$ok/junit.xml")"
# The pause at 1 s: its excerpt's lines are in the log's first segment,
# before the last 4 MiB the report always reads (a window around the
# fault's log offset, read through the segments).
off=$(jq '.faults[0].log_offsets["hose.0"] | if type == "array" then .[0] else . end' "$ok/journal.json")
expect_true "the fault's log offset ($off) lies before the log's last 4 MiB" \
    test "$off" -lt $((lsize - (4 << 20)))
first=$(grep -o 'processed id [0-9]*' "$ok/report.html" | head -1)
expect_true "the log excerpt shows lines ($first)" test -n "$first"
expect_true "from the log's first segment" \
    grep -q "$first " <(zstd -dcq "$ok/logs/hose.0.1.log.zst")

# The defect: id 100 (in the first segment) is never delivered.
export CR_ROT_DROP=100
run_sampled drop
unset CR_ROT_DROP
d="$E2E_TMP/drop"
expect_eq "the dropping run exits 1" 1 "$RC"
s=$(verdict "$d" every-id-delivered summary)
expect_true "lost 1 ($s)" grep -q "^lost 1 of" <<<"$s"
expect_true "evidence names id 100" \
    grep -q "id 100 accepted" <<<"$(jq -r '.expectations[0].evidence[].text' "$d/journal.json")"
expect_true "id 100 was accepted in the first segment" \
    grep -q '"ev":"accepted","id":100}' <(zstd -dcq "$d/events.1.jsonl.zst")
rm -f "$d/report.html" "$d/report.md" "$d/junit.xml"
"$CHAOSRUN" report "$d" >/dev/null 2>&1 || true
expect_true "the report's recount agrees with the checker" \
    sh -c "grep -q 'Recounted from' '$d/report.html' && ! grep -q 'the checker counted' '$d/report.html'"
expect_true "its table of lost ids (read from events.jsonl.zst) holds 100" \
    grep -q '<td>100</td>' "$d/report.html"
# A run whose same_result needs a fault-free baseline: the baseline's live
# file is cut too (nothing in it parses events as they come: they were only
# collected, in memory, and its 5 MB stayed on disk -- stop 29), its history
# is events.jsonl.zst, and the real run reads it back for the comparison.
b="$E2E_TMP/base"
run_chaosrun "$b" "$CR_SRC/tests/e2e/scenarios/core-rotate-baseline.json"
expect_eq "the run with a baseline passes" 0 "$RC"
expect_eq "same_result compared with the baseline" \
    'result "sum" = 42, as in the baseline' "$(verdict "$b" same-answer summary)"
expect_true "the baseline cut segments" test -s "$b/baseline/events.1.jsonl.zst"
blk=$(($(stat -c %b "$b/baseline/events.live.jsonl") / 2))
expect_true "the baseline's live file kept few blocks ($blk KiB, written $(($(stat -c %s "$b/baseline/events.live.jsonl") / 1024)) KiB)" \
    test "$blk" -lt 2048
expect_true "its history is events.jsonl.zst, no plain copy" \
    sh -c "test -s '$b/baseline/events.jsonl.zst' && ! test -e '$b/baseline/events.jsonl'"
expect_eq "... holding every event the baseline's journal counted" \
    "$(jq .events.count "$b/baseline/journal.json")" "$(zstd -dcq "$b/baseline/events.jsonl.zst" | wc -l)"
# A file system that cannot punch holes (ramfs): refused at start-up,
# exit 3 with the reason.  Needs a mount namespace (root).
mkdir -p "$E2E_TMP/ramfs"
if unshare -m sh -c "mount -t ramfs none '$E2E_TMP/ramfs'" 2>/dev/null; then
    set +e
    CR_ROT_DIR="$E2E_TMP" unshare -m sh -c "mount -t ramfs none '$E2E_TMP/ramfs' &&
        exec '$CHAOSRUN' --no-status --out '$E2E_TMP/ramfs/run' '$S'" \
        >"$E2E_TMP/ramfs.out" 2>&1
    rc=$?
    set -e
    expect_eq "no hole punching: exit 3" 3 "$rc"
    expect_true "with the reason" grep -q "cannot punch holes" "$E2E_TMP/ramfs.out"
else
    echo "note: no mount namespace here (not root?): the ramfs refusal is not checked"
fi
echo "took $(($(date +%s) - started)) s"
finish
