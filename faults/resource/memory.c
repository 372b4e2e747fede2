/* memory: lower the memory limit of the targeted replicas' own cgroup to
 * limit_mb for for_s seconds (cgroup v1 memory.limit_in_bytes, and
 * memory.memsw.limit_in_bytes where swap is accounted, so swap is no way
 * out).  Under the limit the kernel reclaims, and when it cannot, its OOM
 * killer kills a process of the cgroup.  Revert lifts the limit (-1).
 *
 * The journal says whether and whom the OOM killer killed: the cgroup's
 * oom_kill counter (memory.oom_control) and memory.failcnt, counted over
 * the window, and the victims' pids and names from the kernel log
 * (/dev/kmsg "oom-kill:" records whose oom_memcg is this cgroup) when it
 * can be read.  The engine records the replica's exit by SIGKILL as usual.
 *
 * cgroup v1 refuses a limit below what the cgroup uses and cannot reclaim
 * (EBUSY): the occurrence then fails with that reason, nothing is killed.
 *
 * cgroup v2: memory.max (and memory.swap.max 0 where swap is accounted,
 * "max" again at the end); the counters come from memory.events
 * ("oom_kill"; "max": how often usage hit the limit, v1's failcnt) and
 * memory.peak.  v2 takes a limit below the usage: the kernel reclaims,
 * then kills. */
#include "cr_resfault.h"

#include "base/cr_alloc.h"
#include "base/cr_cgroup.h"
#include "base/cr_cgroup2.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct mem_priv {
    double limit_mb;
} mem_priv;

static const cr_param mem_params[] = {
    {"limit_mb", "number", NULL,
     "memory limit of each targeted replica's cgroup, in MiB (1 to 100000)"},
    {NULL, NULL, NULL, NULL},
};

static int mem_parse(cr_vctx *vx, const json_t *obj, const char *path,
                     cr_fault *f)
{
    mem_priv *p = cr_calloc(1, sizeof *p);
    if (!p)
        return CR_ENOMEM;
    f->priv = p;
    if (cr_vrequire(vx, obj, path, "limit_mb"))
        cr_vnum(vx, obj, path, "limit_mb", 1, 100000, 0, &p->limit_mb);
    return 0;
}

/* The kernel log, one record per read(2): "prio,seq,ts,flags;text\n..."
 * Calls fn for each record after seq `after` (-1: none, only the last
 * seq is wanted).  Returns the last seq seen, or -1 when /dev/kmsg
 * cannot be read. */
static long long kmsg_scan(long long after, void (*fn)(void *, const char *),
                           void *ud)
{
    int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    long long last = -1;
    char rec[8192];
    if (fd < 0)
        return -1;
    for (;;) {
        ssize_t n = read(fd, rec, sizeof rec - 1);
        if (n < 0 && errno == EPIPE)
            continue; /* overwritten while reading: the next one */
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        rec[n] = '\0';
        const char *c = strchr(rec, ',');
        long long seq = c ? strtoll(c + 1, NULL, 10) : -1;
        last = seq;
        const char *text = strchr(rec, ';');
        if (fn && seq > after && text)
            fn(ud, text + 1);
    }
    close(fd);
    return last;
}

typedef struct victims {
    const char *cg_tail; /* "/chaosrun-<pid>/<instance>" */
    json_t *arr;
} victims;

/* "oom-kill:constraint=...,oom_memcg=/a/b,task_memcg=/a/b,task=NAME,
 * pid=PID,uid=UID" (mm/oom_kill.c dump_oom_victim). */
static void note_victim(void *ud, const char *text)
{
    victims *v = ud;
    if (strncmp(text, "oom-kill:", 9) != 0)
        return;
    const char *m = strstr(text, "oom_memcg=");
    const char *e = m ? strchr(m, ',') : NULL;
    size_t tl = strlen(v->cg_tail);
    if (!e || (size_t)(e - m) < tl || strncmp(e - tl, v->cg_tail, tl) != 0)
        return;
    const char *t = strstr(text, ",task=");
    const char *p = strstr(text, ",pid=");
    if (!t || !p)
        return;
    t += 6;
    size_t tn = strcspn(t, ",\n");
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(tn < 63 ? tn : 63), t);
    json_array_append_new(
        v->arr, json_pack("{s:i,s:s}", "pid", atoi(p + 5), "task", name));
}

static int mem_limit(const cr_fault *f, const cr_rescg *cg, json_t *d,
                     long long *mark, cr_err *err)
{
    const mem_priv *p = f->priv;
    long long bytes = (long long)(p->limit_mb * 1024 * 1024);
    char v[32];
    snprintf(v, sizeof v, "%lld", bytes);
    json_object_set_new(d, "limit_bytes", json_integer(bytes));
    json_object_set_new(
        d, "at_apply",
        json_pack(
            "{s:I,s:I,s:I}", "usage_bytes",
            (json_int_t)cr_rescg_num(cg, "memory.usage_in_bytes", NULL),
            "oom_kill",
            (json_int_t)cr_rescg_num(cg, "memory.oom_control", "oom_kill"),
            "failcnt", (json_int_t)cr_rescg_num(cg, "memory.failcnt", NULL)));
    /* The victims are read from this machine's kernel log: a node's is
     * its own (-2: not read). */
    *mark = cg->in ? -2 : kmsg_scan(-1, NULL, NULL);
    if (cg->v2) {
        int rc = cr_rescg_write(cg, "memory.max", v, err);
        if (rc == 0 && cr_rescg_has(cg, "memory.swap.max"))
            rc = cr_rescg_write(cg, "memory.swap.max", "0", err);
        return rc;
    }
    /* The memory limit first: memsw may not go below it. */
    int rc = cr_rescg_write(cg, "memory.limit_in_bytes", v, err);
    if (rc == 0 && cr_rescg_has(cg, "memory.memsw.limit_in_bytes"))
        rc = cr_rescg_write(cg, "memory.memsw.limit_in_bytes", v, err);
    return rc;
}

/* Lift the limit (v1: memsw first, the limit may not go above it). */
static int mem_unlimit(const cr_rescg *cg, cr_err *err)
{
    if (cg->v2) {
        if (cr_rescg_has(cg, "memory.swap.max") &&
            cr_rescg_write(cg, "memory.swap.max", "max", err) != 0)
            return err->code;
        return cr_rescg_write(cg, "memory.max", "max", err);
    }
    if (cr_rescg_has(cg, "memory.memsw.limit_in_bytes") &&
        cr_rescg_write(cg, "memory.memsw.limit_in_bytes", "-1", err) != 0)
        return err->code;
    return cr_rescg_write(cg, "memory.limit_in_bytes", "-1", err);
}

static int mem_lift(const cr_fault *f, const cr_rescg *cg, json_t *d,
                    long long mark, cr_err *err)
{
    (void)f;
    int rc = mem_unlimit(cg, err);
    if (rc != 0)
        return rc;
    if (json_object_get(d, "oom_kills"))
        return 0; /* an earlier attempt counted already */
    json_t *a = json_object_get(d, "at_apply");
    long long k0 = json_integer_value(json_object_get(a, "oom_kill"));
    long long f0 = json_integer_value(json_object_get(a, "failcnt"));
    long long k = cr_rescg_num(cg, "memory.oom_control", "oom_kill");
    long long fc = cr_rescg_num(cg, "memory.failcnt", NULL);
    json_object_set_new(d, "oom_kills",
                        json_integer(k >= 0 && k0 >= 0 ? k - k0 : -1));
    json_object_set_new(d, "failcnt",
                        json_integer(fc >= 0 && f0 >= 0 ? fc - f0 : -1));
    json_object_set_new(
        d, "max_usage_bytes",
        json_integer(cr_rescg_num(cg, "memory.max_usage_in_bytes", NULL)));
    if (mark == -2) {
        json_object_set_new(d, "oom_killed",
                            json_string("not read (the ssh node's kernel "
                                        "log)"));
        return 0;
    }
    /* Whom: the kernel log names each victim with the memcg it was
     * killed for; the path ends in /chaosrun-<pid>/<instance>. */
    const char *path = cg->path;
    const char *tail = strrchr(path, '/');
    const char *tail2 = tail;
    while (tail2 > path && tail2[-1] != '/')
        tail2--;
    victims v = {.cg_tail = tail2 > path ? tail2 - 1 : path,
                 .arr = json_array()};
    if (mark >= 0 && kmsg_scan(mark, note_victim, &v) >= 0)
        json_object_set_new(d, "oom_killed", v.arr);
    else {
        json_decref(v.arr);
        json_object_set_new(d, "oom_killed",
                            json_string("unknown (/dev/kmsg unreadable)"));
    }
    return 0;
}

static const cr_reskind mem_kind = {
    .controller = "memory",
    .probe_file = "memory.limit_in_bytes",
    .probe_file2 = "memory.max",
    .limit = mem_limit,
    .lift = mem_lift,
    .on_nodes = 1,
};

static int mem_check(cr_fault *f, cr_run *r, cr_err *err)
{
    return cr_resfault_check(&mem_kind, f, r, err);
}
static int mem_prepare(cr_fault *f, cr_run *r, cr_err *err)
{
    return cr_resfault_prepare(&mem_kind, f, r, err);
}
static int mem_apply(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    return cr_resfault_apply(&mem_kind, f, r, act, err);
}
static int mem_revert(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    return cr_resfault_revert(&mem_kind, f, r, act, err);
}

const cr_fault_ops cr_fault_memory_ops = {
    .kind = "memory",
    .summary = "lower the memory limit of the targeted replicas' cgroup to "
               "limit_mb for for_s seconds (reclaim, then the kernel's OOM "
               "killer)",
    .params = mem_params,
    .flags = CR_FAULT_NEEDS_DURATION | CR_FAULT_NEEDS_SERVICE,
    .requires = "root (or a delegated cgroup); the memory controller: cgroup "
                "v1 (memory.limit_in_bytes), else cgroup v2 (memory.max); "
                "/dev/kmsg readable to name the OOM killer's victims",
    .parse = mem_parse,
    .check = mem_check,
    .prepare = mem_prepare,
    .apply = mem_apply,
    .revert = mem_revert,
    .destroy = cr_resfault_destroy,
};
