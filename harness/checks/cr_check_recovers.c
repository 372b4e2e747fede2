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

static int rec_eval(const cr_expect *x, const cr_facts *f, cr_result *res,
                    cr_err *err)
{
    const rec_priv *p = x->priv;
    double e = f->t_faults_end;
    rec_probe *st = NULL;
    size_t nst = 0, samples = 0;
    int rc = 0;

    cr_chk_bound(res, "<=", p->within_s);
    if (cr_chk_nfaults(f, NULL) == 0) {
        cr_result_set(
            res, CR_VERDICT_UNKNOWN,
            "no fault was applied, so there is nothing to recover from");
        goto out;
    }
    /* The probes to track: the named ones, or every probe with a result. */
    st = cr_calloc(p->probes.n + f->nprobes + 1, sizeof *st);
    if (!st) {
        rc = cr_err_set(err, CR_ENOMEM, "recovers %s: out of memory", x->name);
        goto out;
    }
    for (size_t i = 0; i < p->probes.n; i++)
        st[nst++].name = p->probes.v[i];
    if (!p->probes.n)
        for (size_t i = 0; i < f->nprobes; i++) {
            size_t k = 0;
            while (k < nst && strcmp(st[k].name, f->probes[i].probe))
                k++;
            if (k == nst)
                st[nst++].name = f->probes[i].probe;
        }
    if (nst == 0) {
        cr_result_set(res, CR_VERDICT_UNKNOWN, "no probe results at all");
        goto out;
    }
    double t_rec = NAN;
    for (size_t i = 0; i < f->nprobes; i++) {
        const cr_fact_probe *r = &f->probes[i];
        if (r->t < e)
            continue;
        size_t k = 0;
        while (k < nst && strcmp(st[k].name, r->probe))
            k++;
        if (k == nst)
            continue;
        samples++;
        st[k].seen = 1;
        st[k].ok = r->ok;
        if (!r->ok)
            st[k].last_bad = r;
        int all = 1;
        for (size_t j = 0; j < nst && all; j++)
            all = st[j].seen && st[j].ok;
        if (all && isnan(t_rec)) {
            t_rec = r->t;
            break;
        }
    }
    cr_chk_detail_num(res, "faults_end_s", e);
    cr_chk_detail_int(res, "results_after_faults", (long long)samples);
    if (!isnan(t_rec)) {
        double m = t_rec - e;
        cr_chk_measure(res, m, "s");
        cr_chk_detail_num(res, "recovered_at_s", t_rec);
        if (m <= p->within_s) {
            cr_result_set(
                res, CR_VERDICT_PASSED,
                "recovered %.3f s after the faults ended (bound %g s)", m,
                p->within_s);
        } else {
            for (size_t j = 0; j < nst; j++)
                if (st[j].last_bad)
                    cr_result_evidence(
                        res, st[j].last_bad->t, "probe %s still failing: %s",
                        st[j].name,
                        st[j].last_bad->detail ? st[j].last_bad->detail : "");
            cr_result_evidence(res, t_rec, "every probe passing again");
            cr_result_set(
                res, CR_VERDICT_FAILED,
                "recovered only %.3f s after the faults ended (bound %g s)", m,
                p->within_s);
        }
        goto out;
    }
    for (size_t j = 0; j < nst; j++)
        if (!st[j].seen) {
            cr_result_set(
                res, CR_VERDICT_UNKNOWN,
                "probe %s has no result after the faults ended at %.3f s",
                st[j].name, e);
            goto out;
        }
    if (samples < (size_t)x->min_samples) {
        cr_result_set(
            res, CR_VERDICT_UNKNOWN,
            "only %zu probe results after the faults (min_samples %d)", samples,
            x->min_samples);
        goto out;
    }
    for (size_t j = 0; j < nst; j++)
        if (st[j].last_bad)
            cr_result_evidence(
                res, st[j].last_bad->t, "probe %s last failed: %s", st[j].name,
                st[j].last_bad->detail ? st[j].last_bad->detail : "");
    cr_result_set(res, CR_VERDICT_FAILED,
                  "never recovered: probes still failing %.3f s after the "
                  "faults ended (bound %g s)",
                  f->t_end - e, p->within_s);
out:
    cr_free(st);
    return rc;
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
