/* cr_cgroup: see cr_cgroup.h. */
#include "cr_cgroup.h"
#include "cr_cgroup2.h"
#include "cr_cgroup_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>

/* Is name one of the comma-separated words of list? */
static int has_word(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        p = e ? e + 1 : NULL;
    }
    return 0;
}

/* The path of this process in the hierarchy of controller, NULL: the
 * cgroup2 one (/proc/self/cgroup: "id:controllers:path"; cgroup2's is
 * "0::path"). */
static int own_path(const char *controller, char *buf, size_t n)
{
    FILE *fp = fopen("/proc/self/cgroup", "re");
    char line[PATH_MAX + 128];
    int found = -1;
    if (!fp)
        return -1;
    while (found < 0 && fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        *c1 = '\0'; /* line: the id; c1 + 1: the controllers */
        if (controller ? has_word(c1 + 1, controller)
                       : strcmp(line, "0") == 0 && c1[1] == '\0') {
            snprintf(buf, n, "%s", c2 + 1);
            found = 0;
        }
    }
    fclose(fp);
    return found;
}

/* The mount point and the mount's root of the v1 hierarchy of controller,
 * NULL: of the (first) cgroup2 file system (/proc/self/mountinfo: "...
 * root mountpoint opts ... - cgroup src superopts"). */
static int find_mount(const char *controller, char *mnt, size_t mn, char *root,
                      size_t rn)
{
    FILE *fp = fopen("/proc/self/mountinfo", "re");
    char line[2 * PATH_MAX];
    int found = -1;
    if (!fp)
        return -1;
    while (found < 0 && fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\n")] = '\0';
        char *sep = strstr(line, " - ");
        if (!sep)
            continue;
        *sep = '\0';
        char fstype[64], src[256], super[512];
        if (sscanf(sep + 3, "%63s %255s %511s", fstype, src, super) != 3 ||
            strcmp(fstype, controller ? "cgroup" : "cgroup2") != 0 ||
            (controller && !has_word(super, controller)))
            continue;
        char r[PATH_MAX], m[PATH_MAX];
        if (sscanf(line, "%*s %*s %*s %4095s %4095s", r, m) != 2)
            continue;
        snprintf(mnt, mn, "%s", m);
        snprintf(root, rn, "%s", r);
        found = 0;
    }
    fclose(fp);
    return found;
}

int cr_cgroup__own_dir(const char *controller, char *buf, size_t n, char *mnt,
                       size_t mn)
{
    char root[PATH_MAX], own[PATH_MAX];
    if (find_mount(controller, mnt, mn, root, sizeof root) != 0)
        return -1;
    if (own_path(controller, own, sizeof own) != 0) {
        /* v2: unknown is not the root (the placement depends on it). */
        if (!controller)
            return -3;
        snprintf(own, sizeof own, "/");
    }
    /* The mount may show a subtree (a container's view): the own path is
     * relative to the hierarchy's root, the mount point to its root. */
    size_t rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
    const char *rel = own;
    if (rl && strncmp(own, root, rl) == 0 && (own[rl] == '/' || !own[rl]))
        rel = own + rl;
    if (strcmp(rel, "/") == 0)
        rel = "";
    return (size_t)snprintf(buf, n, "%s%s", mnt, rel) < n ? 0 : -2;
}

int cr_cgroup_base(const char *controller, char *buf, size_t n, cr_err *err)
{
    char mnt[PATH_MAX];
    int rc = cr_cgroup__own_dir(controller, buf, n, mnt, sizeof mnt);
    if (rc == -1)
        return cr_err_set(err, CR_EUNSUP,
                          "cgroup controller %s: no cgroup v1 hierarchy "
                          "mounted with it",
                          controller);
    if (rc != 0)
        return cr_err_set(err, CR_EUNSUP, "cgroup %s: path too long",
                          controller);
    if (access(buf, W_OK | X_OK) != 0)
        return cr_err_sys(err, CR_EUNSUP, errno,
                          "cgroup controller %s: cannot create cgroups in %s "
                          "(needs root or a delegated cgroup)",
                          controller, buf);
    return 0;
}

int cr_cgroup_version(const char *controller)
{
    char mnt[PATH_MAX], root[PATH_MAX], list[1024];
    if (find_mount(controller, mnt, sizeof mnt, root, sizeof root) == 0)
        return 1;
    if (cr_cgroup2_mount(mnt, sizeof mnt) != 0)
        return 0;
    const char *c2 = cr_cgroup2_name(controller);
    if (!c2)
        return 2; /* the freezer: core cgroup.freeze */
    if (cr_cgroup_read(mnt, "cgroup.controllers", list, sizeof list, NULL) != 0)
        return 0;
    return cr_cgroup2_has_word(list, c2) ? 2 : 0;
}

int cr_cgroup_check(const char *controller, int *version, cr_err *err)
{
    char buf[PATH_MAX], mnt[PATH_MAX];
    int v = cr_cgroup_version(controller);
    if (version)
        *version = v;
    if (v == 2)
        return cr_cgroup2_place(controller, buf, sizeof buf, err);
    if (v == 0 && cr_cgroup2_mount(mnt, sizeof mnt) != 0)
        return cr_err_set(err, CR_EUNSUP,
                          "cgroup controller %s: no cgroup v1 hierarchy "
                          "mounted with it, and no cgroup2 file system",
                          controller);
    if (v == 0) {
        const char *c2 = cr_cgroup2_name(controller);
        char list[1024] = "";
        cr_cgroup_read(mnt, "cgroup.controllers", list, sizeof list, NULL);
        return cr_err_set(err, CR_EUNSUP,
                          "cgroup controller %s: no cgroup v1 hierarchy "
                          "mounted with it, and the cgroup2 hierarchy at %s "
                          "does not offer %s (cgroup.controllers: \"%s\")",
                          controller, mnt, c2 ? c2 : controller, list);
    }
    return cr_cgroup_base(controller, buf, sizeof buf, err);
}

int cr_cgroup_is_v2(const char *dir)
{
    struct statfs sf;
    return statfs(dir, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

int cr_cgroup_write(const char *dir, const char *file, const char *val,
                    cr_err *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return cr_err_sys(err, CR_ESYS, errno, "cgroup: open %s", path);
    size_t len = strlen(val);
    ssize_t w = write(fd, val, len);
    int e = errno;
    close(fd);
    if (w != (ssize_t)len)
        return cr_err_sys(err, CR_ESYS, w < 0 ? e : EIO,
                          "cgroup: write '%s' to %s", val, path);
    return 0;
}

int cr_cgroup_read(const char *dir, const char *file, char *buf, size_t n,
                   cr_err *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cr_err_sys(err, CR_ESYS, errno, "cgroup: open %s", path);
    size_t got = 0;
    while (got + 1 < n) {
        ssize_t r = read(fd, buf + got, n - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';
    while (got > 0 && buf[got - 1] == '\n')
        buf[--got] = '\0';
    return 0;
}

int cr_cgroup_read_num(const char *dir, const char *file, const char *key,
                       long long *out)
{
    char buf[4096];
    if (cr_cgroup_read(dir, file, buf, sizeof buf, NULL) != 0)
        return -1;
    if (!key) {
        char *end;
        long long v = strtoll(buf, &end, 10);
        if (end == buf)
            return -1;
        *out = v;
        return 0;
    }
    size_t kl = strlen(key);
    for (char *p = buf; p && *p;) {
        if (strncmp(p, key, kl) == 0 && p[kl] == ' ') {
            *out = strtoll(p + kl + 1, NULL, 10);
            return 0;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return -1;
}

int cr_cgroup_attach(const char *dir, pid_t pid, cr_err *err)
{
    char v[32];
    snprintf(v, sizeof v, "%d", (int)pid);
    return cr_cgroup_write(dir, "cgroup.procs", v, err);
}

/* SIGKILL every process listed in dir/cgroup.procs; returns how many were
 * listed (0: empty, or gone). */
static int kill_members(const char *dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/cgroup.procs", dir);
    FILE *fp = fopen(path, "re");
    int n = 0;
    long pid;
    if (!fp)
        return 0;
    while (fscanf(fp, "%ld", &pid) == 1) {
        if (pid > 1 && pid != (long)getpid())
            kill((pid_t)pid, SIGKILL);
        n++;
    }
    fclose(fp);
    return n;
}

/* The freezer state of dir into state: v1 freezer.state as it reads;
 * v2 "FROZEN" or "THAWED" from cgroup.events "frozen". */
static int freeze_state(const char *dir, int v2, char *state, size_t n,
                        cr_err *err)
{
    if (!v2)
        return cr_cgroup_read(dir, "freezer.state", state, n, err);
    long long f;
    if (cr_cgroup_read_num(dir, "cgroup.events", "frozen", &f) != 0)
        return cr_err_set(err, CR_ESYS,
                          "cgroup: %s/cgroup.events has no \"frozen\" "
                          "(kernel before 5.2?)",
                          dir);
    snprintf(state, n, "%s", f ? "FROZEN" : "THAWED");
    return 0;
}

int cr_cgroup_freeze(const char *dir, int frozen, double timeout_s, cr_err *err)
{
    const char *want = frozen ? "FROZEN" : "THAWED";
    int v2 = cr_cgroup_is_v2(dir);
    const char *file = v2 ? "cgroup.freeze" : "freezer.state";
    const char *val = v2 ? (frozen ? "1" : "0") : want;
    char state[64] = "";
    int rc = cr_cgroup_write(dir, file, val, err);
    if (rc != 0)
        return rc;
    struct timespec t0, now, step = {0, 2 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if ((rc = freeze_state(dir, v2, state, sizeof state, err)) != 0)
            return rc;
        if (strcmp(state, want) == 0)
            return 0;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double el = (double)(now.tv_sec - t0.tv_sec) +
                    (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
        if (el > timeout_s)
            break;
        /* The kernel moves on by itself; writing again nudges tasks that
         * were forked while it froze. */
        if (frozen && !v2)
            cr_cgroup_write(dir, file, val, NULL);
        nanosleep(&step, NULL);
    }
    return cr_err_set(err, CR_ETIMEOUT,
                      "cgroup: %s/%s still %s after %.3g s (a "
                      "task did not stop: asleep in an uninterruptible wait?)",
                      dir, v2 ? "cgroup.events" : "freezer.state", state,
                      timeout_s);
}

/* A frozen freezer cgroup is thawed (best effort), so that the SIGKILL
 * sent to its tasks takes effect. */
static void thaw_if_frozen(const char *dir)
{
    char state[64];
    if (cr_cgroup_read(dir, "freezer.state", state, sizeof state, NULL) == 0 &&
        strcmp(state, "THAWED") != 0)
        cr_cgroup_write(dir, "freezer.state", "THAWED", NULL);
}

int cr_cgroup_remove(const char *dir, double timeout_s, cr_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT
                   ? 0
                   : cr_err_sys(err, CR_ESYS, errno, "cgroup: open %s", dir);
    struct dirent *de;
    int rc = 0;
    /* Child cgroups first (a replica's program may have made its own). */
    while ((de = readdir(d))) {
        if (de->d_type != DT_DIR || de->d_name[0] == '.')
            continue;
        char sub[PATH_MAX];
        if ((size_t)snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name) >=
            sizeof sub)
            continue;
        if (cr_cgroup_remove(sub, timeout_s, err) != 0)
            rc = CR_ESYS;
    }
    closedir(d);
    if (rc)
        return rc;
    struct timespec step = {0, 10 * 1000 * 1000};
    int v2 = cr_cgroup_is_v2(dir);
    for (int i = 0; i <= (int)(timeout_s * 100); i++) {
        if (rmdir(dir) == 0 || errno == ENOENT)
            return 0;
        if (errno != EBUSY)
            return cr_err_sys(err, CR_ESYS, errno, "cgroup: rmdir %s", dir);
        /* v2: cgroup.kill (5.14+) kills the whole subtree at once, also
         * a process forking meanwhile; else one by one. */
        if (!v2 || cr_cgroup_write(dir, "cgroup.kill", "1", NULL) != 0)
            kill_members(dir);
        if (!v2)
            thaw_if_frozen(dir);
        nanosleep(&step, NULL);
    }
    return cr_err_set(err, CR_ESYS,
                      "cgroup: rmdir %s: still busy after %.1f s (processes "
                      "would not leave)",
                      dir, timeout_s);
}
