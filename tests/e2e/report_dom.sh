#!/bin/bash
# The failure first, in a real browser: headless Chromium (Debian's
# /usr/bin/chromium) loads report.html of recorded runs (fail, lost,
# unrunnable, and the passing pass3) and its DOM after the page is built
# must name, in the header's failure block, every failed or unknown
# expectation of the journal with its summary, linked to its card (and the
# run's error when it has one); a passing run has no such block.  Laid out
# at 1280x900 the block must start on the first screen, above the first
# chart and the first failing card: measured in a copy of the page with a
# probe script appended (the report itself has no script).  Skipped (77)
# without chromium, jq or xmllint.
. "$(dirname "$0")/chromium_lib.inc"
command -v xmllint >/dev/null || { echo "SKIPPED: xmllint is not installed (libxml2-utils)"; exit 77; }

chromium_dom() { # FILE [WIDTH,HEIGHT]: the DOM after load, on stdout
    chromium_run --window-size="${2:-1280,900}" --dump-dom "file://$1"
}
xq() { xmllint --html --xpath "$2" "$1" 2>/dev/null || true; }

# Top of the failure block, of the first chart and of the first card that
# did not pass, in CSS px from the top of the page ("-1": none).
PROBE='<script>(function(){function y(e){return e?Math.round(e.getBoundingClientRect().top+window.scrollY):-1;}
document.body.setAttribute("data-probe",[y(document.getElementById("failures")),y(document.querySelector("svg.chart")),
y(document.querySelector("section.expect:not([data-verdict=passed])"))].join(" "));})();</script>'

for run in fail lost unrunnable pass3; do
    cp -R "$CR_SRC/tests/data/runs/$run" "$TMP/$run"
    "$CR_BIN/chaosrun" report "$TMP/$run" >/dev/null || fail "chaosrun report $run"
    html="$TMP/$run/report.html" dom="$TMP/$run.dom" j="$TMP/$run/journal.json"
    chromium_dom "$html" >"$dom" || true
    [ -s "$dom" ] || { fail "$run: chromium gave no DOM"; continue; }
    grep -q '<section class="card' "$dom" || grep -q 'class="top"' "$dom" ||
        { fail "$run: the DOM is not the report"; continue; }
    want=$(jq '[.expectations[] | select(.verdict != "passed")] | length' "$j")
    got=$(xq "$dom" "count(//header//div[@id='failures']//li[@data-name])")
    [ "${got:-0}" = "$want" ] && ok "$run: header names $want failed/unknown expectation(s)" ||
        fail "$run: header names ${got:-0}, journal has $want failed/unknown"
    n=$(jq '.expectations | length' "$j")
    for i in $(seq 0 $((n - 1))); do
        name=$(jq -r ".expectations[$i].name" "$j")
        verdict=$(jq -r ".expectations[$i].verdict" "$j")
        summary=$(jq -r ".expectations[$i].summary" "$j")
        [ "$verdict" = passed ] && continue
        li=$(xq "$dom" "string(//header//div[@id='failures']//li[@data-name='$name'])")
        grep -qF -- "$name" <<<"$li" && grep -qF -- "$verdict" <<<"$li" &&
            grep -qF -- "$summary" <<<"$li" &&
            ok "$run: header: $verdict $name: $summary" ||
            fail "$run: header line of $name is '$li'"
        href=$(xq "$dom" "string(//header//div[@id='failures']//li[@data-name='$name']/a/@href)")
        card=$(xq "$dom" "string(//section[@id='${href#\#}']/@data-name)")
        [ "$href" = "#exp-$i" ] && [ "$card" = "$name" ] && ok "$run: $name links to its card" ||
            fail "$run: $name links to '$href' (card '$card')"
    done
    err=$(jq -r '.error // empty' "$j")
    if [ -n "$err" ] && [ "$(jq -r .status "$j")" != interrupted ]; then
        li=$(xq "$dom" "string(//header//div[@id='failures']//li[@class='run'])")
        grep -qF -- "$err" <<<"$li" && ok "$run: header says the run's error" ||
            fail "$run: header run line is '$li'"
    fi
    if [ "$want" = 0 ] && [ -z "$err" ]; then
        [ "$(xq "$dom" "count(//div[@id='failures'])")" = 0 ] && ok "$run: no failure block" ||
            fail "$run: a failure block in a run where everything held"
        continue
    fi
    # Where it lands on the screen.
    probe="$TMP/$run/probe.html"
    sed "s|</body>|$(printf '%s' "$PROBE" | tr '\n' ' ' | sed 's/[&|]/\\&/g')</body>|" "$html" >"$probe"
    read -r top chart card <<<"$(chromium_dom "$probe" | sed -n 's/.*data-probe="\([-0-9 ]*\)".*/\1/p' | head -1)"
    if [ -z "${top:-}" ] || [ "$top" -lt 0 ]; then
        fail "$run: the failure block was not laid out (probe: '${top:-}')"
    elif [ "$top" -lt 400 ]; then ok "$run: failure block at ${top} px (first screen)"
    else fail "$run: failure block at ${top} px, below the first screen"; fi
    if [ "${chart:--1}" -ge 0 ]; then
        [ "$top" -lt "$chart" ] && ok "$run: above the first chart (${chart} px)" ||
            fail "$run: failure block at $top px, first chart at $chart px"
    fi
    if [ "${card:--1}" -ge 0 ]; then
        [ "$top" -lt "$card" ] && ok "$run: above the first failing card (${card} px)" ||
            fail "$run: failure block at $top px, first failing card at $card px"
    fi
done

[ "$FAILS" = 0 ] || exit 1
echo "all DOM checks passed"
