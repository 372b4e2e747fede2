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
/* A duration for people: "1.84 s", "250 ms", "2 min 5 s". */
void cr_rep_fmt_dur(char *buf, size_t n, double s);
/* A measured figure with its unit: "1.84 s", "12 events", "99.5 %". */
void cr_rep_fmt_measured(char *buf, size_t n, double v, const char *unit);
/* UTC time "2026-11-26 23:40:12 UTC" of a Unix time ("" when NAN). */
void cr_rep_fmt_utc(char *buf, size_t n, double unix_t);

#endif
