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
 * t_fo - tf and t_ok - tf must be <= within_ms; measured = t_ok - tf.
 * exclusive: between t_fo and the primary's return (its next start, or a
 * `failover` back to it) no success event may come from `from` (split
 * brain).  No failure of the primary: unknown. */
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

static int fo_eval(const cr_expect *x, const cr_facts *f, cr_result *res,
                   cr_err *err)
{
    const fo_priv *p = x->priv;
    const cr_history *h = f->hist;
    double tf = INFINITY;
    char cause[256] = "";
    const char *from_host = host_of(f->scen, p->from);
    for (size_t i = 0; i < f->nfaults; i++) {
        const cr_fact_fault *w = &f->faults[i];
        if (w->ok && hits_primary(w, p->from, from_host) && w->start < tf) {
            tf = w->start;
            if (w->hosts && (!w->target || !strcmp(w->target, "-")))
                snprintf(cause, sizeof cause, "fault %s (%s) hit host %s",
                         w->name ? w->name : "?", w->kind ? w->kind : "?",
                         w->hosts);
            else
                snprintf(cause, sizeof cause, "fault %s (%s) hit %s",
                         w->name ? w->name : "?", w->kind ? w->kind : "?",
                         w->target ? w->target : "?");
        }
    }
    for (size_t i = 0; p->from && i < f->nprocs; i++) {
        const cr_fact_proc *pr = &f->procs[i];
        if (pr->what == CR_PROC_EXIT && pr->inst &&
            cr_chk_target_is(pr->inst, p->from) &&
            !(pr->cause && !strcmp(pr->cause, "stop")) && pr->t < tf) {
            tf = pr->t;
            snprintf(cause, sizeof cause, "%s exited", pr->inst);
        }
    }
    for (size_t i = 0; p->from && h && i < h->n; i++)
        if (!strcmp(h->v[i].ev, "stopped") && from_is(&h->v[i], p->from) &&
            h->v[i].t < tf) {
            tf = h->v[i].t;
            snprintf(cause, sizeof cause, "%s reported stopped",
                     cr_chk_event_who(&h->v[i]));
            break;
        }
    cr_chk_bound(res, "<=", p->within_ms);
    if (isinf(tf)) {
        cr_result_set(res, CR_VERDICT_UNKNOWN,
                      "the primary %s never failed: nothing to fail over from",
                      p->from ? p->from : "(any)");
        return 0;
    }
    cr_result_evidence(res, tf, "primary failed: %s", cause);
    const cr_event *fo = NULL, *ok = NULL;
    const char *to = p->to;
    for (size_t i = 0; h && i < h->n; i++) {
        const cr_event *e = &h->v[i];
        if (e->t < tf || strcmp(e->ev, "failover"))
            continue;
        const char *ef = cr_event_str(e, "from");
        if (p->from && ef && !cr_chk_target_is(ef, p->from))
            continue;
        fo = e;
        if (!to)
            to = cr_event_str(e, "to");
        break;
    }
    if (fo)
        cr_result_evidence_event(res, fo, "failover");
    for (size_t i = 0; h && i < h->n; i++) {
        const cr_event *e = &h->v[i];
        if (e->t < tf || !is_ok_ev(p, e->ev))
            continue;
        if (to ? from_is(e, to) : !from_is(e, p->from)) {
            ok = e;
            break;
        }
    }
    if (ok)
        cr_result_evidence_event(res, ok, "first success on the standby");
    double fo_ms = fo ? (fo->t - tf) * 1000 : NAN,
           ok_ms = ok ? (ok->t - tf) * 1000 : NAN;
    cr_chk_detail_num(res, "failed_at_s", tf);
    cr_chk_detail_num(res, "failover_ms", fo_ms);
    cr_chk_detail_num(res, "first_success_ms", ok_ms);
    if (ok)
        cr_chk_measure(res, ok_ms, "ms");
    /* split brain */
    size_t both = 0;
    const cr_event *first_both = NULL;
    if (p->exclusive && fo && p->from) {
        double back = INFINITY;
        for (size_t i = 0; i < f->nprocs; i++)
            if (f->procs[i].what == CR_PROC_START && f->procs[i].inst &&
                cr_chk_target_is(f->procs[i].inst, p->from) &&
                f->procs[i].t > tf) {
                back = f->procs[i].t;
                break;
            }
        for (size_t i = 0; h && i < h->n; i++) {
            const cr_event *e = &h->v[i];
            if (e->t <= fo->t || e->t >= back)
                continue;
            const char *et = cr_event_str(e, "to");
            if (!strcmp(e->ev, "failover") && et &&
                cr_chk_target_is(et, p->from)) {
                back = e->t;
                break;
            }
            if (is_ok_ev(p, e->ev) && from_is(e, p->from)) {
                if (!both++)
                    first_both = e;
                if (both <= 5)
                    cr_result_evidence_event(
                        res, e, "primary still serving after the failover");
            }
        }
        cr_chk_detail_int(res, "served_by_both", (long long)both);
    }
    if (!fo)
        cr_result_set(res, CR_VERDICT_FAILED,
                      "no failover event after %s at t=%.3f", cause, tf);
    else if (!ok)
        cr_result_set(res, CR_VERDICT_FAILED,
                      "failover after %.0f ms but the standby %s never "
                      "succeeded afterwards",
                      fo_ms, to ? to : "(unknown)");
    else if (fo_ms > p->within_ms || ok_ms > p->within_ms)
        cr_result_set(res, CR_VERDICT_FAILED,
                      "failover took %.0f ms and the first success on %s %.0f "
                      "ms (bound %g ms)",
                      fo_ms, to ? to : "the standby", ok_ms, p->within_ms);
    else if (both)
        cr_result_set(res, CR_VERDICT_FAILED,
                      "split brain: %s served %zu operations after the "
                      "failover at t=%.3f (first at t=%.3f)",
                      p->from, both, fo->t, first_both->t);
    else
        cr_result_set(res, CR_VERDICT_PASSED,
                      "failed over in %.0f ms, first success on %s after %.0f "
                      "ms (bound %g ms)",
                      fo_ms, to ? to : "the standby", ok_ms, p->within_ms);
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
