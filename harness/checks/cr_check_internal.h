/* cr_check_internal: helpers shared by the checkers (cr_check_<kind>.c)
 * and implemented in cr_check.c.  Not for other modules. */
#ifndef CR_CHECK_INTERNAL_H
#define CR_CHECK_INTERNAL_H

#include <jansson.h>
#include <stddef.h>

#include "cr_check.h"

/* A list of strings borrowed from the scenario document. */
typedef struct cr_strlist {
    const char **v;
    size_t n;
} cr_strlist;

/* Parse key as an array of non-empty strings (borrowed from obj, which the
 * scenario keeps alive).  Returns 1 present, 0 absent (list empty), -1
 * invalid (diagnostic recorded), CR_ENOMEM. */
int cr_chk_vstrlist(cr_vctx *vx, const json_t *obj, const char *path,
                    const char *key, cr_strlist *out);
void cr_chk_strlist_free(cr_strlist *l);
/* 1 when s is in l (an empty list contains nothing). */
int cr_chk_strlist_has(const cr_strlist *l, const char *s);

/* Allocate x->priv (zeroed, size bytes).  CR_ENOMEM on failure. */
int cr_chk_priv(cr_expect *x, size_t size);
/* Generic destroy: frees x->priv. */
void cr_chk_destroy_priv(cr_expect *x);

/* The instance an event comes from: its `inst` field, else its svc. */
const char *cr_chk_event_who(const cr_event *e);
/* 1 when name designates the event's source: equal to its inst or svc. */
int cr_chk_event_from(const cr_event *e, const char *name);
/* 1 when a target or instance string ("worker", "worker.1") designates
 * name (a service or an instance): equal, or the part before '.' is. */
int cr_chk_target_is(const char *target, const char *name);

/* Number of applied (ok) fault occurrences, optionally only those named
 * `fault` (NULL: all). */
size_t cr_chk_nfaults(const cr_facts *f, const char *fault);
/* 1 when t lies in the window of an applied fault (start <= t <= end). */
int cr_chk_in_fault(const cr_facts *f, double t);

/* Phases used by slo and steady_state style checks. */
enum { CR_CHK_BEFORE, CR_CHK_DURING, CR_CHK_AFTER, CR_CHK_ALL };
extern const char *const cr_chk_phase_names[]; /* NULL-terminated */
/* 1 when t belongs to the phase (see cr_check_slo.c for definitions). */
int cr_chk_in_phase(const cr_facts *f, int phase, double t);
/* Length in seconds of the phase. */
double cr_chk_phase_len(const cr_facts *f, int phase);

/* Normalised id of an event's `id` field into buf: integers and integral
 * reals as decimal, strings as themselves (so 42 and "42" are the same id).
 * Returns the length, or -1 when the field is absent or of another type. */
int cr_chk_event_id(const cr_event *e, char *buf, size_t n);

/* "%g" of x into buf, for bounds ("<= 5"). */
void cr_chk_bound(cr_result *res, const char *op, double x);
void cr_chk_measure(cr_result *res, double v, const char *unit);
/* Set an integer in res->details (best effort). */
void cr_chk_detail_int(cr_result *res, const char *key, long long v);
void cr_chk_detail_num(cr_result *res, const char *key, double v);
void cr_chk_detail_str(cr_result *res, const char *key, const char *v);

#endif
