/* cr_svg_internal: drawing primitives shared by the two files of the
 * cr_svg module (cr_svg.c: patterns and timeline; cr_svg_chart.c: charts,
 * histogram, gauge).  Not for other modules. */
#ifndef CR_SVG_INTERNAL_H
#define CR_SVG_INTERNAL_H

#include "cr_out.h"

/* Every picture is 1000 units wide; lanes and charts plot between L and R
 * so that they share one time axis. */
#define W 1000.0
#define L 170.0 /* label column */
#define R 985.0

typedef struct cr_svg_axis {
    double t0, t1; /* seconds after t0 at L and at R */
} cr_svg_axis;

/* x coordinate of time t (clamped to the axis). */
double cr_svg_x(const cr_svg_axis *a, double t);
/* A 0.1/0.2/0.5/1/2/5/... step giving at most max_ticks ticks over span. */
double cr_svg_nice_step(double span, int max_ticks);
/* Approximate width of a small label (characters, not bytes). */
double cr_svg_text_w(const char *s);
/* <text> with escaped content; anchor NULL = start. */
void cr_svg_label(cr_out *o, double x, double y, const char *cls,
                  const char *anchor, const char *text);
/* Vertical grid lines (and tick labels above y0 when labels is 1). */
void cr_svg_grid(cr_out *o, const cr_svg_axis *a, double y0, double y1,
                 int labels);

#endif
