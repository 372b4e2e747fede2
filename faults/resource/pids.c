/* pids: cap the number of processes and threads in the targeted replicas'
 * own cgroup at `max` for for_s seconds (pids.max, cgroup v1 or v2 alike,
 * as are pids.current and pids.events): fork(2) and
 * clone(2) beyond it fail with EAGAIN.  Revert sets "max" (no cap).  The
 * journal records the tasks at apply (pids.current) and how many forks the
 * cap refused inside the window (pids.events "max"). */
#include "cr_resfault.h"

#include "base/cr_alloc.h"
#include "base/cr_cgroup.h"

#include <stdio.h>

typedef struct pids_priv {
    long long max;
} pids_priv;

static const cr_param pids_params[] = {
    {"max", "integer", NULL,
     "processes and threads the replica's cgroup may hold (at least 1; the "
     "ones already there stay)"},
    {NULL, NULL, NULL, NULL},
};

static int pids_parse(cr_vctx *vx, const json_t *obj, const char *path,
                      cr_fault *f)
{
    pids_priv *p = cr_calloc(1, sizeof *p);
    if (!p)
        return CR_ENOMEM;
    f->priv = p;
    if (cr_vrequire(vx, obj, path, "max"))
        cr_vint(vx, obj, path, "max", 1, 1 << 22, 1, &p->max);
    return 0;
}

static int pids_limit(const cr_fault *f, const cr_rescg *cg, json_t *d,
                      long long *mark, cr_err *err)
{
    const pids_priv *p = f->priv;
    char v[32];
    snprintf(v, sizeof v, "%lld", p->max);
    *mark = cr_rescg_num(cg, "pids.events", "max");
    json_object_set_new(d, "max", json_integer(p->max));
    json_object_set_new(d, "tasks_at_apply",
                        json_integer(cr_rescg_num(cg, "pids.current", NULL)));
    return cr_rescg_write(cg, "pids.max", v, err);
}

static int pids_lift(const cr_fault *f, const cr_rescg *cg, json_t *d,
                     long long mark, cr_err *err)
{
    (void)f;
    int rc = cr_rescg_write(cg, "pids.max", "max", err);
    if (rc != 0)
        return rc;
    long long n = cr_rescg_num(cg, "pids.events", "max");
    json_object_set_new(d, "forks_refused",
                        json_integer(n >= 0 && mark >= 0 ? n - mark : -1));
    return 0;
}

static const cr_reskind pids_kind = {
    .controller = "pids",
    .probe_file = "pids.max",
    .probe_file2 = "pids.max",
    .limit = pids_limit,
    .lift = pids_lift,
    .on_nodes = 1,
};

static int pids_check(cr_fault *f, cr_run *r, cr_err *err)
{
    return cr_resfault_check(&pids_kind, f, r, err);
}
static int pids_prepare(cr_fault *f, cr_run *r, cr_err *err)
{
    return cr_resfault_prepare(&pids_kind, f, r, err);
}
static int pids_apply(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    return cr_resfault_apply(&pids_kind, f, r, act, err);
}
static int pids_revert(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    return cr_resfault_revert(&pids_kind, f, r, act, err);
}

const cr_fault_ops cr_fault_pids_ops = {
    .kind = "pids",
    .summary = "cap the processes and threads of the targeted replicas' "
               "cgroup at max for for_s seconds (fork fails with EAGAIN)",
    .params = pids_params,
    .flags = CR_FAULT_NEEDS_DURATION | CR_FAULT_NEEDS_SERVICE,
    .requires = "root (or a delegated cgroup); the pids controller: cgroup "
                "v1, else cgroup v2",
    .parse = pids_parse,
    .check = pids_check,
    .prepare = pids_prepare,
    .apply = pids_apply,
    .revert = pids_revert,
    .destroy = cr_resfault_destroy,
};
