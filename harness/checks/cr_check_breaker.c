/* cr_check_breaker: a circuit breaker opens when its dependency fails,
 * stops calling it while open, probes after its wait, and closes again.
 *
 * The breaker is named by the key "breaker" ("name" is every
 * expectation's own name).  Events: `breaker` {name, state}; calls to the
 * dependency are `retry` events whose `op` is the breaker name and `call`
 * events whose `name` is it; `rejected` {name}.  Each source (`inst`, else
 * `svc`) has its own breaker, starting closed.  The dependency is failing
 * during the windows of dependency_fault (all applied faults when not given).
 * Rules:
 * 1. only legal transitions: closed->open, open->half_open,
 *    half_open->closed, half_open->open (a repeated state is ignored);
 * 2. no call while open; 3. `rejected` only while open;
 * 4. open->half_open no sooner than min_open_s (less tolerance_s);
 * 5. during each dependency window the breaker opens (or is open), within
 *    opens_within_s of the window start when given; "never opened" fails;
 * 6. when closes_within_s is given, a breaker that opened for a window is
 *    closed again within closes_within_s of the window's end.
 * Rules 5 and 6 apply to each source that made calls or changed state.
 * No dependency window: unknown.  Fewer than min_samples breaker-related
 * events (calls, states, rejections): unknown. */
#include "cr_check.h"
#include "cr_check_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/cr_alloc.h"

enum { B_CLOSED, B_OPEN, B_HALF, B_NONE };
static const char *const state_names[] = {"closed", "open", "half_open", NULL};

typedef struct br_priv {
    const char *name, *dep;
    double opens_within, closes_within, min_open, tol;
} br_priv;

static const cr_param br_params[] = {
    {"breaker", "string", NULL,
     "breaker name (`name` of breaker/rejected/call events, `op` of retry "
     "events); not `name`, which names the expectation"},
    {"opens_within_s", "number", "end of the fault window",
     "bound from the dependency fault's start to the breaker opening"},
    {"closes_within_s", "number", "not checked",
     "bound from the dependency fault's end to the breaker closing"},
    {"min_open_s", "number", "0",
     "the wait before half_open: open->half_open sooner than this fails"},
    {"tolerance_s", "number", "0.05", "slack on min_open_s"},
    {"dependency_fault", "string", "every fault",
     "the fault whose windows mean \"dependency failing\""},
    {NULL, NULL, NULL, NULL},
};

static int br_parse(cr_vctx *vx, const json_t *obj, const char *path,
                    cr_expect *x)
{
    if (cr_chk_priv(x, sizeof(br_priv)) < 0)
        return CR_ENOMEM;
    br_priv *p = x->priv;
    if (cr_vrequire(vx, obj, path, "breaker"))
        cr_vstr(vx, obj, path, "breaker", NULL, &p->name);
    cr_vnum(vx, obj, path, "opens_within_s", 0, 1e9, NAN, &p->opens_within);
    cr_vnum(vx, obj, path, "closes_within_s", 0, 1e9, NAN, &p->closes_within);
    cr_vnum(vx, obj, path, "min_open_s", 0, 1e9, 0, &p->min_open);
    cr_vnum(vx, obj, path, "tolerance_s", 0, 1e9, 0.05, &p->tol);
    if (cr_vstr(vx, obj, path, "dependency_fault", NULL, &p->dep) > 0 &&
        !cr_scen_fault(cr_vscen(vx), p->dep)) {
        char q[CR_PATH_MAX];
        cr_path_key(q, sizeof q, path, "dependency_fault");
        cr_verr(vx, q, "unknown fault \"%s\"", p->dep);
    }
    return 0;
}

/* Per source: state now, and the transitions seen, kept for rules 5/6. */
typedef struct br_tr {
    double t;
    int to;
} br_tr;

typedef struct br_src {
    const char *who;
    int state;
    double t_open;
    br_tr *tr;
    size_t ntr, cap;
} br_src;

static int state_of(const char *s)
{
    for (int i = 0; state_names[i]; i++)
        if (s && !strcmp(s, state_names[i]))
            return i;
    return B_NONE;
}

static int legal(int from, int to)
{
    return (from == B_CLOSED && to == B_OPEN) ||
           (from == B_OPEN && to == B_HALF) ||
           (from == B_HALF && to == B_CLOSED) ||
           (from == B_HALF && to == B_OPEN);
}

/* State of a source at time t (after applying transitions at <= t). */
static int state_at(const br_src *s, double t)
{
    int st = B_CLOSED;
    for (size_t i = 0; i < s->ntr && s->tr[i].t <= t; i++)
        st = s->tr[i].to;
    return st;
}

static int br_eval(const cr_expect *x, const cr_facts *f, cr_result *res,
                   cr_err *err)
{
    const br_priv *p = x->priv;
    br_src *src = NULL;
    size_t nsrc = 0, capsrc = 0, samples = 0, calls = 0, rejects = 0, opens = 0;
    size_t v_illegal = 0, v_call = 0, v_reject = 0, v_early = 0, v_open = 0,
           v_close = 0;
    char why[512] = "";
    int rc = 0;
    const cr_history *h = f->hist;

    if (cr_chk_nfaults(f, p->dep) == 0) {
        cr_result_set(
            res, CR_VERDICT_UNKNOWN,
            "%s%s was never applied: no window in which the dependency failed",
            p->dep ? "fault " : "no fault", p->dep ? p->dep : "");
        goto out;
    }
    for (size_t i = 0; h && i < h->n; i++) {
        const cr_event *e = &h->v[i];
        int kind; /* 0 state, 1 call, 2 rejected */
        if (!strcmp(e->ev, "breaker"))
            kind = 0;
        else if (!strcmp(e->ev, "call"))
            kind = 1;
        else if (!strcmp(e->ev, "retry"))
            kind = 3;
        else if (!strcmp(e->ev, "rejected"))
            kind = 2;
        else
            continue;
        const char *nm = cr_event_str(e, kind == 3 ? "op" : "name");
        if (!nm || strcmp(nm, p->name))
            continue;
        if (kind == 3)
            kind = 1;
        samples++;
        const char *who = cr_chk_event_who(e);
        size_t k = 0;
        while (k < nsrc && strcmp(src[k].who, who))
            k++;
        if (k == nsrc) {
            if (nsrc == capsrc) {
                size_t nc = capsrc ? capsrc * 2 : 4;
                br_src *ns = cr_realloc(src, nc * sizeof *ns);
                if (!ns)
                    goto nomem;
                src = ns;
                capsrc = nc;
            }
            memset(&src[nsrc], 0, sizeof *src);
            src[nsrc].who = who;
            src[nsrc++].state = B_CLOSED;
        }
        br_src *s = &src[k];
        if (kind == 1) {
            calls++;
            if (s->state == B_OPEN) {
                if (!v_call++)
                    snprintf(why, sizeof why,
                             "%s called %s while its breaker was open (since "
                             "t=%.3f)",
                             who, p->name, s->t_open);
                cr_result_evidence_event(res, e, "call while open");
            }
            continue;
        }
        if (kind == 2) {
            rejects++;
            if (s->state != B_OPEN) {
                if (!v_reject++)
                    snprintf(
                        why, sizeof why,
                        "%s rejected a call to %s while the breaker was %s",
                        who, p->name, state_names[s->state]);
                cr_result_evidence_event(res, e, "rejected while not open");
            }
            continue;
        }
        int to = state_of(cr_event_str(e, "state"));
        if (to == B_NONE) {
            if (!v_illegal++)
                snprintf(why, sizeof why,
                         "%s breaker %s reported an unknown state", who,
                         p->name);
            cr_result_evidence_event(res, e, "unknown state");
            continue;
        }
        if (to == s->state)
            continue;
        cr_result_evidence_event(res, e, NULL);
        if (!legal(s->state, to)) {
            if (!v_illegal++)
                snprintf(why, sizeof why,
                         "%s breaker %s went %s -> %s (illegal transition)",
                         who, p->name, state_names[s->state], state_names[to]);
            cr_result_evidence(res, e->t, "illegal transition %s -> %s",
                               state_names[s->state], state_names[to]);
        }
        if (s->state == B_OPEN && to == B_HALF &&
            e->t - s->t_open < p->min_open - p->tol) {
            if (!v_early++)
                snprintf(why, sizeof why,
                         "%s breaker %s went half_open %.3f s after opening "
                         "(min_open_s %g)",
                         who, p->name, e->t - s->t_open, p->min_open);
            cr_result_evidence(res, e->t, "half_open after %.3f s only",
                               e->t - s->t_open);
        }
        if (to == B_OPEN) {
            s->t_open = e->t;
            opens++;
        }
        if (s->ntr == s->cap) {
            size_t nc = s->cap ? s->cap * 2 : 8;
            br_tr *nt = cr_realloc(s->tr, nc * sizeof *nt);
            if (!nt)
                goto nomem;
            s->tr = nt;
            s->cap = nc;
        }
        s->tr[s->ntr++] = (br_tr){e->t, to};
        s->state = to;
    }
    /* Rules 5 and 6, per dependency window and source. */
    double worst_open = NAN, worst_close = NAN;
    for (size_t i = 0; i < f->nfaults; i++) {
        const cr_fact_fault *w = &f->faults[i];
        if (!w->ok || (p->dep && (!w->name || strcmp(w->name, p->dep))))
            continue;
        for (size_t k = 0; k < nsrc; k++) {
            const br_src *s = &src[k];
            double t_open = NAN;
            if (state_at(s, w->start) != B_CLOSED)
                t_open = w->start;
            for (size_t j = 0; j < s->ntr && isnan(t_open); j++)
                if (s->tr[j].to == B_OPEN && s->tr[j].t >= w->start &&
                    s->tr[j].t <=
                        w->end + (isnan(p->opens_within) ? 0 : p->opens_within))
                    t_open = s->tr[j].t;
            if (isnan(t_open)) {
                if (!v_open++)
                    snprintf(why, sizeof why,
                             "breaker %s of %s never opened during fault %s "
                             "(%.3f..%.3f s)",
                             p->name, s->who, w->name ? w->name : "?", w->start,
                             w->end);
                cr_result_evidence(res, w->start,
                                   "fault %s began; %s breaker stayed closed",
                                   w->name ? w->name : "?", s->who);
                continue;
            }
            double d = t_open - w->start;
            if (isnan(worst_open) || d > worst_open)
                worst_open = d;
            if (!isnan(p->opens_within) && d > p->opens_within) {
                if (!v_open++)
                    snprintf(why, sizeof why,
                             "breaker %s of %s opened %.3f s after fault %s "
                             "began (bound %g s)",
                             p->name, s->who, d, w->name ? w->name : "?",
                             p->opens_within);
                cr_result_evidence(
                    res, t_open,
                    "%s breaker opened %.3f s after the fault began", s->who,
                    d);
            }
            if (isnan(p->closes_within))
                continue;
            double t_close = NAN;
            double lim = w->end + p->closes_within;
            if (state_at(s, w->end) == B_CLOSED)
                t_close = w->end;
            for (size_t j = 0; j < s->ntr && isnan(t_close); j++)
                if (s->tr[j].to == B_CLOSED && s->tr[j].t >= w->end)
                    t_close = s->tr[j].t;
            double dc = isnan(t_close) ? INFINITY : t_close - w->end;
            if (isnan(worst_close) || dc > worst_close)
                worst_close = dc;
            if (!(t_close <= lim)) {
                if (!v_close++) {
                    if (isnan(t_close))
                        snprintf(why, sizeof why,
                                 "breaker %s of %s never closed after fault %s "
                                 "ended at %.3f s (bound %g s)",
                                 p->name, s->who, w->name ? w->name : "?",
                                 w->end, p->closes_within);
                    else
                        snprintf(why, sizeof why,
                                 "breaker %s of %s closed %.3f s after fault "
                                 "%s ended (bound %g s)",
                                 p->name, s->who, dc, w->name ? w->name : "?",
                                 p->closes_within);
                }
                cr_result_evidence(res, w->end, "fault %s ended; %s breaker %s",
                                   w->name ? w->name : "?", s->who,
                                   isnan(t_close) ? "never closed"
                                                  : "closed late");
            }
        }
    }
    cr_chk_detail_int(res, "sources", (long long)nsrc);
    cr_chk_detail_int(res, "calls", (long long)calls);
    cr_chk_detail_int(res, "rejected", (long long)rejects);
    cr_chk_detail_int(res, "opened", (long long)opens);
    cr_chk_detail_int(res, "illegal_transitions", (long long)v_illegal);
    cr_chk_detail_int(res, "calls_while_open", (long long)v_call);
    cr_chk_detail_int(res, "rejected_while_not_open", (long long)v_reject);
    cr_chk_detail_int(res, "early_half_open", (long long)v_early);
    cr_chk_detail_num(res, "worst_open_delay_s", worst_open);
    cr_chk_detail_num(res, "worst_close_delay_s", worst_close);
    size_t viol = v_illegal + v_call + v_reject + v_early + v_open + v_close;
    if (!isnan(p->opens_within) && !isnan(worst_open)) {
        cr_chk_measure(res, worst_open, "s");
        cr_chk_bound(res, "<=", p->opens_within);
    }
    if (samples == 0 || samples < (size_t)x->min_samples) {
        if (viol == 0 || nsrc == 0) {
            cr_result_set(res, CR_VERDICT_UNKNOWN,
                          "only %zu events about breaker %s (min_samples %d): "
                          "no calls to judge",
                          samples, p->name, x->min_samples);
            goto out;
        }
    }
    if (viol)
        cr_result_set(res, CR_VERDICT_FAILED, "%s", why);
    else
        cr_result_set(res, CR_VERDICT_PASSED, "breaker %s opened %zu times, %s",
                      p->name, opens,
                      isnan(worst_open)
                          ? "every transition legal"
                          : "within bounds and every transition legal");
    goto out;
nomem:
    rc = cr_err_set(err, CR_ENOMEM, "breaker %s: out of memory", x->name);
out:
    for (size_t k = 0; k < nsrc; k++)
        cr_free(src[k].tr);
    cr_free(src);
    return rc;
}

const cr_check_ops cr_check_breaker_ops = {
    .kind = "breaker",
    .summary = "a circuit breaker opens on dependency failure, stops calling, "
               "waits, and closes again",
    .params = br_params,
    .parse = br_parse,
    .eval = br_eval,
    .destroy = cr_chk_destroy_priv,
};
