/* cr_md: report.md, a compact Markdown summary of one run, fit to paste
 * into a pull request or review: verdict line, reproduce command, a table of
 * expectations, the fault list, recovery times and throughput under fault,
 * and the evidence of failed expectations in collapsible blocks. */
#ifndef CR_MD_H
#define CR_MD_H

#include "base/cr_err.h"
#include "cr_out.h"
#include "cr_report.h"

/* Append the Markdown document for r to o.  Returns 0 or CR_ENOMEM. */
int cr_md_write(const cr_report *r, cr_out *o, cr_err *err);

#endif
