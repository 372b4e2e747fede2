/* cpu: throttle the targeted replicas to quota_pct percent of one CPU for
 * for_s seconds, with the CFS bandwidth controller of their own cgroup
 * (cgroup v1 cpu.cfs_quota_us over cpu.cfs_period_us; cgroup v2 cpu.max
 * "QUOTA PERIOD").  Revert sets the quota back to unlimited (v1 -1, v2
 * "max").  The journal records the quota and how often the kernel
 * throttled the cgroup inside the window (cpu.stat: v1 throttled_time in
 * ns, v2 throttled_usec). */
#include "cr_resfault.h"

#include "base/cr_alloc.h"
#include "base/cr_cgroup.h"
#include "base/cr_cgroup2.h"

#include <stdio.h>

typedef struct cpu_priv {
    double quota_pct;
} cpu_priv;

static const cr_param cpu_params[] = {
    {"quota_pct", "number", NULL,
     "CPU time allowed, in percent of one CPU (1 to 6400; 50: half a CPU, "
     "200: two CPUs)"},
    {NULL, NULL, NULL, NULL},
};

static int cpu_parse(cr_vctx *vx, const json_t *obj, const char *path,
                     cr_fault *f)
{
    cpu_priv *p = cr_calloc(1, sizeof *p);
    if (!p)
        return CR_ENOMEM;
    f->priv = p;
    if (cr_vrequire(vx, obj, path, "quota_pct"))
        cr_vnum(vx, obj, path, "quota_pct", 1, 6400, 100, &p->quota_pct);
    return 0;
}

/* The period of cgroup cg (v2: the second field of cpu.max). */
static long long cpu_period(const cr_rescg *cg)
{
    char buf[64];
    long long q, period = -1;
    if (!cg->v2)
        period = cr_rescg_num(cg, "cpu.cfs_period_us", NULL);
    else if (cr_rescg_read(cg, "cpu.max", buf, sizeof buf) != 0 ||
             cr_cgroup2_parse_cpu_max(buf, &q, &period) != 0)
        period = -1;
    return period;
}

/* Time the kernel held cg back so far, in ns (v2 counts in us). */
static long long cpu_throttled_ns(const cr_rescg *cg)
{
    long long v;
    if (!cg->v2)
        return cr_rescg_num(cg, "cpu.stat", "throttled_time");
    /* (v2's name is its own: no v1 counterpart to map from) */
    if (!cg->in)
        return cr_cgroup_read_num(cg->path, "cpu.stat", "throttled_usec", &v) ==
                       0
                   ? v * 1000
                   : -1;
    cr_rescg v1 = *cg;
    v1.v2 = 0;
    v = cr_rescg_num(&v1, "cpu.stat", "throttled_usec");
    return v >= 0 ? v * 1000 : -1;
}

static int cpu_limit(const cr_fault *f, const cr_rescg *cg, json_t *d,
                     long long *mark, cr_err *err)
{
    const cpu_priv *p = f->priv;
    int v2 = cg->v2;
    long long period = cpu_period(cg);
    if (period <= 0)
        period = 100000;
    long long quota = (long long)(p->quota_pct / 100.0 * (double)period);
    if (quota < 1000)
        quota = 1000; /* the kernel's minimum */
    char v[48];
    if (v2)
        snprintf(v, sizeof v, "%lld %lld", quota, period);
    else
        snprintf(v, sizeof v, "%lld", quota);
    json_object_set_new(d, "cfs_period_us", json_integer(period));
    json_object_set_new(d, "cfs_quota_us", json_integer(quota));
    *mark = cr_rescg_num(cg, "cpu.stat", "nr_throttled");
    json_object_set_new(d, "at_apply",
                        json_pack("{s:I,s:I}", "nr_throttled",
                                  (json_int_t)*mark, "throttled_time_ns",
                                  (json_int_t)cpu_throttled_ns(cg)));
    return cr_rescg_write(cg, v2 ? "cpu.max" : "cpu.cfs_quota_us", v, err);
}

static int cpu_lift(const cr_fault *f, const cr_rescg *cg, json_t *d,
                    long long mark, cr_err *err)
{
    int rc = cg->v2 ? cr_rescg_write(cg, "cpu.max", "max", err)
                    : cr_rescg_write(cg, "cpu.cfs_quota_us", "-1", err);
    (void)f;
    if (rc != 0)
        return rc;
    json_t *a = json_object_get(d, "at_apply");
    long long t0 = json_integer_value(json_object_get(a, "throttled_time_ns"));
    long long n = cr_rescg_num(cg, "cpu.stat", "nr_throttled");
    long long t = cpu_throttled_ns(cg);
    json_object_set_new(d, "periods_throttled",
                        json_integer(n >= 0 && mark >= 0 ? n - mark : -1));
    json_object_set_new(
        d, "throttled_s",
        json_real(t >= 0 && t0 >= 0 ? (double)(t - t0) / 1e9 : -1.0));
    return 0;
}

static const cr_reskind cpu_kind = {
    .controller = "cpu",
    .probe_file = "cpu.cfs_quota_us",
    .probe_file2 = "cpu.max",
    .limit = cpu_limit,
    .lift = cpu_lift,
    .on_nodes = 1,
};

static int cpu_check(cr_fault *f, cr_run *r, cr_err *err)
{
    return cr_resfault_check(&cpu_kind, f, r, err);
}
static int cpu_prepare(cr_fault *f, cr_run *r, cr_err *err)
{
    return cr_resfault_prepare(&cpu_kind, f, r, err);
}
static int cpu_apply(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    return cr_resfault_apply(&cpu_kind, f, r, act, err);
}
static int cpu_revert(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    return cr_resfault_revert(&cpu_kind, f, r, act, err);
}

const cr_fault_ops cr_fault_cpu_ops = {
    .kind = "cpu",
    .summary = "throttle the targeted replicas to quota_pct % of a CPU (CFS "
               "quota of their own cgroup) for for_s seconds",
    .params = cpu_params,
    .flags = CR_FAULT_NEEDS_DURATION | CR_FAULT_NEEDS_SERVICE,
    .requires = "root (or a delegated cgroup); the cpu controller with CFS "
                "bandwidth: cgroup v1 (cpu.cfs_quota_us), else cgroup v2 "
                "(cpu.max)",
    .parse = cpu_parse,
    .check = cpu_check,
    .prepare = cpu_prepare,
    .apply = cpu_apply,
    .revert = cpu_revert,
    .destroy = cr_resfault_destroy,
};
