/* cr_net_run: the parts of cr_net that need the run engine: the "hosts"
 * scenario section and the engine hooks (topology set-up and tear-down,
 * per-host namespace fds and addresses, the capability probe with the
 * run's ledger).
 *
 * Per-run state hangs off the run (cr_run_module_state(r, "net")): set up
 * by cr_net_run_setup, freed by cr_net_run_teardown. */
#include "cr_net.h"

#include "cr_alloc.h"
#include "cr_run.h"
#include "cr_scen.h"

#include <fcntl.h>
#include <string.h>

/* ---- the "hosts" section ---------------------------------------------- */

static const cr_param host_params[] = {
    {"name", "string", NULL,
     "host name: letters, digits, - and _ (at most 32)"},
    {"region", "string", "none", "a free label shown in reports"},
    {NULL, NULL, NULL, NULL},
};

static int add_host(cr_vctx *vx, cr_net_hosts *h, const char *path,
                    const char *name, const json_t *obj)
{
    if (!cr_net_host_name_ok(name)) {
        cr_verr(vx, path,
                "host name \"%s\" must be 1-%d letters, digits, - or _", name,
                CR_NET_NAME_MAX);
        return 0;
    }
    if (cr_net_host_exists(h, name)) {
        cr_verr(vx, path, "duplicate host \"%s\"", name);
        return 0;
    }
    if (h->n >= CR_NET_MAX_HOSTS) {
        cr_verr(vx, path, "at most %d hosts", CR_NET_MAX_HOSTS);
        return 0;
    }
    const char *region = NULL;
    if (obj)
        cr_vstr(vx, obj, path, "region", NULL, &region);
    /* Counted first, so that cr_net_hosts_free frees a half-made entry. */
    cr_net_host_spec *s = &h->v[h->n++];
    if (!(s->name = cr_strdup(name)) ||
        (region && !(s->region = cr_strdup(region))))
        return CR_ENOMEM;
    return 0;
}

/* "hosts": [{"name": "h1", "region": "eu"}, "h2", ...] or
 * "hosts": {"h1": {"region": "eu"}, "h2": {}}. */
static int hosts_parse(cr_vctx *vx, const json_t *val, const char *path,
                       cr_scen *sc)
{
    size_t n = json_is_array(val)    ? json_array_size(val)
               : json_is_object(val) ? json_object_size(val)
                                     : 0;
    if (!json_is_array(val) && !json_is_object(val)) {
        cr_verr(vx, path,
                "must be an array of hosts or an object keyed by "
                "host name");
        return 0;
    }
    if (n == 0) {
        cr_verr(vx, path, "declares no hosts");
        return 0;
    }
    cr_net_hosts *h = cr_calloc(1, sizeof *h);
    if (!h || !(h->v = cr_calloc(n, sizeof *h->v))) {
        cr_free(h);
        return CR_ENOMEM;
    }
    sc->hosts = h;
    char p[CR_PATH_MAX];
    int rc = 0;
    if (json_is_array(val)) {
        size_t i;
        json_t *e;
        json_array_foreach (val, i, e) {
            cr_path_idx(p, sizeof p, path, i);
            if (json_is_string(e)) {
                rc = add_host(vx, h, p, json_string_value(e), NULL);
            } else if (json_is_object(e)) {
                const char *name = NULL;
                cr_vkeys(vx, e, p, host_params, NULL);
                if (cr_vrequire(vx, e, p, "name") &&
                    cr_vstr(vx, e, p, "name", NULL, &name) > 0)
                    rc = add_host(vx, h, p, name, e);
            } else {
                cr_verr(vx, p,
                        "a host is a name or {\"name\": ..., \"region\": ...}");
            }
            if (rc < 0)
                return rc;
        }
    } else {
        const char *k;
        json_t *e;
        json_object_foreach ((json_t *)val, k, e) {
            cr_path_key(p, sizeof p, path, k);
            if (!json_is_object(e)) {
                cr_verr(vx, p, "must be an object (may be empty)");
                continue;
            }
            cr_vkeys(vx, e, p, host_params + 1, NULL);
            if ((rc = add_host(vx, h, p, k, e)) < 0)
                return rc;
        }
    }
    return 0;
}

static void hosts_destroy(cr_scen *sc)
{
    cr_net_hosts_free(sc->hosts);
    sc->hosts = NULL;
}

const cr_section_ops cr_net_hosts_section = {
    .key = "hosts",
    .summary = "network hosts: each a network namespace with one address",
    .parse = hosts_parse,
    .destroy = hosts_destroy,
};

/* ---- per-run state ---------------------------------------------------- */

typedef struct net_run {
    cr_run *r;
    cr_net_topo *t;
} net_run;

static net_run *slot(cr_run *r, int create)
{
    void **p = r ? cr_run_module_state(r, "net") : NULL;
    if (!p)
        return NULL;
    if (!*p && create) {
        net_run *s = cr_calloc(1, sizeof *s);
        if (!s)
            return NULL;
        s->r = r;
        *p = s;
    }
    return *p;
}

static void slot_free(cr_run *r)
{
    void **p = cr_run_module_state(r, "net");
    if (p) {
        cr_free(*p);
        *p = NULL;
    }
}

static int ledger_add(void *ctx, const char *line, cr_err *err)
{
    return cr_run_ledger_add(ctx, err, "%s", line);
}

static void ledger_done(void *ctx, int id)
{
    cr_run_ledger_done(ctx, id);
}

int cr_net_run_setup(cr_run *r, cr_err *err)
{
    const cr_scen *sc = cr_run_scen(r);
    const cr_net_hosts *h = sc->hosts;
    if (!h || h->n == 0)
        return 0;
    const char *missing = NULL;
    if (!cr_netns_privileged(&missing))
        return cr_err_set(err, CR_EUNSUP,
                          "hosts: network namespaces need %s (run chaosrun "
                          "as root)",
                          missing);
    net_run *s = slot(r, 1);
    if (!s)
        return cr_err_set(err, CR_ENOMEM, "hosts: out of memory");
    const char *names[CR_NET_MAX_HOSTS];
    for (size_t i = 0; i < h->n; i++)
        names[i] = h->v[i].name;
    char prefix[24];
    cr_net_prefix_new(prefix, sizeof prefix);
    cr_netns_ledger lg = {ledger_add, ledger_done, r};
    int rc = cr_net_topo_create(prefix, names, h->n, &lg, &s->t, err);
    if (rc < 0) {
        slot_free(r);
        return rc;
    }
    for (size_t i = 0; i < h->n; i++)
        cr_run_log(r, "host %s: netns %s, address %s", names[i],
                   cr_net_topo_netns(s->t, (int)i),
                   cr_net_topo_addr(s->t, (int)i));
    return 0;
}

cr_net_topo *cr_net_run_topo(cr_run *r)
{
    net_run *s = slot(r, 0);
    return s ? s->t : NULL;
}

int cr_net_host_fd(cr_run *r, const char *host)
{
    cr_net_topo *t = cr_net_run_topo(r);
    int i = cr_net_topo_index(t, host);
    /* A duplicate: the engine closes what it gets. */
    return i < 0 ? -1 : fcntl(cr_net_topo_nsfd(t, i), F_DUPFD_CLOEXEC, 3);
}

const char *cr_net_host_addr(cr_run *r, const char *host)
{
    cr_net_topo *t = cr_net_run_topo(r);
    int i = cr_net_topo_index(t, host);
    return i < 0 ? NULL : cr_net_topo_addr(t, i);
}

const char *cr_net_host_region(const cr_run *r, const char *host)
{
    const cr_net_hosts *h = cr_run_scen(r)->hosts;
    for (size_t i = 0; h && host && i < h->n; i++)
        if (strcmp(h->v[i].name, host) == 0)
            return h->v[i].region;
    return NULL;
}

int cr_net_host_call(cr_run *r, const char *host, void *(*fn)(void *),
                     void *arg, void **ret, cr_err *err)
{
    cr_net_topo *t = cr_net_run_topo(r);
    int i = cr_net_topo_index(t, host);
    if (i < 0)
        return cr_err_set(err, CR_ENOTFOUND, "host %s: not set up", host);
    return cr_netns_call(cr_net_topo_nsfd(t, i), fn, arg, ret, err);
}

int cr_net_run_caps(cr_run *r, cr_net_caps *out, cr_err *err)
{
    char prefix[24];
    cr_net_prefix_new(prefix, sizeof prefix);
    cr_netns_ledger lg = {ledger_add, ledger_done, r};
    return cr_net_probe(prefix, &lg, out, err);
}

void cr_net_run_teardown(cr_run *r)
{
    net_run *s = slot(r, 0);
    if (!s)
        return;
    cr_net_topo_destroy(s->t);
    slot_free(r);
}
