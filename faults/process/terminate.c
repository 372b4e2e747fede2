/* terminate: stop the targeted replicas the way the harness stops a
 * service (its stop_signal, then SIGKILL after its stop_timeout_s) and do
 * not start them again: the restart policy does not apply to this exit. */
#include "cr_procfault.h"

static int terminate_parse(cr_vctx *vx, const json_t *obj, const char *path,
                           cr_fault *f)
{
    return 0; /* the service's stop settings are used */
}

static int terminate_apply(cr_fault *f, cr_run *r, cr_fault_act *act,
                           cr_err *err)
{
    return cr_procfault_stop(f, r, act, 0, -1, 0, err);
}

const cr_fault_ops cr_fault_terminate_ops = {
    .kind = "terminate",
    .summary =
        "stop the targeted replicas for good (stop_signal, then SIGKILL)",
    .params = NULL,
    .flags = CR_FAULT_INSTANT | CR_FAULT_NEEDS_SERVICE,
    .parse = terminate_parse,
    .apply = terminate_apply,
};
