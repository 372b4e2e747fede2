/* cr_check_service: how a service's processes lived: restarts, how they
 * ended, whether they were still up when the run stopped them.
 *
 * Judged from facts->procs.  Definitions:
 * - restarts: starts after the first, per instance.  With "per_instance":
 *   false (default) the sum over instances is compared to {min, max};
 *   with true every instance must be within {min, max}.
 * - exit: looks at each instance's last exit.  "clean": exit code 0,
 *   killed by the service's stop_signal (SIGTERM by default), or exit code
 *   128 + stop_signal (a JVM or a shell that handled it); "crash":
 *   every instance's last exit is not clean; "any": not checked.  An
 *   instance without any exit is "clean" for this purpose only when
 *   running_at_end allows it (it never ended).
 * - running_at_end: true: every instance was running when the harness
 *   began stopping services (no exit, or its last exit has cause "stop");
 *   false: every instance had exited before that. */
#include "cr_check.h"
#include "cr_check_internal.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base/cr_alloc.h"

enum { EXIT_ANY, EXIT_CLEAN, EXIT_CRASH };

typedef struct svc_priv {
    const char *service;
    long long rmin, rmax; /* -1: no bound */
    int per_instance;
    int exit;
    int running; /* -1: not checked */
} svc_priv;

static const cr_param svc_params[] = {
    {"service", "string", NULL, "the service to judge"},
    {"restarts", "object", "not checked",
     "{\"min\": N, \"max\": N}: starts after the first of each instance, "
     "summed over instances unless per_instance"},
    {"per_instance", "bool", "false",
     "apply restarts {min,max} to each instance instead of the sum"},
    {"exit", "string", "\"any\"",
     "how the instances ended: \"clean\" (exit 0, the stop signal, or "
     "exit code 128 + the stop signal), "
     "\"crash\" (anything else) or \"any\""},
    {"running_at_end", "bool", "not checked",
     "true: every instance was still running when the run stopped the "
     "services; false: all had exited"},
    {NULL, NULL, NULL, NULL},
};

static const char *const exit_names[] = {"any", "clean", "crash", NULL};

static int svc_parse(cr_vctx *vx, const json_t *obj, const char *path,
                     cr_expect *x)
{
    if (cr_chk_priv(x, sizeof(svc_priv)) < 0)
        return CR_ENOMEM;
    svc_priv *p = x->priv;
    char q[CR_PATH_MAX];
    p->rmin = p->rmax = -1;
    p->running = -1;
    if (cr_vrequire(vx, obj, path, "service") &&
        cr_vstr(vx, obj, path, "service", NULL, &p->service) > 0 &&
        !cr_scen_service(cr_vscen(vx), p->service)) {
        cr_path_key(q, sizeof q, path, "service");
        cr_verr(vx, q, "unknown service \"%s\"", p->service);
    }
    const json_t *r = json_object_get(obj, "restarts");
    if (r) {
        static const cr_param rk[] = {{"min", "integer", "0", ""},
                                      {"max", "integer", "unbounded", ""},
                                      {NULL, NULL, NULL, NULL}};
        cr_path_key(q, sizeof q, path, "restarts");
        if (!json_is_object(r)) {
            cr_verr(vx, q, "must be an object {\"min\": N, \"max\": N}");
        } else {
            cr_vkeys(vx, r, q, rk, NULL);
            cr_vint(vx, r, q, "min", 0, 1000000, -1, &p->rmin);
            cr_vint(vx, r, q, "max", 0, 1000000, -1, &p->rmax);
            if (p->rmin < 0 && p->rmax < 0)
                cr_verr(vx, q, "needs \"min\" or \"max\"");
            else if (p->rmin >= 0 && p->rmax >= 0 && p->rmin > p->rmax)
                cr_verr(vx, q, "min (%lld) is greater than max (%lld)", p->rmin,
                        p->rmax);
        }
    }
    cr_vbool(vx, obj, path, "per_instance", 0, &p->per_instance);
    cr_venum(vx, obj, path, "exit", exit_names, EXIT_ANY, &p->exit);
    int b;
    if (cr_vbool(vx, obj, path, "running_at_end", 0, &b) > 0)
        p->running = b;
    return 0;
}

typedef struct inst_st {
    const char *inst;
    long long starts;
    const cr_fact_proc *last_exit;
    int running; /* after its last fact */
} inst_st;

/* Exit 0, killed by the stop signal, or exit code 128 + the stop signal
 * (how a JVM or a shell reports handling it: 143 for SIGTERM). */
static int clean_exit(const cr_fact_proc *e, int stop_sig)
{
    return (e->sig == 0 && e->code == 0) ||
           (stop_sig &&
            (e->sig == stop_sig || (e->sig == 0 && e->code == 128 + stop_sig)));
}

static void describe_exit(const cr_fact_proc *e, char *buf, size_t n)
{
    if (e->sig)
        snprintf(buf, n, "%s killed by %s%s%s", e->inst, cr_signal_name(e->sig),
                 e->cause ? ", cause " : "", e->cause ? e->cause : "");
    else
        snprintf(buf, n, "%s exited with code %d%s%s", e->inst, e->code,
                 e->cause ? ", cause " : "", e->cause ? e->cause : "");
}

/* ---- collect: starts and last exit of every instance ------------------ */

/* Fills st (nst entries) from the service's process records, each restart
 * and exit an evidence line.  Returns how many records there were. */
static size_t svc_collect(const svc_priv *p, const cr_facts *f, inst_st *st,
                          size_t *nst, cr_result *res)
{
    size_t facts = 0;
    char buf[200];
    for (size_t i = 0; i < f->nprocs; i++) {
        const cr_fact_proc *pr = &f->procs[i];
        if (!pr->svc || strcmp(pr->svc, p->service) != 0 || !pr->inst)
            continue;
        facts++;
        size_t k = 0;
        while (k < *nst && strcmp(st[k].inst, pr->inst))
            k++;
        if (k == *nst)
            st[(*nst)++].inst = pr->inst;
        if (pr->what == CR_PROC_START) {
            st[k].starts++;
            st[k].running = 1;
            if (st[k].starts > 1)
                cr_result_evidence(res, pr->t, "%s restarted (start #%lld)",
                                   pr->inst, st[k].starts);
        } else if (pr->what == CR_PROC_EXIT) {
            st[k].last_exit = pr;
            st[k].running = 0;
            describe_exit(pr, buf, sizeof buf);
            cr_result_evidence(res, pr->t, "%s", buf);
        }
    }
    return facts;
}

/* ---- judge ------------------------------------------------------------- */

static int svc_out_of(const svc_priv *p, long long r)
{
    return (p->rmin >= 0 && r < p->rmin) || (p->rmax >= 0 && r > p->rmax);
}

/* The restarts bound, per instance or summed.  Returns 1 and writes why on
 * a violation; *total gets the sum. */
static int svc_judge_restarts(const svc_priv *p, const inst_st *st, size_t nst,
                              long long *total, char *why, size_t n,
                              cr_result *res)
{
    int bad = 0;
    char rng[64];
    if (p->rmax >= 0)
        snprintf(rng, sizeof rng, "%lld..%lld", p->rmin < 0 ? 0 : p->rmin,
                 p->rmax);
    else
        snprintf(rng, sizeof rng, ">= %lld", p->rmin);
    *total = 0;
    for (size_t k = 0; k < nst; k++) {
        long long r = st[k].starts > 0 ? st[k].starts - 1 : 0;
        *total += r;
        if (p->per_instance && svc_out_of(p, r) && !bad) {
            snprintf(why, n, "%s restarted %lld times (bound %s)", st[k].inst,
                     r, rng);
            bad = 1;
        }
    }
    cr_chk_detail_int(res, "instances", (long long)nst);
    cr_chk_detail_int(res, "restarts", *total);
    if (p->rmin < 0 && p->rmax < 0)
        return bad;
    cr_chk_measure(res, (double)*total, "restarts");
    if (p->rmax >= 0)
        cr_chk_bound(res, "<=", (double)p->rmax);
    else
        cr_chk_bound(res, ">=", (double)p->rmin);
    if (!p->per_instance && svc_out_of(p, *total) && !bad) {
        snprintf(why, n, "%s restarted %lld times in all (bound %s)",
                 p->service, *total, rng);
        bad = 1;
    }
    return bad;
}

/* How one instance ended against running_at_end and exit.  Returns 1 and
 * writes why on a violation. */
static int svc_judge_end(const svc_priv *p, const inst_st *s, int stop_sig,
                         char *why, size_t n)
{
    const cr_fact_proc *e = s->last_exit;
    int stopped_by_run = !e || (e->cause && !strcmp(e->cause, "stop"));
    char buf[200] = "";
    if (e)
        describe_exit(e, buf, sizeof buf);
    if (p->running == 1 && !stopped_by_run)
        snprintf(why, n, "%s was not running at the end: %s at t=%.3f", s->inst,
                 buf, e->t);
    else if (p->running == 0 && stopped_by_run)
        snprintf(why, n, "%s was still running at the end", s->inst);
    else if (e && p->exit == EXIT_CLEAN && !clean_exit(e, stop_sig))
        snprintf(why, n, "%s did not end cleanly: %s at t=%.3f", s->inst, buf,
                 e->t);
    else if (p->exit == EXIT_CRASH && (!e || clean_exit(e, stop_sig)))
        snprintf(why, n, "%s did not crash: %s", s->inst,
                 e ? buf : "it never exited");
    else
        return 0;
    return 1;
}

static int svc_eval(const cr_expect *x, const cr_facts *f, cr_result *res,
                    cr_err *err)
{
    const svc_priv *p = x->priv;
    size_t nst = 0;
    long long total = 0;
    char why[512] = "";
    const cr_svc_spec *spec =
        f->scen ? cr_scen_service(f->scen, p->service) : NULL;
    int stop_sig = spec ? spec->stop_signal : SIGTERM;

    inst_st *st = cr_calloc(f->nprocs + 1, sizeof *st);
    if (!st)
        return cr_err_set(err, CR_ENOMEM, "service %s: out of memory", x->name);
    size_t facts = svc_collect(p, f, st, &nst, res);
    if (facts == 0 || facts < (size_t)x->min_samples) {
        cr_result_set(res, CR_VERDICT_UNKNOWN,
                      "service %s has %zu process records (min_samples %d)",
                      p->service, facts, x->min_samples);
        goto out;
    }
    int bad = svc_judge_restarts(p, st, nst, &total, why, sizeof why, res);
    for (size_t k = 0; k < nst && !bad; k++)
        bad = svc_judge_end(p, &st[k], stop_sig, why, sizeof why);
    if (bad)
        cr_result_set(res, CR_VERDICT_FAILED, "%s", why);
    else
        cr_result_set(res, CR_VERDICT_PASSED,
                      "service %s: %zu instances, %lld restarts, %s",
                      p->service, nst, total,
                      p->exit == EXIT_CLEAN   ? "all ended cleanly"
                      : p->exit == EXIT_CRASH ? "all crashed as expected"
                                              : "exits not judged");
out:
    cr_free(st);
    return 0;
}

const cr_check_ops cr_check_service_ops = {
    .kind = "service",
    .summary =
        "a service's restarts, exits and liveness at the end are as expected",
    .params = svc_params,
    .parse = svc_parse,
    .eval = svc_eval,
    .destroy = cr_chk_destroy_priv,
};
