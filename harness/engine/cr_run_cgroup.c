/* cr_run_cgroup: the replicas' own cgroups (cr_run_inst_cgroup in
 * cr_run.h), for the resource fault kinds.
 *
 * cgroup v1 (a controller on a v1 hierarchy): per controller, one
 * run-owned parent <harness's cgroup>/chaosrun-<pid> and below it one
 * cgroup per replica that a fault asked for, named after the replica
 * ("worker.0").
 *
 * cgroup v2 (a controller on no v1 hierarchy that the cgroup2 mount
 * offers): one hierarchy for all such controllers, so one run-owned
 * parent <P>/chaosrun-<pid> and one cgroup per replica below it, shared
 * by the v2 controllers.  P is where v2's no-internal-process rule lets
 * controllers be handed down (cr_cgroup2_place: the root, or the parent
 * of chaosrun's cgroup in a delegated subtree).  Each controller asked
 * for is enabled in P's cgroup.subtree_control -- recorded in the ledger
 * ("cgctl <controller> <P>") first when it was not enabled yet, and
 * disabled again at the end -- and in chaosrun-<pid>'s (which goes with
 * the directory).  chaosrun-<pid> itself holds no process.
 *
 * Each directory is recorded in the ledger ("cgroup <dir>") before it is
 * made; the ledger's undo kills what is still inside and removes it, so
 * a SIGKILLed harness leaves nothing.  The state hangs off the run
 * (r->cgroup), made on first use, freed by cr_run_cgroup_teardown. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cr_alloc.h"
#include "base/cr_cgroup.h"
#include "base/cr_cgroup2.h"
#include "cr_ledger.h"
#include "cr_run_internal.h"

typedef struct cg_dir {
    const cr_inst *in;   /* NULL: a run-owned parent, or one of own[] */
    char own[64];        /* cr_run_own_cgroup's name, "" otherwise */
    char controller[16]; /* v1: the controller; v2: "unified" (all) */
    char path[PATH_MAX];
    int ledger_id;
    int thaw_id; /* > 0: frozen by cr_run_cgroup_freeze ("thaw <dir>") */
} cg_dir;

/* A v2 controller the run enabled in P's cgroup.subtree_control. */
typedef struct cg_enabled {
    char ctl[16];
    int ledger_id;
} cg_enabled;

#define CG_NCTL 5

typedef struct cg_state {
    cg_dir *v; /* parents and replicas, in creation order */
    size_t n, cap;
    int ver[CG_NCTL];  /* per controllers[]: 0 not known yet, 1, 2 */
    char p2[PATH_MAX]; /* v2: where chaosrun-<pid> is ("": not yet) */
    cg_enabled en[CG_NCTL];
    size_t nen;
} cg_state;

static const char *const controllers[CG_NCTL] = {"cpu", "memory", "pids",
                                                 "blkio", "freezer"};

#define CG_UNIFIED "unified"

/* The key of controller's hierarchy in cg_dir.controller. */
static const char *hier(const cg_state *st, const char *controller)
{
    for (size_t k = 0; st && k < CG_NCTL; k++)
        if (strcmp(controllers[k], controller) == 0 && st->ver[k] == 2)
            return CG_UNIFIED;
    return controller;
}

static cg_dir *find(cg_state *st, const cr_inst *in, const char *controller)
{
    controller = hier(st, controller);
    for (size_t k = 0; st && k < st->n; k++)
        if (st->v[k].in == in && !st->v[k].own[0] &&
            strcmp(st->v[k].controller, controller) == 0)
            return &st->v[k];
    return NULL;
}

static cg_dir *find_own(cg_state *st, const char *name, const char *controller)
{
    controller = hier(st, controller);
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

/* v2: controller enabled for the run's cgroups -- in P's
 * cgroup.subtree_control (recorded first when the run enables it) and in
 * the run-owned parent's (run_dir; NULL: not made yet).  P's comes before
 * run_dir is made, so that the janitor, undoing newest first, removes
 * run_dir before it disables the controller again (a child cgroup using
 * it would refuse).  The freezer needs nothing. */
static int v2_enable(cr_run *r, cg_state *st, const char *controller,
                     const char *run_dir, cr_err *err)
{
    const char *c2 = cr_cgroup2_name(controller);
    if (!c2)
        return 0;
    if (cr_cgroup2_enabled(st->p2, c2) != 1) {
        if (st->nen == CG_NCTL)
            return cr_err_set(err, CR_ESTATE, "cgroup: too many controllers");
        int id = cr_run_ledger_add(r, err, "cgctl %s %s", c2, st->p2);
        if (id < 0)
            return id;
        if (cr_cgroup2_subtree(st->p2, c2, 1, err) != 0) {
            cr_run_ledger_done(r, id);
            return err->code;
        }
        cg_enabled *e = &st->en[st->nen++];
        snprintf(e->ctl, sizeof e->ctl, "%s", c2);
        e->ledger_id = id;
    }
    if (run_dir && cr_cgroup2_enabled(run_dir, c2) != 1 &&
        cr_cgroup2_subtree(run_dir, c2, 1, err) != 0)
        return err->code;
    return 0;
}

/* The cgroup of instance i (own NULL) or the run's own cgroup own. */
static int run_cgroup(cr_run *r, const cr_inst *i, const char *own,
                      const char *controller, const char **path, cr_err *err)
{
    size_t ci = CG_NCTL;
    for (size_t k = 0; k < CG_NCTL; k++)
        if (strcmp(controllers[k], controller) == 0)
            ci = k;
    if (ci == CG_NCTL)
        return cr_err_set(err, CR_EINVAL, "cgroup: unknown controller %s",
                          controller);
    if (!r->cgroup && !(r->cgroup = cr_calloc(1, sizeof(cg_state))))
        return cr_err_set(err, CR_ENOMEM, "cgroup: out of memory");
    cg_state *st = r->cgroup;
    if (!st->ver[ci]) {
        int v = 0;
        int rc = cr_cgroup_check(controller, &v, err);
        if (rc != 0)
            return rc;
        st->ver[ci] = v;
    }
    int v2 = st->ver[ci] == 2;
    cg_dir *d = own ? find_own(st, own, controller) : find(st, i, controller);
    cg_dir *parent = find(st, NULL, controller);
    if (d) {
        /* v2: the cgroup may have been made for another controller. */
        if (v2 && parent && v2_enable(r, st, controller, parent->path, err))
            return err->code;
        *path = d->path;
        return 0;
    }
    char p[PATH_MAX], base[PATH_MAX];
    if (!parent) {
        int rc = v2 ? cr_cgroup2_place(controller, base, sizeof base, err)
                    : cr_cgroup_base(controller, base, sizeof base, err);
        if (rc != 0)
            return rc;
        snprintf(p, sizeof p, "%s/chaosrun-%d", base, (int)getpid());
        if (v2) {
            snprintf(st->p2, sizeof st->p2, "%s", base);
            if (v2_enable(r, st, controller, NULL, err) != 0)
                return err->code;
        }
        if (!(parent = make_dir(r, st, NULL, hier(st, controller), p, err)))
            return err->code;
    }
    if (v2 && v2_enable(r, st, controller, parent->path, err) != 0)
        return err->code;
    /* parent may have moved with the realloc in make_dir: copy first. */
    const char *leaf = own ? own : i->name;
    if ((size_t)snprintf(p, sizeof p, "%s/%s", parent->path, leaf) >= sizeof p)
        return cr_err_set(err, CR_EINVAL, "cgroup: path too long for %s", leaf);
    if (!(d = make_dir(r, st, i, hier(st, controller), p, err)))
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
    /* Then the v2 controllers the run enabled, newest first. */
    for (size_t k = st->nen; k-- > 0;) {
        cr_err e;
        cr_err_clear(&e);
        char args[PATH_MAX + 32];
        snprintf(args, sizeof args, "%s %s", st->en[k].ctl, st->p2);
        if (cr_ledger_undo(-1, "cgctl", args, &e) == 0)
            cr_run_ledger_done(r, st->en[k].ledger_id);
        else
            cr_run_journal_log(r, e.msg);
    }
    cr_free(st->v);
    cr_free(st);
    r->cgroup = NULL;
}
