/* kill: send a signal (SIGKILL by default) to the process group of each
 * targeted replica, once.  The replica's restart policy decides what
 * happens next; the engine records the exit with cause "fault:<name>".
 * Replicas that are not running are skipped (see cr_procfault.h). */
#include "cr_procfault.h"

#include <signal.h>

static const cr_param kill_params[] = {
    {"signal", "signal", "SIGKILL",
     "signal sent to the replica's process group (\"SIGTERM\", \"TERM\", 15)"},
    {NULL, NULL, NULL, NULL},
};

static int kill_parse(cr_vctx *vx, const json_t *obj, const char *path,
                      cr_fault *f)
{
    int sig;
    if (cr_vsignal(vx, obj, path, "signal", SIGKILL, &sig) < 0)
        return CR_EINVAL;
    return cr_procfault_spec_new(f, sig, 0);
}

static int kill_one(cr_run *r, cr_inst *i, void *ctx, cr_err *err)
{
    const cr_procfault_spec *s = ctx;
    return cr_run_signal(r, i, s->sig, err);
}

static int kill_apply(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    const cr_procfault_spec *s = f->priv;
    int rc = cr_procfault_each(f, r, act, kill_one, f->priv, err);
    json_object_set_new(act->details, "signal",
                        json_string(cr_signal_name(s->sig)));
    return rc;
}

const cr_fault_ops cr_fault_kill_ops = {
    .kind = "kill",
    .summary = "send a signal (default SIGKILL) to the targeted replicas",
    .params = kill_params,
    .flags = CR_FAULT_INSTANT | CR_FAULT_NEEDS_SERVICE,
    .parse = kill_parse,
    .apply = kill_apply,
    .destroy = cr_procfault_destroy,
};
