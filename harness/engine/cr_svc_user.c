/* cr_svc_user: the identity each service runs as -- its "user" and
 * "group" keys, else the run-wide --service-user -- and what a service
 * running as another user is given explicitly, since the run directory is
 * root's and private to it otherwise: its "dirs" (subdirectories of the
 * run directory made for it and owned by it) and appending to the event
 * file (its group may write it).  The identity itself is applied by
 * base/cr_spawn in the child, after the namespace is entered. */
#include "cr_run_internal.h"

#include "base/cr_dirfd.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A subdirectory of the run directory for svc: made (0755) and given to
 * its user, or, when it exists (another service of the same user made it),
 * a real directory of that user.  Never follows a link. */
static int svc_dir(cr_run *r, const cr_svc *svc, const char *name, cr_err *err)
{
    struct stat st;
    uid_t uid = svc->cred.set ? svc->cred.uid : geteuid();
    int made = mkdirat(r->dirfd, name, 0755) == 0;
    if (!made && errno != EEXIST)
        return cr_err_sys(err, CR_ESYS, errno, "service %s: mkdir %s/%s",
                          svc->spec->name, r->dir, name);
    int fd =
        openat(r->dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return cr_err_sys(err, CR_EINVAL, errno,
                          "service %s: dirs: %s/%s is not a directory",
                          svc->spec->name, r->dir, name);
    int rc = CR_OK;
    if (made && svc->cred.set && fchown(fd, svc->cred.uid, svc->cred.gid) != 0)
        rc = cr_err_sys(err, CR_ESYS, errno, "service %s: chown %s/%s",
                        svc->spec->name, r->dir, name);
    else if (!made && (fstat(fd, &st) != 0 || st.st_uid != uid))
        rc = cr_err_set(err, CR_EINVAL,
                        "service %s: dirs: %s/%s exists and is not its "
                        "user's (uid %u): refused",
                        svc->spec->name, r->dir, name, (unsigned)uid);
    close(fd);
    return rc;
}

/* The run directory and each of its parents must be searchable by the
 * service's identity: else it could write neither its dirs nor the event
 * file, and its start or its verdicts would fail for a reason that is not
 * the system's.  Said before anything starts. */
static int svc_reach(const cr_run *r, const cr_svc *svc, cr_err *err)
{
    char path[4096];
    struct stat st;
    cr_err e;
    cr_err_clear(&e);
    /* The directory's real path (--out may be relative or hold links). */
    if (cr_dir_path(r->dirfd, path, sizeof path, &e) != 0)
        snprintf(path, sizeof path, "%s", r->dir);
    for (;;) {
        if (stat(*path ? path : "/", &st) == 0) {
            mode_t need = st.st_uid == svc->cred.uid   ? S_IXUSR
                          : st.st_gid == svc->cred.gid ? S_IXGRP
                                                       : S_IXOTH;
            if (!(st.st_mode & need))
                return cr_err_set(
                    err, CR_EINVAL,
                    "service %s runs as uid %u, which cannot reach the run "
                    "directory %s: %s is mode %04o (choose an --out whose "
                    "parents it may search)",
                    svc->spec->name, (unsigned)svc->cred.uid, r->dir,
                    *path ? path : "/", (unsigned)(st.st_mode & 07777));
        }
        char *slash = strrchr(path, '/');
        if (!slash || !*path)
            return CR_OK;
        *slash = '\0';
    }
}

/* "USER[:GROUP]" of --service-user into user and group ("" when absent). */
static int split_default(const char *s, char *user, char *group, size_t n,
                         cr_err *err)
{
    const char *colon = strchr(s, ':');
    size_t ul = colon ? (size_t)(colon - s) : strlen(s);
    if (ul == 0 || ul >= n || (colon && strlen(colon + 1) >= n))
        return cr_err_set(err, CR_EINVAL,
                          "--service-user: expected USER or USER:GROUP, got "
                          "'%s'",
                          s);
    memcpy(user, s, ul);
    user[ul] = '\0';
    snprintf(group, n, "%s", colon ? colon + 1 : "");
    return CR_OK;
}

/* One service: its identity into svc->cred. */
static int svc_cred(cr_svc *svc, const char *duser, const char *dgroup,
                    cr_err *err)
{
    const cr_svc_spec *sp = svc->spec;
    char self[32];
    const char *user = sp->user, *group = sp->group;
    cr_err e;
    cr_err_clear(&e);
    if (!user) {
        user = duser;
        if (!group && dgroup && *dgroup)
            group = dgroup;
    }
    if (!user && group) {
        snprintf(self, sizeof self, "%u", (unsigned)geteuid());
        user = self;
    }
    if (!user)
        return CR_OK;
    int rc = cr_spawn_cred_lookup(user, group, &svc->cred, &e);
    if (rc != 0)
        return cr_err_set(err, rc, "%s.user: %s", sp->path, e.msg);
    return CR_OK;
}

int cr_svc_identities(cr_run *r, cr_err *err)
{
    char duser[256] = "", dgroup[256] = "";
    int rc, shared = 0;
    gid_t gid = 0;
    if (r->opts->service_user &&
        (rc = split_default(r->opts->service_user, duser, dgroup, sizeof duser,
                            err)) != 0)
        return rc;
    for (size_t s = 0; s < r->nsvcs; s++) {
        cr_svc *svc = &r->svcs[s];
        if ((rc = svc_cred(svc, *duser ? duser : NULL, dgroup, err)) != 0)
            return rc;
        /* A replica on a remote node gets them in the node's directory
         * (cr_run_ssh.c, at set-up): the run directory is not there. */
        for (char **d = svc->spec->dirs; d && *d && !svc->remote; d++)
            if ((rc = svc_dir(r, svc, *d, err)) != 0)
                return rc;
        if (!svc->cred.set)
            continue;
        if ((rc = svc_reach(r, svc, err)) != 0)
            return rc;
        /* The event file is appended to by path: its group may write it.
         * One group only, so that no other user of the machine may. */
        if (shared && svc->cred.gid != gid)
            return cr_err_set(err, CR_EINVAL,
                              "%s: services running as other users must "
                              "share one group (gid %u and %u): it is the "
                              "group that may append to the event file",
                              svc->spec->path, (unsigned)gid,
                              (unsigned)svc->cred.gid);
        shared = 1;
        gid = svc->cred.gid;
    }
    if (shared && (fchown(r->events_fd, (uid_t)-1, gid) != 0 ||
                   fchmod(r->events_fd, 0664) != 0))
        return cr_err_sys(err, CR_ESYS, errno, "event file %s: chown/chmod",
                          r->events_path);
    return CR_OK;
}

int cr_run_svc_owner(const cr_run *r, const char *svc, uid_t *uid, gid_t *gid)
{
    for (size_t s = 0; s < r->nsvcs; s++)
        if (r->svcs[s].cred.set && strcmp(r->svcs[s].spec->name, svc) == 0) {
            *uid = r->svcs[s].cred.uid;
            *gid = r->svcs[s].cred.gid;
            return 1;
        }
    return 0;
}
