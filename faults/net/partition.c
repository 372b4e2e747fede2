/* partition: cut the network between groups of hosts for for_s seconds.
 *
 * "groups": [["h1"], ["h2", "h3"]] splits the hosts; hosts named in no
 * group keep talking to everyone.  "direction": "both" cuts every pair of
 * hosts in different groups both ways; "one-way" cuts only traffic from a
 * host of an earlier group to a host of a later one (replies still flow
 * the other way, so e.g. TCP handshakes fail from both sides but UDP from
 * the later group still arrives).
 *
 * The cut is a drop in an nftables netdev ingress chain on the receiving
 * end of each link: silent, like a lost packet (a drop in the sender's
 * output path would return EPERM to the sender instead).  On remote nodes
 * (hosts with "ssh") it is an inet input chain on each node dropping what
 * comes from the other groups' addresses, loaded over ssh, as Jepsen does
 * (engine/cr_run_ssh.c). */
#include "cr_netfault.h"

#include "base/cr_alloc.h"

#include <string.h>

enum { PART_BOTH, PART_ONE_WAY };
static const char *const part_dirs[] = {"both", "one-way", NULL};

typedef struct part_priv {
    size_t ngroups;
    const char **names[CR_NET_MAX_HOSTS]; /* per group, NULL-terminated */
    int dir;
} part_priv;

static const cr_param part_params[] = {
    {"groups", "array", NULL,
     "array of at least two arrays of host names; a host in at most one group"},
    {"direction", "string", "\"both\"",
     "both, or one-way (only from earlier groups to later ones)"},
    {NULL, NULL, NULL, NULL},
};

static void part_destroy(cr_fault *f)
{
    part_priv *p = f->priv;
    if (!p)
        return;
    for (size_t g = 0; g < p->ngroups; g++)
        cr_free(p->names[g]);
    cr_free(p);
    f->priv = NULL;
}

static int part_parse(cr_vctx *vx, const json_t *obj, const char *path,
                      cr_fault *f)
{
    part_priv *p = cr_calloc(1, sizeof *p);
    if (!p)
        return CR_ENOMEM;
    f->priv = p;
    char gp[CR_PATH_MAX], hp[CR_PATH_MAX];
    cr_venum(vx, obj, path, "direction", part_dirs, PART_BOTH, &p->dir);
    const cr_scen *sc = cr_vscen(vx);
    if (!sc->hosts) {
        cr_verr(vx, path, "partition needs a hosts section");
        return 0;
    }
    if (!cr_vrequire(vx, obj, path, "groups"))
        return 0;
    const json_t *groups = json_object_get(obj, "groups");
    cr_path_key(gp, sizeof gp, path, "groups");
    if (!json_is_array(groups) || json_array_size(groups) < 2 ||
        json_array_size(groups) > CR_NET_MAX_HOSTS) {
        cr_verr(vx, gp, "must be an array of at least two groups of hosts");
        return 0;
    }
    const char *seen[CR_NET_MAX_HOSTS];
    size_t nseen = 0;
    size_t gi;
    json_t *g;
    json_array_foreach (groups, gi, g) {
        char gpi[CR_PATH_MAX];
        cr_path_idx(gpi, sizeof gpi, gp, gi);
        if (!json_is_array(g) || json_array_size(g) == 0) {
            cr_verr(vx, gpi, "must be a non-empty array of host names");
            continue;
        }
        const char **names = cr_calloc(json_array_size(g) + 1, sizeof *names);
        if (!names)
            return CR_ENOMEM;
        p->names[p->ngroups++] = names;
        size_t hi, k = 0;
        json_t *h;
        json_array_foreach (g, hi, h) {
            cr_path_idx(hp, sizeof hp, gpi, hi);
            const char *name = json_string_value(h);
            if (!name) {
                cr_verr(vx, hp, "must be a host name");
                continue;
            }
            if (!cr_net_host_exists(sc->hosts, name)) {
                cr_verr(vx, hp,
                        "unknown host \"%s\" (not in the hosts section)", name);
                continue;
            }
            int dup = 0;
            for (size_t s = 0; s < nseen; s++)
                dup |= strcmp(seen[s], name) == 0;
            if (dup) {
                cr_verr(vx, hp, "host \"%s\" is in more than one group", name);
                continue;
            }
            if (nseen < CR_NET_MAX_HOSTS)
                seen[nseen++] = name;
            names[k++] = name;
        }
    }
    return 0;
}

static int is_ssh(cr_run *r)
{
    const cr_net_hosts *h = cr_run_scen(r)->hosts;
    return h && h->nssh;
}

static int part_check(cr_fault *f, cr_run *r, cr_err *err)
{
    if (is_ssh(r)) /* nft on the nodes: a failure is the apply's */
        return 0;
    cr_net_caps caps;
    int rc = cr_run_net_caps(r, &caps, err);
    if (rc < 0)
        return rc;
    if (!caps.nft)
        return cr_err_set(err, CR_EUNSUP,
                          "partition %s: needs nftables netdev ingress "
                          "chains: %s",
                          f->name, caps.nft_why);
    return 0;
}

/* The isolated side: every group smaller than the largest (the minority,
 * cut off from the rest), or every group when the largest is shared. */
static void note_isolated(const part_priv *p, cr_fault_act *act)
{
    size_t size[CR_NET_MAX_HOSTS], big = 0, nbig = 0;
    for (size_t g = 0; g < p->ngroups; g++) {
        size[g] = 0;
        for (const char **y = p->names[g]; *y; y++)
            size[g]++;
        if (size[g] > big)
            big = size[g];
    }
    for (size_t g = 0; g < p->ngroups; g++)
        nbig += size[g] == big;
    for (size_t g = 0; g < p->ngroups; g++)
        if (size[g] < big || nbig > 1)
            cr_netfault_note_hosts(act, p->names[g], size[g]);
}

static int part_apply(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    part_priv *p = f->priv;
    cr_net_topo *t;
    if (is_ssh(r)) {
        note_isolated(p, act);
        if (act->details) {
            json_object_set_new(act->details, "backend",
                                json_string("nftables over ssh"));
            json_object_set_new(act->details, "direction",
                                json_string(part_dirs[p->dir]));
        }
        return cr_run_ssh_partition(r, (const char **const *)p->names,
                                    p->ngroups, p->dir == PART_ONE_WAY,
                                    &act->state, err);
    }
    int rc = cr_netfault_topo(f, r, &t, err);
    if (rc < 0)
        return rc;
    cr_net_flow flows[CR_NET_MAX_HOSTS * CR_NET_MAX_HOSTS / 2];
    size_t n = 0, max = sizeof flows / sizeof flows[0];
    for (size_t a = 0; a < p->ngroups; a++)
        for (size_t b = a + 1; b < p->ngroups; b++)
            for (const char **x = p->names[a]; *x; x++)
                for (const char **y = p->names[b]; *y; y++) {
                    int i = cr_net_topo_index(t, *x),
                        j = cr_net_topo_index(t, *y);
                    if (i < 0 || j < 0)
                        continue;
                    if (n < max)
                        flows[n++] = (cr_net_flow){i, j};
                    if (p->dir == PART_BOTH && n < max)
                        flows[n++] = (cr_net_flow){j, i};
                }
    note_isolated(p, act);
    if (act->details) {
        json_object_set_new(act->details, "backend", json_string("nftables"));
        json_object_set_new(act->details, "direction",
                            json_string(part_dirs[p->dir]));
    }
    return cr_netfault_drops(f, r, act, flows, n, 1000000, err);
}

static int part_revert(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    if (!is_ssh(r))
        return cr_netfault_revert(f, r, act, err);
    if (!act->state)
        return 0;
    int rc = cr_run_ssh_partition_revert(r, act->state, err);
    if (rc == 0)
        act->state = NULL;
    return rc;
}

const cr_fault_ops cr_fault_partition_ops = {
    .kind = "partition",
    .summary = "cut the network between groups of hosts (silent drops, both "
               "ways or one-way)",
    .params = part_params,
    .flags = CR_FAULT_NEEDS_DURATION | CR_FAULT_NO_TARGET,
    .requires = "root; hosts; nftables netdev ingress chains",
    .parse = part_parse,
    .check = part_check,
    .apply = part_apply,
    .revert = part_revert,
    .destroy = part_destroy,
};
