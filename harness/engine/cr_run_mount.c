/* cr_run_mount: size-limited tmpfs file systems inside the run directory
 * (cr_run_tmpfs in cr_run.h), for disk_fill: a file system that can be
 * filled without touching the machine's disks.  Each mount point is
 * recorded in the ledger ("mount <dir>") before mount(2); unmounted by
 * cr_run_mount_teardown at the run's end, or by the ledger's undo after a
 * crash.  The state hangs off the run (r->mounts). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "base/cr_alloc.h"
#include "cr_run_internal.h"

typedef struct mnt {
    char dir[PATH_MAX];
    int ledger_id;
} mnt;

typedef struct mnt_state {
    mnt *v;
    size_t n, cap;
} mnt_state;

/* mkdir -p (the run directory exists already). */
static int mkdirs(char *path, cr_err *err)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0755);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return cr_err_sys(err, CR_ESYS, errno, "mkdir %s", path);
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return cr_err_sys(err, CR_ESYS, errno, "mkdir %s", path);
    return 0;
}

int cr_run_tmpfs(cr_run *r, const char *dir, double size_mb, cr_err *err)
{
    size_t rl = strlen(r->dir);
    if (strncmp(dir, r->dir, rl) != 0 || dir[rl] != '/' || strstr(dir, "/.."))
        return cr_err_set(err, CR_EINVAL,
                          "tmpfs %s: not inside the run directory %s", dir,
                          r->dir);
    if (!r->mounts && !(r->mounts = cr_calloc(1, sizeof(mnt_state))))
        return cr_err_set(err, CR_ENOMEM, "tmpfs: out of memory");
    mnt_state *st = r->mounts;
    if (st->n == st->cap) {
        size_t nc = st->cap ? st->cap * 2 : 4;
        mnt *nv = cr_realloc(st->v, nc * sizeof *nv);
        if (!nv)
            return cr_err_set(err, CR_ENOMEM, "tmpfs: out of memory");
        st->v = nv;
        st->cap = nc;
    }
    mnt *m = &st->v[st->n];
    snprintf(m->dir, sizeof m->dir, "%s", dir);
    int rc = mkdirs(m->dir, err);
    if (rc != 0)
        return rc;
    int id = cr_run_ledger_add(r, err, "mount %s", dir);
    if (id < 0)
        return id;
    char opts[64];
    snprintf(opts, sizeof opts, "size=%lldk,mode=0777",
             (long long)(size_mb * 1024));
    if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0) {
        int e = errno;
        cr_run_ledger_done(r, id);
        return cr_err_sys(err, e == EPERM ? CR_EUNSUP : CR_ESYS, e,
                          "mount tmpfs (%s) at %s%s", opts, dir,
                          e == EPERM ? " (needs root)" : "");
    }
    m->ledger_id = id;
    st->n++;
    return 0;
}

void cr_run_mount_teardown(cr_run *r)
{
    mnt_state *st = r->mounts;
    if (!st)
        return;
    for (size_t k = st->n; k-- > 0;) {
        /* Lazily when still busy: the replicas are gone, but a process
         * that left their groups may hold a file open. */
        if (umount2(st->v[k].dir, 0) == 0 ||
            umount2(st->v[k].dir, MNT_DETACH) == 0 || errno == EINVAL)
            cr_run_ledger_done(r, st->v[k].ledger_id);
        else {
            char msg[PATH_MAX + 64];
            snprintf(msg, sizeof msg, "umount %s: %s", st->v[k].dir,
                     strerror(errno));
            cr_run_journal_log(r, msg);
        }
    }
    cr_free(st->v);
    cr_free(st);
    r->mounts = NULL;
}
