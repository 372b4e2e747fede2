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

/* ---- shared by the views over several runs ---------------------------- */

/* mkdir dir unless it exists; 0 or CR_ESYS. */
int cr_rep_ensure_dir(const char *dir, cr_err *err);
/* Write o to dir/file atomically (cr_out_write_file). */
int cr_rep_write_out(const cr_out *o, const char *dir, const char *file,
                     cr_err *err);
/* A path to dir_b/file usable from a page in dir_a: relative when both
 * directories resolve (realpath), else dir_b/file.  NULL when out of
 * memory; free with cr_free(). */
char *cr_rep_rel_path(const char *dir_a, const char *dir_b, const char *file);
/* The expectation named name, or NULL. */
const cr_rep_expect *cr_rep_find_ex(const cr_report *r, const char *name);
/* Why the engine did not judge x (details.not_judged: "startup" or
 * "interrupted"), or NULL when it was judged. */
const char *cr_rep_not_judged(const cr_rep_expect *x);
/* How many expectations of r were not judged. */
size_t cr_rep_count_not_judged(const cr_report *r);
/* The note of an interrupted run: what happened to its verdicts. */
const char *cr_rep_interrupted_note(const cr_report *r);

/* Several loaded runs. */
typedef struct cr_rep_runs {
    cr_report **r;
    size_t n;
} cr_rep_runs;
/* Load every dir in order; on error rs keeps the runs loaded so far (free
 * them with cr_rep_runs_free()). */
int cr_rep_runs_load(const char *const *dirs, size_t n, cr_rep_runs *rs,
                     cr_err *err);
void cr_rep_runs_free(cr_rep_runs *rs);

#endif
