#!/bin/bash
# Render the report of a recorded three-fault run with headless Chromium:
# a full-width screenshot, a narrow (400 px) one, a PDF (print CSS), and the
# DOM after layout, which must hold one section per expectation and one
# fault window per fault.  Skipped (77) without chromium.
. "$(dirname "$0")/chromium_lib.inc"

for run in pass3 fail lost; do
    cp -R "$CR_SRC/tests/data/runs/$run" "$TMP/$run"
    "$CR_BIN/chaosrun" report "$TMP/$run" >/dev/null || fail "chaosrun report $run"
    html="$TMP/$run/report.html"
    [ -s "$html" ] || { fail "$run: no report.html"; continue; }

    chromium_run --screenshot="$TMP/$run.png" --window-size=1280,2400 "file://$html" >/dev/null
    size=$(stat -c %s "$TMP/$run.png" 2>/dev/null || echo 0)
    # A blank 1280x2400 PNG is a few kB; a drawn report is far larger.
    if [ "$size" -gt 100000 ]; then ok "$run: screenshot $size bytes"; else fail "$run: screenshot only $size bytes"; fi

    chromium_run --screenshot="$TMP/$run-narrow.png" --window-size=400,1600 "file://$html" >/dev/null
    size=$(stat -c %s "$TMP/$run-narrow.png" 2>/dev/null || echo 0)
    if [ "$size" -gt 30000 ]; then ok "$run: narrow screenshot $size bytes"; else fail "$run: narrow screenshot only $size bytes"; fi

    chromium_run --print-to-pdf="$TMP/$run.pdf" --no-pdf-header-footer "file://$html" >/dev/null
    if head -c 5 "$TMP/$run.pdf" 2>/dev/null | grep -q '%PDF-'; then ok "$run: printed to PDF"; else fail "$run: no PDF"; fi

    chromium_run --dump-dom "file://$html" >"$TMP/$run.dom" || true
    nex=$(jq '.expectations | length' "$TMP/$run/journal.json")
    nfa=$(jq '.faults | length' "$TMP/$run/journal.json")
    got=$(grep -o 'class="card expect v-[a-z]*"' "$TMP/$run.dom" | wc -l)
    [ "$got" = "$nex" ] && ok "$run: DOM has $got expectation sections" || fail "$run: DOM has $got expectation sections, journal $nex"
    got=$(grep -o 'class="fault-window[^"]*"' "$TMP/$run.dom" | wc -l)
    [ "$got" = "$nfa" ] && ok "$run: DOM has $got fault windows" || fail "$run: DOM has $got fault windows, journal $nfa"
    for v in passed failed unknown; do
        want=$(jq "[.expectations[] | select(.verdict == \"$v\")] | length" "$TMP/$run/journal.json")
        got=$(grep -o "data-verdict=\"$v\"" "$TMP/$run.dom" | wc -l)
        [ "$got" = "$want" ] && ok "$run: $got $v" || fail "$run: $got $v sections, journal $want"
    done
done

if [ -n "${CR_KEEP_SHOTS:-}" ]; then
    mkdir -p "$CR_KEEP_SHOTS" && cp "$TMP"/*.png "$TMP"/*.pdf "$CR_KEEP_SHOTS"/
    echo "screenshots kept in $CR_KEEP_SHOTS"
fi
[ "$FAILS" = 0 ] || exit 1
echo "all report rendering checks passed"
