/* pause: freeze the targeted replicas for for_s seconds, then let them
 * continue.  Two ways (key "mode"):
 *
 *   signal   SIGSTOP to the replica's process group, SIGCONT at the end:
 *            a child that left the group (setsid, setpgid) runs on;
 *   freezer  the replica's own cgroup in the v1 freezer hierarchy, or,
 *            without one, its cgroup v2 (cgroup.freeze) (made at prepare,
 *            like the resource kinds' cgroups) is frozen -- every process
 *            in it, whatever its group -- and thawed at the end; the
 *            engine records the freeze in the ledger first, so the
 *            janitor thaws after a killed harness (cr_run_freeze).
 *
 * Revert only resumes the processes this occurrence froze, and only if
 * they are still the same processes (same pid); it is idempotent.  A
 * replica restarted while the pause is active is not paused (no
 * on_spawn): the restart is exactly what a supervisor would do with a
 * hung process (and a restart thaws its freezer cgroup first). */
#include "cr_procfault.h"

#include "base/cr_alloc.h"
#include "base/cr_cgroup.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { PAUSE_SIGNAL, PAUSE_FREEZER };
static const char *const pause_modes[] = {"signal", "freezer", NULL};

/* How long a freeze may take to be reached (FREEZING -> FROZEN) before
 * the occurrence fails. */
#define PAUSE_FREEZE_TIMEOUT_S 5.0

typedef struct pause_priv {
    int mode; /* PAUSE_* */
} pause_priv;

static const cr_param pause_params[] = {
    {"mode", "string", "signal",
     "\"signal\": SIGSTOP/SIGCONT to the replica's process group; "
     "\"freezer\": freeze its own cgroup (v1 freezer, else cgroup v2's "
     "cgroup.freeze), including children that left the process group"},
    {NULL, NULL, NULL, NULL},
};

/* What apply stopped: pid per entry of act->inst (0: not stopped). */
typedef struct pause_state {
    pid_t pid[CR_ACT_MAX_INST];
} pause_state;

static int pause_parse(cr_vctx *vx, const json_t *obj, const char *path,
                       cr_fault *f)
{
    pause_priv *p = cr_calloc(1, sizeof *p);
    if (!p)
        return CR_ENOMEM;
    f->priv = p;
    cr_venum(vx, obj, path, "mode", pause_modes, PAUSE_SIGNAL, &p->mode);
    return 0;
}

static int pause_mode(const cr_fault *f)
{
    const pause_priv *p = f->priv;
    return p ? p->mode : PAUSE_SIGNAL;
}

static int pause_check(cr_fault *f, cr_run *r, cr_err *err)
{
    cr_err e;
    cr_err_clear(&e);
    if (pause_mode(f) == PAUSE_FREEZER &&
        !cr_run_ssh_svc_node(r, f->target.service) &&
        cr_cgroup_check("freezer", NULL, &e) != 0)
        return cr_err_set(err, CR_EUNSUP, "fault %s (pause, mode freezer): %s",
                          f->name, e.msg);
    return 0;
}

/* The freezer cgroup of replica in: here, or on its ssh node; *v2. */
static int freezer_cgroup(cr_run *r, cr_inst *in, const char **cg, int *v2,
                          cr_err *err)
{
    if (cr_run_ssh_svc_node(r, cr_inst_service(in)))
        return cr_run_ssh_cgroup(r, in, "freezer", cg, v2, err);
    int rc = cr_run_inst_cgroup(r, in, "freezer", cg, err);
    if (rc == 0)
        *v2 = cr_cgroup_is_v2(*cg);
    return rc;
}

/* mode freezer: every replica of the service gets its freezer cgroup
 * before it starts, so that all it forks is inside (on an ssh node: made
 * there, joined by every start of the replica). */
static int pause_prepare(cr_fault *f, cr_run *r, cr_err *err)
{
    cr_inst *v[CR_ACT_MAX_INST];
    if (pause_mode(f) != PAUSE_FREEZER)
        return 0;
    size_t n = cr_run_instances(r, f->target.service, v, CR_ACT_MAX_INST);
    for (size_t i = 0; i < n; i++) {
        const char *cg;
        int v2 = 0;
        cr_err e;
        cr_err_clear(&e);
        int rc = freezer_cgroup(r, v[i], &cg, &v2, &e);
        if (rc != 0)
            return cr_err_set(err, rc, "fault %s: %s", f->name, e.msg);
        if (cr_run_ssh_svc_node(r, f->target.service))
            continue; /* (made by the node's script: its files are there) */
        char file[4200];
        const char *probe = v2 ? "cgroup.freeze" : "freezer.state";
        snprintf(file, sizeof file, "%s/%s", cg, probe);
        if (access(file, F_OK) != 0)
            return cr_err_set(err, CR_EUNSUP,
                              "fault %s: %s has no %s (cgroup v2's freezer "
                              "needs kernel 5.2+)",
                              f->name, cg, probe);
    }
    return 0;
}

static int pause_one(cr_run *r, cr_inst *i, void *ctx, cr_err *err)
{
    const cr_fault *f = ctx;
    if (pause_mode(f) == PAUSE_FREEZER)
        return cr_run_freeze(r, i, 1, PAUSE_FREEZE_TIMEOUT_S, err);
    int rc = cr_run_signal(r, i, SIGSTOP, err);
    if (rc == 0)
        cr_inst_set_paused(i, 1);
    return rc;
}

/* Resume instance i (its pid unchanged since apply). */
static int pause_resume(const cr_fault *f, cr_run *r, cr_inst *i, cr_err *err)
{
    if (pause_mode(f) == PAUSE_FREEZER)
        return cr_run_freeze(r, i, 0, PAUSE_FREEZE_TIMEOUT_S, err);
    return cr_run_signal(r, i, SIGCONT, err);
}

static int pause_apply(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    pause_state *st = cr_calloc(1, sizeof *st);
    if (!st)
        return cr_err_set(err, CR_ENOMEM, "fault %s: out of memory", f->name);
    act->state = st;
    int rc = cr_procfault_each(f, r, act, pause_one, f, err);
    for (size_t k = 0; k < act->ninst; k++)
        if (cr_inst_paused(act->inst[k]))
            st->pid[k] = cr_inst_pid(act->inst[k]);
    if (act->details && pause_mode(f) == PAUSE_FREEZER) {
        json_t *cgs = json_array();
        const char *backend = NULL;
        for (size_t k = 0; k < act->ninst; k++) {
            const char *cg;
            int v2 = 0;
            cr_err e;
            cr_err_clear(&e);
            if (st->pid[k] &&
                freezer_cgroup(r, act->inst[k], &cg, &v2, &e) == 0) {
                json_array_append_new(cgs, json_string(cg));
                backend =
                    cr_run_ssh_svc_node(r, f->target.service)
                        ? (v2 ? "cgroup v2 over ssh" : "cgroup v1 over ssh")
                        : (v2 ? "cgroup v2" : "cgroup v1");
            }
        }
        json_object_set_new(act->details, "mode", json_string("freezer"));
        if (backend)
            json_object_set_new(act->details, "backend", json_string(backend));
        json_object_set_new(act->details, "cgroups", cgs);
    } else if (act->details) {
        json_object_set_new(act->details, "mode", json_string("signal"));
        json_object_set_new(act->details, "signal", json_string("SIGSTOP"));
    }
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
            if (pause_resume(f, r, i, &e) == 0) {
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

static void pause_destroy(cr_fault *f)
{
    cr_free(f->priv);
    f->priv = NULL;
}

const cr_fault_ops cr_fault_pause_ops = {
    .kind = "pause",
    .summary = "freeze the targeted replicas for for_s seconds (SIGSTOP to "
               "the process group, or mode freezer: their whole cgroup)",
    .params = pause_params,
    .flags = CR_FAULT_NEEDS_DURATION | CR_FAULT_NEEDS_SERVICE,
    .requires = "mode \"signal\": nothing; mode \"freezer\": root (or a "
                "delegated cgroup) and the cgroup v1 freezer controller "
                "(freezer.state), else cgroup v2 (cgroup.freeze, kernel "
                "5.2+)",
    .parse = pause_parse,
    .check = pause_check,
    .prepare = pause_prepare,
    .apply = pause_apply,
    .revert = pause_revert,
    .destroy = pause_destroy,
};
