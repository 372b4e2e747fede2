# End-to-end: the report of a real failing run leads with the failure.  A
# pipeline that drops id 30 fails no_loss; its report.html names the
# failed expectation with its reason under the title (before the charts),
# marks the evidence on the timeline (a real run has no checkpoint, alert
# or failover events: the markers must not depend on them), lists the lost
# id; report.md and junit.xml lead with it too.
set -e
. "$(dirname "$0")/lib.sh"
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND"' ERR
S="$CR_SRC/tests/e2e/scenarios/checks-no-loss.json"
jq '.services[0].cmd += ["--drop", "30"]' "$S" >"$E2E_TMP/drop.json"
out="$E2E_TMP/drop"
run_chaosrun "$out" "$E2E_TMP/drop.json"
expect_eq "dropping pipeline exits 1" 1 "$RC"
html="$out/report.html"
expect_true "report.html written" test -s "$html"
x=every-record-delivered
summary=$(jq -r ".expectations[] | select(.name==\"$x\") | .summary" "$out/journal.json")
expect_true "summary from the checker ($summary)" grep -q '^lost 1 of' <<<"$summary"
# The failure block, inside the header, before any chart.
head_part=$(sed -n '/<header class="top">/,/<\/header>/p' "$html")
expect_true "header has the failure block" grep -q '<div class="failures v-failed" id="failures">' <<<"$head_part"
expect_true "header names $x" grep -q "<li class=\"v-failed\" data-name=\"$x\"><a href=\"#exp-0\">" <<<"$head_part"
esc=$(printf '%s' "$summary" | sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g')
expect_true "header gives its reason" grep -qF "$esc" <<<"$head_part"
expect_true "no chart before the failure block" sh -c "! sed -n '1,/id=\"failures\"/p' '$html' | grep -q 'class=\"chart\"'"
# Evidence on the timeline of a run without checkpoint/failover/alert events.
expect_eq "no checkpoint, failover or alert events in this run" 0 \
    "$(grep -cE '"ev":"(checkpoint_saved|checkpoint_restored|failover|alert|degraded)"' "$out/events.jsonl" || true)"
expect_true "evidence lane on the timeline" grep -q "<g class=\"ev-lane\" data-name=\"$x\">" "$html"
expect_true "a failure marker linked to the card" grep -q '<a href="#exp-0"><g class="mk-evidence failed">' "$html"
expect_true "the lost id listed" grep -q '<table class="lost">.*<tr><td>30</td>' "$html"
# report.md and junit.xml lead with it.
expect_true "report.md: What failed, right under the heading" \
    sh -c "sed -n '3p' '$out/report.md' | grep -q '^\*\*What failed:\*\*'"
expect_true "report.md names $x" grep -q "^- ❌ failed \*\*$x\*\*" "$out/report.md"
expect_true "junit.xml: evidence of the lost id" grep -q 'id 30 accepted' "$out/junit.xml"
finish
