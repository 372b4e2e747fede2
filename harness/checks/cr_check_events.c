/* cr_check_events: count the events that match a pattern, optionally in a
 * window, and compare with {min, max}.
 *
 * Window: absent = the whole run; {"from_s", "to_s"} = seconds after t0;
 * {"fault": name, "from_s", "to_s"} = relative to the start of each
 * occurrence of that fault (to_s defaults to the occurrence's own length,
 * so the window is the fault window itself); with "from": "end" relative
 * to the end of each occurrence instead (when the fault was reverted: a
 * fault applied late ends sooner after its start than its for_s, so a
 * window "after the heal" must be anchored at the heal itself); with
 * "from": "applied" relative to the instant its apply was complete (a
 * freeze through a container runtime takes effect only then, 0.1-0.2 s
 * after the apply began on a loaded machine); the union
 * of occurrences is counted.  min_samples (default 1; 0 accepts even an empty
 * history): the whole history must hold at least that many events of any kind,
 * otherwise the verdict is unknown (a service that reported nothing at all
 * must not pass "at most 0 giveups"; an empty window in a live history is
 * a real zero).  A fault window whose fault
 * never applied is unknown.
 *
 * {"ready": svc, "count": N, "from_s", "to_s"} = relative to the instant
 * the service (or instance "svc.N") became ready for the N-th time
 * (default 1: its start-up; 2: ready again after its first restart).  A
 * window whose anchor never happened fails, saying so: the service did
 * not come back (or not often enough) within the run. */
#include "cr_check.h"
#include "cr_check_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct evc_priv {
    cr_match m;
    long long min, max; /* -1: none */
    int has_window;
    const char *fault; /* NULL: absolute or readiness window */
    int from; /* fault window anchored at each occurrence's start (0), end
                 (1), or the instant its apply was complete (2) */
    const char *ready; /* readiness window: the service or instance */
    long long ready_count;
    double from_s, to_s; /* to_s NAN: fault length / end of run */
} evc_priv;

static const cr_param evc_params[] = {
    {"ev", "string", NULL, "event name to count"},
    {"svc", "string", "any",
     "only events from this service or instance (\"worker.1\")"},
    {"where", "object", "{}",
     "fields that must be equal, e.g. {\"op\": \"db\"}"},
    {"min", "integer", "none", "at least this many (min or max is required)"},
    {"max", "integer", "none", "at most this many"},
    {"window", "object", "whole run",
     "{\"fault\": name, \"from_s\": 0, \"to_s\": <fault length>} relative to "
     "each occurrence of a fault (\"from\": \"end\": to its end, "
     "\"applied\": to when its apply was complete), "
     "{\"ready\": svc, \"count\": 1, \"from_s\": 0, \"to_s\"} relative to "
     "the count-th time svc became ready, "
     "or {\"from_s\", \"to_s\"} in seconds after t0"},
    {NULL, NULL, NULL, NULL},
};

static int evc_parse(cr_vctx *vx, const json_t *obj, const char *path,
                     cr_expect *x)
{
    if (cr_chk_priv(x, sizeof(evc_priv)) < 0)
        return CR_ENOMEM;
    evc_priv *p = x->priv;
    char q[CR_PATH_MAX];
    p->min = p->max = -1;
    p->to_s = NAN;
    /* cr_vmatch reads only ev/svc/where from the object */
    if (cr_vmatch(vx, obj, path, &p->m) == CR_ENOMEM)
        return CR_ENOMEM;
    cr_vint(vx, obj, path, "min", 0, 1000000000000LL, -1, &p->min);
    cr_vint(vx, obj, path, "max", 0, 1000000000000LL, -1, &p->max);
    if (p->min < 0 && p->max < 0)
        cr_verr(vx, path, "needs \"min\" or \"max\"");
    else if (p->min >= 0 && p->max >= 0 && p->min > p->max)
        cr_verr(vx, path, "min (%lld) is greater than max (%lld)", p->min,
                p->max);
    const json_t *w = json_object_get(obj, "window");
    if (w) {
        static const cr_param wk[] = {
            {"fault", "string", "none", ""}, {"from", "string", "start", ""},
            {"ready", "string", "none", ""}, {"count", "integer", "1", ""},
            {"from_s", "number", "0", ""},   {"to_s", "number", "", ""},
            {NULL, NULL, NULL, NULL}};
        cr_path_key(q, sizeof q, path, "window");
        if (!json_is_object(w)) {
            cr_verr(vx, q, "must be an object");
            return 0;
        }
        p->has_window = 1;
        cr_vkeys(vx, w, q, wk, NULL);
        if (cr_vstr(vx, w, q, "fault", NULL, &p->fault) > 0 &&
            !cr_scen_fault(cr_vscen(vx), p->fault)) {
            char r[CR_PATH_MAX];
            cr_path_key(r, sizeof r, q, "fault");
            cr_verr(vx, r, "unknown fault \"%s\"", p->fault);
        }
        static const char *const froms[] = {"start", "end", "applied", NULL};
        if (cr_venum(vx, w, q, "from", froms, 0, &p->from) > 0) {
            char r[CR_PATH_MAX];
            cr_path_key(r, sizeof r, q, "from");
            if (!json_object_get(w, "fault"))
                cr_verr_key(vx, r,
                            "\"from\" only applies to a fault window "
                            "(\"fault\": name)");
            else if (p->from == 1 && !json_object_get(w, "to_s"))
                cr_verr(vx, q, "a window from a fault's end needs \"to_s\"");
        }
        cr_vsvc_ref(vx, w, q, "ready", &p->ready);
        if (p->fault && json_object_get(w, "ready")) {
            char r[CR_PATH_MAX];
            cr_path_key(r, sizeof r, q, "ready");
            cr_verr_key(vx, r,
                        "\"ready\" cannot be combined with \"fault\" (a "
                        "window has one anchor)");
        }
        int has_count =
            cr_vint(vx, w, q, "count", 1, 1000000, 1, &p->ready_count);
        if (has_count > 0 && !json_object_get(w, "ready")) {
            char r[CR_PATH_MAX];
            cr_path_key(r, sizeof r, q, "count");
            cr_verr_key(vx, r,
                        "\"count\" only applies to a readiness window "
                        "(\"ready\": svc)");
        }
        cr_vnum(vx, w, q, "from_s", -1e9, 1e9, 0, &p->from_s);
        cr_vnum(vx, w, q, "to_s", -1e9, 1e9, NAN, &p->to_s);
        if (json_object_get(w, "ready") && isnan(p->to_s))
            cr_verr(vx, q, "a readiness window needs \"to_s\"");
        else if (!p->fault && !json_object_get(w, "ready") && isnan(p->to_s))
            cr_verr(vx, q, "an absolute window needs \"to_s\"");
        if (!isnan(p->to_s) && p->to_s < p->from_s)
            cr_verr(vx, q, "to_s (%g) is before from_s (%g)", p->to_s,
                    p->from_s);
    }
    return 0;
}

static void evc_destroy(cr_expect *x)
{
    evc_priv *p = x->priv;
    if (p)
        cr_match_free(&p->m);
    cr_chk_destroy_priv(x);
}

/* The instant the readiness window's service became ready for the
 * ready_count-th time; *seen = how many times it did.  NAN if fewer. */
static double ready_anchor(const evc_priv *p, const cr_facts *f,
                           long long *seen)
{
    *seen = 0;
    for (size_t i = 0; i < f->nprocs; i++) {
        const cr_fact_proc *pr = &f->procs[i];
        if (pr->what != CR_PROC_READY ||
            !cr_svc_ref_match(p->ready, pr->svc, pr->inst))
            continue;
        if (++*seen == p->ready_count)
            return pr->t;
    }
    return NAN;
}

static int in_window(const evc_priv *p, const cr_facts *f, double anchor,
                     double t)
{
    if (!p->has_window)
        return 1;
    if (p->ready)
        return t >= anchor + p->from_s && t <= anchor + p->to_s;
    if (!p->fault)
        return t >= p->from_s && t <= p->to_s;
    for (size_t i = 0; i < f->nfaults; i++) {
        const cr_fact_fault *w = &f->faults[i];
        if (!w->ok || !w->name || strcmp(w->name, p->fault))
            continue;
        double base = p->from == 1   ? w->end
                      : p->from == 2 ? w->applied
                                     : w->start;
        double lo = base + p->from_s;
        double hi = isnan(p->to_s)
                        ? (p->from == 2 ? w->end : base + w->end - w->start)
                        : base + p->to_s;
        if (t >= lo && t <= hi)
            return 1;
    }
    return 0;
}

static int evc_eval(const cr_expect *x, const cr_facts *f, cr_result *res,
                    cr_err *err)
{
    const evc_priv *p = x->priv;
    size_t count = 0, all = 0;
    char what[160];
    snprintf(what, sizeof what, "%s%s%s", p->m.ev, p->m.svc ? " from " : "",
             p->m.svc ? p->m.svc : "");
    if (p->fault && cr_chk_nfaults(f, p->fault) == 0) {
        cr_result_set(res, CR_VERDICT_UNKNOWN,
                      "fault %s was never applied, so its window is empty",
                      p->fault);
        return 0;
    }
    double anchor = NAN;
    if (p->ready) {
        long long seen;
        anchor = ready_anchor(p, f, &seen);
        cr_chk_detail_int(res, "ready_seen", seen);
        if (isnan(anchor)) {
            cr_result_set(res, CR_VERDICT_FAILED,
                          "the window's anchor never happened: %s became "
                          "ready %lld time%s, the window starts at its "
                          "readiness #%lld",
                          p->ready, seen, seen == 1 ? "" : "s", p->ready_count);
            return 0;
        }
        cr_chk_detail_num(res, "anchor_t", anchor);
        cr_result_evidence(
            res, anchor, "%s ready (#%lld): the window is [%.3f s, %.3f s]",
            p->ready, p->ready_count, anchor + p->from_s, anchor + p->to_s);
    }
    const cr_history *h = f->hist;
    for (size_t i = 0; h && i < h->n; i++) {
        const cr_event *e = &h->v[i];
        if (!in_window(p, f, anchor, e->t))
            continue;
        all++;
        if (!cr_match_event(&p->m, e))
            continue;
        count++;
        /* the story: the first matches, or the ones over max */
        if (p->max >= 0 && count > (size_t)p->max)
            cr_result_evidence_event(res, e, "over the maximum");
        else if (count <= 10)
            cr_result_evidence_event(res, e, NULL);
    }
    cr_chk_measure(res, (double)count, "events");
    cr_chk_detail_int(res, "matching", (long long)count);
    cr_chk_detail_int(res, "events_in_window", (long long)all);
    if (p->min >= 0 && p->max >= 0)
        snprintf(res->bound, sizeof res->bound, "%lld..%lld", p->min, p->max);
    else if (p->max >= 0)
        cr_chk_bound(res, "<=", (double)p->max);
    else
        cr_chk_bound(res, ">=", (double)p->min);
    const char *in = p->has_window ? " in the window" : "";
    if (p->max >= 0 && count > (size_t)p->max) {
        cr_result_set(res, CR_VERDICT_FAILED, "%zu %s events%s (bound <= %lld)",
                      count, what, in, p->max);
    } else if (p->min >= 0 && count < (size_t)p->min) {
        cr_result_set(res, CR_VERDICT_FAILED,
                      "only %zu %s events%s (bound >= %lld)", count, what, in,
                      p->min);
    } else if ((h ? h->n : 0) < (size_t)x->min_samples) {
        cr_result_set(res, CR_VERDICT_UNKNOWN,
                      "only %zu events of any kind in the whole run "
                      "(min_samples %d): cannot judge",
                      h ? h->n : 0, x->min_samples);
    } else {
        cr_result_set(res, CR_VERDICT_PASSED, "%zu %s events%s (bound %s)",
                      count, what, in, res->bound);
    }
    return 0;
}

const cr_check_ops cr_check_events_ops = {
    .kind = "events",
    .summary = "the number of events matching a pattern (in a window) is "
               "within {min, max}",
    .params = evc_params,
    .parse = evc_parse,
    .eval = evc_eval,
    .destroy = evc_destroy,
};
