/* cr_net_hosts: the "hosts" section of a scenario (see
 * scenarios/README.md, "Network faults"): validated names and regions of the
 * network hosts, nothing touched.  Registered in harness/cr_registry.c. */
#include "cr_net.h"

#include "base/cr_alloc.h"
#include "scenario/cr_scen.h"
#include "cr_ssh.h"

#include <string.h>

/* ---- the "hosts" section ---------------------------------------------- */

const cr_param cr_net_host_params[] = {
    {"name", "string", NULL,
     "host name: letters, digits, - and _ (at most 32)"},
    {"region", "string", "none",
     "a free label, given to the host's services in CHAOSRUN_REGION"},
    {"ssh", "string", "none",
     "\"user@addr:port\": a remote node reached over OpenSSH instead of a "
     "network namespace"},
    {"identity", "string", "none",
     "ssh: the private key file (ssh -i); default: ssh's own"},
    {"known_hosts", "string", "none",
     "ssh: the known_hosts file the node's key must be in; default: learnt "
     "on first use into the run directory"},
    {"sudo", "bool", "false", "ssh: every remote command through sudo -n"},
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
    const char *region = NULL, *ssh = NULL, *id = NULL, *kh = NULL;
    int sudo = 0;
    if (obj) {
        cr_vstr(vx, obj, path, "region", NULL, &region);
        cr_vstr(vx, obj, path, "ssh", NULL, &ssh);
        cr_vstr(vx, obj, path, "identity", NULL, &id);
        cr_vstr(vx, obj, path, "known_hosts", NULL, &kh);
        cr_vbool(vx, obj, path, "sudo", 0, &sudo);
    }
    char p[CR_PATH_MAX], dest[256], addr[256], port[256];
    if (ssh) {
        cr_err e;
        cr_err_clear(&e);
        cr_path_key(p, sizeof p, path, "ssh");
        if (cr_ssh_parse(ssh, dest, addr, port, sizeof dest, &e) != 0)
            cr_verr(vx, p, "%s", e.msg);
    } else if (id || kh || sudo) {
        cr_verr(vx, path, "identity, known_hosts and sudo need \"ssh\"");
    }
    /* The ledger writes these paths as words of a line. */
    const char *files[] = {id, kh};
    const char *keys[] = {"identity", "known_hosts"};
    for (size_t i = 0; i < 2; i++) {
        if (!files[i])
            continue;
        cr_path_key(p, sizeof p, path, keys[i]);
        if (!*files[i] || strpbrk(files[i], " \t\n\r\v\f'\""))
            cr_verr(vx, p, "must be a file name without white space or quotes");
    }
    /* Counted first, so that cr_net_hosts_free frees a half-made entry. */
    cr_net_host_spec *s = &h->v[h->n++];
    if (!(s->name = cr_strdup(name)) ||
        (region && !(s->region = cr_strdup(region))) ||
        (ssh && !(s->ssh = cr_strdup(ssh))) ||
        (id && !(s->identity = cr_strdup(id))) ||
        (kh && !(s->known_hosts = cr_strdup(kh))))
        return CR_ENOMEM;
    s->sudo = sudo;
    h->nssh += ssh != NULL;
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
    /* Remote nodes and namespaces do not mix: a namespace's address is
     * reachable only from this machine. */
    if (h->nssh && h->nssh != h->n)
        cr_verr(vx, path,
                "either every host has \"ssh\" (remote nodes) or none has "
                "(network namespaces)");
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
