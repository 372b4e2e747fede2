/* pause: freeze the targeted replicas for for_s seconds (SIGSTOP to the
 * process group), then let them continue (SIGCONT).  Revert only resumes
 * the processes this occurrence stopped, and only if they are still the
 * same processes (same pid); it is idempotent.  A replica restarted while
 * the pause is active is not paused (no on_spawn): the restart is exactly
 * what a supervisor would do with a hung process. */
#include "cr_procfault.h"

#include "base/cr_alloc.h"

#include <signal.h>
#include <string.h>

/* What apply stopped: pid per entry of act->inst (0: not stopped). */
typedef struct pause_state {
    pid_t pid[CR_ACT_MAX_INST];
} pause_state;

static int pause_parse(cr_vctx *vx, const json_t *obj, const char *path,
                       cr_fault *f)
{
    return 0; /* no parameters of its own */
}

static int pause_one(cr_run *r, cr_inst *i, void *ctx, cr_err *err)
{
    int rc = cr_run_signal(r, i, SIGSTOP, err);
    if (rc == 0)
        cr_inst_set_paused(i, 1);
    return rc;
}

static int pause_apply(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    pause_state *st = cr_calloc(1, sizeof *st);
    if (!st)
        return cr_err_set(err, CR_ENOMEM, "fault %s: out of memory", f->name);
    act->state = st;
    int rc = cr_procfault_each(f, r, act, pause_one, NULL, err);
    for (size_t k = 0; k < act->ninst; k++)
        if (cr_inst_paused(act->inst[k]))
            st->pid[k] = cr_inst_pid(act->inst[k]);
    if (act->details)
        json_object_set_new(act->details, "signal", json_string("SIGSTOP"));
    return rc;
}

static int pause_revert(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    pause_state *st = act->state;
    int rc = 0;
    if (!st)
        return 0; /* never applied, or already reverted */
    json_t *resumed = json_array();
    for (size_t k = 0; k < act->ninst && k < CR_ACT_MAX_INST; k++) {
        cr_inst *i = act->inst[k];
        if (!st->pid[k])
            continue;
        /* Gone or replaced by a restart: nothing of ours to resume. */
        if (cr_inst_pid(i) == st->pid[k]) {
            cr_err e;
            cr_err_clear(&e);
            if (cr_run_signal(r, i, SIGCONT, &e) == 0) {
                json_array_append_new(resumed, json_string(cr_inst_name(i)));
            } else if (e.code != CR_ESTATE) {
                rc = cr_err_set(err, e.code, "fault %s: resuming %s: %s",
                                f->name, cr_inst_name(i), e.msg);
                continue; /* keep it for another revert attempt */
            }
            cr_inst_set_paused(i, 0);
        }
        st->pid[k] = 0;
    }
    if (act->details && resumed)
        json_object_set(act->details, "resumed", resumed);
    json_decref(resumed);
    if (rc == 0) {
        cr_free(st);
        act->state = NULL;
    }
    return rc;
}

const cr_fault_ops cr_fault_pause_ops = {
    .kind = "pause",
    .summary = "freeze the targeted replicas (SIGSTOP) for for_s seconds",
    .params = NULL,
    .flags = CR_FAULT_NEEDS_DURATION | CR_FAULT_NEEDS_SERVICE,
    .parse = pause_parse,
    .apply = pause_apply,
    .revert = pause_revert,
};
