/* cr_check_recovers: after the last fault window ends, the probes come back
 * within a bound.
 *
 * Definition: let E = facts->t_faults_end.  Only probe results taken at or
 * after E count (a result from before E says nothing about recovery).  The
 * recovery time is the first t >= E at which every selected probe has a
 * result in [E, t] and its most recent one is ok; measured = t - E, passes
 * when <= within_s.  No fault applied, or a selected probe without any
 * result after E: unknown.  Never all ok: failed, with each probe's last
 * failing result as evidence. */
#include "cr_check.h"
#include "cr_check_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/cr_alloc.h"

typedef struct rec_priv {
    double within_s;
    cr_strlist probes;
} rec_priv;

static const cr_param rec_params[] = {
    {"within_s", "number", NULL,
     "bound on the time from the end of the last fault window until every "
     "probe passes again"},
    {"probes", "array", "all probes", "names of the probes that must recover"},
    {NULL, NULL, NULL, NULL},
};

static int rec_parse(cr_vctx *vx, const json_t *obj, const char *path,
                     cr_expect *x)
{
    if (cr_chk_priv(x, sizeof(rec_priv)) < 0)
        return CR_ENOMEM;
    rec_priv *p = x->priv;
    if (cr_vrequire(vx, obj, path, "within_s"))
        cr_vnum(vx, obj, path, "within_s", 0, 1e9, 0, &p->within_s);
    if (cr_chk_vstrlist(vx, obj, path, "probes", &p->probes) == CR_ENOMEM)
        return CR_ENOMEM;
    return 0;
}

static void rec_destroy(cr_expect *x)
{
    rec_priv *p = x->priv;
    if (p)
        cr_chk_strlist_free(&p->probes);
    cr_chk_destroy_priv(x);
}

/* Tracked state of one probe after E. */
typedef struct rec_probe {
    const char *name;
    int seen, ok;
    const cr_fact_probe *last_bad;
} rec_probe;

/* The probes to track: the named ones, or every probe with a result.
 * Fills st (room for probes.n + nprobes) and returns how many. */
static size_t rec_probes(const rec_priv *p, const cr_facts *f, rec_probe *st)
{
    size_t nst = 0;
    for (size_t i = 0; i < p->probes.n; i++)
        st[nst++].name = p->probes.v[i];
    if (p->probes.n)
        return nst;
    for (size_t i = 0; i < f->nprobes; i++) {
        size_t k = 0;
        while (k < nst && strcmp(st[k].name, f->probes[i].probe))
            k++;
        if (k == nst)
            st[nst++].name = f->probes[i].probe;
    }
    return nst;
}

/* Walk the results from e on; returns the first time every tracked probe
 * has a result and its latest is ok (NAN: never).  *samples counts the
 * results read. */
static double rec_track(const cr_facts *f, double e, rec_probe *st, size_t nst,
                        size_t *samples)
{
    for (size_t i = 0; i < f->nprobes; i++) {
        const cr_fact_probe *r = &f->probes[i];
        if (r->t < e)
            continue;
        size_t k = 0;
        while (k < nst && strcmp(st[k].name, r->probe))
            k++;
        if (k == nst)
            continue;
        (*samples)++;
        st[k].seen = 1;
        st[k].ok = r->ok;
        if (!r->ok)
            st[k].last_bad = r;
        int all = 1;
        for (size_t j = 0; j < nst && all; j++)
            all = st[j].seen && st[j].ok;
        if (all)
            return r->t;
    }
    return NAN;
}

/* Each probe's last failure as evidence ("still failing" / "last
 * failed"). */
static void rec_evidence_bad(cr_result *res, const rec_probe *st, size_t nst,
                             const char *how)
{
    for (size_t j = 0; j < nst; j++)
        if (st[j].last_bad)
            cr_result_evidence(
                res, st[j].last_bad->t, "probe %s %s: %s", st[j].name, how,
                st[j].last_bad->detail ? st[j].last_bad->detail : "");
}

/* Every probe passed again at t_rec: within the bound or late. */
static void rec_recovered(const rec_priv *p, double e, double t_rec,
                          const rec_probe *st, size_t nst, cr_result *res)
{
    double m = t_rec - e;
    cr_chk_measure(res, m, "s");
    cr_chk_detail_num(res, "recovered_at_s", t_rec);
    if (m <= p->within_s) {
        cr_result_set(res, CR_VERDICT_PASSED,
                      "recovered %.3f s after the faults ended (bound %g s)", m,
                      p->within_s);
        return;
    }
    rec_evidence_bad(res, st, nst, "still failing");
    cr_result_evidence(res, t_rec, "every probe passing again");
    cr_result_set(res, CR_VERDICT_FAILED,
                  "recovered only %.3f s after the faults ended (bound %g s)",
                  m, p->within_s);
}

/* Never all ok again: unknown when a probe has no result after e or there
 * are too few results, else failed. */
static void rec_never(const cr_expect *x, const cr_facts *f, double e,
                      const rec_probe *st, size_t nst, size_t samples,
                      cr_result *res)
{
    const rec_priv *p = x->priv;
    for (size_t j = 0; j < nst; j++)
        if (!st[j].seen) {
            cr_result_set(
                res, CR_VERDICT_UNKNOWN,
                "probe %s has no result after the faults ended at %.3f s",
                st[j].name, e);
            return;
        }
    if (samples < (size_t)x->min_samples) {
        cr_result_set(
            res, CR_VERDICT_UNKNOWN,
            "only %zu probe results after the faults (min_samples %d)", samples,
            x->min_samples);
        return;
    }
    rec_evidence_bad(res, st, nst, "last failed");
    cr_result_set(res, CR_VERDICT_FAILED,
                  "never recovered: probes still failing %.3f s after the "
                  "faults ended (bound %g s)",
                  f->t_end - e, p->within_s);
}

static int rec_eval(const cr_expect *x, const cr_facts *f, cr_result *res,
                    cr_err *err)
{
    const rec_priv *p = x->priv;
    double e = f->t_faults_end;
    rec_probe *st = NULL;
    size_t samples = 0;

    cr_chk_bound(res, "<=", p->within_s);
    if (cr_chk_nfaults(f, NULL) == 0) {
        cr_result_set(
            res, CR_VERDICT_UNKNOWN,
            "no fault was applied, so there is nothing to recover from");
        return 0;
    }
    st = cr_calloc(p->probes.n + f->nprobes + 1, sizeof *st);
    if (!st)
        return cr_err_set(err, CR_ENOMEM, "recovers %s: out of memory",
                          x->name);
    size_t nst = rec_probes(p, f, st);
    if (nst == 0) {
        cr_result_set(res, CR_VERDICT_UNKNOWN, "no probe results at all");
        goto out;
    }
    double t_rec = rec_track(f, e, st, nst, &samples);
    cr_chk_detail_num(res, "faults_end_s", e);
    cr_chk_detail_int(res, "results_after_faults", (long long)samples);
    if (!isnan(t_rec))
        rec_recovered(p, e, t_rec, st, nst, res);
    else
        rec_never(x, f, e, st, nst, samples, res);
out:
    cr_free(st);
    return 0;
}

const cr_check_ops cr_check_recovers_ops = {
    .kind = "recovers",
    .summary =
        "every probe passes again within within_s of the end of the last fault",
    .params = rec_params,
    .parse = rec_parse,
    .eval = rec_eval,
    .destroy = rec_destroy,
};
