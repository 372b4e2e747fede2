/* cr_resfault: see cr_resfault.h. */
#include "cr_resfault.h"

#include "base/cr_alloc.h"
#include "base/cr_cgroup.h"
#include "base/cr_cgroup2.h"

#include <string.h>
#include <unistd.h>

/* Which entries of act->inst have a limit set (between apply and a
 * successful revert). */
typedef struct res_state {
    int limited[CR_ACT_MAX_INST];
    json_t *d[CR_ACT_MAX_INST];      /* the replica's object in "cgroups" */
    long long mark[CR_ACT_MAX_INST]; /* the kind's note (cr_reskind) */
} res_state;

int cr_resfault_check(const cr_reskind *k, cr_fault *f, cr_run *r, cr_err *err)
{
    cr_err e;
    cr_err_clear(&e);
    (void)r;
    if (cr_cgroup_check(k->controller, NULL, &e) != 0)
        return cr_err_set(err, CR_EUNSUP, "fault %s (%s): %s", f->name,
                          f->ops->kind, e.msg);
    return 0;
}

int cr_resfault_prepare(const cr_reskind *k, cr_fault *f, cr_run *r,
                        cr_err *err)
{
    cr_inst *v[CR_ACT_MAX_INST];
    size_t n = cr_run_instances(r, f->target.service, v, CR_ACT_MAX_INST);
    for (size_t i = 0; i < n; i++) {
        const char *cg;
        cr_err e;
        cr_err_clear(&e);
        int rc = cr_run_inst_cgroup(r, v[i], k->controller, &cg, &e);
        if (rc != 0)
            return cr_err_set(err, rc, "fault %s: %s", f->name, e.msg);
        char file[4200];
        const char *probe =
            cr_cgroup_is_v2(cg) ? k->probe_file2 : k->probe_file;
        snprintf(file, sizeof file, "%s/%s", cg, probe);
        if (access(file, F_OK) != 0)
            return cr_err_set(err, CR_EUNSUP,
                              "fault %s: %s has no %s (the kernel's %s "
                              "controller lacks it)",
                              f->name, cg, probe, k->controller);
    }
    return 0;
}

int cr_resfault_targets(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    char tgt[CR_PATH_MAX];
    if (act->ninst == 0)
        act->ninst = cr_run_resolve_target(r, &f->target, &act->rng, act->inst,
                                           CR_ACT_MAX_INST);
    if (act->ninst == 0) {
        cr_target_format(&f->target, tgt, sizeof tgt);
        return cr_err_set(err, CR_ESTATE, "fault %s: target %s has no instance",
                          f->name, tgt);
    }
    return 0;
}

long long cr_resfault_num(const char *cg, const char *file, const char *key)
{
    long long v;
    if (cr_cgroup_is_v2(cg) && cr_cgroup2_map(file, key, &file, &key) != 0)
        return -1; /* no v2 counterpart */
    return cr_cgroup_read_num(cg, file, key, &v) == 0 ? v : -1;
}

const char *cr_resfault_backend(const char *cg)
{
    return cr_cgroup_is_v2(cg) ? "cgroup v2" : "cgroup v1";
}

int cr_resfault_apply(const cr_reskind *k, cr_fault *f, cr_run *r,
                      cr_fault_act *act, cr_err *err)
{
    res_state *st = cr_calloc(1, sizeof *st);
    json_t *arr = json_array();
    int rc = 0;
    if (!st || !arr || (!act->details && !(act->details = json_object()))) {
        cr_free(st);
        json_decref(arr);
        return cr_err_set(err, CR_ENOMEM, "fault %s: out of memory", f->name);
    }
    act->state = st;
    json_object_set_new(act->details, "controller", json_string(k->controller));
    json_object_set_new(act->details, "cgroups", arr);
    if (cr_resfault_targets(f, r, act, err) != 0)
        return err->code;
    for (size_t i = 0; i < act->ninst; i++) {
        cr_inst *in = act->inst[i];
        const char *cg;
        cr_err e;
        cr_err_clear(&e);
        /* Made by prepare: this finds it. */
        if (cr_run_inst_cgroup(r, in, k->controller, &cg, &e) != 0) {
            rc = cr_err_set(err, e.code, "fault %s: %s", f->name, e.msg);
            continue;
        }
        json_t *d = json_pack("{s:s,s:s,s:i}", "instance", cr_inst_name(in),
                              "cgroup", cg, "pid", (int)cr_inst_pid(in));
        if (!d)
            return cr_err_set(err, CR_ENOMEM, "fault %s: out of memory",
                              f->name);
        json_array_append_new(arr, d);
        st->d[i] = d;
        if (!json_object_get(act->details, "backend"))
            json_object_set_new(act->details, "backend",
                                json_string(cr_resfault_backend(cg)));
        /* Marked before the write: a half-set limit is lifted too. */
        st->limited[i] = 1;
        if (k->limit(f, cg, d, &st->mark[i], &e) != 0)
            rc = cr_err_set(err, e.code, "fault %s: %s: %s", f->name,
                            cr_inst_name(in), e.msg);
    }
    return rc;
}

int cr_resfault_revert(const cr_reskind *k, cr_fault *f, cr_run *r,
                       cr_fault_act *act, cr_err *err)
{
    res_state *st = act->state;
    int rc = 0;
    if (!st)
        return 0; /* never applied, or already reverted */
    for (size_t i = 0; i < act->ninst && i < CR_ACT_MAX_INST; i++) {
        const char *cg;
        cr_err e;
        cr_err_clear(&e);
        if (!st->limited[i])
            continue;
        if (cr_run_inst_cgroup(r, act->inst[i], k->controller, &cg, &e) != 0 ||
            k->lift(f, cg, st->d[i], st->mark[i], &e) != 0) {
            rc =
                cr_err_set(err, e.code, "fault %s: lifting the limit of %s: %s",
                           f->name, cr_inst_name(act->inst[i]), e.msg);
            continue; /* kept for another attempt */
        }
        st->limited[i] = 0;
    }
    if (rc == 0) {
        cr_free(st);
        act->state = NULL;
    }
    return rc;
}

void cr_resfault_destroy(cr_fault *f)
{
    cr_free(f->priv);
    f->priv = NULL;
}
