/* netem: delay, jitter, loss, duplication, corruption, reordering and rate
 * on the links of a host or between two hosts, through a netem root qdisc
 * on the sending end of each affected link (libnl-route; see
 * harness/net/cr_netem.h for units and raw attributes).
 *
 * On a kernel without sch_netem the fault is refused at check time (exit
 * 3, naming sch_netem) unless it says "fallback": "emulate" and asks only
 * for what can be emulated faithfully: random loss without correlation
 * (an nftables netdev ingress drop on the receiving end: silent, like a
 * lost packet) and rate (a tbf qdisc).  Delay and jitter are never
 * dropped silently.  act->details.backend says what was used.
 *
 * On remote nodes (hosts with "ssh") the same qdisc is made by tc on each
 * sending node over ssh (engine/cr_run_ssh.c), probed on every sender in
 * a throw-away network namespace before the run: a node without sch_netem
 * exits 3 naming it ("fallback" is for namespace hosts only). */
#include "net/cr_netem.h"
#include "cr_netfault.h"

#include "base/cr_alloc.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { BACKEND_UNKNOWN, BACKEND_NETEM, BACKEND_EMULATE };
static const char *const fallback_names[] = {"none", "emulate", NULL};

typedef struct netem_priv {
    cr_netfault_where where;
    cr_netem_spec spec;
    int fallback; /* 0 none, 1 emulate */
    int backend;  /* decided by check() */
} netem_priv;

static const cr_param netem_params[] = {
    CR_NETFAULT_WHERE_PARAMS,
    {"delay_ms", "number", "0", "added one-way delay"},
    {"jitter_ms", "number", "0", "delay variation (needs delay_ms)"},
    {"delay_correlation", "number", "0",
     "percent; correlation of successive jitter values"},
    {"distribution", "string", "\"uniform\"",
     "jitter distribution: uniform, normal, pareto, paretonormal"},
    {"loss", "number", "0", "percent of packets dropped at random"},
    {"loss_correlation", "number", "0", "percent (needs loss)"},
    {"loss_model", "object", "none",
     "{\"gemodel\": {\"p\", \"r\", \"1-h\", \"1-k\"}} or {\"state\": {\"p13\", "
     "\"p31\", \"p32\", \"p23\", \"p14\"}} (percents, as tc)"},
    {"duplicate", "number", "0", "percent of packets sent twice"},
    {"duplicate_correlation", "number", "0", "percent (needs duplicate)"},
    {"corrupt", "number", "0", "percent of packets with one bit flipped"},
    {"corrupt_correlation", "number", "0", "percent (needs corrupt)"},
    {"reorder", "number", "0",
     "percent of packets sent at once, ahead of delayed ones (needs delay_ms)"},
    {"reorder_correlation", "number", "0", "percent (needs reorder)"},
    {"gap", "integer", "1", "reorder every gap-th packet (needs reorder)"},
    {"rate_kbit", "number", "0", "rate limit in kbit/s"},
    {"slot_min_ms", "number", "slot_max_ms",
     "slotting: shortest interval between bursts"},
    {"slot_max_ms", "number", "0",
     "slotting: packets leave in bursts every slot_min_ms..slot_max_ms"},
    {"slot_packets", "integer", "0",
     "slotting: at most this many packets per burst (0: no limit)"},
    {"slot_bytes", "integer", "0",
     "slotting: at most this many bytes per burst (0: no limit)"},
    {"limit", "integer", "1000", "netem queue length in packets"},
    {"fallback", "string", "\"none\"",
     "\"emulate\": without sch_netem, emulate random loss with nftables and "
     "rate with tbf"},
    {NULL, NULL, NULL, NULL},
};

static int parse_model(cr_vctx *vx, const json_t *obj, const char *path,
                       cr_netem_spec *s)
{
    static const cr_param ge_keys[] = {{"p", "number", NULL, ""},
                                       {"r", "number", NULL, ""},
                                       {"1-h", "number", NULL, ""},
                                       {"1-k", "number", NULL, ""},
                                       {NULL, NULL, NULL, NULL}};
    static const cr_param st_keys[] = {
        {"p13", "number", NULL, ""}, {"p31", "number", NULL, ""},
        {"p32", "number", NULL, ""}, {"p23", "number", NULL, ""},
        {"p14", "number", NULL, ""}, {NULL, NULL, NULL, NULL}};
    const json_t *m = json_object_get(obj, "loss_model");
    char p[CR_PATH_MAX], q[CR_PATH_MAX];
    if (!m)
        return 1;
    cr_path_key(p, sizeof p, path, "loss_model");
    const json_t *ge = json_object_get(m, "gemodel"),
                 *st = json_object_get(m, "state");
    if (!json_is_object(m) || json_object_size(m) != 1 ||
        (!json_is_object(ge) && !json_is_object(st))) {
        cr_verr(vx, p, "must be {\"gemodel\": {...}} or {\"state\": {...}}");
        return 0;
    }
    size_t before = cr_vcount(vx);
    if (ge) {
        /* tc's defaults: r = 100 - p, 1-h = 100, 1-k = 0. */
        cr_path_key(q, sizeof q, p, "gemodel");
        cr_vkeys(vx, ge, q, ge_keys, NULL);
        s->loss_model = CR_NETEM_LOSS_GE;
        cr_vrequire(vx, ge, q, "p");
        cr_vnum(vx, ge, q, "p", 0, 100, 0, &s->ge[0]);
        cr_vnum(vx, ge, q, "r", 0, 100, 100 - s->ge[0], &s->ge[1]);
        cr_vnum(vx, ge, q, "1-h", 0, 100, 100, &s->ge[2]);
        cr_vnum(vx, ge, q, "1-k", 0, 100, 0, &s->ge[3]);
    } else {
        /* tc's defaults: p31 = 100 - p13, p32 = 0, p23 = 100, p14 = 0. */
        cr_path_key(q, sizeof q, p, "state");
        cr_vkeys(vx, st, q, st_keys, NULL);
        s->loss_model = CR_NETEM_LOSS_STATE;
        cr_vrequire(vx, st, q, "p13");
        cr_vnum(vx, st, q, "p13", 0, 100, 0, &s->state[0]);
        cr_vnum(vx, st, q, "p31", 0, 100, 100 - s->state[0], &s->state[1]);
        cr_vnum(vx, st, q, "p32", 0, 100, 0, &s->state[2]);
        cr_vnum(vx, st, q, "p23", 0, 100, 100, &s->state[3]);
        cr_vnum(vx, st, q, "p14", 0, 100, 0, &s->state[4]);
    }
    return cr_vcount(vx) == before;
}

static int netem_parse(cr_vctx *vx, const json_t *obj, const char *path,
                       cr_fault *f)
{
    netem_priv *p = cr_calloc(1, sizeof *p);
    if (!p)
        return CR_ENOMEM;
    f->priv = p;
    size_t before = cr_vcount(vx);
    cr_netem_spec *s = &p->spec;
    long long ll = 0;
    cr_netfault_where_parse(vx, obj, path, &p->where);
    cr_vnum(vx, obj, path, "delay_ms", 0, 60000, 0, &s->delay_ms);
    cr_vnum(vx, obj, path, "jitter_ms", 0, 60000, 0, &s->jitter_ms);
    cr_vnum(vx, obj, path, "delay_correlation", 0, 100, 0, &s->delay_corr);
    int dist = 0;
    static const char *const dists[] = {"uniform", "normal", "pareto",
                                        "paretonormal", NULL};
    if (cr_venum(vx, obj, path, "distribution", dists, 0, &dist) > 0)
        s->dist = dist == 0 ? CR_NETEM_DIST_UNIFORM : dist;
    cr_vnum(vx, obj, path, "loss", 0, 100, 0, &s->loss);
    cr_vnum(vx, obj, path, "loss_correlation", 0, 100, 0, &s->loss_corr);
    parse_model(vx, obj, path, s);
    cr_vnum(vx, obj, path, "duplicate", 0, 100, 0, &s->duplicate);
    cr_vnum(vx, obj, path, "duplicate_correlation", 0, 100, 0,
            &s->duplicate_corr);
    cr_vnum(vx, obj, path, "corrupt", 0, 100, 0, &s->corrupt);
    cr_vnum(vx, obj, path, "corrupt_correlation", 0, 100, 0, &s->corrupt_corr);
    cr_vnum(vx, obj, path, "reorder", 0, 100, 0, &s->reorder);
    cr_vnum(vx, obj, path, "reorder_correlation", 0, 100, 0, &s->reorder_corr);
    if (cr_vint(vx, obj, path, "gap", 0, 1000000, 0, &ll) > 0)
        s->gap = (int)ll;
    cr_vnum(vx, obj, path, "rate_kbit", 0, 1e9, 0, &s->rate_kbit);
    cr_vnum(vx, obj, path, "slot_max_ms", 0, 60000, 0, &s->slot_max_ms);
    cr_vnum(vx, obj, path, "slot_min_ms", 0, 60000, s->slot_max_ms,
            &s->slot_min_ms);
    if (cr_vint(vx, obj, path, "slot_packets", 0, INT32_MAX, 0, &ll) > 0)
        s->slot_packets = (int)ll;
    if (cr_vint(vx, obj, path, "slot_bytes", 0, INT32_MAX, 0, &ll) > 0)
        s->slot_bytes = (int)ll;
    if (cr_vint(vx, obj, path, "limit", 1, 10000000, 1000, &ll) > 0)
        s->limit = (unsigned)ll;
    cr_venum(vx, obj, path, "fallback", fallback_names, 0, &p->fallback);
    if (cr_vcount(vx) != before)
        return 0;
    /* "uniform" given explicitly is valid only with jitter, like tc's. */
    cr_err e;
    cr_err_clear(&e);
    if (cr_netem_validate(s, &e) < 0) {
        /* Point at the key the rule is about ("gap needs reorder": gap). */
        char key[64], kp[CR_PATH_MAX];
        snprintf(key, sizeof key, "%.*s", (int)strcspn(e.msg, " "), e.msg);
        if (json_object_get(obj, key)) {
            cr_path_key(kp, sizeof kp, path, key);
            cr_verr(vx, kp, "%s", e.msg);
        } else {
            cr_verr(vx, path, "%s", e.msg);
        }
        return 0;
    }
    if (!(s->delay_ms > 0 || s->loss > 0 || s->loss_model || s->duplicate > 0 ||
          s->corrupt > 0 || s->rate_kbit > 0 || s->slot_max_ms > 0))
        cr_verr(vx, path,
                "netem needs at least one of delay_ms, loss, "
                "loss_model, duplicate, corrupt, rate_kbit, slot_max_ms");
    return 0;
}

static int netem_check(cr_fault *f, cr_run *r, cr_err *err)
{
    netem_priv *p = f->priv;
    cr_net_caps caps;
    char where[160];
    cr_netfault_where_text(&p->where, where, sizeof where);
    if (cr_netfault_on_nodes(r)) { /* probed on the nodes (prepare) */
        p->backend = BACKEND_NETEM;
        return 0;
    }
    int rc = cr_run_net_caps(r, &caps, err);
    if (rc < 0)
        return rc;
    if (caps.netem) {
        p->backend = BACKEND_NETEM;
        return 0;
    }
    char missing[256];
    if (p->fallback != 1)
        return cr_err_set(err, CR_EUNSUP,
                          "netem on %s: kernel lacks sch_netem (%s); set "
                          "\"fallback\": \"emulate\" to emulate loss with "
                          "nftables, or use the fault proxy for delay",
                          where, caps.netem_why);
    if (!cr_netem_emulable(&p->spec, missing, sizeof missing))
        return cr_err_set(err, CR_EUNSUP,
                          "netem on %s: kernel lacks sch_netem (%s) and %s "
                          "cannot be emulated faithfully without it (use the "
                          "fault proxy for delay)",
                          where, caps.netem_why, missing);
    if (p->spec.loss > 0 && !caps.nft)
        return cr_err_set(err, CR_EUNSUP,
                          "netem on %s: emulating loss needs nftables netdev "
                          "ingress: %s",
                          where, caps.nft_why);
    if (p->spec.rate_kbit > 0 && !caps.tbf)
        return cr_err_set(err, CR_EUNSUP,
                          "netem on %s: emulating rate needs sch_tbf: %s",
                          where, caps.tbf_why);
    p->backend = BACKEND_EMULATE;
    return 0;
}

static int build_netem(const void *ctx, int ifindex, struct nl_msg **out,
                       cr_err *err)
{
    return cr_netem_build(ctx, ifindex, out, err);
}

static int build_tbf(const void *ctx, int ifindex, struct nl_msg **out,
                     cr_err *err)
{
    const cr_netem_spec *s = ctx;
    return cr_net_tbf_build(ifindex, s->rate_kbit, 0, 0, out, err);
}

/* On nodes: the parameters in tc's words. */
static int netem_child(cr_fault *f, char *child, size_t n, cr_err *err)
{
    netem_priv *p = f->priv;
    if (cr_netem_tc_args(&p->spec, child, n) != 0)
        return cr_err_set(err, CR_EINVAL, "netem %s: too many parameters",
                          f->name);
    return 0;
}

static int netem_prepare(cr_fault *f, cr_run *r, cr_err *err)
{
    netem_priv *p = f->priv;
    char child[512];
    if (!cr_netfault_on_nodes(r))
        return 0;
    int rc = netem_child(f, child, sizeof child, err);
    return rc ? rc : cr_netfault_ssh_probe(f, r, &p->where, child, err);
}

static int netem_apply(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    netem_priv *p = f->priv;
    cr_net_topo *t;
    if (cr_netfault_on_nodes(r)) {
        char child[512];
        int rc = netem_child(f, child, sizeof child, err);
        return rc ? rc
                  : cr_netfault_ssh_apply(r, act, &p->where, "netem over ssh",
                                          child, err);
    }
    int rc = cr_netfault_topo(f, r, &t, err);
    if (rc < 0)
        return rc;
    cr_net_flow flows[CR_NET_MAX_HOSTS * 2];
    size_t n = cr_netfault_flows(t, &p->where, flows);
    char summary[256], where[160];
    cr_netem_format(&p->spec, summary, sizeof summary);
    cr_netfault_where_text(&p->where, where, sizeof where);
    const char *aimed[] = {p->where.host, p->where.peer};
    cr_netfault_note_hosts(act, aimed, 2);
    if (act->details) {
        json_object_set_new(act->details, "where", json_string(where));
        json_object_set_new(act->details, "netem", json_string(summary));
    }
    if (p->backend == BACKEND_NETEM) {
        if (act->details)
            json_object_set_new(act->details, "backend", json_string("netem"));
        return cr_netfault_qdiscs(f, r, act, flows, n, build_netem, &p->spec,
                                  err);
    }
    if (p->backend != BACKEND_EMULATE)
        return cr_err_set(err, CR_ESTATE, "fault %s: not checked", f->name);
    cr_net_caps caps;
    if (act->details && cr_run_net_caps(r, &caps, NULL) == 0)
        json_object_set_new(
            act->details, "emulated_because",
            json_sprintf("kernel lacks sch_netem (%s)", caps.netem_why));
    json_t *be = json_array();
    if (p->spec.loss > 0) {
        json_array_append_new(be, json_string("nftables"));
        rc = cr_netfault_drops(f, r, act, flows, n,
                               (unsigned)llround(p->spec.loss * 10000), err);
    }
    if (rc == 0 && p->spec.rate_kbit > 0) {
        json_array_append_new(be, json_string("tbf"));
        rc = cr_netfault_qdiscs(f, r, act, flows, n, build_tbf, &p->spec, err);
    }
    if (act->details && be)
        json_object_set_new(act->details, "backend",
                            json_array_size(be) == 1
                                ? json_incref(json_array_get(be, 0))
                                : json_incref(be));
    json_decref(be);
    return rc;
}

static void netem_destroy(cr_fault *f)
{
    cr_free(f->priv);
    f->priv = NULL;
}

const cr_fault_ops cr_fault_netem_ops = {
    .kind = "netem",
    .summary = "delay, jitter, loss, duplication, corruption, reordering, rate "
               "on a host's links (netem; loss and rate emulable)",
    .params = netem_params,
    .flags = CR_FAULT_NEEDS_DURATION | CR_FAULT_NO_TARGET,
    .requires =
        "root; hosts; sch_netem in the kernel (else \"fallback\": "
        "\"emulate\" with nftables netdev ingress and sch_tbf); on "
        "ssh nodes: tc, unshare, sch_netem, sch_htb and cls_u32 on each sender",
    .parse = netem_parse,
    .check = netem_check,
    .prepare = netem_prepare,
    .apply = netem_apply,
    .revert = cr_netfault_revert,
    .destroy = netem_destroy,
};
