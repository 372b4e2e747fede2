/* cr_proxy_links: the "links" section of a scenario (see
 * scenarios/README.md, "Proxy faults"): pairs of services whose traffic
 * goes through the fault proxy, validated only.  Registered in
 * harness/cr_registry.c; the engine starts the proxy for them
 * (engine/cr_run_proxy.c). */
#include "cr_proxy.h"

#include "base/cr_alloc.h"
#include "scenario/cr_scen.h"

#include <ctype.h>
#include <string.h>

/* ---- the "links" section ----------------------------------------------- */

static const cr_param link_params[] = {
    {"name", "string", NULL, "link name, used by proxy faults (\"link\")"},
    {"from", "string", NULL,
     "the client service; its CHAOSRUN_ADDR_<TO> points at the proxy"},
    {"to", "string", NULL, "the server service"},
    {"port", "integer", "to's port", "the server port the link reaches"},
    {"listen_port", "integer", "0", "the proxy's loopback port (0: ephemeral)"},
    {NULL, NULL, NULL, NULL},
};

static int link_name_ok(const char *s)
{
    if (!*s || strlen(s) >= CR_PROXY_NAME_MAX)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
            return 0;
    return 1;
}

static void links_free(cr_proxy_links *ls)
{
    if (!ls)
        return;
    for (size_t i = 0; i < ls->n; i++) {
        cr_free(ls->v[i].name);
        cr_free(ls->v[i].from);
        cr_free(ls->v[i].to);
    }
    cr_free(ls->v);
    cr_free(ls);
}

/* Whether the document's "hosts" entry named host is a remote node (has
 * "ssh"; the hosts section itself is the network module's, checked there). */
static int host_is_remote(const cr_scen *sc, const char *host)
{
    size_t i;
    const json_t *h;
    json_array_foreach (json_object_get(sc->root, "hosts"), i, h) {
        const char *n = json_string_value(json_object_get(h, "name"));
        if (n && strcmp(n, host) == 0)
            return json_object_get(h, "ssh") != NULL;
    }
    return 0;
}

/* A service the proxy can reach, or NULL after a diagnostic. */
static const cr_svc_spec *link_service(cr_vctx *vx, const cr_scen *sc,
                                       const char *path, const char *key,
                                       const char *name)
{
    char p[CR_PATH_MAX];
    cr_path_key(p, sizeof p, path, key);
    const cr_svc_spec *s = cr_scen_service(sc, name);
    if (!s) {
        const char *best = NULL;
        int bd = 3;
        /* Services whose name was invalid have none; the hint looks at
         * the first 64 (as the loader's own hints do), so that many bad
         * links among many services stay cheap. */
        for (size_t i = 0; i < sc->nsvcs && i < 64; i++) {
            if (!sc->svcs[i].name)
                continue;
            int d = cr_levenshtein(name, sc->svcs[i].name);
            if (d < bd) {
                bd = d;
                best = sc->svcs[i].name;
            }
        }
        cr_verr(vx, p, "no service \"%s\"%s%s%s", name,
                best ? " (did you mean \"" : "", best ? best : "",
                best ? "\"?)" : "");
        return NULL;
    }
    if (s->host && host_is_remote(sc, s->host)) {
        cr_verr(vx, p,
                "service \"%s\" runs on remote node \"%s\" (ssh): the "
                "proxy runs on the harness's machine and makes its sockets "
                "in the network of a host it created, not on a node",
                name, s->host);
        return NULL;
    }
    if (s->ctr && s->ctr->network == CR_CTR_NET_NONE) {
        cr_verr(vx, p,
                "service \"%s\" is a container with \"network\": "
                "\"none\": nothing can reach it or leave it",
                name);
        return NULL;
    }
    return s;
}

/* The proxy makes a link's sockets in the client's network (the
 * harness's, or its host's namespace) and connects from there to the
 * server's address: the two must see each other without it.  Hosts are
 * connected to each other only, not to the harness's network. */
static int link_pair_ok(cr_vctx *vx, const char *path, const cr_svc_spec *fs,
                        const cr_svc_spec *ts)
{
    char p[CR_PATH_MAX];
    if (!fs->host == !ts->host)
        return 1;
    cr_path_key(p, sizeof p, path, fs->host ? "to" : "from");
    cr_verr(vx, p,
            "service \"%s\" runs in network host \"%s\" and \"%s\" on "
            "the harness's network, which hosts do not reach: place both "
            "on hosts (the link's sockets are made in the client's) or "
            "neither",
            fs->host ? fs->name : ts->name, fs->host ? fs->host : ts->host,
            fs->host ? ts->name : fs->name);
    return 0;
}

static int links_parse(cr_vctx *vx, const json_t *val, const char *path,
                       cr_scen *sc)
{
    size_t before = cr_vcount(vx);
    cr_names seen = {0}; /* link names -> index in val (linear checks) */
    int rc = 0;
    if (!json_is_array(val)) {
        cr_verr(vx, path,
                "\"links\" must be an array of {\"name\", \"from\", "
                "\"to\"} objects");
        return 0;
    }
    cr_proxy_links *ls = cr_calloc(1, sizeof *ls);
    if (!ls || !(ls->v = cr_calloc(json_array_size(val) + 1, sizeof *ls->v))) {
        cr_free(ls);
        return CR_ENOMEM;
    }
    links_free(sc->links);
    sc->links = ls;
    for (size_t i = 0; i < json_array_size(val); i++) {
        const json_t *o = json_array_get(val, i);
        char p[CR_PATH_MAX], kp[CR_PATH_MAX];
        cr_path_idx(p, sizeof p, path, i);
        if (!json_is_object(o)) {
            cr_verr(vx, p,
                    "a link must be an object {\"name\", \"from\", \"to\"}");
            continue;
        }
        cr_vkeys(vx, o, p, link_params, NULL);
        const char *name = NULL, *from = NULL, *to = NULL;
        long long port = 0, lport = 0;
        int ok = 1;
        ok &= cr_vrequire(vx, o, p, "name") &&
              cr_vstr(vx, o, p, "name", NULL, &name) > 0;
        ok &= cr_vrequire(vx, o, p, "from") &&
              cr_vstr(vx, o, p, "from", NULL, &from) > 0;
        ok &= cr_vrequire(vx, o, p, "to") &&
              cr_vstr(vx, o, p, "to", NULL, &to) > 0;
        if (name) {
            cr_path_key(kp, sizeof kp, p, "name");
            if (!link_name_ok(name)) {
                cr_verr(vx, kp,
                        "invalid link name \"%s\": 1 to %d letters, "
                        "digits, '_', '.' or '-'",
                        name, CR_PROXY_NAME_MAX - 1);
                ok = 0;
            } else {
                size_t j = 0;
                char first[CR_PATH_MAX];
                int r = cr_names_put(&seen, name, i, &j);
                cr_path_idx(first, sizeof first, path, j);
                if (r == 1)
                    cr_verr(vx, kp, "duplicate link name \"%s\" (also %s)",
                            name, first);
                if (r < 0) {
                    rc = CR_ENOMEM;
                    goto out;
                }
                ok &= r == 0;
            }
        }
        const cr_svc_spec *fs =
            from ? link_service(vx, sc, p, "from", from) : NULL;
        const cr_svc_spec *ts = to ? link_service(vx, sc, p, "to", to) : NULL;
        ok &= fs && ts && link_pair_ok(vx, p, fs, ts);
        int has_port =
            cr_vint(vx, o, p, "port", 1, 65535, ts ? ts->port : 0, &port);
        if (has_port < 0) {
            ok = 0;
        } else if (ts && port == 0) {
            cr_path_key(kp, sizeof kp, p, "to");
            cr_verr(vx, kp,
                    "service \"%s\" has no \"port\": give the link's "
                    "\"port\"",
                    to);
            ok = 0;
        }
        if (cr_vint(vx, o, p, "listen_port", 0, 65535, 0, &lport) < 0)
            ok = 0;
        if (!ok)
            continue;
        cr_proxy_link_spec *ln = &ls->v[ls->n];
        ln->name = cr_strdup(name);
        ln->from = cr_strdup(from);
        ln->to = cr_strdup(to);
        ln->port = (int)port;
        ln->listen_port = (int)lport;
        snprintf(ln->path, sizeof ln->path, "%s", p);
        ls->n++;
        if (!ln->name || !ln->from || !ln->to) {
            rc = CR_ENOMEM;
            goto out;
        }
    }
    rc = cr_vcount(vx) > before ? CR_EINVAL : 0;
out:
    cr_names_free(&seen);
    return rc;
}

static void links_destroy(cr_scen *sc)
{
    links_free(sc->links);
    sc->links = NULL;
}

const cr_section_ops cr_proxy_links_section = {
    .key = "links",
    .summary =
        "service-to-service connections relayed through the fault proxy: "
        "[{\"name\", \"from\", \"to\", \"port\", \"listen_port\"}]",
    .parse = links_parse,
    .destroy = links_destroy,
};

const cr_proxy_link_spec *cr_proxy_link_find(const cr_scen *sc,
                                             const char *name)
{
    const cr_proxy_links *ls = sc ? sc->links : NULL;
    for (size_t i = 0; ls && name && i < ls->n; i++)
        if (strcmp(ls->v[i].name, name) == 0)
            return &ls->v[i];
    return NULL;
}
