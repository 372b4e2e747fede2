/* cr_svg: the hand-drawn inline SVG of the HTML reports.
 *
 * The timeline (one lane per fault, per service instance, per circuit
 * breaker, per probe, markers for checkpoints, failovers and alerts, and
 * an evidence lane per failed or unknown expectation)
 * and the charts under it (throughput, retries, latency percentiles,
 * errors) share one time axis, so a dip in a chart lines up with the fault
 * above it.  Every state is told apart by a pattern and a label as well as
 * a colour, so the pictures survive greyscale printing and colour
 * blindness.  No script: tooltips are SVG <title> elements. */
#ifndef CR_SVG_H
#define CR_SVG_H

#include <stddef.h>

#include "cr_out.h"
#include "cr_report.h"

/* A hidden <svg> holding the shared patterns and markers; emit once per
 * page, before any other SVG of this module. */
void cr_svg_defs(cr_out *o);

/* The timeline of a run: an <svg class="timeline"> whose fault windows are
 * <rect class="fault-window" data-fault="name"> (one per occurrence). */
void cr_svg_timeline(const cr_report *r, cr_out *o);
/* The same for long runs: a lane (a fault's occurrences, an instance's
 * states, a breaker's windows, a probe's results, alert or degradation
 * windows) with more than max_items marks is drawn per column instead --
 * the axis cut into `columns` columns (0: 2000), each won by the style
 * covering most of it (a failed probe always wins), runs of columns won by
 * the same style one rectangle of class "<style> agg" whose tooltip gives
 * the time range and the count of marks of each style.  max_items 0: no
 * lane is (cr_svg_timeline).  Lanes with at most max_items marks are drawn
 * exactly as cr_svg_timeline draws them. */
void cr_svg_timeline_limited(const cr_report *r, cr_out *o, size_t max_items,
                             size_t columns);

/* The charts on the timeline's axis: throughput, retries per second,
 * latency percentiles (when events carry latency_ms) and errors per
 * second, each an <svg class="chart" data-chart="...">. */
void cr_svg_charts(const cr_report *r, cr_out *o);

/* Two runs on one time axis (the union of theirs, seconds after each
 * run's t0): delivered, retries and errors per second and the p99 of
 * latency_ms, old dashed grey and new solid, the new run's fault windows
 * shaded and the old run's outlined; each an <svg class="chart"
 * data-chart="cmp-...">.  Charts neither run has data for are left out. */
void cr_svg_compare_charts(const cr_report *old, const cr_report *neu,
                           cr_out *o);

/* A small histogram of v[0..n) (e.g. recovery times over seeds) with the
 * bound drawn as a line when bound is not NAN. */
void cr_svg_histogram(cr_out *o, const double *v, size_t n, const char *unit,
                      double bound, const char *title);

/* A horizontal gauge: measured against a bound "<= 5" / ">= 100". */
void cr_svg_gauge(cr_out *o, double measured, const char *bound,
                  const char *verdict);

#endif
