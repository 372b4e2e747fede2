/* cr_scrule: rules, presets, verdicts and path matching of the seccomp
 * backend (see cr_scrule.h). */
#include "cr_scrule.h"

#include <stdio.h>
#include <string.h>

int cr_scrule_add(cr_scrule *r, const char *name, cr_err *err)
{
    int nr = cr_sys_check(name, err);
    if (nr < 0)
        return nr;
    if (cr_scrule_index(r, nr) >= 0)
        return CR_OK;
    if (r->nsys >= CR_SC_MAX_SYS)
        return cr_err_set(err, CR_EINVAL,
                          "more than %d system calls in one fault",
                          CR_SC_MAX_SYS);
    const cr_sysargs *a = cr_sysargs_find(name);
    r->nr[r->nsys] = nr;
    snprintf(r->name[r->nsys], sizeof r->name[0], "%s", name);
    memset(&r->args[r->nsys], 0, sizeof r->args[0]);
    if (a)
        r->args[r->nsys] = *a;
    r->nsys++;
    return CR_OK;
}

int cr_scrule_index(const cr_scrule *r, int nr)
{
    for (size_t i = 0; i < r->nsys; i++)
        if (r->nr[i] == nr)
            return (int)i;
    return -1;
}

int cr_scrule_check_path(const cr_scrule *r, cr_err *err)
{
    for (size_t i = 0; r->path[0] && i < r->nsys; i++)
        if (r->args[i].ref[0].kind == CR_SYSARG_NONE)
            return cr_err_set(err, CR_EINVAL,
                              "the path filter cannot judge %s: it has no "
                              "path or file descriptor argument chaosrun "
                              "knows (see faults/README.md)",
                              r->name[i]);
    return CR_OK;
}

void cr_scdraw_init(cr_scdraw *d, uint64_t seed, const char *label)
{
    cr_rng_derive(&d->rng, seed, label);
    d->faulted = 0;
}

int cr_scrule_decide(const cr_scrule *r, cr_scdraw *d, cr_scverdict *v)
{
    v->errnum = 0;
    v->delay_ns = 0;
    if (r->count && d->faulted >= r->count)
        return 0;
    if (r->probability < 1 && !(cr_rng_unit(&d->rng) < r->probability))
        return 0;
    d->faulted++;
    v->errnum = r->errnum;
    if (r->delay_ms > 0) {
        double ms = r->delay_ms;
        if (r->jitter_ms > 0)
            ms += cr_rng_range(&d->rng, -r->jitter_ms, r->jitter_ms);
        if (ms < 0)
            ms = 0;
        v->delay_ns = (int64_t)(ms * 1e6);
    }
    return 1;
}

/* ---- presets ------------------------------------------------------------ */

static const char *const disk_write[] = {
    "write", "pwrite64",  "writev",    "pwritev",         "pwritev2",
    "fsync", "fdatasync", "fallocate", "sync_file_range", NULL,
};
static const char *const disk_rw[] = {
    "read",     "pread64", "readv",   "preadv",   "preadv2", "write",
    "pwrite64", "writev",  "pwritev", "pwritev2", NULL,
};
static const char *const disk_sync[] = {
    "fsync",
    "fdatasync",
    "sync_file_range",
    NULL,
};
static const char *const disk_slow[] = {
    "read",  "pread64",   "readv",           "preadv",  "preadv2",
    "write", "pwrite64",  "writev",          "pwritev", "pwritev2",
    "fsync", "fdatasync", "sync_file_range", NULL,
};
static const char *const net_connect[] = {
    "connect",
    NULL,
};
static const char *const net_io[] = {
    "sendto", "sendmsg", "sendmmsg", "recvfrom", "recvmsg", "recvmmsg",
    "read",   "write",   "readv",    "writev",   NULL,
};
static const char *const net_slow[] = {
    "connect",  "sendto", "sendmsg", "sendmmsg", "recvfrom", "recvmsg",
    "recvmmsg", "read",   "write",   "readv",    "writev",   NULL,
};
static const char *const none[] = {NULL};

static const cr_scpreset p_disk_full = {
    "disk_full",
    disk_write,
    "ENOSPC",
    0,
    "/",
    NULL,
    "write, pwrite64, writev, pwritev(2), fsync, fdatasync, fallocate and "
    "sync_file_range on files fail with ENOSPC"};
static const cr_scpreset p_io_error = {
    "io_error",
    disk_rw,
    "EIO",
    0,
    "/",
    NULL,
    "read, pread64, readv, preadv(2), write, pwrite64, writev, pwritev(2) on "
    "files fail with EIO"};
static const cr_scpreset p_fsync_fail = {
    "fsync_fail",
    disk_sync,
    "EIO",
    0,
    NULL,
    NULL,
    "fsync, fdatasync and sync_file_range fail with EIO"};
static const cr_scpreset p_net_refused = {"net_refused",
                                          net_connect,
                                          "ECONNREFUSED",
                                          0,
                                          NULL,
                                          NULL,
                                          "connect fails with ECONNREFUSED"};
static const cr_scpreset p_net_reset = {
    "net_reset",
    net_io,
    "ECONNRESET",
    0,
    "socket:",
    NULL,
    "sendto, sendmsg, sendmmsg, recvfrom, recvmsg, recvmmsg, and read, write, "
    "readv, writev on sockets fail with ECONNRESET"};
static const cr_scpreset p_slow_disk = {
    "slow_disk",
    disk_slow,
    NULL,
    50,
    "/",
    NULL,
    "reads, writes and syncs of files are delayed (delay_ms, default 50) "
    "and then run"};
static const cr_scpreset p_slow_net = {
    "slow_net",
    net_slow,
    NULL,
    100,
    "socket:",
    NULL,
    "connect and reads/writes on sockets are delayed (delay_ms, default "
    "100) and then run"};
static const cr_scpreset p_oom = {
    "oom",
    none,
    NULL,
    0,
    NULL,
    "oom fails malloc, calloc and realloc, which are C library functions, "
    "not system calls: the seccomp backend cannot fail them (backend "
    "\"libfiu\" can; or name the system calls, e.g. \"syscalls\": [\"mmap\", "
    "\"brk\"] with errno ENOMEM)",
    "refused"};

static const cr_scpreset *const presets[] = {
    &p_disk_full, &p_io_error, &p_fsync_fail, &p_net_refused, &p_net_reset,
    &p_slow_disk, &p_slow_net, &p_oom,        NULL,
};

const cr_scpreset *const *cr_scpresets(void)
{
    return presets;
}

const cr_scpreset *cr_scpreset_find(const char *name)
{
    for (size_t i = 0; name && presets[i]; i++)
        if (strcmp(presets[i]->name, name) == 0)
            return presets[i];
    return NULL;
}

/* ---- paths -------------------------------------------------------------- */

int cr_scpath_normalize(const char *in, char *out, size_t n)
{
    size_t k = 0;
    if (!in || in[0] != '/' || n < 2)
        return -1;
    out[k++] = '/';
    for (const char *p = in; *p;) {
        while (*p == '/')
            p++;
        size_t len = strcspn(p, "/");
        if (len == 0)
            break;
        if (len == 1 && p[0] == '.') {
            /* nothing */
        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            while (k > 1 && out[k - 1] != '/')
                k--;
            if (k > 1)
                k--; /* the '/' before the removed component */
        } else {
            if (k > 1) {
                if (k + 1 >= n)
                    return -1;
                out[k++] = '/';
            }
            if (k + len >= n)
                return -1;
            memcpy(out + k, p, len);
            k += len;
        }
        p += len;
    }
    out[k] = '\0';
    return 0;
}

int cr_scpath_join(const char *dir, const char *rel, char *out, size_t n)
{
    char tmp[2 * CR_SC_PATH_MAX + 2];
    if (!rel)
        return -1;
    if (rel[0] == '/')
        return cr_scpath_normalize(rel, out, n);
    if (!dir || dir[0] != '/')
        return -1;
    int w = snprintf(tmp, sizeof tmp, "%s/%s", dir, rel);
    if (w < 0 || (size_t)w >= sizeof tmp)
        return -1;
    return cr_scpath_normalize(tmp, out, n);
}

int cr_scpath_match(const char *prefix, const char *path)
{
    char norm[CR_SC_PATH_MAX];
    if (!prefix[0])
        return 1;
    if (prefix[0] != '/')
        return strncmp(path, prefix, strlen(prefix)) == 0;
    if (path[0] != '/' || cr_scpath_normalize(path, norm, sizeof norm) != 0)
        return 0;
    size_t lp = strlen(prefix);
    if (lp == 1)
        return 1; /* "/" holds every absolute path */
    return strncmp(norm, prefix, lp) == 0 &&
           (norm[lp] == '\0' || norm[lp] == '/');
}
