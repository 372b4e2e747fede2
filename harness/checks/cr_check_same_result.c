/* cr_check_same_result: the run under faults produced the same final
 * answer as a fault-free baseline run of the same seed.
 *
 * Compares the `value` of the last `result` event whose `name` field is the key
 * "result" in the run (facts->hist) with the one in the baseline
 * (facts->baseline); numbers compare by value (3 == 3.0), everything else with
 * json_equal.  Missing in the run: failed.  No baseline, or missing in the
 * baseline: unknown. */
#include "cr_check.h"
#include "cr_check_internal.h"

#include <stdio.h>
#include <string.h>

#include "base/cr_alloc.h"

typedef struct sr_priv {
    const char *name;
} sr_priv;

static const cr_param sr_params[] = {
    {"result", "string", NULL,
     "the result name (`name` field of `result` events; the key `name` names "
     "the expectation)"},
    {NULL, NULL, NULL, NULL},
};

static int sr_parse(cr_vctx *vx, const json_t *obj, const char *path,
                    cr_expect *x)
{
    if (cr_chk_priv(x, sizeof(sr_priv)) < 0)
        return CR_ENOMEM;
    sr_priv *p = x->priv;
    if (cr_vrequire(vx, obj, path, "result"))
        cr_vstr(vx, obj, path, "result", NULL, &p->name);
    return 0;
}

static const cr_event *last_result(const cr_history *h, const char *name)
{
    const cr_event *r = NULL;
    for (size_t i = 0; h && i < h->n; i++) {
        if (strcmp(h->v[i].ev, "result") != 0)
            continue;
        const char *n = cr_event_str(&h->v[i], "name");
        if (n && !strcmp(n, name))
            r = &h->v[i];
    }
    return r;
}

static void show(const json_t *v, char *buf, size_t n)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    snprintf(buf, n, "%s", s ? s : "(no value)");
    cr_free(s);
}

/* The value of a result event as a new jansson value; *v NULL when the
 * event has none.  0 or CR_ENOMEM. */
static int value_of(const cr_event *e, json_t **v, cr_err *err)
{
    *v = cr_event_json(e, "value");
    if (!*v && cr_event_has(e, "value"))
        return cr_err_set(err, CR_ENOMEM, "same_result: out of memory");
    return 0;
}

static int sr_eval(const cr_expect *x, const cr_facts *f, cr_result *res,
                   cr_err *err)
{
    const sr_priv *p = x->priv;
    char a[200], b[200];
    json_t *rv = NULL, *bv = NULL;
    int rc = 0;
    const cr_event *run = last_result(f->hist, p->name);
    const cr_event *base = last_result(f->baseline, p->name);
    if (!run) {
        cr_result_set(res, CR_VERDICT_FAILED,
                      "the run produced no result \"%s\"%s", p->name,
                      f->baseline ? "" : " (and there is no baseline)");
        return 0;
    }
    if ((rc = value_of(run, &rv, err)) != 0)
        goto out;
    show(rv, a, sizeof a);
    cr_result_evidence_event(res, run, "run");
    if (!f->baseline) {
        cr_result_set(
            res, CR_VERDICT_UNKNOWN,
            "result \"%s\" is %s but there is no baseline run to compare with",
            p->name, a);
        goto out;
    }
    if (!base) {
        cr_result_set(
            res, CR_VERDICT_UNKNOWN,
            "the baseline run produced no result \"%s\" to compare with %s",
            p->name, a);
        goto out;
    }
    if ((rc = value_of(base, &bv, err)) != 0)
        goto out;
    show(bv, b, sizeof b);
    cr_chk_detail_str(res, "run_value", a);
    cr_chk_detail_str(res, "baseline_value", b);
    cr_result_evidence(res, base->t, "baseline: result %s value=%s", p->name,
                       b);
    int same = rv && bv &&
               ((json_is_number(rv) && json_is_number(bv))
                    ? json_number_value(rv) == json_number_value(bv)
                    : json_equal(rv, bv));
    if (same)
        cr_result_set(res, CR_VERDICT_PASSED,
                      "result \"%s\" = %s, as in the baseline", p->name, a);
    else
        cr_result_set(res, CR_VERDICT_FAILED,
                      "result \"%s\" is %s but the fault-free baseline gave %s",
                      p->name, a, b);
out:
    json_decref(rv);
    json_decref(bv);
    return rc;
}

const cr_check_ops cr_check_same_result_ops = {
    .kind = "same_result",
    .summary = "the final `result` equals the one of a fault-free baseline run",
    .params = sr_params,
    .flags = CR_CHECK_NEEDS_BASELINE,
    .parse = sr_parse,
    .eval = sr_eval,
    .destroy = cr_chk_destroy_priv,
};
