/* cr_netfault: shared parts of the network fault kinds (see cr_netfault.h). */
#include "cr_netfault.h"

#include "base/cr_alloc.h"

#include <netlink/msg.h>
#include <stdio.h>
#include <string.h>

static const char *const dir_names[] = {"egress", "ingress", "both", NULL};

static int host_known(cr_vctx *vx, const char *path, const char *name)
{
    if (cr_net_host_exists(cr_vscen(vx)->hosts, name))
        return 1;
    cr_verr(vx, path, "unknown host \"%s\" (not in the hosts section)", name);
    return 0;
}

int cr_netfault_where_parse(cr_vctx *vx, const json_t *obj, const char *path,
                            cr_netfault_where *w)
{
    char p[CR_PATH_MAX];
    memset(w, 0, sizeof *w);
    /* direction first, so that its problems are reported with the others */
    int d = 2, ok = cr_venum(vx, obj, path, "direction", dir_names, 2, &d) >= 0;
    w->dir = d + 1; /* egress 1, ingress 2, both 3 */
    const json_t *between = json_object_get(obj, "between");
    if (cr_vstr(vx, obj, path, "host", NULL, &w->host) < 0)
        return 0;
    if (!cr_vscen(vx)->hosts) {
        cr_verr(vx, path, "network faults need a hosts section");
        return 0;
    }
    if (between) {
        cr_path_key(p, sizeof p, path, "between");
        if (w->host) {
            cr_verr(vx, p, "give either host or between, not both");
            return 0;
        }
        if (!json_is_array(between) || json_array_size(between) != 2 ||
            !json_is_string(json_array_get(between, 0)) ||
            !json_is_string(json_array_get(between, 1))) {
            cr_verr(vx, p, "must be an array of two host names");
            return 0;
        }
        w->host = json_string_value(json_array_get(between, 0));
        w->peer = json_string_value(json_array_get(between, 1));
        if (strcmp(w->host, w->peer) == 0) {
            cr_verr(vx, p, "names the same host twice");
            return 0;
        }
        ok &= host_known(vx, p, w->host);
        ok &= host_known(vx, p, w->peer);
    } else if (!w->host) {
        cr_verr(vx, path, "needs host or between");
        return 0;
    } else {
        cr_path_key(p, sizeof p, path, "host");
        ok &= host_known(vx, p, w->host);
    }
    return ok;
}

void cr_netfault_where_text(const cr_netfault_where *w, char *buf, size_t n)
{
    if (w->peer)
        snprintf(buf, n, "%s<->%s (%s)", w->host, w->peer,
                 cr_net_dir_names[w->dir]);
    else
        snprintf(buf, n, "%s (%s)", w->host, cr_net_dir_names[w->dir]);
}

int cr_netfault_topo(cr_fault *f, cr_run *r, cr_net_topo **out, cr_err *err)
{
    *out = cr_run_net_topo(r);
    if (!*out)
        return cr_err_set(err, CR_ESTATE, "fault %s: the hosts are not set up",
                          f->name);
    return 0;
}

size_t cr_netfault_flows(cr_net_topo *t, const cr_netfault_where *w,
                         cr_net_flow *out)
{
    int h = cr_net_topo_index(t, w->host);
    int p = w->peer ? cr_net_topo_index(t, w->peer) : -1;
    if (h < 0 || (w->peer && p < 0))
        return 0;
    return cr_net_flows(t, h, p, w->dir, out, CR_NET_MAX_HOSTS * 2);
}

cr_net_undo *cr_netfault_undo(cr_fault_act *act, cr_err *err)
{
    if (!act->state && !(act->state = cr_net_undo_new()))
        cr_err_set(err, CR_ENOMEM, "network fault: out of memory");
    return act->state;
}

static void detail_append(cr_fault_act *act, const char *key, const char *text)
{
    if (!act->details)
        return;
    json_t *a = json_object_get(act->details, key);
    if (!a) {
        a = json_array();
        if (!a || json_object_set_new(act->details, key, a) != 0)
            return;
    }
    json_array_append_new(a, json_string(text));
}

void cr_netfault_note_hosts(cr_fault_act *act, const char *const *hosts,
                            size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (hosts[i])
            detail_append(act, "hosts", hosts[i]);
}

static void flow_text(cr_net_topo *t, const cr_net_flow *fl, char *buf,
                      size_t n)
{
    snprintf(buf, n, "%s->%s", cr_net_topo_name(t, fl->from),
             cr_net_topo_name(t, fl->to));
}

int cr_netfault_qdiscs(cr_fault *f, cr_run *r, cr_fault_act *act,
                       const cr_net_flow *flows, size_t n,
                       cr_netfault_build_fn build, const void *ctx, cr_err *err)
{
    cr_net_topo *t;
    int rc = cr_netfault_topo(f, r, &t, err);
    if (rc < 0)
        return rc;
    cr_net_undo *u = cr_netfault_undo(act, err);
    if (!u)
        return CR_ENOMEM;
    for (size_t k = 0; k < n; k++) {
        char ifn[16], text[80];
        cr_net_ifname(flows[k].to, ifn, sizeof ifn);
        int idx =
            cr_netns_ifindex(cr_net_topo_sock(t, flows[k].from), ifn, err);
        if (idx < 0)
            return idx;
        struct nl_msg *msg = NULL;
        if ((rc = build(ctx, idx, &msg, err)) < 0)
            return rc;
        rc = cr_net_qdisc_add(t, flows[k].from, ifn, msg, u, err);
        nlmsg_free(msg);
        if (rc < 0)
            return rc;
        flow_text(t, &flows[k], text, sizeof text);
        detail_append(act, "flows", text);
    }
    return 0;
}

int cr_netfault_drops(cr_fault *f, cr_run *r, cr_fault_act *act,
                      const cr_net_flow *flows, size_t n, unsigned ppm,
                      cr_err *err)
{
    cr_net_topo *t;
    int rc = cr_netfault_topo(f, r, &t, err);
    if (rc < 0)
        return rc;
    cr_net_undo *u = cr_netfault_undo(act, err);
    if (!u)
        return CR_ENOMEM;
    const cr_scen *sc = cr_run_scen(r);
    long fidx = f - sc->faults;
    cr_net_flow mine[CR_NET_MAX_HOSTS];
    /* One table per receiving host holds a chain per sender interface. */
    for (size_t to = 0; to < cr_net_topo_count(t); to++) {
        size_t m = 0;
        for (size_t k = 0; k < n; k++)
            if (flows[k].to == (int)to && m < CR_NET_MAX_HOSTS)
                mine[m++] = flows[k];
        if (m == 0)
            continue;
        char table[96], text[160];
        snprintf(table, sizeof table, "%s_f%ld_o%d", cr_net_topo_prefix(t),
                 fidx, act->occurrence);
        char *rs = cr_net_nft_drop_ruleset(table, mine, m, ppm);
        if (!rs)
            return cr_err_set(err, CR_ENOMEM, "fault %s: out of memory",
                              f->name);
        rc = cr_net_nft_add(t, (int)to, table, rs, u, err);
        cr_free(rs);
        if (rc < 0)
            return rc;
        snprintf(text, sizeof text, "%s:%s", cr_net_topo_name(t, (int)to),
                 table);
        detail_append(act, "nft_tables", text);
        for (size_t k = 0; k < m; k++) {
            flow_text(t, &mine[k], text, sizeof text);
            detail_append(act, "flows", text);
        }
    }
    return 0;
}

int cr_netfault_on_nodes(cr_run *r)
{
    const cr_net_hosts *h = cr_run_scen(r)->hosts;
    return h && h->nssh;
}

size_t cr_netfault_node_flows(cr_run *r, const cr_netfault_where *w,
                              const char *out[][2], size_t max)
{
    const cr_net_hosts *h = cr_run_scen(r)->hosts;
    size_t k = 0;
    for (size_t j = 0; h && j < h->n; j++) {
        const char *o = h->v[j].name;
        if (strcmp(o, w->host) == 0 || (w->peer && strcmp(o, w->peer) != 0))
            continue;
        if ((w->dir & CR_NET_EGRESS) && k < max) {
            out[k][0] = w->host;
            out[k++][1] = o;
        }
        if ((w->dir & CR_NET_INGRESS) && k < max) {
            out[k][0] = o;
            out[k++][1] = w->host;
        }
    }
    return k;
}

int cr_netfault_ssh_probe(cr_fault *f, cr_run *r, const cr_netfault_where *w,
                          const char *child, cr_err *err)
{
    const char *flows[CR_NET_MAX_HOSTS * 2][2];
    size_t n = cr_netfault_node_flows(r, w, flows, CR_NET_MAX_HOSTS * 2);
    return cr_run_ssh_qdisc_probe(r, (const char *const(*)[2])flows, n, f->path,
                                  child, err);
}

int cr_netfault_ssh_apply(cr_run *r, cr_fault_act *act,
                          const cr_netfault_where *w, const char *backend,
                          const char *child, cr_err *err)
{
    const char *flows[CR_NET_MAX_HOSTS * 2][2];
    size_t n = cr_netfault_node_flows(r, w, flows, CR_NET_MAX_HOSTS * 2);
    char where[160];
    cr_netfault_where_text(w, where, sizeof where);
    const char *aimed[] = {w->host, w->peer};
    cr_netfault_note_hosts(act, aimed, 2);
    if (act->details) {
        json_object_set_new(act->details, "backend", json_string(backend));
        json_object_set_new(act->details, "where", json_string(where));
        json_object_set_new(act->details, "tc", json_string(child));
    }
    return cr_run_ssh_qdisc(r, (const char *const(*)[2])flows, n, child,
                            &act->state, err);
}

int cr_netfault_revert(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    if (!act->state)
        return 0;
    if (cr_netfault_on_nodes(r)) {
        int rc = cr_run_ssh_qdisc_revert(r, act->state, err);
        if (rc == 0)
            act->state = NULL;
        return rc;
    }
    cr_net_topo *t = cr_run_net_topo(r);
    int rc = 0;
    if (t)
        rc = cr_net_undo_run(t, act->state, err);
    /* Without the topology the namespaces (and everything in them) are
     * already gone. */
    if (rc == 0) {
        cr_net_undo_free(act->state);
        act->state = NULL;
    }
    return rc;
}
