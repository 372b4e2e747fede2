/* cr_html_internal: what the two files of the cr_html module share
 * (cr_html.c: the page; cr_html_evid.c: the failure block and the
 * evidence).  Not for other modules. */
#ifndef CR_HTML_INTERNAL_H
#define CR_HTML_INTERNAL_H

#include "cr_out.h"
#include "cr_report.h"

/* Under the title: each failed or unknown expectation (and the run's own
 * error) with its one-line reason, a link to its card and the lost-id hint
 * when there is one.  Nothing for a run where everything held. */
void cr_html__failures(const cr_report *r, cr_out *o);
/* In an expectation's card: the lost-id story (failed no_loss) and the
 * evidence rows, at most max_rows of each list (0: all), the rest
 * counted. */
void cr_html__evidence(const cr_rep_expect *x, cr_out *o, size_t max_rows);

#endif
