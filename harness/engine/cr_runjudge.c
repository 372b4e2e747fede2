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

/* The facts every checker judges, collected from the run (arrays owned
 * here, strings borrowed from the run and the journal). */
typedef struct judge_facts {
    cr_fact_fault *ff;
    cr_fact_proc *pp;
    cr_fact_probe *pr;
    size_t nf, np, npr, cap_p;
    char (*targets)[512];
    char (*hosts)[512];
    double t_faults_end;
} judge_facts;

/* "h1,h2": the hosts a network fault acted on (details.hosts). */
static const char *fault_hosts(const cr_act_rec *a, char *buf, size_t n)
{
    json_t *hv = json_object_get(a->act.details, "hosts");
    size_t hk = 0, hn;
    json_t *hs;
    json_array_foreach (hv, hn, hs)
        if (json_is_string(hs) && hk + 2 < n)
            hk += (size_t)snprintf(buf + hk, n - hk, "%s%s", hk ? "," : "",
                                   json_string_value(hs));
    return hk ? buf : NULL;
}

/* Fault windows as applied (failed ones kept, marked not ok). */
static void collect_faults(cr_run *r, judge_facts *jf, double t_end)
{
    for (size_t i = 0; i < r->nacts; i++) {
        cr_act_rec *a = r->acts[i];
        if (isnan(a->t_applied))
            continue;
        cr_fact_fault *f = &jf->ff[jf->nf++];
        const char *tgt = json_string_value(json_object_get(a->rec, "target"));
        f->name = a->act.fault->name;
        f->kind = a->act.fault->ops->kind;
        snprintf(jf->targets[i], sizeof jf->targets[i], "%s", tgt ? tgt : "-");
        f->target = jf->targets[i];
        f->hosts = fault_hosts(a, jf->hosts[i], sizeof jf->hosts[i]);
        f->start = isnan(a->t_apply_began) ? a->t_applied : a->t_apply_began;
        f->applied = a->t_applied;
        f->end = isnan(a->t_reverted) ? t_end : a->t_reverted;
        f->ok = a->state != 3;
        if (f->ok && f->end > jf->t_faults_end)
            jf->t_faults_end = f->end;
    }
    qsort(jf->ff, jf->nf, sizeof *jf->ff, cmp_fault);
}

/* One start, ready or exit of an instance's history. */
static int add_proc(judge_facts *jf, const cr_inst *in, const json_t *h)
{
    const char *what = json_string_value(json_object_get(h, "what"));
    int w = !what                        ? -1
            : strcmp(what, "start") == 0 ? CR_PROC_START
            : strcmp(what, "ready") == 0 ? CR_PROC_READY
            : strcmp(what, "exit") == 0  ? CR_PROC_EXIT
                                         : -1;
    if (w < 0)
        return 0;
    if (jf->np == jf->cap_p) {
        cr_fact_proc *nv = cr_realloc(jf->pp, jf->cap_p * 2 * sizeof *nv);
        if (!nv)
            return CR_ENOMEM;
        jf->pp = nv;
        jf->cap_p *= 2;
    }
    cr_fact_proc *p = &jf->pp[jf->np++];
    memset(p, 0, sizeof *p);
    p->t = json_number_value(json_object_get(h, "t"));
    p->inst = in->name;
    p->svc = in->svc->spec->name;
    p->what = w;
    json_t *code = json_object_get(h, "code");
    p->code = json_is_integer(code) ? (int)json_integer_value(code) : -1;
    const char *sig = json_string_value(json_object_get(h, "signal"));
    p->sig = sig ? cr_signal_parse(sig) : 0;
    if (p->sig < 0)
        p->sig = 0;
    p->cause = json_string_value(json_object_get(h, "cause"));
    return 0;
}

static int collect_procs(cr_run *r, judge_facts *jf)
{
    for (size_t s = 0; s < r->nsvcs; s++)
        for (int i = 0; i < r->svcs[s].spec->replicas; i++) {
            const cr_inst *in = &r->svcs[s].inst[i];
            size_t k;
            json_t *h;
            json_array_foreach (in->history, k, h)
                if (add_proc(jf, in, h) != 0)
                    return CR_ENOMEM;
        }
    qsort(jf->pp, jf->np, sizeof *jf->pp, cmp_proc);
    return 0;
}

static void collect_probes(cr_run *r, judge_facts *jf)
{
    size_t k;
    json_t *o;
    json_array_foreach (r->j_probes, k, o) {
        cr_fact_probe *p = &jf->pr[jf->npr++];
        p->probe = json_string_value(json_object_get(o, "probe"));
        p->phase = phase_of(json_string_value(json_object_get(o, "phase")));
        p->t = json_number_value(json_object_get(o, "t"));
        p->ok = json_is_true(json_object_get(o, "ok"));
        p->detail = json_string_value(json_object_get(o, "detail"));
    }
    qsort(jf->pr, jf->npr, sizeof *jf->pr, cmp_probe);
}

/* A run that did not start or was interrupted is not judged: what was
 * recorded does not cover what the expectations speak of (a request in
 * flight at Ctrl-C is not lost; a probe that never ran did not fail).
 * Each expectation is kept, verdict "unknown", with details.not_judged
 * saying why ("startup" or "interrupted"); the journal's status and
 * error say what happened.  Returns the exit status. */
static int not_judged(cr_run *r, json_t *exps)
{
    char why[160];
    const char *code = r->interrupted ? "interrupted"
                       : r->aborted   ? "aborted"
                                      : "startup";
    if (r->interrupted)
        snprintf(why, sizeof why, "not judged: the run was interrupted by %s",
                 cr_signal_name(r->interrupted));
    else if (r->aborted)
        snprintf(why, sizeof why,
                 "not judged: the steady state did not hold before any fault");
    else
        snprintf(why, sizeof why,
                 "not judged: the system under test did not start");
    for (size_t i = 0; i < r->sc->nexpects; i++) {
        const cr_expect *x = &r->sc->expects[i];
        json_array_append_new(
            exps,
            json_pack("{s:s,s:s,s:s,s:s,s:[],s:{s:s}}", "name", x->name, "kind",
                      x->ops->kind, "verdict", "unknown", "summary", why,
                      "evidence", "details", "not_judged", code));
    }
    return r->interrupted ? cr_err_exit_status(CR_EINTR)
                          : cr_err_exit_status(CR_ESTART);
}

/* Every expectation against the facts, into exps; 0 all passed, 1 not. */
static int judge(cr_run *r, const cr_facts *facts, json_t *exps)
{
    int exit_code = 0;
    if (r->startup_failed || r->interrupted || r->aborted)
        return not_judged(r, exps);
    for (size_t i = 0; i < r->sc->nexpects; i++) {
        const cr_expect *x = &r->sc->expects[i];
        cr_result res;
        cr_err err;
        cr_result_init(&res);
        cr_err_clear(&err);
        if (x->ops->eval(x, facts, &res, &err) != 0)
            cr_result_set(&res, CR_VERDICT_UNKNOWN, "checker error: %s",
                          err.msg);
        if (res.verdict != CR_VERDICT_PASSED)
            exit_code = 1;
        json_array_append_new(exps, result_json(x, &res));
        cr_result_free(&res);
    }
    return exit_code;
}

int cr_runjudge_eval(cr_run *r, const cr_history *baseline)
{
    judge_facts jf = {.cap_p = 16};
    json_t *exps = json_array();
    int exit_code = 4;
    double t_end = cr_run_now(r);
    jf.ff = cr_calloc(r->nacts + 1, sizeof *jf.ff);
    jf.pp = cr_calloc(jf.cap_p, sizeof *jf.pp);
    jf.pr = cr_calloc(json_array_size(r->j_probes) + 1, sizeof *jf.pr);
    jf.targets = cr_calloc(r->nacts + 1, sizeof *jf.targets);
    jf.hosts = cr_calloc(r->nacts + 1, sizeof *jf.hosts);
    if (!jf.ff || !jf.pp || !jf.pr || !exps || !jf.targets || !jf.hosts)
        goto out;
    collect_faults(r, &jf, t_end);
    if (collect_procs(r, &jf) != 0)
        goto out;
    collect_probes(r, &jf);
    cr_facts facts = {
        .scen = r->sc,
        .hist = &r->hist,
        .faults = jf.ff,
        .nfaults = jf.nf,
        .procs = jf.pp,
        .nprocs = jf.np,
        .probes = jf.pr,
        .nprobes = jf.npr,
        .t_faults_end = jf.t_faults_end,
        .t_workload_end = r->timeline_s > 0 ? r->timeline_s : r->sc->duration_s,
        .t_end = t_end,
        .baseline = baseline,
        .run_dir = r->dir,
    };
    exit_code = judge(r, &facts, exps);
    if (r->timeline_problems && !r->startup_failed && !r->interrupted) {
        /* Faults the scenario planned did not happen: what passed was not
         * the experiment the scenario describes. */
        size_t n = json_array_size(r->timeline_problems);
        json_t *p0 = json_array_get(r->timeline_problems, 0);
        char msg[900];
        snprintf(msg, sizeof msg,
                 "the fault timeline was not carried out: fault %s %s%s",
                 json_string_value(json_object_get(p0, "fault")),
                 json_string_value(json_object_get(p0, "problem")),
                 n > 1 ? " (and more: timeline_incomplete)" : "");
        json_object_set(r->journal, "timeline_incomplete",
                        r->timeline_problems);
        json_object_set_new(r->journal, "error", json_string(msg));
        if (exit_code == 0)
            exit_code = 1;
    }
    if (r->stopped_early >= 0 && !r->interrupted) {
        /* --fail-fast stopped the run: the reports say so first (the
         * journal's "error" is their one-line reason), and the run fails
         * even should every verdict at the end have passed -- the
         * experiment did not run its course. */
        json_t *se = json_object_get(r->journal, "stopped_early");
        char msg[900];
        snprintf(msg, sizeof msg,
                 "stopped early by --fail-fast at t=%.3f s (of a %g s "
                 "timeline): expectation %s was violated at t=%.3f, which no "
                 "later event can mend (%s); stopped without a drain, so "
                 "records in flight then may count as lost",
                 json_number_value(json_object_get(se, "t")), r->sc->duration_s,
                 json_string_value(json_object_get(se, "expectation")),
                 json_number_value(json_object_get(se, "violated_at")),
                 json_string_value(json_object_get(se, "summary")));
        json_object_set_new(r->journal, "error", json_string(msg));
        if (exit_code == 0)
            exit_code = 1;
    }
out:
    json_object_set_new(r->journal, "expectations", exps ? exps : json_array());
    cr_free(jf.ff);
    cr_free(jf.pp);
    cr_free(jf.pr);
    cr_free(jf.targets);
    cr_free(jf.hosts);
    return exit_code;
}
