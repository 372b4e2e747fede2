/* cr_resfault: see cr_resfault.h. */
#include "cr_resfault.h"

#include "base/cr_alloc.h"
#include "base/cr_cgroup.h"
#include "base/cr_cgroup2.h"

#include "net/cr_ssh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- a cgroup here or on a node ------------------------------------------ */

/* On a node: cmd ("<verb> 'DIR/FILE'" and the like) through the replica's
 * control shell; its output into out. */
static int node_cmd(const cr_rescg *cg, const char *pre, const char *file,
                    const char *post, char *out, size_t n, cr_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", cg->path, file);
    cr_sbuf b = {0};
    int bad = cr_sbuf_add(&b, pre, strlen(pre)) || cr_ssh_quote(&b, path) ||
              cr_sbuf_add(&b, post, strlen(post));
    if (bad) {
        cr_free(b.s);
        return cr_err_set(err, CR_ENOMEM, "out of memory");
    }
    int rc =
        cr_run_ssh_exec(cg->r, cr_inst_service(cg->in), NULL, b.s, out, n, err);
    cr_free(b.s);
    return rc;
}

int cr_rescg_write(const cr_rescg *cg, const char *file, const char *value,
                   cr_err *err)
{
    if (!cg->in)
        return cr_cgroup_write(cg->path, file, value, err);
    cr_sbuf b = {0};
    static const char pf[] = "{ printf '%s\\n' ";
    int bad = cr_sbuf_add(&b, pf, sizeof pf - 1) || cr_ssh_quote(&b, value) ||
              cr_sbuf_add(&b, " > ", 3);
    if (bad) {
        cr_free(b.s);
        return cr_err_set(err, CR_ENOMEM, "out of memory");
    }
    int rc = node_cmd(cg, b.s, file, "; } 2>&1", NULL, 0, err);
    cr_free(b.s);
    return rc;
}

int cr_rescg_read(const cr_rescg *cg, const char *file, char *buf, size_t n)
{
    if (!cg->in)
        return cr_cgroup_read(cg->path, file, buf, n, NULL) == 0 ? 0 : -1;
    cr_err e;
    cr_err_clear(&e);
    return node_cmd(cg, "cat ", file, "", buf, n, &e) == 0 ? 0 : -1;
}

int cr_rescg_has(const cr_rescg *cg, const char *file)
{
    char p[4200], out[8] = "";
    if (!cg->in) {
        snprintf(p, sizeof p, "%s/%s", cg->path, file);
        return access(p, F_OK) == 0;
    }
    cr_err e;
    cr_err_clear(&e);
    return node_cmd(cg, "[ -e ", file, " ] && echo 1 || echo 0", out,
                    sizeof out, &e) == 0 &&
           out[0] == '1';
}

long long cr_rescg_num(const cr_rescg *cg, const char *file, const char *key)
{
    if (!cg->in)
        return cr_resfault_num(cg->path, file, key);
    char buf[1024];
    if (cg->v2 && cr_cgroup2_map(file, key, &file, &key) != 0)
        return -1;
    if (cr_rescg_read(cg, file, buf, sizeof buf) != 0)
        return -1;
    size_t kl = key ? strlen(key) : 0;
    for (char *l = buf; l && *l;
         l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        char *end;
        if (!key) {
            if (!strncmp(l, "max", 3))
                return -1;
            long long v = strtoll(l, &end, 10);
            return end == l ? -1 : v;
        }
        if (!strncmp(l, key, kl) && l[kl] == ' ') {
            long long v = strtoll(l + kl + 1, &end, 10);
            return end == l + kl + 1 ? -1 : v;
        }
    }
    return -1;
}

/* The cgroup of in for k's controller: here (made by prepare) or on its
 * ssh node.  0 or a code with err. */
static int rescg_of(const cr_reskind *k, cr_run *r, cr_inst *in, cr_rescg *cg,
                    cr_err *err)
{
    memset(cg, 0, sizeof *cg);
    if (cr_run_ssh_svc_node(r, cr_inst_service(in))) {
        cg->r = r;
        cg->in = in;
        return cr_run_ssh_cgroup(r, in, k->controller, &cg->path, &cg->v2, err);
    }
    int rc = cr_run_inst_cgroup(r, in, k->controller, &cg->path, err);
    if (rc == 0)
        cg->v2 = cr_cgroup_is_v2(cg->path);
    return rc;
}

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
    const char *node = cr_run_ssh_svc_node(r, f->target.service);
    if (node && !k->on_nodes)
        return cr_err_set(err, CR_EUNSUP,
                          "fault %s (%s): not supported on ssh node %s",
                          f->name, f->ops->kind, node);
    if (node) /* the node's cgroups: made and probed there (prepare) */
        return 0;
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
        cr_rescg cg;
        cr_err e;
        cr_err_clear(&e);
        int rc = rescg_of(k, r, v[i], &cg, &e);
        if (rc != 0)
            return cr_err_set(err, rc, "fault %s: %s", f->name, e.msg);
        const char *probe = cg.v2 ? k->probe_file2 : k->probe_file;
        if (!cr_rescg_has(&cg, probe))
            return cr_err_set(err, CR_EUNSUP,
                              "fault %s: %s%s has no %s (the kernel's %s "
                              "controller lacks it)",
                              f->name, cg.in ? "on its ssh node, " : "",
                              cg.path, probe, k->controller);
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
        cr_rescg cg;
        cr_err e;
        cr_err_clear(&e);
        /* Made by prepare: this finds it. */
        if (rescg_of(k, r, in, &cg, &e) != 0) {
            rc = cr_err_set(err, e.code, "fault %s: %s", f->name, e.msg);
            continue;
        }
        json_t *d = json_pack("{s:s,s:s,s:i}", "instance", cr_inst_name(in),
                              "cgroup", cg.path, "pid", (int)cr_inst_pid(in));
        if (d && cg.in)
            json_object_set_new(
                d, "node",
                json_string(cr_run_ssh_svc_node(r, cr_inst_service(in))));
        if (!d)
            return cr_err_set(err, CR_ENOMEM, "fault %s: out of memory",
                              f->name);
        json_array_append_new(arr, d);
        st->d[i] = d;
        if (!json_object_get(act->details, "backend"))
            json_object_set_new(
                act->details, "backend",
                json_string(cg.in ? (cg.v2 ? "cgroup v2 over ssh"
                                           : "cgroup v1 over ssh")
                                  : cr_resfault_backend(cg.path)));
        /* Marked before the write: a half-set limit is lifted too. */
        st->limited[i] = 1;
        if (k->limit(f, &cg, d, &st->mark[i], &e) != 0)
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
        cr_rescg cg;
        cr_err e;
        cr_err_clear(&e);
        if (!st->limited[i])
            continue;
        if (rescg_of(k, r, act->inst[i], &cg, &e) != 0 ||
            k->lift(f, &cg, st->d[i], st->mark[i], &e) != 0) {
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
