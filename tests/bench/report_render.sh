#!/bin/sh
# report_render.sh REPORT.html: how long headless Chromium takes to load
# and lay out a report, measured inside the page (performance.now() at the
# first animation frame after the load event: parse, scripts, style and
# layout), so Chromium's own start-up (seconds on a loaded machine) is not
# counted.  Prints "<bytes> bytes, rendered in <ms> ms".  Debian's chromium
# (or $CHROMIUM).  tests/bench/README.md, "Soak run".
set -eu
[ $# -eq 1 ] || { echo "usage: $0 REPORT.html" >&2; exit 2; }
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "$0: $CHROMIUM missing (apt-get install chromium)" >&2; exit 3; }
tmp=$(mktemp -d /tmp/cr_render.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cp "$1" "$tmp/r.html"
cat >>"$tmp/r.html" <<'JS'
<script>addEventListener("load", function () { requestAnimationFrame(function () {
document.documentElement.setAttribute("data-render-ms", performance.now().toFixed(0)); }); });</script>
JS
ms=$(timeout 300 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
    --no-first-run --disable-background-networking --disable-component-update \
    --disable-sync --user-data-dir="$tmp/profile" \
    --dump-dom "file://$tmp/r.html" 2>/dev/null |
    sed -n 's/.*data-render-ms="\([0-9]*\)".*/\1/p' | head -1)
[ -n "$ms" ] || { echo "$0: the page never finished loading" >&2; exit 1; }
echo "$(wc -c <"$1") bytes, rendered in $ms ms"
