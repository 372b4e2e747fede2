# End-to-end: scenarios/pipeline-slow-disk.json -- the reference pipeline's
# sink on a slow disk for 3 s (seccomp backend, slow_disk: every read,
# write and sync of its database files held 100 ms; nothing fails).
# Backpressure must show in the throughput events, judged as ratios within
# the run: deliveries fall far below the rate before the window while
# ingestion goes on (the results queue backs up), then catch up above it,
# then return to it; nothing is lost (no_loss); every delayed call lies in
# the window, and the sink's sockets and log were never held.
set -e
. "$(dirname "$0")/pipeline_lib.sh"
. "$(dirname "$0")/sc_helpers.inc"
sc_require

out="$E2E_TMP/slow"
unset CRP_DEFECT
run_chaosrun "$out" "$SC/pipeline-slow-disk.json"
expect_eq "pipeline-slow-disk passes (no loss)" 0 "$RC"
[ "$RC" = 0 ] || sed -n '/: failed/,$p' "$out.out" | head -20
J="$out/journal.json"
EV="$out/events.jsonl"
expect_eq "backend seccomp" seccomp "$(jq -r '.faults[0].details.backend' "$J")"
expect_eq "only the sink's database files" "$out/data/sink.0" "$(jq -r '.faults[0].details.path' "$J")"
delayed=$(jq -r '.faults[0].details.totals.delayed' "$J")
expect_true "calls were delayed ($delayed)" test "$delayed" -gt 5
expect_eq "none failed" 0 "$(jq -r '.faults[0].details.totals.failed' "$J")"
expect_eq "its log and sockets were seen, never held" 0 \
    "$(jq -r '.faults[0].details.calls["sink.0"].write.delayed // 0' "$J")"
read -r B A Z D <<<"$(sc_window "$J" sink-slow-disk sink.0)"
expect_true "first and last delayed call inside the window" \
    test "$(jq -r '.faults[0].details.first_fault_unix_us' "$J")" -ge "$B" -a \
         "$(jq -r '.faults[0].details.last_fault_unix_us' "$J")" -le "$D"

# Throughput from the events, in seconds relative to the window.
T0=$(jq -r .t0_unix "$J")
jq -r --argjson b "$B" --argjson d "$D" '
  select(.ev == "delivered" or .ev == "accepted") |
  "\(.ev) \(.ts * 1000000 - $b) \(.ts * 1000000 - $d) \(.latency_ms // 0)"' "$EV" >"$E2E_TMP/tp"
W=$(( (D - B) / 1000 ))
read -r before during accepted_before accepted_during backlog_b backlog_d <<<"$(awk -v W="$W" '
  { rb = $2 / 1e6; rd = $3 / 1e6 }
  $1 == "delivered" { if (rb >= -2.5 && rb < 0) db++; if (rb >= 0 && rd <= 0) dd++; if (rb < 0) dbb++; if (rd < 0) ddd++ }
  $1 == "accepted"  { if (rb >= -2.5 && rb < 0) ab++; if (rb >= 0 && rd <= 0) ad++; if (rb < 0) abb++; if (rd < 0) add_++ }
  END { printf "%.1f %.1f %.1f %.1f %d %d\n", db / 2.5, dd / (W / 1000), ab / 2.5, ad / (W / 1000), abb - dbb, add_ - ddd }' "$E2E_TMP/tp")"
echo "delivered/s: before $before, in the window $during; accepted/s: before $accepted_before, in the window $accepted_during; backlog at start $backlog_b, at end $backlog_d"
expect_true "deliveries fell below half the rate before ($during vs $before /s)" \
    awk -v a="$during" -v b="$before" 'BEGIN { exit !(a < 0.5 * b) }'
expect_true "ingestion went on (accepted $accepted_during vs $accepted_before /s)" \
    awk -v a="$accepted_during" -v b="$accepted_before" 'BEGIN { exit !(a > 0.8 * b) }'
expect_true "the results backed up ($backlog_b -> $backlog_d records)" \
    test "$backlog_d" -gt $(( backlog_b + 200 ))
# After the window: the backlog drains faster than the producer, then the
# rate is the producer's again (until it stops, 10 s after t0).
read -r peak steady <<<"$(awk -v T0="$T0" -v D="$D" '
  $1 == "delivered" { s = int($3 / 1e6 + 1000) - 1000; if (s >= 0 && s < 2) n[s]++ }
  $1 == "delivered" && $3 / 1e6 >= 2 && ($3 / 1e6 + D / 1e6 - T0) < 9.5 { st++; if (!f || $3 < f) f = $3; if ($3 > l) l = $3 }
  END { p = n[0] > n[1] ? n[0] : n[1]; printf "%d %.1f\n", p, (l > f) ? st / ((l - f) / 1e6) : 0 }' "$E2E_TMP/tp")"
echo "after the window: best second $peak delivered; later $steady /s"
expect_true "it caught up faster than the producer ($peak in one second vs $before /s)" \
    awk -v a="$peak" -v b="$before" 'BEGIN { exit !(a > 1.5 * b) }'
expect_true "then delivered at the rate before again ($steady vs $before /s)" \
    awk -v a="$steady" -v b="$before" 'BEGIN { exit !(a > 0.7 * b && a < 1.3 * b) }'
# End-to-end latency of the records delivered around the window.
read -r lat_before lat_after <<<"$(awk '
  $1 == "delivered" { rb = $2 / 1e6; rd = $3 / 1e6
    if (rb < 0 && rb >= -2.5) a[na++] = $4; if (rd >= 0 && rd < 1) b[nb++] = $4 }
  function med(v, n,  i, j, t) { for (i = 1; i < n; i++) for (j = i; j > 0 && v[j-1] > v[j]; j--) { t = v[j]; v[j] = v[j-1]; v[j-1] = t } return n ? v[int(n / 2)] : 0 }
  END { printf "%.1f %.1f\n", med(a, na), med(b, nb) }' "$E2E_TMP/tp")"
echo "median latency: before the window $lat_before ms, delivered in the second after it $lat_after ms"
expect_true "records delivered right after waited far longer ($lat_after vs $lat_before ms)" \
    awk -v a="$lat_after" -v b="$lat_before" 'BEGIN { exit !(a > 5 * b) }'
expect_eq "the sink never failed a commit" 0 "$(jq -s '[.[] | select(.ev == "retry" and .svc == "sink")] | length' "$EV")"
pipeline_finish
