/* cr_net_hosts: the "hosts" section of a scenario (see
 * scenarios/README.md, "Network faults"): validated names and regions of the
 * network hosts, nothing touched.  Registered in harness/cr_registry.c. */
#include "cr_net.h"

#include "base/cr_alloc.h"
#include "scenario/cr_scen.h"

/* ---- the "hosts" section ---------------------------------------------- */

const cr_param cr_net_host_params[] = {
    {"name", "string", NULL,
     "host name: letters, digits, - and _ (at most 32)"},
    {"region", "string", "none",
     "a free label, given to the host's services in CHAOSRUN_REGION"},
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
                cr_vkeys(vx, e, p, cr_net_host_params, NULL);
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
            cr_vkeys(vx, e, p, cr_net_host_params + 1, NULL);
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
