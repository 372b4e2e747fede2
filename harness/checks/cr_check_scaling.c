/* cr_check_scaling: an autoscaler's `scaled` events {from, to, instance}
 * tell a consistent story: it scaled up and later down, never outside
 * [min, max], never sooner than cooldown_s after its previous change, and
 * every worker it scaled down drained gracefully (that instance wrote
 * `stopped` within drain_s, and no `drained` event says graceful false).
 *
 * Judged from the event history alone.  Rules, each an evidence line:
 * - bounds: from and to of every scaled event within [min, max];
 * - continuity: each event's from equals the previous event's to;
 * - cool-down: consecutive scaled events at least cooldown_s - tolerance_s
 *   apart (cooldown_s 0: not checked);
 * - up then down: at least min_ups scale-ups, min_downs scale-downs, and
 *   a scale-down after the first scale-up (when both are required);
 * - graceful: for each scale-down naming an instance, a `stopped` event
 *   from that instance in [t - tolerance_s, t + drain_s], and no `drained` with
 *   graceful false.
 * No event at all in the run: unknown. */
#include "cr_check.h"
#include "cr_check_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct scl_priv {
    const char *svc; /* source of the scaled events, NULL: any */
    long long min, max, min_ups, min_downs;
    double cooldown_s, tolerance_s, drain_s;
    int graceful;
} scl_priv;

static const cr_param scl_params[] = {
    {"svc", "string", "any",
     "only scaled/drained events from this service (the autoscaler)"},
    {"min", "integer", NULL, "lowest allowed worker count"},
    {"max", "integer", NULL, "highest allowed worker count"},
    {"cooldown_s", "number", "0 (not checked)",
     "least time between two consecutive scaling changes"},
    {"tolerance_s", "number", "0.05",
     "slack on cooldown_s (and before a scale-down, for its `stopped`)"},
    {"min_ups", "integer", "1", "at least this many scale-ups"},
    {"min_downs", "integer", "1",
     "at least this many scale-downs, one of them after the first scale-up"},
    {"graceful", "bool", "true",
     "every scaled-down instance writes `stopped` within drain_s and no "
     "`drained` event says graceful false"},
    {"drain_s", "number", "15",
     "bound from a scale-down to the drained instance's `stopped`"},
    {NULL, NULL, NULL, NULL},
};

static int scl_parse(cr_vctx *vx, const json_t *obj, const char *path,
                     cr_expect *x)
{
    if (cr_chk_priv(x, sizeof(scl_priv)) < 0)
        return CR_ENOMEM;
    scl_priv *p = x->priv;
    cr_vstr(vx, obj, path, "svc", NULL, &p->svc);
    if (p->svc && !cr_scen_service(cr_vscen(vx), p->svc)) {
        char q[CR_PATH_MAX];
        cr_path_key(q, sizeof q, path, "svc");
        cr_verr(vx, q, "unknown service \"%s\"", p->svc);
    }
    cr_vrequire(vx, obj, path, "min");
    cr_vrequire(vx, obj, path, "max");
    cr_vint(vx, obj, path, "min", 0, 1000000, 0, &p->min);
    cr_vint(vx, obj, path, "max", 0, 1000000, 0, &p->max);
    if (p->min > p->max)
        cr_verr(vx, path, "min (%lld) is greater than max (%lld)", p->min,
                p->max);
    cr_vnum(vx, obj, path, "cooldown_s", 0, 3600, 0, &p->cooldown_s);
    cr_vnum(vx, obj, path, "tolerance_s", 0, 60, 0.05, &p->tolerance_s);
    cr_vnum(vx, obj, path, "drain_s", 0, 3600, 15, &p->drain_s);
    cr_vint(vx, obj, path, "min_ups", 0, 1000000, 1, &p->min_ups);
    cr_vint(vx, obj, path, "min_downs", 0, 1000000, 1, &p->min_downs);
    cr_vbool(vx, obj, path, "graceful", 1, &p->graceful);
    return 0;
}

static int from_svc(const scl_priv *p, const cr_event *e)
{
    return !p->svc || cr_chk_event_from(e, p->svc);
}

/* 1 when instance wrote `stopped` in [t0, t1]. */
static int stopped_in(const cr_facts *f, const char *inst, double t0, double t1)
{
    for (size_t i = 0; i < f->hist->n; i++) {
        const cr_event *e = &f->hist->v[i];
        if (e->t < t0 || e->t > t1 || strcmp(e->ev, "stopped") != 0)
            continue;
        const char *who = cr_event_str(e, "inst");
        if (who && strcmp(who, inst) == 0)
            return 1;
    }
    return 0;
}

/* The story so far, as the events are read in time order. */
typedef struct scl_run {
    long long ups, downs, n, bad;
    double first_up, last_t, min_gap; /* NAN, NAN, INFINITY at first */
    long long last_to;                /* -1 before the first change */
    int down_after_up;
} scl_run;

/* One `scaled` event: bounds, continuity, cool-down, and for a scale-down
 * naming an instance, its graceful stop. */
static void scl_on_scaled(const scl_priv *p, const cr_facts *f, scl_run *r,
                          const cr_event *e, cr_result *res)
{
    double from = cr_event_num(e, "from"), to = cr_event_num(e, "to");
    if (isnan(from) || isnan(to)) {
        r->bad++;
        cr_result_evidence_event(res, e, "scaled without numeric from/to");
        return;
    }
    r->n++;
    if (from < (double)p->min || from > (double)p->max || to < (double)p->min ||
        to > (double)p->max) {
        r->bad++;
        cr_result_evidence(res, e->t, "scaled %g -> %g: outside [%lld, %lld]",
                           from, to, p->min, p->max);
    }
    if (r->last_to >= 0 && (long long)from != r->last_to) {
        r->bad++;
        cr_result_evidence(res, e->t,
                           "scaled from %g but the previous change left %lld",
                           from, r->last_to);
    }
    if (!isnan(r->last_t)) {
        double gap = e->t - r->last_t;
        if (gap < r->min_gap)
            r->min_gap = gap;
        if (p->cooldown_s > 0 && gap < p->cooldown_s - p->tolerance_s) {
            r->bad++;
            cr_result_evidence(res, e->t,
                               "scaled %g -> %g only %.2f s after the "
                               "previous change (cool-down %g s)",
                               from, to, gap, p->cooldown_s);
        }
    }
    if (to > from) {
        r->ups++;
        if (isnan(r->first_up))
            r->first_up = e->t;
    } else if (to < from) {
        r->downs++;
        if (!isnan(r->first_up))
            r->down_after_up = 1;
        const char *inst = cr_event_str(e, "instance");
        if (p->graceful && inst && inst[0] &&
            !stopped_in(f, inst, e->t - p->tolerance_s, e->t + p->drain_s)) {
            r->bad++;
            cr_result_evidence(res, e->t,
                               "%s scaled down but wrote no `stopped` within "
                               "%g s (not drained gracefully)",
                               inst, p->drain_s);
        }
    }
    r->last_t = e->t;
    r->last_to = (long long)to;
}

static void scl_conclude(const scl_priv *p, const scl_run *r, cr_result *res)
{
    cr_chk_detail_int(res, "changes", r->n);
    cr_chk_detail_int(res, "ups", r->ups);
    cr_chk_detail_int(res, "downs", r->downs);
    if (r->n > 1)
        cr_chk_detail_num(res, "min_gap_s", r->min_gap);
    if (p->cooldown_s > 0) {
        cr_chk_bound(res, ">=", p->cooldown_s);
        if (r->n > 1)
            cr_chk_measure(res, r->min_gap, "s");
    }
    if (r->bad > 0)
        cr_result_set(res, CR_VERDICT_FAILED,
                      "%lld scaling rule violation%s in %lld changes (bounds "
                      "[%lld, %lld], cool-down %g s)",
                      r->bad, r->bad == 1 ? "" : "s", r->n, p->min, p->max,
                      p->cooldown_s);
    else if (r->ups < p->min_ups || r->downs < p->min_downs)
        cr_result_set(res, CR_VERDICT_FAILED,
                      "scaled up %lld and down %lld times (need at least %lld "
                      "up and %lld down)",
                      r->ups, r->downs, p->min_ups, p->min_downs);
    else if (p->min_ups > 0 && p->min_downs > 0 && !r->down_after_up)
        cr_result_set(res, CR_VERDICT_FAILED,
                      "never scaled down after scaling up");
    else
        cr_result_set(res, CR_VERDICT_PASSED,
                      "%lld scaling changes (%lld up, %lld down) within "
                      "[%lld, %lld]%s",
                      r->n, r->ups, r->downs, p->min, p->max,
                      r->n > 1 && p->cooldown_s > 0 ? ", cool-down held" : "");
}

static int scl_eval(const cr_expect *x, const cr_facts *f, cr_result *res,
                    cr_err *err)
{
    const scl_priv *p = x->priv;
    scl_run r = {
        .first_up = NAN, .last_t = NAN, .min_gap = INFINITY, .last_to = -1};
    (void)err;
    if (f->hist->n < (size_t)(x->min_samples > 0 ? x->min_samples : 1)) {
        cr_result_set(res, CR_VERDICT_UNKNOWN,
                      "no events in the run: nothing to judge");
        return 0;
    }
    for (size_t i = 0; i < f->hist->n; i++) {
        const cr_event *e = &f->hist->v[i];
        if (!from_svc(p, e))
            continue;
        if (strcmp(e->ev, "drained") == 0 && p->graceful) {
            if (cr_event_bool(e, "graceful") == 0) {
                r.bad++;
                cr_result_evidence_event(res, e, "drain was not graceful");
            }
        } else if (strcmp(e->ev, "scaled") == 0) {
            scl_on_scaled(p, f, &r, e, res);
        }
    }
    scl_conclude(p, &r, res);
    return 0;
}

const cr_check_ops cr_check_scaling_ops = {
    .kind = "scaling",
    .summary = "an autoscaler scaled up then down, within [min, max], "
               "respecting its cool-down, draining gracefully",
    .params = scl_params,
    .parse = scl_parse,
    .eval = scl_eval,
    .destroy = cr_chk_destroy_priv,
};
