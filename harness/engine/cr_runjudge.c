/* cr_runjudge: turning a finished run into verdicts.
 *
 * Builds the read-only cr_facts every checker judges (fault windows as
 * applied, process history, probe results, the sorted event history), runs
 * each expectation's checker, and records verdicts and evidence in the
 * journal (the command line prints the summary from it). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cr_alloc.h"
#include "cr_run_internal.h"

static int cmp_fault(const void *a, const void *b)
{
    const cr_fact_fault *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

static int cmp_proc(const void *a, const void *b)
{
    const cr_fact_proc *x = a, *y = b;
    return (x->t > y->t) - (x->t < y->t);
}

static int cmp_probe(const void *a, const void *b)
{
    const cr_fact_probe *x = a, *y = b;
    return (x->t > y->t) - (x->t < y->t);
}

static int phase_of(const char *s)
{
    if (!s)
        return 0;
    if (strcmp(s, "before") == 0)
        return CR_PHASE_BEFORE;
    if (strcmp(s, "after") == 0)
        return CR_PHASE_AFTER;
    return CR_PHASE_DURING;
}

static json_t *result_json(const cr_expect *x, const cr_result *res)
{
    json_t *o = json_pack(
        "{s:s,s:s,s:s,s:s}", "name", x->name, "kind", x->ops->kind, "verdict",
        cr_verdict_name(res->verdict), "summary", res->summary);
    if (res->has_measured)
        json_object_set_new(o, "measured",
                            json_pack("{s:f,s:s,s:s}", "value", res->measured,
                                      "unit", res->unit, "bound", res->bound));
    json_object_set(o, "evidence",
                    res->evidence ? res->evidence : json_array());
    if (!res->evidence)
        json_decref(json_object_get(o, "evidence"));
    json_object_set(o, "details", res->details ? res->details : json_object());
    if (!res->details)
        json_decref(json_object_get(o, "details"));
    const char *desc =
        json_string_value(json_object_get(x->spec, "description"));
    if (desc)
        json_object_set_new(o, "description", json_string(desc));
    return o;
}

int cr_runjudge_eval(cr_run *r, const cr_history *baseline)
{
    cr_fact_fault *ff = cr_calloc(r->nacts + 1, sizeof *ff);
    size_t nf = 0, np = 0, npr = 0, cap_p = 16;
    cr_fact_proc *pp = cr_calloc(cap_p, sizeof *pp);
    size_t nprobes_j = json_array_size(r->j_probes);
    cr_fact_probe *pr = cr_calloc(nprobes_j + 1, sizeof *pr);
    json_t *exps = json_array();
    int exit_code = 0;
    double t_end = cr_run_now(r);
    double t_faults_end = 0;
    char(*targets)[512] = cr_calloc(r->nacts + 1, sizeof *targets);
    char(*hosts)[512] = cr_calloc(r->nacts + 1, sizeof *hosts);

    if (!ff || !pp || !pr || !exps || !targets || !hosts) {
        exit_code = 4;
        goto out;
    }
    for (size_t i = 0; i < r->nacts; i++) {
        cr_act_rec *a = r->acts[i];
        if (isnan(a->t_applied))
            continue;
        cr_fact_fault *f = &ff[nf++];
        f->name = a->act.fault->name;
        f->kind = a->act.fault->ops->kind;
        snprintf(targets[i], sizeof targets[i], "%s",
                 json_string_value(json_object_get(a->rec, "target"))
                     ? json_string_value(json_object_get(a->rec, "target"))
                     : "-");
        f->target = targets[i];
        json_t *hv = json_object_get(a->act.details, "hosts");
        size_t hk = 0, hn = 0;
        json_t *hs;
        json_array_foreach (hv, hn, hs)
            if (json_is_string(hs) && hk + 2 < sizeof hosts[i])
                hk += (size_t)snprintf(hosts[i] + hk, sizeof hosts[i] - hk,
                                       "%s%s", hk ? "," : "",
                                       json_string_value(hs));
        f->hosts = hk ? hosts[i] : NULL;
        f->start = a->t_applied;
        f->end = isnan(a->t_reverted) ? t_end : a->t_reverted;
        f->ok = a->state != 3;
        if (f->ok && f->end > t_faults_end)
            t_faults_end = f->end;
    }
    qsort(ff, nf, sizeof *ff, cmp_fault);

    for (size_t s = 0; s < r->nsvcs; s++) {
        for (int i = 0; i < r->svcs[s].spec->replicas; i++) {
            cr_inst *in = &r->svcs[s].inst[i];
            size_t k;
            json_t *h;
            json_array_foreach (in->history, k, h) {
                const char *what =
                    json_string_value(json_object_get(h, "what"));
                int w;
                if (!what)
                    continue;
                if (strcmp(what, "start") == 0)
                    w = CR_PROC_START;
                else if (strcmp(what, "ready") == 0)
                    w = CR_PROC_READY;
                else if (strcmp(what, "exit") == 0)
                    w = CR_PROC_EXIT;
                else
                    continue;
                if (np == cap_p) {
                    cr_fact_proc *nv = cr_realloc(pp, cap_p * 2 * sizeof *pp);
                    if (!nv) {
                        exit_code = 4;
                        goto out;
                    }
                    pp = nv;
                    cap_p *= 2;
                }
                cr_fact_proc *p = &pp[np++];
                memset(p, 0, sizeof *p);
                p->t = json_number_value(json_object_get(h, "t"));
                p->inst = in->name;
                p->svc = r->svcs[s].spec->name;
                p->what = w;
                json_t *code = json_object_get(h, "code");
                p->code =
                    json_is_integer(code) ? (int)json_integer_value(code) : -1;
                const char *sig =
                    json_string_value(json_object_get(h, "signal"));
                p->sig = sig ? cr_signal_parse(sig) : 0;
                if (p->sig < 0)
                    p->sig = 0;
                p->cause = json_string_value(json_object_get(h, "cause"));
            }
        }
    }
    qsort(pp, np, sizeof *pp, cmp_proc);

    {
        size_t k;
        json_t *o;
        json_array_foreach (r->j_probes, k, o) {
            cr_fact_probe *p = &pr[npr++];
            p->probe = json_string_value(json_object_get(o, "probe"));
            p->phase = phase_of(json_string_value(json_object_get(o, "phase")));
            p->t = json_number_value(json_object_get(o, "t"));
            p->ok = json_is_true(json_object_get(o, "ok"));
            p->detail = json_string_value(json_object_get(o, "detail"));
        }
        qsort(pr, npr, sizeof *pr, cmp_probe);
    }

    cr_facts facts = {
        .scen = r->sc,
        .hist = &r->hist,
        .faults = ff,
        .nfaults = nf,
        .procs = pp,
        .nprocs = np,
        .probes = pr,
        .nprobes = npr,
        .t_faults_end = t_faults_end,
        .t_workload_end = r->sc->duration_s,
        .t_end = t_end,
        .baseline = baseline,
        .run_dir = r->dir,
    };

    if (r->startup_failed) {
        json_array_append_new(
            exps, json_pack("{s:s,s:s,s:s,s:s,s:[],s:{}}", "name", "startup",
                            "kind", "startup", "verdict", "failed", "summary",
                            r->startup_msg, "evidence", "details"));
        exit_code = 1;
    }
    for (size_t i = 0; i < r->sc->nexpects; i++) {
        const cr_expect *x = &r->sc->expects[i];
        cr_result res;
        cr_err err;
        cr_result_init(&res);
        cr_err_clear(&err);
        if (x->ops->eval(x, &facts, &res, &err) != 0)
            cr_result_set(&res, CR_VERDICT_UNKNOWN, "checker error: %s",
                          err.msg);
        if (res.verdict != CR_VERDICT_PASSED)
            exit_code = 1;
        json_array_append_new(exps, result_json(x, &res));
        cr_result_free(&res);
    }
out:
    json_object_set_new(r->journal, "expectations", exps ? exps : json_array());
    cr_free(ff);
    cr_free(pp);
    cr_free(pr);
    cr_free(targets);
    cr_free(hosts);
    return exit_code;
}
