/* cr_report_internal: helpers shared by the report writers (not for the
 * engine or the CLI). */
#ifndef CR_REPORT_INTERNAL_H
#define CR_REPORT_INTERNAL_H

#include <jansson.h>

#include "cr_out.h"
#include "cr_report.h"

/* String / number field of a JSON object (NULL / NAN when absent or of
 * another type; o may be NULL). */
const char *cr_rep_jstr(const json_t *o, const char *key);
double cr_rep_jnum(const json_t *o, const char *key);
/* 1 when an event counts as an error (an "error" field, giveup,
 * dead_lettered, rejected). */
int cr_rep_is_error(const cr_rep_event *e);
/* 1 when t lies inside an applied fault window. */
int cr_rep_in_fault(const cr_report *r, double t);
/* 1 when a fault target ("worker.0", "worker", "a.0,b.1") covers the
 * instance. */
int cr_rep_target_has(const char *target, const char *inst,
                      const char *service);
#endif
