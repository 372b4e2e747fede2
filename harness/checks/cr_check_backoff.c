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
 *    attempt number has 5 delays the verdict is at best unknown.
 * Fewer than min_samples retries: unknown. */
#include "cr_check.h"
#include "cr_check_internal.h"

#include <math.h>
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
    const cr_event *last;
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

static int bo_eval(const cr_expect *x, const cr_facts *f, cr_result *res,
                   cr_err *err)
{
    const bo_priv *p = x->priv;
    bo_seq *seq = NULL;
    size_t nseq = 0, capseq = 0, retries = 0, giveups = 0, late = 0,
           skipped = 0;
    size_t v_delay = 0, v_attempts = 0, v_gap = 0, v_bad = 0;
    bo_stat st[BO_MAXN + 1];
    int rc = 0;
    char why[512] = "";
    memset(st, 0, sizeof st);
    const cr_history *h = f->hist;

    for (size_t i = 0; h && i < h->n; i++) {
        const cr_event *e = &h->v[i];
        int is_retry = !strcmp(e->ev, "retry");
        if (!is_retry && strcmp(e->ev, "giveup"))
            continue;
        const char *op = cr_event_str(e, "op");
        if (!op || strcmp(op, p->op) || !cr_chk_event_from(e, p->svc))
            continue;
        const char *who = cr_chk_event_who(e);
        size_t k = 0;
        while (k < nseq && strcmp(seq[k].who, who))
            k++;
        if (k == nseq) {
            if (nseq == capseq) {
                size_t nc = capseq ? capseq * 2 : 8;
                bo_seq *ns = cr_realloc(seq, nc * sizeof *ns);
                if (!ns) {
                    rc = cr_err_set(err, CR_ENOMEM, "backoff %s: out of memory",
                                    x->name);
                    goto out;
                }
                seq = ns;
                capseq = nc;
            }
            memset(&seq[nseq], 0, sizeof *seq);
            seq[nseq++].who = who;
        }
        bo_seq *s = &seq[k];
        if (!is_retry) {
            giveups++;
            double a = cr_event_num(e, "attempts");
            if (p->max_attempts && a != (double)p->max_attempts) {
                if (!v_attempts++)
                    snprintf(why, sizeof why,
                             "%s gave up %s after %g attempts but max_attempts "
                             "is %lld",
                             who, p->op, a, p->max_attempts);
                cr_result_evidence_event(
                    res, e,
                    isnan(a) ? "giveup without attempts"
                             : "gave up after the wrong number of attempts");
            }
            s->active = 0;
            continue;
        }
        double a = cr_event_num(e, "attempt"), d = cr_event_num(e, "delay_ms");
        if (!(a >= 1) || a != floor(a) || !(d >= 0)) {
            if (!v_bad++)
                snprintf(why, sizeof why,
                         "%s retry event without a valid attempt and delay_ms",
                         who);
            cr_result_evidence_event(res, e, "malformed retry");
            continue;
        }
        retries++;
        long long n = (long long)a;
        if (!s->active || n == 1 || n <= s->attempt) {
            s->active = 1;
            s->prev = p->base;
        } else if (n == s->attempt + 1) {
            double gap = (e->ts - s->ts) * 1000.0;
            if (gap < s->delay - tol(p, s->delay)) {
                if (!v_gap++)
                    snprintf(why, sizeof why,
                             "%s retried %s after %.0f ms although it "
                             "announced %.0f ms",
                             who, p->op, gap, s->delay);
                cr_result_evidence_event(res, s->last, "announced");
                cr_result_evidence_event(res, e, "retried too early");
            } else if (gap > s->delay + p->gap_tol_ms) {
                late++;
            }
        } else {
            skipped++; /* attempts missing from the history */
        }
        /* 1. delay bounds */
        double t = nominal(p, n), lo, hi;
        switch (p->jitter) {
        case J_NONE:
            lo = t - tol(p, t);
            hi = t + tol(p, t);
            break;
        case J_FULL:
            lo = 0;
            hi = t + tol(p, t);
            break;
        case J_EQUAL:
            lo = t / 2 - tol(p, t);
            hi = t + tol(p, t);
            break;
        default: {
            double u = 3 * s->prev < p->cap ? 3 * s->prev : p->cap;
            lo = p->base - tol(p, p->base);
            hi = u + tol(p, u);
            t = u;
        }
        }
        if (d < lo || d > hi) {
            if (!v_delay++)
                snprintf(why, sizeof why,
                         "%s %s attempt %lld: delay %.0f ms outside [%.0f, "
                         "%.0f] (%s jitter, nominal %.0f ms)",
                         who, p->op, n, d, lo > 0 ? lo : 0, hi,
                         jitter_names[p->jitter], t);
            char b[160];
            snprintf(b, sizeof b, "delay outside [%.0f, %.0f] ms",
                     lo > 0 ? lo : 0, hi);
            cr_result_evidence_event(res, e, b);
        }
        /* 2. one try too many */
        if (p->max_attempts && n >= p->max_attempts) {
            if (!v_attempts++)
                snprintf(why, sizeof why,
                         "%s retried %s after attempt %lld although "
                         "max_attempts is %lld",
                         who, p->op, n, p->max_attempts);
            cr_result_evidence_event(res, e, "one try too many");
        }
        bo_stat *b = &st[n < BO_MAXN ? n : BO_MAXN];
        b->n++;
        b->sum += d;
        b->sumsq += d * d;
        b->t_last = e->t;
        s->attempt = n;
        s->ts = e->ts;
        s->prev = d;
        s->delay = d;
        s->last = e;
    }
    /* 4. jitter */
    size_t judged = 0, v_jitter = 0;
    double min_cv = INFINITY;
    if (p->jitter != J_NONE) {
        for (int n = 1; n <= BO_MAXN; n++) {
            if (st[n].n < 5)
                continue;
            judged++;
            double mean = st[n].sum / (double)st[n].n;
            double var = st[n].sumsq / (double)st[n].n - mean * mean;
            double cv = mean > 0 ? sqrt(var > 0 ? var : 0) / mean : 0;
            if (cv < min_cv)
                min_cv = cv;
            if (cv <= 0.01) {
                if (!v_jitter++ && !*why)
                    snprintf(why, sizeof why,
                             "%s delays at attempt %d are all about %.0f ms "
                             "(coefficient of variation %.4f over %zu "
                             "retries): not jittered",
                             p->op, n, mean, cv, st[n].n);
                cr_result_evidence(
                    res, st[n].t_last,
                    "attempt %d: %zu delays, mean %.1f ms, cv %.4f", n, st[n].n,
                    mean, cv);
            }
        }
        if (isfinite(min_cv))
            cr_chk_detail_num(res, "min_cv", min_cv);
    }
    cr_chk_detail_int(res, "retries", (long long)retries);
    cr_chk_detail_int(res, "giveups", (long long)giveups);
    cr_chk_detail_int(res, "sequences_sources", (long long)nseq);
    cr_chk_detail_int(res, "delay_violations", (long long)v_delay);
    cr_chk_detail_int(res, "attempt_violations", (long long)v_attempts);
    cr_chk_detail_int(res, "early_retries", (long long)v_gap);
    cr_chk_detail_int(res, "malformed_retries", (long long)v_bad);
    cr_chk_detail_int(res, "late_retries", (long long)late);
    cr_chk_detail_int(res, "skipped_attempts", (long long)skipped);
    size_t viol = v_delay + v_attempts + v_gap + v_bad + v_jitter;
    cr_chk_measure(res, (double)viol, "violations");
    cr_chk_bound(res, "==", 0);
    if (viol) {
        cr_result_set(res, CR_VERDICT_FAILED,
                      "%s (%zu violations in %zu retries)", why, viol, retries);
    } else if (retries == 0 || retries < (size_t)x->min_samples) {
        cr_result_set(res, CR_VERDICT_UNKNOWN,
                      "only %zu %s retries (min_samples %d)", retries, p->op,
                      x->min_samples);
    } else if (p->jitter != J_NONE && judged == 0) {
        cr_result_set(res, CR_VERDICT_UNKNOWN,
                      "%zu %s retries within bounds, but no attempt number has "
                      "5 delays to judge the jitter",
                      retries, p->op);
    } else {
        cr_result_set(
            res, CR_VERDICT_PASSED,
            "%zu %s retries followed the %s-jitter policy (0 violations)",
            retries, p->op, jitter_names[p->jitter]);
    }
out:
    cr_free(seq);
    return rc;
}

const cr_check_ops cr_check_backoff_ops = {
    .kind = "backoff",
    .summary = "retries follow the declared backoff policy: delays, attempt "
               "limit, spacing, jitter",
    .params = bo_params,
    .parse = bo_parse,
    .eval = bo_eval,
    .destroy = cr_chk_destroy_priv,
};
