/* cr_check_steady_state: every probe result taken before and after the
 * faults passed (and during them too with "during": true).
 *
 * Judged from facts->probes only.  Before t0 the harness retries a failing
 * round of before-probes (slow starters) until one whole round passes or
 * it gives up; so of the before-results only each probe's last one counts:
 * earlier ones are the system still starting (counted in
 * details.before_retried when they failed).  No relevant probe result at
 * all (or fewer than min_samples) makes the verdict unknown, never
 * passed. */
#include "cr_check.h"
#include "cr_check_internal.h"

#include <stdio.h>
#include <string.h>

typedef struct ss_priv {
    int during;
    cr_strlist probes;
} ss_priv;

static const cr_param ss_params[] = {
    {"during", "bool", "false",
     "also require the probe results taken during the faults to pass"},
    {"probes", "array", "all probes", "names of the probes to judge"},
    {NULL, NULL, NULL, NULL},
};

static int ss_parse(cr_vctx *vx, const json_t *obj, const char *path,
                    cr_expect *x)
{
    if (cr_chk_priv(x, sizeof(ss_priv)) < 0)
        return CR_ENOMEM;
    ss_priv *p = x->priv;
    cr_vbool(vx, obj, path, "during", 0, &p->during);
    if (cr_chk_vstrlist(vx, obj, path, "probes", &p->probes) == CR_ENOMEM)
        return CR_ENOMEM;
    return 0;
}

static void ss_destroy(cr_expect *x)
{
    ss_priv *p = x->priv;
    if (p)
        cr_chk_strlist_free(&p->probes);
    cr_chk_destroy_priv(x);
}

static const char *phase_name(int ph)
{
    return ph == CR_PHASE_BEFORE   ? "before"
           : ph == CR_PHASE_DURING ? "during"
                                   : "after";
}

/* 1 when before-result i of a probe is followed by a later before-result
 * of the same probe: a round the harness retried, not the one it started
 * the experiment on (or gave up on). */
static int superseded(const cr_facts *f, size_t i)
{
    const cr_fact_probe *r = &f->probes[i];
    if (r->phase != CR_PHASE_BEFORE || !r->probe)
        return 0;
    for (size_t k = i + 1; k < f->nprobes; k++)
        if (f->probes[k].phase == CR_PHASE_BEFORE && f->probes[k].probe &&
            !strcmp(f->probes[k].probe, r->probe))
            return 1;
    return 0;
}

static int ss_eval(const cr_expect *x, const cr_facts *f, cr_result *res,
                   cr_err *err)
{
    const ss_priv *p = x->priv;
    unsigned phases =
        CR_PHASE_BEFORE | CR_PHASE_AFTER | (p->during ? CR_PHASE_DURING : 0);
    size_t n = 0, bad = 0, retried = 0;
    for (size_t i = 0; i < f->nprobes; i++) {
        const cr_fact_probe *r = &f->probes[i];
        if (!(phases & (unsigned)r->phase))
            continue;
        if (p->probes.n && !cr_chk_strlist_has(&p->probes, r->probe))
            continue;
        if (superseded(f, i)) {
            retried += !r->ok;
            continue;
        }
        n++;
        if (!r->ok) {
            bad++;
            cr_result_evidence(res, r->t, "probe %s failed (%s phase): %s",
                               r->probe, phase_name(r->phase),
                               r->detail ? r->detail : "");
        }
    }
    cr_chk_detail_int(res, "results", (long long)n);
    cr_chk_detail_int(res, "failed", (long long)bad);
    cr_chk_detail_int(res, "before_retried", (long long)retried);
    if (bad) {
        cr_chk_measure(res, (double)bad, "results");
        cr_chk_bound(res, "==", 0);
        cr_result_set(res, CR_VERDICT_FAILED,
                      "%zu of %zu probe results failed (bound: none)", bad, n);
    } else if (n == 0 || n < (size_t)x->min_samples) {
        cr_result_set(res, CR_VERDICT_UNKNOWN,
                      "only %zu probe results to judge (min_samples %d)", n,
                      x->min_samples);
    } else {
        cr_chk_measure(res, 0, "results");
        cr_chk_bound(res, "==", 0);
        cr_result_set(
            res, CR_VERDICT_PASSED, "all %zu probe results passed%s", n,
            p->during ? " (before, during and after)" : " (before and after)");
    }
    return 0;
}

const cr_check_ops cr_check_steady_state_ops = {
    .kind = "steady_state",
    .summary = "every probe result before and after the faults (optionally "
               "during) passed",
    .params = ss_params,
    .parse = ss_parse,
    .eval = ss_eval,
    .destroy = ss_destroy,
};
