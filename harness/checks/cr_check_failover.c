/* cr_check_failover: when the primary fails, traffic moves to the standby
 * quickly, and (optionally) never to both at once.
 *
 * The primary's failure time tf is the earliest of: an applied fault whose
 * target designates `from` (all faults when `from` is not set) or, for a
 * network fault, whose isolated or degraded hosts include the host `from`
 * is placed on (a partition isolates its smaller groups), an exit of
 * `from` not caused by the run's stop, a `stopped` event from `from`.  Then
 * t_fo = the first `failover` event at or after tf (whose `from` field, if
 * any, designates `from`); the standby is `to`, else that event's `to`
 * field; t_ok = the first event at or after tf with ev in success_ev from
 * the standby (from anyone but `from` when no standby is known).  Both
 * t_fo - te and t_ok - te must be <= within_ms (0 when negative), te being
 * when the failure was certainly in effect: a fault's apply complete (its
 * `applied_t`; a partition applied late on a loaded machine took 2.4 s
 * while the primary went on serving), else tf; measured = t_ok - te.
 * exclusive: between t_fo and the primary's return (its next start, or a
 * `failover` back to it) no success event may come from `from` (split
 * brain), except from an instance draining between its `stopping` and
 * `stopped` (a graceful stop finishes the requests it had taken).  A
 * `stopped` the primary writes when the run stops it at the end is no
 * failure.  No failure of the primary: unknown. */
#include "cr_check.h"
#include "cr_check_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct fo_priv {
    const char *from, *to;
    double within_ms;
    int exclusive;
    cr_strlist ok_ev;
} fo_priv;

static const char *const default_ok[] = {"delivered", "served"};

static const cr_param fo_params[] = {
    {"from", "string", "any", "the primary: service or instance (\"db.0\")"},
    {"to", "string", "the failover event's `to`",
     "the standby: service or instance"},
    {"within_ms", "number", NULL,
     "bound from the primary's failure to the failover event and to the "
     "standby's first success"},
    {"exclusive", "bool", "false",
     "true: after the failover no success event from the primary until it is "
     "back (restarted or failed back)"},
    {"success_ev", "array", "[\"delivered\",\"served\"]",
     "event names that count as a successful operation"},
    {NULL, NULL, NULL, NULL},
};

static int fo_parse(cr_vctx *vx, const json_t *obj, const char *path,
                    cr_expect *x)
{
    if (cr_chk_priv(x, sizeof(fo_priv)) < 0)
        return CR_ENOMEM;
    fo_priv *p = x->priv;
    cr_vstr(vx, obj, path, "from", NULL, &p->from);
    cr_vstr(vx, obj, path, "to", NULL, &p->to);
    if (cr_vrequire(vx, obj, path, "within_ms"))
        cr_vnum(vx, obj, path, "within_ms", 0, 1e12, 0, &p->within_ms);
    cr_vbool(vx, obj, path, "exclusive", 0, &p->exclusive);
    if (cr_chk_vstrlist(vx, obj, path, "success_ev", &p->ok_ev) == CR_ENOMEM)
        return CR_ENOMEM;
    return 0;
}

static void fo_destroy(cr_expect *x)
{
    fo_priv *p = x->priv;
    if (p)
        cr_chk_strlist_free(&p->ok_ev);
    cr_chk_destroy_priv(x);
}

static int is_ok_ev(const fo_priv *p, const char *ev)
{
    if (p->ok_ev.n)
        return cr_chk_strlist_has(&p->ok_ev, ev);
    for (size_t i = 0; i < sizeof default_ok / sizeof *default_ok; i++)
        if (!strcmp(default_ok[i], ev))
            return 1;
    return 0;
}

/* Event from `name` (service or instance): by its inst when it has one,
 * else by its svc. */
static int from_is(const cr_event *e, const char *name)
{
    if (!name)
        return 0;
    /* an instance event belongs to that instance only */
    const char *inst = cr_event_str(e, "inst");
    return inst ? cr_chk_target_is(inst, name) : cr_chk_target_is(e->svc, name);
}

/* The network host the service of `name` ("svc" or "svc.N") runs on. */
static const char *host_of(const cr_scen *sc, const char *name)
{
    char svc[128];
    if (!name)
        return NULL;
    snprintf(svc, sizeof svc, "%.*s", (int)strcspn(name, "."), name);
    const cr_svc_spec *s = cr_scen_service(sc, svc);
    return s ? s->host : NULL;
}

/* 1 when host is one of the comma-separated names in list. */
static int hosts_has(const char *list, const char *host)
{
    size_t k = host ? strlen(host) : 0;
    for (const char *p = list; k && p && *p;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (n == k && !strncmp(p, host, k))
            return 1;
        p = c ? c + 1 : NULL;
    }
    return 0;
}

/* The fault occurrence hit the primary: by target, or by its host. */
static int hits_primary(const cr_fact_fault *w, const char *from,
                        const char *from_host)
{
    if (!from)
        return 1;
    return cr_chk_target_is(w->target, from) ||
           (from_host && hosts_has(w->hosts, from_host));
}

/* ---- collect: when the primary failed ---------------------------------- */

/* The earliest failure seen so far and what it was. */
typedef struct fo_fail {
    double t;   /* INFINITY: none */
    double eff; /* certainly in effect: a fault's apply complete, else t */
    char cause[256];
} fo_fail;

/* An applied fault that hit the primary, by target or by its host. */
static void fo_fail_by_fault(const fo_priv *p, const cr_facts *f, fo_fail *ff)
{
    const char *from_host = host_of(f->scen, p->from);
    for (size_t i = 0; i < f->nfaults; i++) {
        const cr_fact_fault *w = &f->faults[i];
        if (!w->ok || !hits_primary(w, p->from, from_host) || w->start >= ff->t)
            continue;
        ff->t = w->start;
        ff->eff = w->applied; /* >= start */
        const char *name = w->name ? w->name : "?",
                   *kind = w->kind ? w->kind : "?";
        if (w->hosts && (!w->target || !strcmp(w->target, "-")))
            snprintf(ff->cause, sizeof ff->cause, "fault %s (%s) hit host %s",
                     name, kind, w->hosts);
        else
            snprintf(ff->cause, sizeof ff->cause, "fault %s (%s) hit %s", name,
                     kind, w->target ? w->target : "?");
    }
}

/* An exit of the primary that the run's stop did not cause. */
static void fo_fail_by_exit(const fo_priv *p, const cr_facts *f, fo_fail *ff)
{
    for (size_t i = 0; p->from && i < f->nprocs; i++) {
        const cr_fact_proc *pr = &f->procs[i];
        if (pr->what == CR_PROC_EXIT && pr->inst &&
            cr_chk_target_is(pr->inst, p->from) &&
            !(pr->cause && !strcmp(pr->cause, "stop")) && pr->t < ff->t) {
            ff->t = ff->eff = pr->t;
            snprintf(ff->cause, sizeof ff->cause, "%s exited", pr->inst);
        }
    }
}

/* 1 when the next exit of the event's instance at or after it was the
 * run's own stop: a `stopped` written at the end of the run. */
static int stopped_by_run(const cr_facts *f, const cr_event *e)
{
    const char *who = cr_chk_event_who(e);
    for (size_t i = 0; i < f->nprocs; i++) {
        const cr_fact_proc *pr = &f->procs[i];
        if (pr->what == CR_PROC_EXIT && pr->t >= e->t && pr->inst &&
            !strcmp(pr->inst, who))
            return pr->cause && !strcmp(pr->cause, "stop");
    }
    return 0;
}

/* The primary's own `stopped` event (not the one it writes when the run
 * stops it at the end). */
static void fo_fail_by_stopped(const fo_priv *p, const cr_facts *f, fo_fail *ff)
{
    const cr_history *h = f->hist;
    for (size_t i = 0; p->from && h && i < h->n; i++) {
        const cr_event *e = &h->v[i];
        if (!strcmp(e->ev, "stopped") && from_is(e, p->from) && e->t < ff->t &&
            !stopped_by_run(f, e)) {
            ff->t = ff->eff = e->t;
            snprintf(ff->cause, sizeof ff->cause, "%s reported stopped",
                     cr_chk_event_who(e));
            return;
        }
    }
}

/* ---- collect: the failover and the standby's first success ------------ */

/* The first `failover` at or after tf away from the primary; *to gets the
 * standby (the key `to`, else the event's). */
static const cr_event *fo_find_failover(const fo_priv *p, const cr_history *h,
                                        double tf, const char **to)
{
    *to = p->to;
    for (size_t i = 0; h && i < h->n; i++) {
        const cr_event *e = &h->v[i];
        if (e->t < tf || strcmp(e->ev, "failover"))
            continue;
        const char *ef = cr_event_str(e, "from");
        if (p->from && ef && !cr_chk_target_is(ef, p->from))
            continue;
        if (!*to)
            *to = cr_event_str(e, "to");
        return e;
    }
    return NULL;
}

/* The first success at or after tf from the standby (from anyone but the
 * primary when no standby is known). */
static const cr_event *fo_find_success(const fo_priv *p, const cr_history *h,
                                       double tf, const char *to)
{
    for (size_t i = 0; h && i < h->n; i++) {
        const cr_event *e = &h->v[i];
        if (e->t < tf || !is_ok_ev(p, e->ev))
            continue;
        if (to ? from_is(e, to) : !from_is(e, p->from))
            return e;
    }
    return NULL;
}

/* ---- judge: split brain ----------------------------------------------- */

/* The primary's instances that are draining: between their `stopping`
 * and `stopped` they finish the requests they had taken. */
#define FO_DRAIN_MAX 16
typedef struct fo_drain {
    const char *who[FO_DRAIN_MAX];
    size_t n;
} fo_drain;

static int drain_has(const fo_drain *d, const char *who)
{
    for (size_t i = 0; i < d->n; i++)
        if (!strcmp(d->who[i], who))
            return 1;
    return 0;
}

/* Track `stopping` / `stopped` of the primary; 1 when e was one of them. */
static int drain_track(fo_drain *d, const fo_priv *p, const cr_event *e)
{
    int stopping = !strcmp(e->ev, "stopping");
    if ((!stopping && strcmp(e->ev, "stopped")) || !from_is(e, p->from))
        return 0;
    const char *who = cr_chk_event_who(e);
    for (size_t i = 0; i < d->n; i++)
        if (!strcmp(d->who[i], who)) {
            if (!stopping)
                d->who[i] = d->who[--d->n];
            return 1;
        }
    if (stopping && d->n < FO_DRAIN_MAX)
        d->who[d->n++] = who;
    return 1;
}

/* exclusive: success events from the primary after the failover fo and
 * before it is back (its next start after tf, or a failover back to it),
 * except those of an instance draining after its `stopping` (counted in
 * *drained).  Returns their number; *first gets the first. */
static size_t fo_split_brain(const fo_priv *p, const cr_facts *f, double tf,
                             const cr_event *fo, const cr_event **first,
                             size_t *drained, cr_result *res)
{
    const cr_history *h = f->hist;
    double back = INFINITY;
    size_t both = 0;
    fo_drain d = {.n = 0};
    for (size_t i = 0; i < f->nprocs; i++)
        if (f->procs[i].what == CR_PROC_START && f->procs[i].inst &&
            cr_chk_target_is(f->procs[i].inst, p->from) && f->procs[i].t > tf) {
            back = f->procs[i].t;
            break;
        }
    for (size_t i = 0; h && i < h->n; i++) {
        const cr_event *e = &h->v[i];
        if (e->t < tf || e->t >= back || drain_track(&d, p, e) || e->t <= fo->t)
            continue;
        const char *et = cr_event_str(e, "to");
        if (!strcmp(e->ev, "failover") && et && cr_chk_target_is(et, p->from))
            break; /* failed back */
        if (!is_ok_ev(p, e->ev) || !from_is(e, p->from))
            continue;
        if (drain_has(&d, cr_chk_event_who(e))) {
            (*drained)++;
            continue;
        }
        if (!both++)
            *first = e;
        if (both <= 5)
            cr_result_evidence_event(res, e,
                                     "primary still serving after the "
                                     "failover");
    }
    return both;
}

/* ---- conclude --------------------------------------------------------- */

/* The delays from the failure to the failover and to the first success. */
static void fo_measure(const fo_fail *ff, const cr_event *fo,
                       const cr_event *ok, double *fo_ms, double *ok_ms,
                       cr_result *res)
{
    /* from the moment the failure was certainly in effect (a fault's
     * apply can take seconds on a loaded machine, the primary serving all
     * along); a failover during the apply counts as 0 */
    *fo_ms = fo ? fmax(0, fo->t - ff->eff) * 1000 : NAN;
    *ok_ms = ok ? fmax(0, ok->t - ff->eff) * 1000 : NAN;
    cr_chk_detail_num(res, "failed_at_s", ff->t);
    cr_chk_detail_num(res, "failover_ms", *fo_ms);
    cr_chk_detail_num(res, "first_success_ms", *ok_ms);
    if (ok)
        cr_chk_measure(res, *ok_ms, "ms");
}

static void fo_conclude(const fo_priv *p, const fo_fail *ff, const cr_event *fo,
                        const cr_event *ok, const char *to, double fo_ms,
                        double ok_ms, size_t both, const cr_event *first_both,
                        cr_result *res)
{
    const char *standby = to ? to : "the standby";
    if (!fo)
        cr_result_set(res, CR_VERDICT_FAILED,
                      "no failover event after %s at t=%.3f", ff->cause, ff->t);
    else if (!ok)
        cr_result_set(res, CR_VERDICT_FAILED,
                      "failover after %.0f ms but the standby %s never "
                      "succeeded afterwards",
                      fo_ms, to ? to : "(unknown)");
    else if (fo_ms > p->within_ms || ok_ms > p->within_ms)
        cr_result_set(res, CR_VERDICT_FAILED,
                      "failover took %.0f ms and the first success on %s %.0f "
                      "ms (bound %g ms)",
                      fo_ms, standby, ok_ms, p->within_ms);
    else if (both)
        cr_result_set(res, CR_VERDICT_FAILED,
                      "split brain: %s served %zu operations after the "
                      "failover at t=%.3f (first at t=%.3f)",
                      p->from, both, fo->t, first_both->t);
    else
        cr_result_set(res, CR_VERDICT_PASSED,
                      "failed over in %.0f ms, first success on %s after %.0f "
                      "ms (bound %g ms)",
                      fo_ms, standby, ok_ms, p->within_ms);
}

static int fo_eval(const cr_expect *x, const cr_facts *f, cr_result *res,
                   cr_err *err)
{
    const fo_priv *p = x->priv;
    fo_fail ff = {.t = INFINITY};
    (void)err;
    fo_fail_by_fault(p, f, &ff);
    fo_fail_by_exit(p, f, &ff);
    fo_fail_by_stopped(p, f, &ff);
    cr_chk_bound(res, "<=", p->within_ms);
    if (isinf(ff.t)) {
        cr_result_set(res, CR_VERDICT_UNKNOWN,
                      "the primary %s never failed: nothing to fail over from",
                      p->from ? p->from : "(any)");
        return 0;
    }
    cr_result_evidence(res, ff.t, "primary failed: %s", ff.cause);
    if (ff.eff - ff.t >= 0.0005)
        cr_result_evidence(res, ff.eff,
                           "its apply complete after %.0f ms: the bound "
                           "counts from here",
                           (ff.eff - ff.t) * 1000);
    const char *to;
    const cr_event *fo = fo_find_failover(p, f->hist, ff.t, &to);
    if (fo)
        cr_result_evidence_event(res, fo, "failover");
    const cr_event *ok = fo_find_success(p, f->hist, ff.t, to);
    if (ok)
        cr_result_evidence_event(res, ok, "first success on the standby");
    double fo_ms, ok_ms;
    fo_measure(&ff, fo, ok, &fo_ms, &ok_ms, res);
    size_t both = 0;
    const cr_event *first_both = NULL;
    if (p->exclusive && fo && p->from) {
        size_t drained = 0;
        both = fo_split_brain(p, f, ff.t, fo, &first_both, &drained, res);
        cr_chk_detail_int(res, "served_by_both", (long long)both);
        cr_chk_detail_int(res, "served_while_draining", (long long)drained);
    }
    fo_conclude(p, &ff, fo, ok, to, fo_ms, ok_ms, both, first_both, res);
    return 0;
}

const cr_check_ops cr_check_failover_ops = {
    .kind = "failover",
    .summary = "traffic moves to the standby within a bound after the primary "
               "fails; optionally never to both",
    .params = fo_params,
    .parse = fo_parse,
    .eval = fo_eval,
    .destroy = fo_destroy,
};
