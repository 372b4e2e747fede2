/* cr_procfault: see cr_procfault.h. */
#include "cr_procfault.h"

#include "base/cr_alloc.h"

#include <signal.h>
#include <string.h>

int cr_procfault_spec_new(cr_fault *f, int sig, double timeout_s)
{
    cr_procfault_spec *s = cr_malloc(sizeof *s);
    if (!s)
        return CR_ENOMEM;
    s->sig = sig;
    s->timeout_s = timeout_s;
    f->priv = s;
    return 0;
}

void cr_procfault_destroy(cr_fault *f)
{
    cr_free(f->priv);
    f->priv = NULL;
}

static int skip(json_t *skipped, const char *inst, const char *reason)
{
    return json_array_append_new(
        skipped, json_pack("{s:s, s:s}", "instance", inst, "reason", reason));
}

int cr_procfault_each(cr_fault *f, cr_run *r, cr_fault_act *act,
                      cr_procfault_fn fn, void *ctx, cr_err *err)
{
    cr_err first;
    char tgt[CR_PATH_MAX];
    size_t done = 0;
    cr_err_clear(&first);
    if (!act->details && !(act->details = json_object()))
        return cr_err_set(err, CR_ENOMEM, "fault %s: out of memory", f->name);
    json_t *names = json_array(), *pids = json_array(), *skipped = json_array();
    if (!names || !pids || !skipped ||
        json_object_set(act->details, "instances", names) ||
        json_object_set(act->details, "pids", pids)) {
        cr_err_set(&first, CR_ENOMEM, "fault %s: out of memory", f->name);
        goto out;
    }
    /* The engine may have resolved the target already (same draw). */
    if (act->ninst == 0)
        act->ninst = cr_run_resolve_target(r, &f->target, &act->rng, act->inst,
                                           CR_ACT_MAX_INST);
    if (act->ninst == 0) {
        cr_target_format(&f->target, tgt, sizeof tgt);
        cr_err_set(&first, CR_ESTATE, "fault %s: target %s has no instance",
                   f->name, tgt);
        goto out;
    }
    for (size_t k = 0; k < act->ninst; k++) {
        cr_inst *i = act->inst[k];
        pid_t pid = cr_inst_pid(i);
        cr_err e;
        cr_err_clear(&e);
        if (pid <= 0) {
            cr_err_set(&first, CR_ESTATE, "fault %s: %s is not running",
                       f->name, cr_inst_name(i));
            skip(skipped, cr_inst_name(i), "not running");
            continue;
        }
        if (fn(r, i, ctx, &e)) {
            cr_err_set(&first, e.code, "fault %s: %s", f->name, e.msg);
            skip(skipped, cr_inst_name(i), e.msg);
            continue;
        }
        done++;
        json_array_append_new(names, json_string(cr_inst_name(i)));
        json_array_append_new(pids, json_integer(pid));
    }
    if (json_array_size(skipped))
        json_object_set(act->details, "skipped", skipped);
out:
    json_decref(names);
    json_decref(pids);
    json_decref(skipped);
    if (done)
        return 0;
    return cr_err_set(err, first.code ? first.code : CR_ESTATE, "%s",
                      first.code ? first.msg : "no instance acted on");
}

typedef struct stop_ctx {
    int sig;
    double timeout_s;
    int restart;
} stop_ctx;

static const cr_svc_spec *inst_spec(cr_run *r, const cr_inst *i)
{
    return cr_scen_service(cr_run_scen(r), cr_inst_service(i));
}

static int stop_sig(cr_run *r, const cr_inst *i, int sig)
{
    const cr_svc_spec *s = sig > 0 ? NULL : inst_spec(r, i);
    return sig > 0 ? sig : s ? s->stop_signal : SIGTERM;
}

static double stop_timeout(cr_run *r, const cr_inst *i, double t)
{
    const cr_svc_spec *s = t >= 0 ? NULL : inst_spec(r, i);
    return t >= 0 ? t : s ? s->stop_timeout_s : 5;
}

static int stop_one(cr_run *r, cr_inst *i, void *ctx, cr_err *err)
{
    const stop_ctx *c = ctx;
    return cr_run_stop_inst(r, i, stop_sig(r, i, c->sig),
                            stop_timeout(r, i, c->timeout_s), c->restart, err);
}

int cr_procfault_stop(cr_fault *f, cr_run *r, cr_fault_act *act, int sig,
                      double timeout_s, int restart, cr_err *err)
{
    stop_ctx c = {sig, timeout_s, restart};
    int rc = cr_procfault_each(f, r, act, stop_one, &c, err);
    if (act->details && act->ninst) {
        /* Every instance belongs to the same service: same settings. */
        const cr_inst *i = act->inst[0];
        json_object_set_new(act->details, "signal",
                            json_string(cr_signal_name(stop_sig(r, i, sig))));
        json_object_set_new(act->details, "timeout_s",
                            json_real(stop_timeout(r, i, timeout_s)));
        json_object_set_new(act->details, "restart", json_boolean(restart));
    }
    return rc;
}
