/* bandwidth: limit the rate of a host's links (or of the link between two
 * hosts) with a tbf root qdisc on the sending end, through libnl-route.
 * A host's limit applies to each of its links (one veth pair per peer).
 * On remote nodes (hosts with "ssh") tc makes the tbf on each sending node
 * over ssh, for the traffic towards the affected peers only (probed on
 * every sender before the run; engine/cr_run_ssh.c). */
#include "cr_netfault.h"

#include "base/cr_alloc.h"

#include <math.h>
#include <stdio.h>

typedef struct bw_priv {
    cr_netfault_where where;
    double rate_kbit, burst_kb, latency_ms;
} bw_priv;

static const cr_param bw_params[] = {
    CR_NETFAULT_WHERE_PARAMS,
    {"rate_kbit", "number", NULL, "rate in kbit/s"},
    {"burst_kb", "number", "max(10 ms at rate, 4)", "token bucket size in KiB"},
    {"latency_ms", "number", "50", "longest a packet may wait in the queue"},
    {NULL, NULL, NULL, NULL},
};

static int bw_parse(cr_vctx *vx, const json_t *obj, const char *path,
                    cr_fault *f)
{
    bw_priv *p = cr_calloc(1, sizeof *p);
    if (!p)
        return CR_ENOMEM;
    f->priv = p;
    cr_netfault_where_parse(vx, obj, path, &p->where);
    if (cr_vrequire(vx, obj, path, "rate_kbit") &&
        cr_vnum(vx, obj, path, "rate_kbit", 0, 16e6, 0, &p->rate_kbit) > 0 &&
        p->rate_kbit < 8) {
        char rp[CR_PATH_MAX];
        cr_path_key(rp, sizeof rp, path, "rate_kbit");
        cr_verr(vx, rp, "must be at least 8 (kbit/s)");
    }
    cr_vnum(vx, obj, path, "burst_kb", 0, 1 << 20, 0, &p->burst_kb);
    cr_vnum(vx, obj, path, "latency_ms", 0, 60000, 50, &p->latency_ms);
    return 0;
}

static int bw_check(cr_fault *f, cr_run *r, cr_err *err)
{
    if (cr_netfault_on_nodes(r)) /* probed on the nodes (prepare) */
        return 0;
    cr_net_caps caps;
    int rc = cr_run_net_caps(r, &caps, err);
    if (rc < 0)
        return rc;
    if (!caps.tbf)
        return cr_err_set(err, CR_EUNSUP,
                          "bandwidth %s: kernel lacks sch_tbf (%s)", f->name,
                          caps.tbf_why);
    return 0;
}

static int build_tbf(const void *ctx, int ifindex, struct nl_msg **out,
                     cr_err *err)
{
    const bw_priv *p = ctx;
    return cr_net_tbf_build(ifindex, p->rate_kbit, p->burst_kb * 1024,
                            p->latency_ms, out, err);
}

/* On nodes: the tbf in tc's words, with cr_net_tbf_build's defaults. */
static void bw_child(const bw_priv *p, char *child, size_t n)
{
    double rate = p->rate_kbit * 1000.0 / 8.0; /* bytes/s */
    double burst =
        p->burst_kb > 0 ? p->burst_kb * 1024 : fmax(rate * 0.010, 4096);
    snprintf(child, n, "tbf rate %gkbit burst %.0f latency %gms", p->rate_kbit,
             burst, p->latency_ms > 0 ? p->latency_ms : 50);
}

static int bw_prepare(cr_fault *f, cr_run *r, cr_err *err)
{
    bw_priv *p = f->priv;
    char child[160];
    if (!cr_netfault_on_nodes(r))
        return 0;
    bw_child(p, child, sizeof child);
    return cr_netfault_ssh_probe(f, r, &p->where, child, err);
}

static int bw_apply(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    bw_priv *p = f->priv;
    cr_net_topo *t;
    if (cr_netfault_on_nodes(r)) {
        char child[160];
        bw_child(p, child, sizeof child);
        if (act->details)
            json_object_set_new(act->details, "rate_kbit",
                                json_real(p->rate_kbit));
        return cr_netfault_ssh_apply(r, act, &p->where, "tbf over ssh", child,
                                     err);
    }
    int rc = cr_netfault_topo(f, r, &t, err);
    if (rc < 0)
        return rc;
    cr_net_flow flows[CR_NET_MAX_HOSTS * 2];
    size_t n = cr_netfault_flows(t, &p->where, flows);
    char where[160];
    cr_netfault_where_text(&p->where, where, sizeof where);
    const char *aimed[] = {p->where.host, p->where.peer};
    cr_netfault_note_hosts(act, aimed, 2);
    if (act->details) {
        json_object_set_new(act->details, "backend", json_string("tbf"));
        json_object_set_new(act->details, "where", json_string(where));
        json_object_set_new(act->details, "rate_kbit", json_real(p->rate_kbit));
    }
    return cr_netfault_qdiscs(f, r, act, flows, n, build_tbf, p, err);
}

static void bw_destroy(cr_fault *f)
{
    cr_free(f->priv);
    f->priv = NULL;
}

const cr_fault_ops cr_fault_bandwidth_ops = {
    .kind = "bandwidth",
    .summary = "limit the rate of a host's links (tbf)",
    .params = bw_params,
    .flags = CR_FAULT_NEEDS_DURATION | CR_FAULT_NO_TARGET,
    .requires = "root; hosts; sch_tbf in the kernel; on ssh nodes: tc, "
                "unshare, sch_tbf, sch_htb and cls_u32 on each sender",
    .parse = bw_parse,
    .check = bw_check,
    .prepare = bw_prepare,
    .apply = bw_apply,
    .revert = cr_netfault_revert,
    .destroy = bw_destroy,
};
