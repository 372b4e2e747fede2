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
 * 2. no call while open; 3. `rejected` only while open or half_open
 *    (half-open lets a limited number of trial calls through and refuses
 *    the rest);
 * 4. open->half_open no sooner than min_open_s (less tolerance_s);
 * 5. during each dependency window the breaker opens (or is open), within
 *    opens_within_s of the window start when given; "never opened" fails;
 * 6. when closes_within_s is given, a breaker that opened for a window is
 *    closed again within closes_within_s of the window's end.
 * Concurrent callers race the transitions: a call admitted just before the
 * breaker opened, or refused just before it closed, is reported just
 * after; so rules 2 and 3 allow tolerance_s after the transition.
 * Rules 5 and 6 apply, per window, to each source that called the
 * dependency in [start, end + opens_within_s] or was not closed at its
 * start; an idle source (no traffic came its way) has nothing to open for
 * (details.sources_idle), and when no source could be judged the verdict
 * is unknown.  No dependency window: unknown.  Fewer than min_samples
 * breaker-related events (calls, states, rejections): unknown. */
#include "cr_check.h"
#include "cr_check_internal.h"
#include "cr_live.h"

#include <math.h>
#include <stdarg.h>
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
    {"tolerance_s", "number", "0.05",
     "slack on min_open_s, and after a transition for the calls and "
     "rejections that raced it"},
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
    double t_open, t_closed; /* the last transition to open / to closed */
    br_tr *tr;
    size_t ntr, cap;
    double *calls; /* times of the calls, in order */
    size_t ncalls, capcalls;
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

/* ---- collect: replay the history per source ------------------------- */

/* Everything the judging steps share: the sources with their transitions,
 * the counts, and each rule's violations.  `why` holds the summary; each
 * rule writes it on its own first violation (so with several rules broken
 * it names the rule whose first violation came last). */
typedef struct br_run {
    const br_priv *p;
    br_src *src;
    size_t nsrc, capsrc;
    size_t samples, calls, rejects, opens;
    size_t v_illegal, v_call, v_reject, v_early, v_open, v_close;
    size_t judged, idle; /* (window, source) pairs judged by rule 5 / not */
    double worst_open, worst_close; /* NAN: no window judged */
    int live; /* fed live (cr_live.h): rules 1-4 only, no call or
                 transition kept, so the state stays bounded */
    char why[512];
} br_run;

enum { BR_EV_STATE, BR_EV_CALL, BR_EV_REJECT, BR_EV_OTHER };

/* Count a violation of one rule; its first one writes the summary. */
static void br_violation(br_run *r, size_t *count, const char *fmt, ...)
    CR_PRINTF(3, 4);
static void br_violation(br_run *r, size_t *count, const char *fmt, ...)
{
    if ((*count)++)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
}

/* What an event says about this breaker: a state change, a call (a `call`
 * named after it or a `retry` of the op of its name), a rejection, or
 * nothing. */
static int br_event_kind(const br_priv *p, const cr_event *e)
{
    int kind;
    const char *key = "name";
    if (!strcmp(e->ev, "breaker"))
        kind = BR_EV_STATE;
    else if (!strcmp(e->ev, "call"))
        kind = BR_EV_CALL;
    else if (!strcmp(e->ev, "retry")) {
        kind = BR_EV_CALL;
        key = "op";
    } else if (!strcmp(e->ev, "rejected"))
        kind = BR_EV_REJECT;
    else
        return BR_EV_OTHER;
    const char *nm = cr_event_str(e, key);
    return nm && !strcmp(nm, p->name) ? kind : BR_EV_OTHER;
}

/* The source `who`, added closed when new.  NULL when out of memory. */
static br_src *br_source(br_run *r, const char *who)
{
    for (size_t k = 0; k < r->nsrc; k++)
        if (!strcmp(r->src[k].who, who))
            return &r->src[k];
    if (r->nsrc == r->capsrc) {
        size_t nc = r->capsrc ? r->capsrc * 2 : 4;
        br_src *ns = cr_realloc(r->src, nc * sizeof *ns);
        if (!ns)
            return NULL;
        r->src = ns;
        r->capsrc = nc;
    }
    br_src *s = &r->src[r->nsrc++];
    memset(s, 0, sizeof *s);
    s->who = who;
    s->state = B_CLOSED;
    s->t_closed = -INFINITY;
    return s;
}

/* Rule 2: a call while the source's breaker is open (longer than
 * tolerance_s: a call admitted just before it opened is reported after).
 * The call's time is kept for rule 5.  0 or CR_ENOMEM. */
static int br_on_call(br_run *r, br_src *s, const cr_event *e, cr_result *res)
{
    r->calls++;
    if (r->live)
        goto judge;
    if (s->ncalls == s->capcalls) {
        size_t nc = s->capcalls ? s->capcalls * 2 : 16;
        double *nv = cr_realloc(s->calls, nc * sizeof *nv);
        if (!nv)
            return CR_ENOMEM;
        s->calls = nv;
        s->capcalls = nc;
    }
    s->calls[s->ncalls++] = e->t;
judge:
    if (s->state != B_OPEN || e->t - s->t_open <= r->p->tol)
        return 0;
    br_violation(r, &r->v_call,
                 "%s called %s while its breaker was open (since t=%.3f)",
                 s->who, r->p->name, s->t_open);
    cr_result_evidence_event(res, e, "call while open");
    return 0;
}

/* Rule 3: a rejection while the breaker is closed (longer than
 * tolerance_s: a call refused just before it closed is reported after).
 * Half-open refuses the calls beyond its trial calls. */
static void br_on_reject(br_run *r, const br_src *s, const cr_event *e,
                         cr_result *res)
{
    r->rejects++;
    if (s->state != B_CLOSED || e->t - s->t_closed <= r->p->tol)
        return;
    br_violation(r, &r->v_reject,
                 "%s rejected a call to %s while the breaker was %s", s->who,
                 r->p->name, state_names[s->state]);
    cr_result_evidence_event(res, e, "rejected while not open");
}

/* A state change: rule 1 (legal transitions) and rule 4 (the wait before
 * half_open), then record it for the window rules.  0 or CR_ENOMEM. */
static int br_on_state(br_run *r, br_src *s, const cr_event *e, cr_result *res)
{
    const br_priv *p = r->p;
    int to = state_of(cr_event_str(e, "state"));
    if (to == B_NONE) {
        br_violation(r, &r->v_illegal,
                     "%s breaker %s reported an unknown state", s->who,
                     p->name);
        cr_result_evidence_event(res, e, "unknown state");
        return 0;
    }
    if (to == s->state) /* a repeated state is no transition */
        return 0;
    cr_result_evidence_event(res, e, NULL);
    if (!legal(s->state, to)) {
        br_violation(r, &r->v_illegal,
                     "%s breaker %s went %s -> %s (illegal transition)", s->who,
                     p->name, state_names[s->state], state_names[to]);
        cr_result_evidence(res, e->t, "illegal transition %s -> %s",
                           state_names[s->state], state_names[to]);
    }
    if (s->state == B_OPEN && to == B_HALF &&
        e->t - s->t_open < p->min_open - p->tol) {
        br_violation(r, &r->v_early,
                     "%s breaker %s went half_open %.3f s after opening "
                     "(min_open_s %g)",
                     s->who, p->name, e->t - s->t_open, p->min_open);
        cr_result_evidence(res, e->t, "half_open after %.3f s only",
                           e->t - s->t_open);
    }
    if (to == B_OPEN) {
        s->t_open = e->t;
        r->opens++;
    } else if (to == B_CLOSED) {
        s->t_closed = e->t;
    }
    if (r->live) {
        s->state = to;
        return 0;
    }
    if (s->ntr == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 8;
        br_tr *nt = cr_realloc(s->tr, nc * sizeof *nt);
        if (!nt)
            return CR_ENOMEM;
        s->tr = nt;
        s->cap = nc;
    }
    s->tr[s->ntr++] = (br_tr){e->t, to};
    s->state = to;
    return 0;
}

/* Replay the history: every event about this breaker, in time order,
 * against its source's state (rules 1-4).  0 or CR_ENOMEM. */
static int br_feed(br_run *r, const cr_event *e, cr_result *res)
{
    int kind = br_event_kind(r->p, e);
    if (kind == BR_EV_OTHER)
        return 0;
    r->samples++;
    br_src *s = br_source(r, cr_chk_event_who(e));
    if (!s)
        return CR_ENOMEM;
    if (kind == BR_EV_CALL)
        return br_on_call(r, s, e, res);
    if (kind == BR_EV_REJECT) {
        br_on_reject(r, s, e, res);
        return 0;
    }
    return br_on_state(r, s, e, res);
}

static int br_collect(br_run *r, const cr_history *h, cr_result *res)
{
    for (size_t i = 0; h && i < h->n; i++)
        if (br_feed(r, &h->v[i], res) < 0)
            return CR_ENOMEM;
    return 0;
}

/* ---- judge: rules 5 and 6, per dependency window and source ---------- */

/* When the source's breaker was open for window w: already not closed at
 * its start, else its first opening in [start, end + opens_within_s].
 * NAN: it never opened for w. */
static double br_open_time(const br_priv *p, const br_src *s,
                           const cr_fact_fault *w)
{
    if (state_at(s, w->start) != B_CLOSED)
        return w->start;
    double lim = w->end + (isnan(p->opens_within) ? 0 : p->opens_within);
    for (size_t j = 0; j < s->ntr; j++)
        if (s->tr[j].to == B_OPEN && s->tr[j].t >= w->start &&
            s->tr[j].t <= lim)
            return s->tr[j].t;
    return NAN;
}

/* When the source's breaker was closed again after window w: at its end
 * when already closed, else its first closing after the end.  NAN: never. */
static double br_close_time(const br_src *s, const cr_fact_fault *w)
{
    if (state_at(s, w->end) == B_CLOSED)
        return w->end;
    for (size_t j = 0; j < s->ntr; j++)
        if (s->tr[j].to == B_CLOSED && s->tr[j].t >= w->end)
            return s->tr[j].t;
    return NAN;
}

/* 1 when the source has something to open for in window w: it was not
 * closed at its start, or it called the dependency (or changed state) in
 * [start, end + opens_within_s]. */
static int br_active(const br_priv *p, const br_src *s, const cr_fact_fault *w)
{
    double lim = w->end + (isnan(p->opens_within) ? 0 : p->opens_within);
    if (state_at(s, w->start) != B_CLOSED)
        return 1;
    for (size_t j = 0; j < s->ncalls && s->calls[j] <= lim; j++)
        if (s->calls[j] >= w->start)
            return 1;
    for (size_t j = 0; j < s->ntr && s->tr[j].t <= lim; j++)
        if (s->tr[j].t >= w->start)
            return 1;
    return 0;
}

/* Rule 5: the breaker opened for window w (within opens_within_s of its
 * start when given).  Returns 1 when it opened at all. */
static int br_judge_open(br_run *r, const br_src *s, const cr_fact_fault *w,
                         cr_result *res)
{
    const br_priv *p = r->p;
    const char *wn = w->name ? w->name : "?";
    double t_open = br_open_time(p, s, w);
    if (isnan(t_open)) {
        br_violation(r, &r->v_open,
                     "breaker %s of %s never opened during fault %s "
                     "(%.3f..%.3f s)",
                     p->name, s->who, wn, w->start, w->end);
        cr_result_evidence(res, w->start,
                           "fault %s began; %s breaker stayed closed", wn,
                           s->who);
        return 0;
    }
    double d = t_open - w->start;
    if (isnan(r->worst_open) || d > r->worst_open)
        r->worst_open = d;
    if (!isnan(p->opens_within) && d > p->opens_within) {
        br_violation(r, &r->v_open,
                     "breaker %s of %s opened %.3f s after fault %s began "
                     "(bound %g s)",
                     p->name, s->who, d, wn, p->opens_within);
        cr_result_evidence(res, t_open,
                           "%s breaker opened %.3f s after the fault began",
                           s->who, d);
    }
    return 1;
}

/* Rule 6: closed again within closes_within_s of window w's end. */
static void br_judge_close(br_run *r, const br_src *s, const cr_fact_fault *w,
                           cr_result *res)
{
    const br_priv *p = r->p;
    const char *wn = w->name ? w->name : "?";
    double t_close = br_close_time(s, w);
    double dc = isnan(t_close) ? INFINITY : t_close - w->end;
    if (isnan(r->worst_close) || dc > r->worst_close)
        r->worst_close = dc;
    if (t_close <= w->end + p->closes_within)
        return;
    if (isnan(t_close))
        br_violation(r, &r->v_close,
                     "breaker %s of %s never closed after fault %s ended at "
                     "%.3f s (bound %g s)",
                     p->name, s->who, wn, w->end, p->closes_within);
    else
        br_violation(r, &r->v_close,
                     "breaker %s of %s closed %.3f s after fault %s ended "
                     "(bound %g s)",
                     p->name, s->who, dc, wn, p->closes_within);
    cr_result_evidence(res, w->end, "fault %s ended; %s breaker %s", wn, s->who,
                       isnan(t_close) ? "never closed" : "closed late");
}

/* Rules 5 and 6 for every applied dependency window and every source. */
static void br_judge_windows(br_run *r, const cr_facts *f, cr_result *res)
{
    const br_priv *p = r->p;
    for (size_t i = 0; i < f->nfaults; i++) {
        const cr_fact_fault *w = &f->faults[i];
        if (!w->ok || (p->dep && (!w->name || strcmp(w->name, p->dep))))
            continue;
        for (size_t k = 0; k < r->nsrc; k++) {
            if (!br_active(p, &r->src[k], w)) {
                r->idle++;
                continue;
            }
            r->judged++;
            if (br_judge_open(r, &r->src[k], w, res) &&
                !isnan(p->closes_within))
                br_judge_close(r, &r->src[k], w, res);
        }
    }
}

/* ---- conclude: details, measured figure, verdict ---------------------- */

static void br_conclude(const cr_expect *x, const br_run *r, cr_result *res)
{
    const br_priv *p = r->p;
    cr_chk_detail_int(res, "sources", (long long)r->nsrc);
    cr_chk_detail_int(res, "sources_idle", (long long)r->idle);
    cr_chk_detail_int(res, "calls", (long long)r->calls);
    cr_chk_detail_int(res, "rejected", (long long)r->rejects);
    cr_chk_detail_int(res, "opened", (long long)r->opens);
    cr_chk_detail_int(res, "illegal_transitions", (long long)r->v_illegal);
    cr_chk_detail_int(res, "calls_while_open", (long long)r->v_call);
    cr_chk_detail_int(res, "rejected_while_not_open", (long long)r->v_reject);
    cr_chk_detail_int(res, "early_half_open", (long long)r->v_early);
    cr_chk_detail_num(res, "worst_open_delay_s", r->worst_open);
    cr_chk_detail_num(res, "worst_close_delay_s", r->worst_close);
    size_t viol = r->v_illegal + r->v_call + r->v_reject + r->v_early +
                  r->v_open + r->v_close;
    if (!isnan(p->opens_within) && !isnan(r->worst_open)) {
        cr_chk_measure(res, r->worst_open, "s");
        cr_chk_bound(res, "<=", p->opens_within);
    }
    /* Too few samples is unknown unless a violation already shows a
     * source misbehaving. */
    if ((r->samples == 0 || r->samples < (size_t)x->min_samples) &&
        (viol == 0 || r->nsrc == 0))
        cr_result_set(res, CR_VERDICT_UNKNOWN,
                      "only %zu events about breaker %s (min_samples %d): "
                      "no calls to judge",
                      r->samples, p->name, x->min_samples);
    else if (viol)
        cr_result_set(res, CR_VERDICT_FAILED, "%s", r->why);
    else if (r->judged == 0)
        cr_result_set(res, CR_VERDICT_UNKNOWN,
                      "no source called %s during %s%s: nothing to judge "
                      "about opening",
                      p->name, p->dep ? "fault " : "any fault",
                      p->dep ? p->dep : "");
    else
        cr_result_set(res, CR_VERDICT_PASSED, "breaker %s opened %zu times, %s",
                      p->name, r->opens,
                      isnan(r->worst_open)
                          ? "every transition legal"
                          : "within bounds and every transition legal");
}

static int br_eval(const cr_expect *x, const cr_facts *f, cr_result *res,
                   cr_err *err)
{
    const br_priv *p = x->priv;
    br_run r = {.p = p, .worst_open = NAN, .worst_close = NAN};
    int rc = 0;

    if (cr_chk_nfaults(f, p->dep) == 0) {
        cr_result_set(
            res, CR_VERDICT_UNKNOWN,
            "%s%s was never applied: no window in which the dependency failed",
            p->dep ? "fault " : "no fault", p->dep ? p->dep : "");
        goto out;
    }
    if (br_collect(&r, f->hist, res) < 0) {
        rc = cr_err_set(err, CR_ENOMEM, "breaker %s: out of memory", x->name);
        goto out;
    }
    br_judge_windows(&r, f, res);
    br_conclude(x, &r, res);
out:
    for (size_t k = 0; k < r.nsrc; k++) {
        cr_free(r.src[k].tr);
        cr_free(r.src[k].calls);
    }
    cr_free(r.src);
    return rc;
}

/* ---- live: rules 1-4 as events come (checks/cr_live.h) ---------------- */

/* Rules 1-4 judge each event against its source's state: a violation of
 * them is final at once.  The verdict is unknown, not failed, when the
 * dependency fault never applied, so such a violation becomes final only
 * once it has.  Rules 5 and 6 (opening and closing per window) are judged
 * at the end. */
typedef struct br_live {
    const cr_expect *x;
    br_run r;
    cr_result res; /* evidence of rules 1-4 (bounded: 50 lines) */
    size_t viol;
    double first_t;
    char first_why[512];
} br_live;

static int br_live_open(const cr_expect *x, void **st)
{
    br_live *l = cr_calloc(1, sizeof *l);
    if (!l)
        return CR_ENOMEM;
    l->x = x;
    l->r.p = x->priv;
    l->r.live = 1;
    l->r.worst_open = l->r.worst_close = NAN;
    l->first_t = NAN;
    cr_result_init(&l->res);
    *st = l;
    return 0;
}

static void br_live_close(void *st)
{
    br_live *l = st;
    cr_result_free(&l->res);
    cr_free(l->r.src);
    cr_free(l);
}

static size_t br_viol14(const br_run *r)
{
    return r->v_illegal + r->v_call + r->v_reject + r->v_early;
}

static int br_live_feed(void *st, const cr_event *e)
{
    br_live *l = st;
    if (br_feed(&l->r, e, &l->res) < 0)
        return CR_ENOMEM;
    size_t v = br_viol14(&l->r);
    if (v && !l->viol) {
        l->first_t = e->t;
        snprintf(l->first_why, sizeof l->first_why, "%s", l->r.why);
    }
    l->viol = v;
    return 0;
}

static void br_live_status(void *st, const cr_facts *f, cr_live *out)
{
    const br_live *l = st;
    const br_priv *p = l->r.p;
    if (l->viol) {
        out->state = CR_LIVE_VIOLATED;
        out->since = l->first_t;
        out->final = cr_chk_nfaults(f, p->dep) > 0;
        snprintf(out->summary, sizeof out->summary, "%s%s", l->first_why,
                 out->final ? ""
                            : " (final once the dependency fault applied: "
                              "without it the verdict is unknown)");
    } else if (l->r.samples == 0 || l->r.samples < (size_t)l->x->min_samples) {
        out->state = CR_LIVE_PENDING;
        snprintf(out->summary, sizeof out->summary,
                 "%zu events about breaker %s so far (min_samples %d)",
                 l->r.samples, p->name, l->x->min_samples);
    } else {
        out->state = CR_LIVE_HOLDING;
        snprintf(out->summary, sizeof out->summary,
                 "breaker %s: %zu calls, %zu rejected, opened %zu times, "
                 "every transition legal so far (opening and closing per "
                 "fault window are judged at the end)",
                 p->name, l->r.calls, l->r.rejects, l->r.opens);
    }
}

const cr_check_ops cr_check_breaker_ops = {
    .kind = "breaker",
    .summary = "a circuit breaker opens on dependency failure, stops calling, "
               "waits, and closes again",
    .params = br_params,
    .parse = br_parse,
    .eval = br_eval,
    .destroy = cr_chk_destroy_priv,
    .live_open = br_live_open,
    .live_feed = br_live_feed,
    .live_status = br_live_status,
    .live_close = br_live_close,
};
