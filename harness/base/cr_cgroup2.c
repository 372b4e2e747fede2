/* cr_cgroup2: see cr_cgroup2.h. */
#include "cr_cgroup2.h"
#include "cr_cgroup.h"
#include "cr_cgroup_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *cr_cgroup2_name(const char *controller)
{
    if (strcmp(controller, "blkio") == 0)
        return "io";
    if (strcmp(controller, "freezer") == 0)
        return NULL;
    return controller;
}

int cr_cgroup2_mount(char *buf, size_t n)
{
    char own[PATH_MAX];
    return cr_cgroup__own_dir(NULL, own, sizeof own, buf, n) == -1 ? -1 : 0;
}

int cr_cgroup2_has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p && *p;) {
        p += strspn(p, " \t\n");
        size_t len = strcspn(p, " \t\n");
        if (len == n && n > 0 && strncmp(p, word, n) == 0)
            return 1;
        p += len;
    }
    return 0;
}

int cr_cgroup2_place(const char *controller, char *buf, size_t n, cr_err *err)
{
    char mnt[PATH_MAX], own[PATH_MAX], cand[PATH_MAX];
    char list[1024];
    int rc = cr_cgroup__own_dir(NULL, own, sizeof own, mnt, sizeof mnt);
    if (rc == -1)
        return cr_err_set(err, CR_EUNSUP,
                          "cgroup controller %s: no cgroup v1 hierarchy "
                          "mounted with it, and no cgroup2 file system",
                          controller);
    if (rc == -3)
        return cr_err_set(err, CR_EUNSUP,
                          "cgroup v2: chaosrun's own cgroup is unknown "
                          "(/proc/self/cgroup has no \"0::\" line)");
    if (rc != 0)
        return cr_err_set(err, CR_EUNSUP, "cgroup v2: path too long");
    snprintf(cand, sizeof cand, "%s", own);
    if (strcmp(own, mnt) != 0) {
        /* Not the root: a cgroup with processes (chaosrun's own) cannot
         * pass domain controllers to children; its parent can when it
         * holds no process of its own. */
        char *slash = strrchr(cand, '/');
        if (slash && slash > cand)
            *slash = '\0';
        if (strcmp(cand, mnt) != 0) {
            if (cr_cgroup_read(cand, "cgroup.procs", list, sizeof list, NULL) !=
                    0 ||
                list[0] != '\0')
                return cr_err_set(
                    err, CR_EUNSUP,
                    "cgroup v2: chaosrun's cgroup %s holds processes (v2's "
                    "no-internal-process rule: it cannot pass controllers "
                    "to child cgroups) and its parent %s holds processes "
                    "too (or cannot be read); run chaosrun in the root "
                    "cgroup, or in a leaf cgroup of a delegated subtree "
                    "whose other processes live in leaves too",
                    own, cand);
        }
    }
    const char *c2 = cr_cgroup2_name(controller);
    if (c2) {
        if (cr_cgroup_read(cand, "cgroup.controllers", list, sizeof list,
                           NULL) != 0)
            list[0] = '\0';
        if (!cr_cgroup2_has_word(list, c2))
            return cr_err_set(err, CR_EUNSUP,
                              "cgroup v2: controller %s is not available in "
                              "%s (cgroup.controllers: \"%s\"; it must be "
                              "enabled in the parent's cgroup.subtree_control)",
                              c2, cand, list);
    }
    char sub[PATH_MAX + 32];
    snprintf(sub, sizeof sub, "%s/cgroup.subtree_control", cand);
    if (access(cand, W_OK | X_OK) != 0 || access(sub, W_OK) != 0)
        return cr_err_sys(err, CR_EUNSUP, errno,
                          "cgroup v2: cannot create cgroups in %s or enable "
                          "controllers there (needs root or a delegated "
                          "cgroup)",
                          cand);
    if ((size_t)snprintf(buf, n, "%s", cand) >= n)
        return cr_err_set(err, CR_EUNSUP, "cgroup v2: path too long");
    return 0;
}

int cr_cgroup2_enabled(const char *dir, const char *ctl)
{
    char list[1024];
    if (cr_cgroup_read(dir, "cgroup.subtree_control", list, sizeof list,
                       NULL) != 0)
        return -1;
    return cr_cgroup2_has_word(list, ctl);
}

int cr_cgroup2_subtree(const char *dir, const char *ctl, int on, cr_err *err)
{
    char v[64], path[PATH_MAX + 32];
    snprintf(v, sizeof v, "%c%s", on ? '+' : '-', ctl);
    snprintf(path, sizeof path, "%s/cgroup.subtree_control", dir);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return cr_err_sys(err, CR_ESYS, errno, "cgroup: open %s", path);
    ssize_t w = write(fd, v, strlen(v));
    int e = errno;
    close(fd);
    if (w == (ssize_t)strlen(v))
        return 0;
    if (!on && w < 0 && e == EBUSY)
        return 1; /* a child cgroup still uses it */
    return cr_err_sys(err, CR_ESYS, w < 0 ? e : EIO, "cgroup: write '%s' to %s",
                      v, path);
}

/* v1 file and key -> v2 file and key, same unit. */
static const struct {
    const char *file, *key, *file2, *key2;
} maps[] = {
    {"memory.usage_in_bytes", NULL, "memory.current", NULL},
    {"memory.max_usage_in_bytes", NULL, "memory.peak", NULL},
    {"memory.failcnt", NULL, "memory.events", "max"},
    {"memory.oom_control", "oom_kill", "memory.events", "oom_kill"},
    {"cpu.stat", "nr_throttled", "cpu.stat", "nr_throttled"},
    {"cpu.stat", "nr_periods", "cpu.stat", "nr_periods"},
    {"pids.current", NULL, "pids.current", NULL},
    {"pids.events", "max", "pids.events", "max"},
};

int cr_cgroup2_map(const char *file, const char *key, const char **file2,
                   const char **key2)
{
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) {
        if (strcmp(maps[i].file, file) != 0)
            continue;
        if ((key == NULL) != (maps[i].key == NULL) ||
            (key && strcmp(key, maps[i].key) != 0))
            continue;
        *file2 = maps[i].file2;
        *key2 = maps[i].key2;
        return 0;
    }
    return -1;
}

int cr_cgroup2_parse_cpu_max(const char *text, long long *quota,
                             long long *period)
{
    char q[32];
    long long p;
    if (sscanf(text, "%31s %lld", q, &p) != 2 || p <= 0)
        return -1;
    if (strcmp(q, "max") == 0) {
        *quota = -1;
    } else {
        char *end;
        long long v = strtoll(q, &end, 10);
        if (*end || v <= 0)
            return -1;
        *quota = v;
    }
    *period = p;
    return 0;
}

int cr_cgroup2_io_max(const char *dev, const long long lim[4], char *buf,
                      size_t n)
{
    static const char *const keys[4] = {"rbps", "wbps", "riops", "wiops"};
    char part[4][40];
    for (int k = 0; k < 4; k++) {
        if (lim[k] > 0)
            snprintf(part[k], sizeof part[k], "%s=%lld", keys[k], lim[k]);
        else
            snprintf(part[k], sizeof part[k], "%s=max", keys[k]);
    }
    return snprintf(buf, n, "%s %s %s %s %s", dev, part[0], part[1], part[2],
                    part[3]);
}

long long cr_cgroup2_io_stat(const char *text, const char *dev, const char *key)
{
    size_t dl = strlen(dev), kl = strlen(key);
    for (const char *p = text; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > dl && strncmp(p, dev, dl) == 0 && p[dl] == ' ') {
            for (const char *w = p + dl; w < p + len;) {
                w += strspn(w, " ");
                if ((size_t)(p + len - w) > kl && strncmp(w, key, kl) == 0 &&
                    w[kl] == '=')
                    return strtoll(w + kl + 1, NULL, 10);
                w += strcspn(w, " \n");
            }
            return -1;
        }
        p = eol ? eol + 1 : NULL;
    }
    return 0;
}
