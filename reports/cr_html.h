/* cr_html: report.html, the self-contained page a reviewer reads.
 *
 * No network, no external script, font or style sheet: CSS and SVG are
 * inline.  The page has a header (scenario, verdict, then the failure
 * first: each failed or unknown expectation with its reason and a link to
 * its card; seed, duration, machine, reproduce command), the timeline and
 * charts (cr_svg), one section per expectation (verdict, measured figure
 * against its bound, the lost-id story, evidence; cr_html_evid.c), the
 * faults, per-service log excerpts around each fault and the scenario as
 * run.  Verdicts carry an icon and a word as well as a colour;
 * the page reflows on narrow screens and prints cleanly. */
#ifndef CR_HTML_H
#define CR_HTML_H

#include "base/cr_err.h"
#include "cr_out.h"
#include "cr_report.h"

/* Append the complete report.html for r to o.  Returns 0 or CR_ENOMEM. */
int cr_html_write(const cr_report *r, cr_out *o, cr_err *err);

/* Page frame shared by the other HTML writers (compare, multi, suite):
 * doctype, head with the inline style sheet and title, <body>, the SVG
 * pattern definitions. */
void cr_html_begin(cr_out *o, const char *title);
void cr_html_end(cr_out *o);

/* A verdict badge: <span class="badge v-<verdict>">icon WORD</span>. */
void cr_html_badge(cr_out *o, const char *verdict);

#endif
