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

/* Append the complete report.html for r to o.  Returns 0 or CR_ENOMEM.
 * Uses cr_html_limits_default, so that a run of ten hours renders as
 * quickly as one of a minute. */
int cr_html_write(const cr_report *r, cr_out *o, cr_err *err);

/* How much of a long run the page draws and lists; 0 in a field: no
 * limit.  A run within every limit gets the same page as with no limits
 * at all; beyond one, the rest is counted on the page ("… and N more")
 * and is in journal.json. */
typedef struct cr_html_limits {
    size_t lane_items;    /* timeline lane marks drawn one by one; more:
                             per column (cr_svg_timeline_limited) */
    size_t columns;       /* ... in this many columns */
    size_t evidence_rows; /* rows listed per evidence list (failure rows,
                             informational rows) */
    size_t fault_rows;    /* rows of the faults table */
    size_t log_faults;    /* faults with log excerpts */
    size_t run_log;       /* lines of the run log */
} cr_html_limits;
/* {400, 2000, 50, 200, 50, 500} */
extern const cr_html_limits cr_html_limits_default;
/* cr_html_write under lim (NULL: no limit). */
int cr_html_write_limited(const cr_report *r, cr_out *o,
                          const cr_html_limits *lim, cr_err *err);

/* Page frame shared by the other HTML writers (compare, multi, suite):
 * doctype, head with the inline style sheet and title, <body>, the SVG
 * pattern definitions. */
void cr_html_begin(cr_out *o, const char *title);
void cr_html_end(cr_out *o);

/* A verdict badge: <span class="badge v-<verdict>">icon WORD</span>. */
void cr_html_badge(cr_out *o, const char *verdict);

#endif
