/* restart: stop the targeted replicas (signal, then SIGKILL after
 * timeout_s) and start them again once they exited, whatever the
 * service's restart policy says.  The stop is asynchronous: the engine's
 * loop escalates to SIGKILL and respawns. */
#include "cr_procfault.h"

#include <signal.h>

static const cr_param restart_params[] = {
    {"signal", "signal", "SIGTERM", "stop signal"},
    {"timeout_s", "number", "the service's stop_timeout_s",
     "SIGKILL if the replica has not exited after this many seconds"},
    {NULL, NULL, NULL, NULL},
};

static int restart_parse(cr_vctx *vx, const json_t *obj, const char *path,
                         cr_fault *f)
{
    int sig;
    double t;
    int bad = cr_vsignal(vx, obj, path, "signal", SIGTERM, &sig) < 0;
    bad |= cr_vnum(vx, obj, path, "timeout_s", 0, 3600, -1, &t) < 0;
    if (bad)
        return CR_EINVAL;
    return cr_procfault_spec_new(f, sig, t);
}

static int restart_apply(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    const cr_procfault_spec *s = f->priv;
    return cr_procfault_stop(f, r, act, s->sig, s->timeout_s, 1, err);
}

const cr_fault_ops cr_fault_restart_ops = {
    .kind = "restart",
    .summary = "stop the targeted replicas and start them again",
    .params = restart_params,
    .flags = CR_FAULT_INSTANT | CR_FAULT_NEEDS_SERVICE,
    .parse = restart_parse,
    .apply = restart_apply,
    .destroy = cr_procfault_destroy,
};
