/* cr_run_cgroup: the replicas' own cgroups (cr_run_inst_cgroup in
 * cr_run.h), for the resource fault kinds.
 *
 * Per controller, one run-owned parent <harness's cgroup>/chaosrun-<pid>
 * and below it one cgroup per replica that a fault asked for, named after
 * the replica ("worker.0").  Each directory is recorded in the ledger
 * ("cgroup <dir>") before it is made; the ledger's undo kills what is
 * still inside and removes it, so a SIGKILLed harness leaves nothing.
 * The state hangs off the run (r->cgroup), made on first use, freed by
 * cr_run_cgroup_teardown. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cr_alloc.h"
#include "base/cr_cgroup.h"
#include "cr_run_internal.h"

typedef struct cg_dir {
    const cr_inst *in; /* NULL: a run-owned parent, or one of own[] */
    char own[64];      /* cr_run_own_cgroup's name, "" otherwise */
    char controller[16];
    char path[PATH_MAX];
    int ledger_id;
    int thaw_id; /* > 0: frozen by cr_run_cgroup_freeze ("thaw <dir>") */
} cg_dir;

typedef struct cg_state {
    cg_dir *v; /* parents and replicas, in creation order */
    size_t n, cap;
} cg_state;

static const char *const controllers[] = {"cpu", "memory", "pids", "blkio",
                                          "freezer"};

static cg_dir *find(cg_state *st, const cr_inst *in, const char *controller)
{
    for (size_t k = 0; st && k < st->n; k++)
        if (st->v[k].in == in && !st->v[k].own[0] &&
            strcmp(st->v[k].controller, controller) == 0)
            return &st->v[k];
    return NULL;
}

static cg_dir *find_own(cg_state *st, const char *name, const char *controller)
{
    for (size_t k = 0; st && k < st->n; k++)
        if (!st->v[k].in && strcmp(st->v[k].own, name) == 0 &&
            strcmp(st->v[k].controller, controller) == 0)
            return &st->v[k];
    return NULL;
}

/* Record dir in the ledger, then mkdir it; appended to st. */
static cg_dir *make_dir(cr_run *r, cg_state *st, const cr_inst *in,
                        const char *controller, const char *path, cr_err *err)
{
    if (st->n == st->cap) {
        size_t nc = st->cap ? st->cap * 2 : 8;
        cg_dir *nv = cr_realloc(st->v, nc * sizeof *nv);
        if (!nv) {
            cr_err_set(err, CR_ENOMEM, "cgroup: out of memory");
            return NULL;
        }
        st->v = nv;
        st->cap = nc;
    }
    int id = cr_run_ledger_add(r, err, "cgroup %s", path);
    if (id < 0)
        return NULL;
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        cr_err_sys(err, CR_ESYS, errno, "cgroup: mkdir %s", path);
        cr_run_ledger_done(r, id);
        return NULL;
    }
    cg_dir *d = &st->v[st->n++];
    memset(d, 0, sizeof *d);
    d->in = in;
    snprintf(d->controller, sizeof d->controller, "%s", controller);
    snprintf(d->path, sizeof d->path, "%s", path);
    d->ledger_id = id;
    return d;
}

/* The cgroup of instance i (own NULL) or the run's own cgroup own. */
static int run_cgroup(cr_run *r, const cr_inst *i, const char *own,
                      const char *controller, const char **path, cr_err *err)
{
    int known = 0;
    for (size_t k = 0; k < sizeof controllers / sizeof controllers[0]; k++)
        known |= strcmp(controllers[k], controller) == 0;
    if (!known)
        return cr_err_set(err, CR_EINVAL, "cgroup: unknown controller %s",
                          controller);
    if (!r->cgroup && !(r->cgroup = cr_calloc(1, sizeof(cg_state))))
        return cr_err_set(err, CR_ENOMEM, "cgroup: out of memory");
    cg_state *st = r->cgroup;
    cg_dir *d = own ? find_own(st, own, controller) : find(st, i, controller);
    if (d) {
        *path = d->path;
        return 0;
    }
    cg_dir *parent = find(st, NULL, controller);
    char p[PATH_MAX], base[PATH_MAX];
    if (!parent) {
        int rc = cr_cgroup_base(controller, base, sizeof base, err);
        if (rc != 0)
            return rc;
        snprintf(p, sizeof p, "%s/chaosrun-%d", base, (int)getpid());
        if (!(parent = make_dir(r, st, NULL, controller, p, err)))
            return err->code;
    }
    /* parent may have moved with the realloc in make_dir: copy first. */
    const char *leaf = own ? own : i->name;
    if ((size_t)snprintf(p, sizeof p, "%s/%s", parent->path, leaf) >= sizeof p)
        return cr_err_set(err, CR_EINVAL, "cgroup: path too long for %s", leaf);
    if (!(d = make_dir(r, st, i, controller, p, err)))
        return err->code;
    if (own)
        snprintf(d->own, sizeof d->own, "%s", own);
    *path = d->path;
    return 0;
}

int cr_run_inst_cgroup(cr_run *r, cr_inst *i, const char *controller,
                       const char **path, cr_err *err)
{
    return run_cgroup(r, i, NULL, controller, path, err);
}

int cr_run_own_cgroup(cr_run *r, const char *name, const char *controller,
                      const char **path, cr_err *err)
{
    /* Never a replica's name ("worker.0" has a dot, names here do not)
     * nor a path: one component of [A-Za-z0-9_-]. */
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof(((cg_dir *)0)->own) ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789_-") != n)
        return cr_err_set(err, CR_EINVAL, "cgroup: bad name '%s'", name);
    return run_cgroup(r, NULL, name, controller, path, err);
}

int cr_run_inst_cgroup_join(cr_run *r, const cr_inst *in, pid_t pid,
                            size_t *joined, cr_err *err)
{
    cg_state *st = r->cgroup;
    *joined = 0;
    for (size_t k = 0; st && k < st->n; k++) {
        if (st->v[k].in != in || strcmp(st->v[k].controller, "freezer") == 0)
            continue;
        cr_err e;
        cr_err_clear(&e);
        if (cr_cgroup_attach(st->v[k].path, pid, &e) != 0)
            return cr_err_set(err, e.code, "%s's cgroups: %s", in->name, e.msg);
        (*joined)++;
    }
    return 0;
}

int cr_run_cgroup_freeze(cr_run *r, const cr_inst *in, int frozen,
                         double timeout_s, cr_err *err)
{
    cg_dir *d = find(r->cgroup, in, "freezer");
    cr_err e;
    cr_err_clear(&e);
    if (!d)
        return cr_err_set(err, CR_ESTATE, "%s %s: it has no freezer cgroup",
                          frozen ? "freeze" : "thaw", in->name);
    if (!frozen) {
        if (cr_cgroup_freeze(d->path, 0, timeout_s, &e) != 0)
            return cr_err_set(err, e.code, "thaw %s: %s", in->name, e.msg);
        if (d->thaw_id > 0)
            cr_run_ledger_done(r, d->thaw_id);
        d->thaw_id = 0;
        return 0;
    }
    /* Record first, then change: the janitor thaws after a crash. */
    if (d->thaw_id <= 0) {
        int id = cr_run_ledger_add(r, &e, "thaw %s", d->path);
        if (id < 0)
            return cr_err_set(err, id, "freeze %s: %s", in->name, e.msg);
        d->thaw_id = id;
    }
    if (cr_cgroup_freeze(d->path, 1, timeout_s, &e) != 0) {
        int code = e.code;
        cr_err_set(err, code, "freeze %s: %s", in->name, e.msg);
        cr_err_clear(&e);
        if (cr_cgroup_freeze(d->path, 0, timeout_s, &e) == 0) {
            cr_run_ledger_done(r, d->thaw_id);
            d->thaw_id = 0;
        }
        return code;
    }
    return 0;
}

void cr_run_cgroup_thaw_inst(cr_run *r, const cr_inst *in)
{
    cg_dir *d = find(r->cgroup, in, "freezer");
    if (d && d->thaw_id > 0) {
        cr_err e;
        cr_err_clear(&e);
        if (cr_run_cgroup_freeze(r, in, 0, 5.0, &e) != 0)
            cr_run_journal_log(r, e.msg);
    }
}

int cr_run_cgroup_attach(cr_run *r, const cr_inst *in, pid_t pid, cr_err *err)
{
    cg_state *st = r->cgroup;
    /* A new process must not start frozen (it would never reach exec). */
    cr_run_cgroup_thaw_inst(r, in);
    for (size_t k = 0; st && k < st->n; k++) {
        if (st->v[k].in != in)
            continue;
        cr_err e;
        cr_err_clear(&e);
        if (cr_cgroup_attach(st->v[k].path, pid, &e) != 0)
            return cr_err_set(err, e.code, "start %s: %s", in->name, e.msg);
    }
    return 0;
}

void cr_run_cgroup_teardown(cr_run *r)
{
    cg_state *st = r->cgroup;
    if (!st)
        return;
    /* Newest first: the replicas' cgroups before their parents. */
    for (size_t k = st->n; k-- > 0;) {
        cr_err e;
        cr_err_clear(&e);
        if (cr_cgroup_remove(st->v[k].path, 2.0, &e) == 0)
            cr_run_ledger_done(r, st->v[k].ledger_id);
        else
            cr_run_journal_log(r, e.msg);
    }
    cr_free(st->v);
    cr_free(st);
    r->cgroup = NULL;
}
