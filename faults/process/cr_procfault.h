/* cr_procfault: what the process fault kinds (kill, pause, restart,
 * terminate) share: resolving the target to instances at apply time and
 * recording what was done in the occurrence's details.
 *
 * Policy for instances that are not running when the fault fires (crashed
 * and waiting for a restart, or stopped): they are skipped and listed under
 * "skipped" with the reason; the occurrence fails (CR_ESTATE) only when no
 * targeted instance could be acted on. */
#ifndef CR_PROCFAULT_H
#define CR_PROCFAULT_H

#include "faults/cr_fault.h"

/* Settings parsed by the process kinds (f->priv). */
typedef struct cr_procfault_spec {
    int sig;          /* signal to send, 0: the service's stop_signal */
    double timeout_s; /* SIGKILL after this; < 0: service's stop_timeout_s */
} cr_procfault_spec;

/* Allocate f->priv with the given settings.  0 or CR_ENOMEM. */
int cr_procfault_spec_new(cr_fault *f, int sig, double timeout_s);
/* ops->destroy of every process kind. */
void cr_procfault_destroy(cr_fault *f);

/* Called for one running instance; returns 0 or a CR_E* code with err. */
typedef int (*cr_procfault_fn)(cr_run *r, cr_inst *i, void *ctx, cr_err *err);

/* Resolve f->target into act->inst (drawing a random replica from
 * act->rng) unless the engine already did (act->ninst > 0), call fn on every
 * running instance and record in act->details (created if NULL): "instances"
 * and "pids" acted on, "skipped" as
 * [{"instance", "reason"}].  Returns 0 when at least one instance was acted
 * on, otherwise the first error (CR_ESTATE when nothing was running). */
int cr_procfault_each(cr_fault *f, cr_run *r, cr_fault_act *act,
                      cr_procfault_fn fn, void *ctx, cr_err *err);

/* Stop every running targeted instance with cr_run_stop_inst(): sig (0:
 * the service's stop_signal), SIGKILL after timeout_s (< 0: the service's
 * stop_timeout_s); restart 1 starts it again once it exited.  Details as
 * for cr_procfault_each() plus "signal", "timeout_s", "restart". */
int cr_procfault_stop(cr_fault *f, cr_run *r, cr_fault_act *act, int sig,
                      double timeout_s, int restart, cr_err *err);

#endif
