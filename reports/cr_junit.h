/* cr_junit: JUnit XML for CI.
 *
 * Mapping (documented in reports/README.md): one <testsuite> per run (name =
 * scenario name), one <testcase> per expectation (classname
 * "chaosrun.<scenario>").  A failed expectation gets <failure type="<kind>">
 * with the evidence story; an unknown verdict also gets a <failure
 * type="unknown">, because CI must never count "could not judge" as a pass
 * and <skipped> is silently green in most CI systems.  An unrunnable,
 * interrupted or errored run gets one testcase with an <error>. */
#ifndef CR_JUNIT_H
#define CR_JUNIT_H

#include "base/cr_err.h"
#include "cr_out.h"
#include "cr_report.h"

/* A complete junit.xml document for one run into o.  Returns 0 (or
 * CR_ENOMEM when o failed). */
int cr_junit_write(const cr_report *r, cr_out *o, cr_err *err);

/* The XML declaration and <testsuites> open tag / close tag, and one
 * <testsuite> element: for combining several runs into one document. */
void cr_junit_begin(cr_out *o, const char *name, size_t tests, size_t failures,
                    size_t errors, double time_s);
void cr_junit_suite(const cr_report *r, cr_out *o);
void cr_junit_end(cr_out *o);

/* Counts as the <testsuite> attributes would show them. */
void cr_junit_counts(const cr_report *r, size_t *tests, size_t *failures,
                     size_t *errors, double *time_s);

#endif
