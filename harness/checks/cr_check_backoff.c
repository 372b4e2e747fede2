/* cr_check_backoff: retries of one operation follow the declared backoff
 * policy (delays, attempt limit, actual spacing, jitter).
 *
 * Events: `retry` {op, attempt, delay_ms} = attempt `attempt` (1-based,
 * the one that failed) failed and the next try comes after delay_ms;
 * `giveup` {op, attempts}.  Retries are grouped per source (`inst`, else
 * `svc`) and op into sequences; a sequence starts at attempt 1, after a
 * giveup, or whenever the attempt number does not grow (a success came in
 * between).  Rules, each failing with the offending events as evidence:
 * 1. delay bounds for retry n, with t = min(max_ms, base_ms*factor^(n-1))
 *    and tol(u) = tolerance_ms + tolerance_pct% of u:
 *    none: |delay - t| <= tol(t); full: 0 <= delay <= t + tol(t);
 *    equal: t/2 - tol(t) <= delay <= t + tol(t);
 *    decorrelated: base_ms - tol <= delay <= min(max_ms, 3*prev) + tol,
 *    prev = the previous delay of the sequence (base_ms for the first).
 * 2. attempt limit (max_attempts = total tries, the first included): a
 *    retry with attempt >= max_attempts announces try max_attempts+1, one
 *    too many; a giveup must report attempts == max_attempts.
 * 3. spacing: consecutive retries n, n+1 of a sequence are at least
 *    delay_ms(n) - tol apart (ts difference).  Gaps longer than delay_ms +
 *    gap_tolerance_ms are only counted (details.late_retries): the
 *    attempt itself takes time.
 * 4. jitter (jitter != none): for every attempt number with >= 5 delays,
 *    the coefficient of variation (stddev/mean) must exceed 0.01; when no
 *    attempt number has 5 delays the verdict is at best unknown.  Delays
 *    within tolerance_ms of max_ms are left out: a policy that caps after
 *    randomising (decorrelated jitter: min(cap, random(base, 3 * prev)))
 *    legitimately repeats max_ms once it gets there.
 * Fewer than min_samples retries: unknown. */
#include "cr_check.h"
#include "cr_check_internal.h"
#include "cr_live.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/cr_alloc.h"

enum { J_NONE, J_FULL, J_EQUAL, J_DECOR };
static const char *const jitter_names[] = {"none", "full", "equal",
                                           "decorrelated", NULL};

typedef struct bo_priv {
    const char *op, *svc;
    double base, factor, cap;
    long long max_attempts; /* 0: not checked */
    int jitter;
    double tol_ms, tol_pct, gap_tol_ms;
} bo_priv;

static const cr_param bo_params[] = {
    {"op", "string", NULL, "the operation (`op` field of retry/giveup events)"},
    {"svc", "string", "any", "only events from this service or instance"},
    {"base_ms", "number", NULL, "first delay (t for attempt 1)"},
    {"factor", "number", "2", "growth per attempt"},
    {"max_ms", "number", "unbounded", "cap on the un-jittered delay"},
    {"max_attempts", "integer", "not checked",
     "total tries allowed, the first included: a retry with attempt >= "
     "max_attempts is one too many; giveup must say attempts == max_attempts"},
    {"jitter", "string", "\"none\"", "none, full, equal or decorrelated"},
    {"tolerance_ms", "number", "20", "absolute slack on every delay bound"},
    {"tolerance_pct", "number", "10",
     "relative slack: percent of the bound, added to tolerance_ms"},
    {"gap_tolerance_ms", "number", "1000",
     "a gap between retries longer than delay_ms + this is reported in details "
     "(not a failure)"},
    {NULL, NULL, NULL, NULL},
};

static int bo_parse(cr_vctx *vx, const json_t *obj, const char *path,
                    cr_expect *x)
{
    if (cr_chk_priv(x, sizeof(bo_priv)) < 0)
        return CR_ENOMEM;
    bo_priv *p = x->priv;
    if (cr_vrequire(vx, obj, path, "op"))
        cr_vstr(vx, obj, path, "op", NULL, &p->op);
    cr_vstr(vx, obj, path, "svc", NULL, &p->svc);
    if (cr_vrequire(vx, obj, path, "base_ms"))
        cr_vnum(vx, obj, path, "base_ms", 0, 1e9, 0, &p->base);
    cr_vnum(vx, obj, path, "factor", 1, 1000, 2, &p->factor);
    cr_vnum(vx, obj, path, "max_ms", 0, 1e12, INFINITY, &p->cap);
    cr_vint(vx, obj, path, "max_attempts", 1, 1000000, 0, &p->max_attempts);
    cr_venum(vx, obj, path, "jitter", jitter_names, J_NONE, &p->jitter);
    cr_vnum(vx, obj, path, "tolerance_ms", 0, 1e9, 20, &p->tol_ms);
    cr_vnum(vx, obj, path, "tolerance_pct", 0, 1000, 10, &p->tol_pct);
    cr_vnum(vx, obj, path, "gap_tolerance_ms", 0, 1e12, 1000, &p->gap_tol_ms);
    return 0;
}

typedef struct bo_seq {
    const char *who;
    int active;
    long long attempt;
    double ts, delay, prev;
    cr_event last; /* a copy (the history may move its array; the fields'
                      bytes stay) */
} bo_seq;

#define BO_MAXN 64
typedef struct bo_stat {
    size_t n;
    double sum, sumsq;
    double t_last; /* time of the last retry with this attempt number */
} bo_stat;

static double tol(const bo_priv *p, double u)
{
    return p->tol_ms + p->tol_pct / 100.0 * (isfinite(u) ? u : 0);
}

static double nominal(const bo_priv *p, long long n)
{
    double t = p->base * pow(p->factor, (double)(n - 1));
    return t < p->cap ? t : p->cap;
}

/* ---- collect: sequences per source, rules 1-3 as events come -------- */

/* What the judging steps share.  `why` holds the summary: each rule writes
 * it on its own first violation (the jitter rule only when nothing else
 * did). */
typedef struct bo_run {
    const bo_priv *p;
    bo_seq *seq;
    size_t nseq, capseq;
    size_t retries, giveups, late, skipped, capped;
    size_t v_delay, v_attempts, v_gap, v_bad, v_jitter;
    size_t judged; /* attempt numbers with enough delays to judge jitter */
    double min_cv;
    bo_stat st[BO_MAXN + 1]; /* delays per attempt number (last: the rest) */
    char why[512];
} bo_run;

/* Count a violation of one rule; its first one writes the summary. */
static void bo_violation(bo_run *r, size_t *count, const char *fmt, ...)
    CR_PRINTF(3, 4);
static void bo_violation(bo_run *r, size_t *count, const char *fmt, ...)
{
    if ((*count)++)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
}

/* The sequence state of source `who`, added when new.  NULL: no memory. */
static bo_seq *bo_source(bo_run *r, const char *who)
{
    for (size_t k = 0; k < r->nseq; k++)
        if (!strcmp(r->seq[k].who, who))
            return &r->seq[k];
    if (r->nseq == r->capseq) {
        size_t nc = r->capseq ? r->capseq * 2 : 8;
        bo_seq *ns = cr_realloc(r->seq, nc * sizeof *ns);
        if (!ns)
            return NULL;
        r->seq = ns;
        r->capseq = nc;
    }
    bo_seq *s = &r->seq[r->nseq++];
    memset(s, 0, sizeof *s);
    s->who = who;
    return s;
}

/* Rule 2 for a giveup: it reports max_attempts tries; it ends the
 * sequence. */
static void bo_on_giveup(bo_run *r, bo_seq *s, const cr_event *e,
                         cr_result *res)
{
    const bo_priv *p = r->p;
    r->giveups++;
    double a = cr_event_num(e, "attempts");
    if (p->max_attempts && a != (double)p->max_attempts) {
        bo_violation(r, &r->v_attempts,
                     "%s gave up %s after %g attempts but max_attempts is "
                     "%lld",
                     s->who, p->op, a, p->max_attempts);
        cr_result_evidence_event(
            res, e,
            isnan(a) ? "giveup without attempts"
                     : "gave up after the wrong number of attempts");
    }
    s->active = 0;
}

/* Where retry n stands in its source's sequence.  A new sequence starts at
 * attempt 1, after a giveup, or when the number does not grow; the next
 * attempt is judged by rule 3 (spacing: no sooner than the delay the
 * previous retry announced); a jump only counts attempts missing from the
 * history. */
static void bo_sequence(bo_run *r, bo_seq *s, const cr_event *e, long long n,
                        cr_result *res)
{
    const bo_priv *p = r->p;
    if (!s->active || n == 1 || n <= s->attempt) {
        s->active = 1;
        s->prev = p->base;
        return;
    }
    if (n != s->attempt + 1) {
        r->skipped++;
        return;
    }
    double gap = (e->ts - s->ts) * 1000.0;
    if (gap < s->delay - tol(p, s->delay)) {
        bo_violation(r, &r->v_gap,
                     "%s retried %s after %.0f ms although it announced %.0f "
                     "ms",
                     s->who, p->op, gap, s->delay);
        cr_result_evidence_event(res, &s->last, "announced");
        cr_result_evidence_event(res, e, "retried too early");
    } else if (gap > s->delay + p->gap_tol_ms) {
        r->late++; /* the attempt itself takes time: counted only */
    }
}

/* Rule 1: the bounds [lo, hi] of retry n's delay under the jitter policy,
 * and the nominal delay *t named in the summary. */
static void bo_bounds(const bo_priv *p, const bo_seq *s, long long n,
                      double *lo, double *hi, double *t)
{
    *t = nominal(p, n);
    switch (p->jitter) {
    case J_NONE:
        *lo = *t - tol(p, *t);
        *hi = *t + tol(p, *t);
        break;
    case J_FULL:
        *lo = 0;
        *hi = *t + tol(p, *t);
        break;
    case J_EQUAL:
        *lo = *t / 2 - tol(p, *t);
        *hi = *t + tol(p, *t);
        break;
    default: { /* decorrelated: grows from the previous delay */
        double u = 3 * s->prev < p->cap ? 3 * s->prev : p->cap;
        *lo = p->base - tol(p, p->base);
        *hi = u + tol(p, u);
        *t = u;
    }
    }
}

/* A retry: rules 3 (spacing), 1 (delay bounds) and 2 (one try too many),
 * then its delay joins the jitter statistics of its attempt number. */
static void bo_on_retry(bo_run *r, bo_seq *s, const cr_event *e, cr_result *res)
{
    const bo_priv *p = r->p;
    double a = cr_event_num(e, "attempt"), d = cr_event_num(e, "delay_ms");
    if (!(a >= 1) || a != floor(a) || !(d >= 0)) {
        bo_violation(r, &r->v_bad,
                     "%s retry event without a valid attempt and delay_ms",
                     s->who);
        cr_result_evidence_event(res, e, "malformed retry");
        return;
    }
    r->retries++;
    long long n = (long long)a;
    bo_sequence(r, s, e, n, res);
    double lo, hi, t;
    bo_bounds(p, s, n, &lo, &hi, &t);
    if (d < lo || d > hi) {
        bo_violation(r, &r->v_delay,
                     "%s %s attempt %lld: delay %.0f ms outside [%.0f, %.0f] "
                     "(%s jitter, nominal %.0f ms)",
                     s->who, p->op, n, d, lo > 0 ? lo : 0, hi,
                     jitter_names[p->jitter], t);
        char b[160];
        snprintf(b, sizeof b, "delay outside [%.0f, %.0f] ms", lo > 0 ? lo : 0,
                 hi);
        cr_result_evidence_event(res, e, b);
    }
    if (p->max_attempts && n >= p->max_attempts) {
        bo_violation(r, &r->v_attempts,
                     "%s retried %s after attempt %lld although max_attempts "
                     "is %lld",
                     s->who, p->op, n, p->max_attempts);
        cr_result_evidence_event(res, e, "one try too many");
    }
    if (d >= p->cap - p->tol_ms) {
        r->capped++; /* the cap repeats itself: no sign of missing jitter */
    } else {
        bo_stat *b = &r->st[n < BO_MAXN ? n : BO_MAXN];
        b->n++;
        b->sum += d;
        b->sumsq += d * d;
        b->t_last = e->t;
    }
    s->attempt = n;
    s->ts = e->ts;
    s->prev = d;
    s->delay = d;
    s->last = *e;
}

/* Every retry and giveup of the op (from svc when given), in time order.
 * 0 or CR_ENOMEM. */
static int bo_feed(bo_run *r, const cr_event *e, cr_result *res)
{
    const bo_priv *p = r->p;
    int is_retry = !strcmp(e->ev, "retry");
    if (!is_retry && strcmp(e->ev, "giveup"))
        return 0;
    const char *op = cr_event_str(e, "op");
    if (!op || strcmp(op, p->op) || !cr_chk_event_from(e, p->svc))
        return 0;
    bo_seq *s = bo_source(r, cr_chk_event_who(e));
    if (!s)
        return CR_ENOMEM;
    if (is_retry)
        bo_on_retry(r, s, e, res);
    else
        bo_on_giveup(r, s, e, res);
    return 0;
}

static int bo_collect(bo_run *r, const cr_history *h, cr_result *res)
{
    for (size_t i = 0; h && i < h->n; i++)
        if (bo_feed(r, &h->v[i], res) < 0)
            return CR_ENOMEM;
    return 0;
}

/* ---- judge: rule 4, jitter ------------------------------------------- */

/* For every attempt number with >= 5 delays, the coefficient of variation
 * must exceed 0.01: delays that are all the same are not jittered. */
static void bo_judge_jitter(bo_run *r, cr_result *res)
{
    const bo_priv *p = r->p;
    if (p->jitter == J_NONE)
        return;
    for (int n = 1; n <= BO_MAXN; n++) {
        const bo_stat *b = &r->st[n];
        if (b->n < 5)
            continue;
        r->judged++;
        double mean = b->sum / (double)b->n;
        double var = b->sumsq / (double)b->n - mean * mean;
        double cv = mean > 0 ? sqrt(var > 0 ? var : 0) / mean : 0;
        if (cv < r->min_cv)
            r->min_cv = cv;
        if (cv > 0.01)
            continue;
        if (!r->v_jitter++ && !*r->why)
            snprintf(r->why, sizeof r->why,
                     "%s delays at attempt %d are all about %.0f ms "
                     "(coefficient of variation %.4f over %zu retries): not "
                     "jittered",
                     p->op, n, mean, cv, b->n);
        cr_result_evidence(res, b->t_last,
                           "attempt %d: %zu delays, mean %.1f ms, cv %.4f", n,
                           b->n, mean, cv);
    }
    if (isfinite(r->min_cv))
        cr_chk_detail_num(res, "min_cv", r->min_cv);
}

/* ---- conclude: details, measured figure, verdict ---------------------- */

static void bo_conclude(const cr_expect *x, const bo_run *r, cr_result *res)
{
    const bo_priv *p = r->p;
    cr_chk_detail_int(res, "retries", (long long)r->retries);
    cr_chk_detail_int(res, "giveups", (long long)r->giveups);
    cr_chk_detail_int(res, "sequences_sources", (long long)r->nseq);
    cr_chk_detail_int(res, "delay_violations", (long long)r->v_delay);
    cr_chk_detail_int(res, "attempt_violations", (long long)r->v_attempts);
    cr_chk_detail_int(res, "early_retries", (long long)r->v_gap);
    cr_chk_detail_int(res, "malformed_retries", (long long)r->v_bad);
    cr_chk_detail_int(res, "late_retries", (long long)r->late);
    cr_chk_detail_int(res, "skipped_attempts", (long long)r->skipped);
    cr_chk_detail_int(res, "capped_delays", (long long)r->capped);
    size_t viol =
        r->v_delay + r->v_attempts + r->v_gap + r->v_bad + r->v_jitter;
    cr_chk_measure(res, (double)viol, "violations");
    cr_chk_bound(res, "==", 0);
    if (viol)
        cr_result_set(res, CR_VERDICT_FAILED,
                      "%s (%zu violations in %zu retries)", r->why, viol,
                      r->retries);
    else if (r->retries == 0 || r->retries < (size_t)x->min_samples)
        cr_result_set(res, CR_VERDICT_UNKNOWN,
                      "only %zu %s retries (min_samples %d)", r->retries, p->op,
                      x->min_samples);
    else if (p->jitter != J_NONE && r->judged == 0)
        cr_result_set(res, CR_VERDICT_UNKNOWN,
                      "%zu %s retries within bounds, but no attempt number has "
                      "5 delays to judge the jitter%s",
                      r->retries, p->op,
                      r->capped ? " (delays at max_ms are not judged)" : "");
    else if (p->jitter == J_NONE)
        cr_result_set(res, CR_VERDICT_PASSED,
                      "%zu %s retries followed the backoff policy, no jitter "
                      "(0 violations)",
                      r->retries, p->op);
    else
        cr_result_set(
            res, CR_VERDICT_PASSED,
            "%zu %s retries followed the %s-jitter policy (0 violations)",
            r->retries, p->op, jitter_names[p->jitter]);
}

static int bo_eval(const cr_expect *x, const cr_facts *f, cr_result *res,
                   cr_err *err)
{
    bo_run r;
    memset(&r, 0, sizeof r);
    r.p = x->priv;
    r.min_cv = INFINITY;
    int rc = 0;
    if (bo_collect(&r, f->hist, res) < 0) {
        rc = cr_err_set(err, CR_ENOMEM, "backoff %s: out of memory", x->name);
        goto out;
    }
    bo_judge_jitter(&r, res);
    bo_conclude(x, &r, res);
out:
    cr_free(r.seq);
    return rc;
}

/* ---- live: rules 1-3 as retries come (checks/cr_live.h) --------------- */

/* Rules 1-3 (and a malformed retry) judge each retry against its
 * sequence: a violation is final at once (the end verdict fails on any).
 * Rule 4 (jitter) needs every delay of an attempt number: at the end.
 * The state is the sequences per source and the per-attempt sums. */
typedef struct bo_live {
    const cr_expect *x;
    bo_run r;
    cr_result res; /* evidence (bounded: 50 lines) */
    size_t viol;
    double first_t;
    char first_why[512];
} bo_live;

static int bo_live_open(const cr_expect *x, void **st)
{
    bo_live *l = cr_calloc(1, sizeof *l);
    if (!l)
        return CR_ENOMEM;
    l->x = x;
    l->r.p = x->priv;
    l->r.min_cv = INFINITY;
    l->first_t = NAN;
    cr_result_init(&l->res);
    *st = l;
    return 0;
}

static void bo_live_close(void *st)
{
    bo_live *l = st;
    cr_result_free(&l->res);
    cr_free(l->r.seq);
    cr_free(l);
}

static int bo_live_feed(void *st, const cr_event *e)
{
    bo_live *l = st;
    if (bo_feed(&l->r, e, &l->res) < 0)
        return CR_ENOMEM;
    size_t v = l->r.v_delay + l->r.v_attempts + l->r.v_gap + l->r.v_bad;
    if (v && !l->viol) {
        l->first_t = e->t;
        snprintf(l->first_why, sizeof l->first_why, "%s", l->r.why);
    }
    l->viol = v;
    return 0;
}

static void bo_live_status(void *st, const cr_facts *f, cr_live *out)
{
    const bo_live *l = st;
    const bo_priv *p = l->r.p;
    (void)f;
    if (l->viol) {
        out->state = CR_LIVE_VIOLATED;
        out->final = 1;
        out->since = l->first_t;
        snprintf(out->summary, sizeof out->summary,
                 "%s (%zu violations in %zu retries so far)", l->first_why,
                 l->viol, l->r.retries);
    } else if (l->r.retries == 0 || l->r.retries < (size_t)l->x->min_samples) {
        out->state = CR_LIVE_PENDING;
        snprintf(out->summary, sizeof out->summary,
                 "%zu %s retries so far (min_samples %d)", l->r.retries, p->op,
                 l->x->min_samples);
    } else {
        out->state = CR_LIVE_HOLDING;
        snprintf(
            out->summary, sizeof out->summary,
            "%zu %s retries within the policy so far%s", l->r.retries, p->op,
            p->jitter != J_NONE ? " (the jitter is judged at the end)" : "");
    }
}

const cr_check_ops cr_check_backoff_ops = {
    .kind = "backoff",
    .summary = "retries follow the declared backoff policy: delays, attempt "
               "limit, spacing, jitter",
    .params = bo_params,
    .parse = bo_parse,
    .eval = bo_eval,
    .destroy = cr_chk_destroy_priv,
    .live_open = bo_live_open,
    .live_feed = bo_live_feed,
    .live_status = bo_live_status,
    .live_close = bo_live_close,
};
