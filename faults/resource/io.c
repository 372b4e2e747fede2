/* io: throttle the targeted replicas' block I/O on one device to read/write
 * bytes or operations per second for for_s seconds, with the cgroup v1
 * blkio controller of their own cgroup (blkio.throttle.*_device).  The
 * device is the one holding `path` (the run directory by default); a
 * partition is throttled through its whole disk, as the kernel wants.
 * Revert writes 0 (no limit) for the device.
 *
 * What cgroup v1 can throttle: reads and direct (O_DIRECT) writes.
 * Buffered writes are written back later by the kernel's flusher threads,
 * outside the replica's cgroup, and are not slowed (cgroup v2's io.max
 * would be needed); documented in scenarios/README.md.
 *
 * cgroup v2 (no v1 blkio hierarchy, cgroup2 offers "io"): one io.max line
 * "MAJ:MIN rbps=.. wbps=.. riops=.. wiops=.." ("max": no limit), all
 * "max" at the end; buffered writes are throttled too where the memory
 * controller is enabled beside io (writeback is charged to the cgroup
 * that dirtied the pages).  Counters from io.stat (rbytes, wbytes, rios,
 * wios).
 *
 * Journal: the device, the limits, and what the cgroup read and wrote on
 * it inside the window (blkio.throttle.io_service_bytes / io_serviced;
 * v2 io.stat). */
#include "cr_resfault.h"

#include "base/cr_alloc.h"
#include "base/cr_cgroup.h"
#include "base/cr_cgroup2.h"
#include "net/cr_ssh.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

enum { IO_RBPS, IO_WBPS, IO_RIOPS, IO_WIOPS, IO_N };

static const char *const io_keys[IO_N] = {"read_bps", "write_bps", "read_iops",
                                          "write_iops"};
static const char *const io_files[IO_N] = {
    "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
    "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"};

typedef struct io_priv {
    long long lim[IO_N]; /* 0: not limited */
    const char *path;    /* NULL: the run directory */
    unsigned maj, min;   /* resolved by check() */
    char dev[32];        /* "maj:min" */
} io_priv;

static const cr_param io_params[] = {
    {"read_bps", "integer", "none", "bytes per second the replica may read"},
    {"write_bps", "integer", "none",
     "bytes per second the replica may write (direct I/O; see below)"},
    {"read_iops", "integer", "none", "read operations per second"},
    {"write_iops", "integer", "none", "write operations per second"},
    {"path", "string", "the run directory",
     "a file or directory on the device to throttle (relative: to the run "
     "directory)"},
    {NULL, NULL, NULL, NULL},
};

static int io_parse(cr_vctx *vx, const json_t *obj, const char *path,
                    cr_fault *f)
{
    io_priv *p = cr_calloc(1, sizeof *p);
    int any = 0;
    if (!p)
        return CR_ENOMEM;
    f->priv = p;
    for (int k = 0; k < IO_N; k++)
        any |= cr_vint(vx, obj, path, io_keys[k], 1, (long long)1 << 50, 0,
                       &p->lim[k]) != 0;
    cr_vstr(vx, obj, path, "path", NULL, &p->path);
    if (!any)
        cr_verr(vx, path,
                "kind \"io\" needs at least one of \"read_bps\", "
                "\"write_bps\", \"read_iops\", \"write_iops\"");
    return 0;
}

/* The whole disk of block device maj:min (a partition's parent). */
static void whole_disk(unsigned *maj, unsigned *min)
{
    char p[128], buf[32];
    snprintf(p, sizeof p, "/sys/dev/block/%u:%u/partition", *maj, *min);
    if (access(p, F_OK) != 0)
        return;
    snprintf(p, sizeof p, "/sys/dev/block/%u:%u/../dev", *maj, *min);
    FILE *fp = fopen(p, "re");
    if (!fp)
        return;
    if (fgets(buf, sizeof buf, fp))
        sscanf(buf, "%u:%u", maj, min);
    fclose(fp);
}

/* On an ssh node: the device of path there (default: the replica's
 * directory on the node), its whole disk, found by findmnt and /sys/dev
 * on the node at prepare. */
static int io_node_device(cr_fault *f, cr_run *r, cr_err *err)
{
    io_priv *p = f->priv;
    const char *dir = cr_run_ssh_svc_dir(r, f->target.service);
    char full[PATH_MAX + 8], out[256] = "";
    if (!p->path || p->path[0] != '/')
        snprintf(full, sizeof full, "%s%s%s", dir ? dir : "",
                 p->path ? "/" : "", p->path ? p->path : "");
    else
        snprintf(full, sizeof full, "%s", p->path);
    cr_sbuf b = {0};
    static const char body[] =
        "; d=$(findmnt -n -o MAJ:MIN -T \"$x\" 2>&1) || { echo \"err "
        "$x: $d\"; exit 0; }; d=$(echo $d); if [ ! -e \"/sys/dev/block/$d\" "
        "]; then echo \"err $x is on a file system without a block device "
        "(device $d: tmpfs, overlay, nfs, ...): nothing to throttle\"; exit "
        "0; fi; [ ! -e \"/sys/dev/block/$d/partition\" ] || "
        "d=$(cat \"/sys/dev/block/$d/../dev\"); echo \"ok $d\"";
    if (cr_sbuf_add(&b, "x=", 2) || cr_ssh_quote(&b, full) ||
        cr_sbuf_add(&b, body, sizeof body - 1)) {
        cr_free(b.s);
        return cr_err_set(err, CR_ENOMEM, "out of memory");
    }
    cr_err e;
    cr_err_clear(&e);
    int rc =
        cr_run_ssh_exec(r, f->target.service, NULL, b.s, out, sizeof out, &e);
    cr_free(b.s);
    out[strcspn(out, "\n")] = '\0';
    if (rc != 0)
        return cr_err_set(err, rc, "io %s: %s", f->name, e.msg);
    if (strncmp(out, "ok ", 3) != 0 ||
        sscanf(out + 3, "%u:%u", &p->maj, &p->min) != 2)
        return cr_err_set(err, CR_EUNSUP, "io %s: on ssh node %s: %s", f->name,
                          cr_run_ssh_svc_node(r, f->target.service),
                          strncmp(out, "err ", 4) ? out : out + 4);
    snprintf(p->dev, sizeof p->dev, "%u:%u", p->maj, p->min);
    return 0;
}

static int io_check(cr_fault *f, cr_run *r, cr_err *err)
{
    static const cr_reskind probe = {.controller = "blkio", .on_nodes = 1};
    io_priv *p = f->priv;
    char full[PATH_MAX + 8];
    struct stat st;
    int rc = cr_resfault_check(&probe, f, r, err);
    if (rc != 0)
        return rc;
    if (cr_run_ssh_svc_node(r, f->target.service))
        return 0; /* the node's device: at prepare (io_node_device) */
    if (!p->path)
        snprintf(full, sizeof full, "%s", cr_run_dir(r));
    else if (p->path[0] == '/')
        snprintf(full, sizeof full, "%s", p->path);
    else
        snprintf(full, sizeof full, "%s/%s", cr_run_dir(r), p->path);
    if (stat(full, &st) != 0)
        return cr_err_sys(err, CR_EUNSUP, errno, "io %s: stat %s", f->name,
                          full);
    p->maj = major(st.st_dev);
    p->min = minor(st.st_dev);
    char sys[128];
    snprintf(sys, sizeof sys, "/sys/dev/block/%u:%u", p->maj, p->min);
    if (access(sys, F_OK) != 0)
        return cr_err_set(err, CR_EUNSUP,
                          "io %s: %s is on a file system without a block "
                          "device (device %u:%u: tmpfs, overlay, nfs, ...): "
                          "nothing to throttle",
                          f->name, full, p->maj, p->min);
    whole_disk(&p->maj, &p->min);
    snprintf(p->dev, sizeof p->dev, "%u:%u", p->maj, p->min);
    return 0;
}

/* The total of the lines "<dev> <op> <n>" of a blkio stat file. */
static long long io_stat(const cr_rescg *cg, const char *file, const char *dev,
                         const char *op)
{
    char buf[8192], want[64];
    if (cr_rescg_read(cg, file, buf, sizeof buf) != 0)
        return -1;
    snprintf(want, sizeof want, "%s %s ", dev, op);
    char *s = strstr(buf, want);
    return s ? strtoll(s + strlen(want), NULL, 10) : 0;
}

static json_t *io_counts(const cr_rescg *cg, const char *dev)
{
    if (cg->v2) {
        char buf[8192];
        if (cr_rescg_read(cg, "io.stat", buf, sizeof buf) != 0)
            buf[0] = '\0';
        return json_pack(
            "{s:I,s:I,s:I,s:I}", "read_bytes",
            (json_int_t)cr_cgroup2_io_stat(buf, dev, "rbytes"), "write_bytes",
            (json_int_t)cr_cgroup2_io_stat(buf, dev, "wbytes"), "reads",
            (json_int_t)cr_cgroup2_io_stat(buf, dev, "rios"), "writes",
            (json_int_t)cr_cgroup2_io_stat(buf, dev, "wios"));
    }
    return json_pack(
        "{s:I,s:I,s:I,s:I}", "read_bytes",
        (json_int_t)io_stat(cg, "blkio.throttle.io_service_bytes", dev, "Read"),
        "write_bytes",
        (json_int_t)io_stat(cg, "blkio.throttle.io_service_bytes", dev,
                            "Write"),
        "reads",
        (json_int_t)io_stat(cg, "blkio.throttle.io_serviced", dev, "Read"),
        "writes",
        (json_int_t)io_stat(cg, "blkio.throttle.io_serviced", dev, "Write"));
}

static int io_limit(const cr_fault *f, const cr_rescg *cg, json_t *d,
                    long long *mark, cr_err *err)
{
    const io_priv *p = f->priv;
    int v2 = cg->v2;
    (void)mark;
    json_object_set_new(d, "device", json_string(p->dev));
    json_object_set_new(d, "at_apply", io_counts(cg, p->dev));
    for (int k = 0; k < IO_N; k++) {
        if (!p->lim[k])
            continue;
        char v[64];
        snprintf(v, sizeof v, "%s %lld", p->dev, p->lim[k]);
        json_object_set_new(d, io_keys[k], json_integer(p->lim[k]));
        int rc = v2 ? 0 : cr_rescg_write(cg, io_files[k], v, err);
        if (rc != 0)
            return rc;
    }
    if (v2) {
        char line[256];
        cr_cgroup2_io_max(p->dev, p->lim, line, sizeof line);
        return cr_rescg_write(cg, "io.max", line, err);
    }
    return 0;
}

static int io_lift(const cr_fault *f, const cr_rescg *cg, json_t *d,
                   long long mark, cr_err *err)
{
    const io_priv *p = f->priv;
    char v[64];
    (void)mark;
    if (cg->v2) {
        static const long long none[IO_N];
        char line[256];
        cr_cgroup2_io_max(p->dev, none, line, sizeof line);
        if (cr_rescg_write(cg, "io.max", line, err) != 0)
            return err->code;
    } else {
        snprintf(v, sizeof v, "%s 0", p->dev);
        for (int k = 0; k < IO_N; k++)
            if (p->lim[k] && cr_rescg_write(cg, io_files[k], v, err) != 0)
                return err->code;
    }
    if (json_object_get(d, "in_window"))
        return 0; /* counted by an earlier attempt */
    json_t *now = io_counts(cg, p->dev), *a = json_object_get(d, "at_apply");
    json_t *w = json_object();
    const char *key;
    json_t *val;
    json_object_foreach (now, key, val)
        json_object_set_new(
            w, key,
            json_integer(json_integer_value(val) -
                         json_integer_value(json_object_get(a, key))));
    json_decref(now);
    json_object_set_new(d, "in_window", w);
    return 0;
}

static const cr_reskind io_kind = {
    .controller = "blkio",
    .probe_file = "blkio.throttle.write_bps_device",
    .probe_file2 = "io.max",
    .limit = io_limit,
    .lift = io_lift,
    .on_nodes = 1,
};

static int io_prepare(cr_fault *f, cr_run *r, cr_err *err)
{
    if (cr_run_ssh_svc_node(r, f->target.service)) {
        int rc = io_node_device(f, r, err);
        if (rc != 0)
            return rc;
    }
    return cr_resfault_prepare(&io_kind, f, r, err);
}
static int io_apply(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    return cr_resfault_apply(&io_kind, f, r, act, err);
}
static int io_revert(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    return cr_resfault_revert(&io_kind, f, r, act, err);
}

const cr_fault_ops cr_fault_io_ops = {
    .kind = "io",
    .summary = "throttle the targeted replicas' reads and direct writes on "
               "the device of path (blkio, or cgroup v2 io.max) for for_s "
               "seconds",
    .params = io_params,
    .flags = CR_FAULT_NEEDS_DURATION | CR_FAULT_NEEDS_SERVICE,
    .requires = "root (or a delegated cgroup); cgroup v1 blkio controller, "
                "else cgroup v2 io (io.max); path on a block device (not "
                "tmpfs or overlay)",
    .parse = io_parse,
    .check = io_check,
    .prepare = io_prepare,
    .apply = io_apply,
    .revert = io_revert,
    .destroy = cr_resfault_destroy,
};
