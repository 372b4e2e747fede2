/* cr_proxy_api: the endpoints of Toxiproxy 2.x's HTTP API over the proxy's
 * links (see cr_proxy.h; the HTTP server is cr_proxy_http.c, the JSON
 * mapping cr_proxy_apijson.c, the differences from Toxiproxy are listed in
 * proxy/README.md).
 *
 * Same routes, methods, status codes, JSON shapes and error bodies as
 * Toxiproxy's api.go: an error is `{"error":"...","status":N}` and a
 * newline, sent as text/plain with nosniff (Go's http.Error); an unknown
 * route is Go's "404 page not found", a known route with another method a
 * 405 without body (gorilla/mux); a browser's user agent gets 403.
 * Everything runs on the proxy's loop, so the API and the line protocol
 * see and change one state. */
#include "cr_proxy_internal.h"

#include "base/cr_alloc.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CT_JSON    "application/json"
#define CT_TEXT    "text/plain; charset=utf-8"
#define CT_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define CT_VERSION "application/json;charset=utf-8"
/* The Toxiproxy API level served, and what serves it (semver build
 * metadata: version checks read 2.12.0). */
#define API_VERSION "2.12.0+chaosrun." CR_VERSION

#define MAX_SEGS 4

typedef struct req {
    cr_proxy *p;
    const char *method;
    const char *seg[MAX_SEGS];
    int nseg;
    const char *body;
    size_t len;
    cr_proxy_api_reply *r;
} req;

void cr_proxy_api_reply_free(cr_proxy_api_reply *r)
{
    cr_free(r->body);
    memset(r, 0, sizeof *r);
}

/* ---- replies ------------------------------------------------------------ */

static int reply(req *q, int status, const char *ctype, int nosniff,
                 const char *s, size_t n)
{
    cr_proxy_api_reply *r = q->r;
    cr_free(r->body);
    r->body = NULL;
    r->len = 0;
    if (n) {
        r->body = cr_malloc(n);
        if (!r->body)
            return CR_ENOMEM;
        memcpy(r->body, s, n);
        r->len = n;
    }
    r->status = status;
    r->content_type = ctype;
    r->nosniff = nosniff;
    return 0;
}

/* Takes j. */
static int reply_json(req *q, int status, json_t *j)
{
    if (!j)
        return CR_ENOMEM;
    /* 15 significant digits: 0.3 stays 0.3 (jansson's default is 17). */
    char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(j);
    if (!s)
        return CR_ENOMEM;
    int rc = reply(q, status, CT_JSON, 0, s, strlen(s));
    free(s);
    return rc;
}

/* Toxiproxy's apiError(): the JSON error through Go's http.Error. */
static int reply_err(req *q, int status, const char *msg)
{
    json_t *j = json_pack("{s:s, s:i}", "error", msg, "status", status);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    char *line = s ? cr_asprintf("%s\n", s) : NULL;
    free(s);
    if (!line)
        return CR_ENOMEM;
    int rc = reply(q, status, CT_TEXT, 1, line, strlen(line));
    cr_free(line);
    return rc;
}

/* An error of the proxy's own functions: its code says the status. */
static int reply_cr(req *q, int code, const cr_err *e)
{
    if (code == CR_ENOMEM)
        return CR_ENOMEM;
    int status = code == CR_EINVAL ? 400 : code == CR_ENOTFOUND ? 404 : 500;
    return reply_err(q, status, e->msg);
}

static int reply_bad_body(req *q, const json_error_t *je)
{
    char msg[256];
    snprintf(msg, sizeof msg, "bad request body: %s", je->text);
    return reply_err(q, 400, msg);
}

static int not_found(req *q)
{
    static const char t[] = "404 page not found\n";
    return reply(q, 404, CT_TEXT, 1, t, sizeof t - 1);
}

/* gorilla/mux: the path matches a route, the method none of its methods. */
static int not_allowed(req *q)
{
    return reply(q, 405, NULL, 0, NULL, 0);
}

static json_t *parse_body(req *q, json_error_t *je)
{
    return json_loadb(q->body ? q->body : "", q->len, JSON_DECODE_ANY, je);
}

/* The proxy in the path, or NULL (then the 404 is in the reply: *rc). */
static plink *path_link(req *q, int *rc)
{
    plink *l = cr_proxy__link_find(q->p, q->seg[1]);
    *rc = l ? 0 : reply_err(q, 404, "proxy not found");
    return l;
}

/* ---- proxies ------------------------------------------------------------ */

static int by_name(const void *a, const void *b)
{
    return strcmp((*(plink *const *)a)->name, (*(plink *const *)b)->name);
}

/* GET /proxies: {name: proxy}, keys sorted as Go sorts a map's. */
static int proxy_index(req *q)
{
    size_t n = q->p->nlinks;
    plink **v = cr_malloc((n ? n : 1) * sizeof *v);
    json_t *o = json_object();
    if (!v || !o) {
        cr_free(v);
        json_decref(o);
        return CR_ENOMEM;
    }
    if (n) /* links is NULL while there are none */
        memcpy(v, q->p->links, n * sizeof *v);
    qsort(v, n, sizeof *v, by_name);
    for (size_t i = 0; o && i < n; i++)
        if (json_object_set_new(o, v[i]->name, cr_proxy__api_proxy_json(v[i])) <
            0) {
            json_decref(o);
            o = NULL;
        }
    cr_free(v);
    return reply_json(q, 200, o);
}

/* POST /proxies */
static int proxy_create(req *q)
{
    cr_proxy__api_proxy in = {NULL, NULL, NULL, 1};
    char la[CR_PROXY_ADDR_MAX];
    json_error_t je;
    cr_err e;
    cr_err_clear(&e);
    json_t *b = parse_body(q, &je);
    if (!b)
        return reply_bad_body(q, &je);
    int rc = cr_proxy__api_proxy_in(b, &in, "a proxy", &e);
    if (rc == 0 && (!in.name || !*in.name))
        rc = cr_err_set(&e, CR_EINVAL, "missing required field: name");
    if (rc == 0 && (!in.upstream || !*in.upstream))
        rc = cr_err_set(&e, CR_EINVAL, "missing required field: upstream");
    if (rc == 0)
        rc = cr_proxy__api_listen_addr(q->p->allow_remote, in.listen, la,
                                       sizeof la, &e);
    if (rc == 0 && cr_proxy__link_find(q->p, in.name)) {
        json_decref(b);
        return reply_err(q, 409, "proxy already exists");
    }
    if (rc == 0)
        rc = cr_proxy_link_create(q->p, in.name, la, in.upstream, in.enabled,
                                  &e);
    if (rc < 0) {
        json_decref(b);
        return reply_cr(q, rc, &e);
    }
    plink *l = cr_proxy__link_find(q->p, in.name);
    json_decref(b); /* in.name borrowed from it */
    return reply_json(q, 201, cr_proxy__api_proxy_json(l));
}

/* POST|PATCH /proxies/{proxy}: listen, upstream, enabled. */
static int proxy_update(req *q, plink *l)
{
    cr_proxy__api_proxy in = {NULL, NULL, NULL, -1};
    char la[CR_PROXY_ADDR_MAX];
    json_error_t je;
    cr_err e;
    cr_err_clear(&e);
    json_t *b = parse_body(q, &je);
    if (!b)
        return reply_bad_body(q, &je);
    int rc = cr_proxy__api_proxy_in(b, &in, "a proxy", &e);
    if (rc == 0 && in.name && *in.name && strcmp(in.name, l->name) != 0)
        rc = cr_err_set(&e, CR_EINVAL,
                        "bad request body: a proxy cannot be renamed ('%s' to "
                        "'%s'); delete it and create another",
                        l->name, in.name);
    if (rc == 0 && in.listen)
        rc = cr_proxy__api_listen_addr(q->p->allow_remote, in.listen, la,
                                       sizeof la, &e);
    if (rc == 0 && (in.listen || in.upstream))
        rc = cr_proxy_link_update(q->p, l->name, in.listen ? la : NULL,
                                  in.upstream, &e);
    if (rc == 0 && in.enabled >= 0)
        rc = cr_proxy_link_set_enabled(q->p, l->name, in.enabled, &e);
    json_decref(b);
    if (rc < 0)
        return reply_cr(q, rc, &e);
    return reply_json(q, 200, cr_proxy__api_proxy_json(l));
}

static int proxy_route(req *q)
{
    int rc;
    plink *l = path_link(q, &rc);
    const char *m = q->method;
    if (strcmp(m, "GET") && strcmp(m, "POST") && strcmp(m, "PATCH") &&
        strcmp(m, "DELETE"))
        return not_allowed(q);
    if (!l)
        return rc;
    if (!strcmp(m, "GET"))
        return reply_json(q, 200, cr_proxy__api_proxy_json(l));
    if (!strcmp(m, "DELETE")) {
        cr_err e;
        cr_err_clear(&e);
        if ((rc = cr_proxy_link_remove(q->p, l->name, &e)) < 0)
            return reply_cr(q, rc, &e);
        return reply(q, 204, NULL, 0, NULL, 0);
    }
    return proxy_update(q, l);
}

/* ---- toxics ------------------------------------------------------------- */

/* POST /proxies/{proxy}/toxics: 200 (not 201) as Toxiproxy answers. */
static int toxic_create(req *q, plink *l)
{
    cr_proxy_toxic t;
    char name[CR_PROXY_NAME_MAX];
    json_error_t je;
    cr_err e;
    cr_err_clear(&e);
    json_t *b = parse_body(q, &je);
    if (!b)
        return reply_bad_body(q, &je);
    int rc = cr_proxy__api_toxic_new(b, &t, name, sizeof name, &e);
    if (rc == 0 && cr_proxy__toxic_slot(l, name) >= 0) {
        json_decref(b);
        return reply_err(q, 409, "toxic already exists");
    }
    if (rc == 0)
        rc = cr_proxy__api_toxic_set(b, &t, &e);
    json_decref(b);
    if (rc == 0)
        rc = cr_proxy_toxic_add(q->p, l->name, name, &t, &e);
    if (rc < 0)
        return reply_cr(q, rc, &e);
    return reply_json(q, 200, cr_proxy__api_toxic_json(name, &t));
}

/* POST|PATCH /proxies/{proxy}/toxics/{toxic}: attributes, toxicity. */
static int toxic_update(req *q, plink *l, int slot)
{
    cr_proxy_toxic t = l->slot[slot]->t;
    char name[CR_PROXY_NAME_MAX];
    json_error_t je;
    cr_err e;
    cr_err_clear(&e);
    snprintf(name, sizeof name, "%s", l->slot[slot]->name);
    json_t *b = parse_body(q, &je);
    if (!b)
        return reply_bad_body(q, &je);
    int rc = cr_proxy__api_toxic_edit(b, name, &t, &e);
    json_decref(b);
    if (rc == 0)
        rc = cr_proxy_toxic_update(q->p, l->name, name, &t, &e);
    if (rc < 0)
        return reply_cr(q, rc, &e);
    return reply_json(q, 200, cr_proxy__api_toxic_json(name, &t));
}

static int toxics_route(req *q)
{
    int rc;
    plink *l;
    const char *m = q->method;
    if (q->nseg == 3) {
        if (strcmp(m, "GET") && strcmp(m, "POST"))
            return not_allowed(q);
        if (!(l = path_link(q, &rc)))
            return rc;
        if (!strcmp(m, "GET"))
            return reply_json(q, 200, cr_proxy__api_toxics_json(l));
        return toxic_create(q, l);
    }
    if (strcmp(m, "GET") && strcmp(m, "POST") && strcmp(m, "PATCH") &&
        strcmp(m, "DELETE"))
        return not_allowed(q);
    if (!(l = path_link(q, &rc)))
        return rc;
    int s = cr_proxy__toxic_slot(l, q->seg[3]);
    if (s < 0)
        return reply_err(q, 404, "toxic not found");
    if (!strcmp(m, "GET"))
        return reply_json(
            q, 200, cr_proxy__api_toxic_json(l->slot[s]->name, &l->slot[s]->t));
    if (!strcmp(m, "DELETE")) {
        cr_err e;
        cr_err_clear(&e);
        /* Removing down listens again, which can fail (the toxic is
         * removed all the same): said as a 500. */
        if ((rc = cr_proxy_toxic_remove(q->p, l->name, q->seg[3], &e)) < 0)
            return reply_cr(q, rc, &e);
        return reply(q, 204, NULL, 0, NULL, 0);
    }
    return toxic_update(q, l, s);
}

/* ---- the rest ----------------------------------------------------------- */

/* POST /reset: every proxy enabled, every toxic removed. */
static int reset(req *q)
{
    cr_err e;
    cr_err_clear(&e);
    int rc = cr_proxy_toxic_reset(q->p, &e), first = rc;
    for (size_t i = 0; i < q->p->nlinks; i++) {
        rc = cr_proxy_link_set_enabled(q->p, q->p->links[i]->name, 1, &e);
        if (rc < 0 && first == 0)
            first = rc;
    }
    if (first < 0)
        return reply_cr(q, first, &e);
    return reply(q, 204, NULL, 0, NULL, 0);
}

/* One entry of /populate, as Toxiproxy's AddOrReplace: a new proxy is
 * created; an existing one with the same listen and upstream addresses is
 * left alone; one that differs is replaced (listens anew, no toxics, the
 * entry's enabled). */
static int populate_one(cr_proxy *p, const cr_proxy__api_proxy *in, cr_err *e)
{
    char la[CR_PROXY_ADDR_MAX];
    struct sockaddr_in sa;
    int rc = cr_proxy__api_listen_addr(p->allow_remote, in->listen, la,
                                       sizeof la, e);
    if (rc < 0)
        return rc;
    plink *l = cr_proxy__link_find(p, in->name);
    if (!l)
        return cr_proxy_link_create(p, in->name, la, in->upstream, in->enabled,
                                    e);
    if ((rc = cr_proxy__parse_addr(la, &sa, !p->allow_remote, e)) < 0)
        return rc;
    if (sa.sin_addr.s_addr == l->laddr.sin_addr.s_addr &&
        sa.sin_port == l->laddr.sin_port && !strcmp(in->upstream, l->upstream))
        return 0;
    if ((rc = cr_proxy_link_update(p, in->name, la, in->upstream, e)) < 0)
        return rc;
    for (int s = 0; s < MAX_TOXICS; s++)
        if (l->slot[s] &&
            (rc = cr_proxy_toxic_remove(p, l->name, l->slot[s]->name, e)) < 0)
            return rc;
    return cr_proxy_link_set_enabled(p, in->name, in->enabled, e);
}

/* Every entry checked before any is applied (Toxiproxy's order). */
static int populate_check(const json_t *b, cr_proxy__api_proxy *in, cr_err *e)
{
    if (!json_is_array(b))
        return cr_err_set(e, CR_EINVAL,
                          "bad request body: expected an array of proxies");
    for (size_t i = 0; i < json_array_size(b); i++) {
        char what[32];
        snprintf(what, sizeof what, "proxy %zu", i + 1);
        in[i] = (cr_proxy__api_proxy){NULL, NULL, NULL, 1};
        int rc = cr_proxy__api_proxy_in(json_array_get(b, i), &in[i], what, e);
        if (rc < 0)
            return rc;
        if (!in[i].name || !*in[i].name)
            return cr_err_set(e, CR_EINVAL,
                              "missing required field: name at proxy %zu",
                              i + 1);
        if (!in[i].upstream || !*in[i].upstream)
            return cr_err_set(e, CR_EINVAL,
                              "missing required field: upstream at proxy %zu",
                              i + 1);
    }
    return 0;
}

/* POST /populate: 201 {"proxies":[...]}; on an error, its status and
 * {"error","status","proxies"} as JSON, with the proxies done before it
 * (null when the body was refused before any was tried: Toxiproxy's nil
 * slice). */
static int populate(req *q)
{
    json_error_t je;
    cr_err e;
    cr_err_clear(&e);
    json_t *b = parse_body(q, &je);
    size_t n = json_is_array(b) ? json_array_size(b) : 0;
    cr_proxy__api_proxy *in = cr_calloc(n ? n : 1, sizeof *in);
    json_t *done = json_array();
    int rc = 0, status = 201;
    if (!in || !done) {
        rc = CR_ENOMEM;
        goto out;
    }
    if (!b)
        rc = cr_err_set(&e, CR_EINVAL, "bad request body: %s", je.text);
    else
        rc = populate_check(b, in, &e);
    if (rc == CR_ENOMEM)
        goto out;
    if (rc < 0) { /* nothing was tried */
        json_decref(done);
        done = json_null();
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = populate_one(q->p, &in[i], &e);
        if (rc == 0 && json_array_append_new(
                           done, cr_proxy__api_proxy_json(cr_proxy__link_find(
                                     q->p, in[i].name))) < 0)
            rc = CR_ENOMEM;
    }
    if (rc == CR_ENOMEM)
        goto out;
    if (rc < 0)
        status = rc == CR_EINVAL ? 400 : rc == CR_ENOTFOUND ? 404 : 500;
    json_t *res = rc == 0 ? json_pack("{s:O}", "proxies", done)
                          : json_pack("{s:s, s:i, s:O}", "error", e.msg,
                                      "status", status, "proxies", done);
    rc = reply_json(q, status, res);
out:
    json_decref(done);
    cr_free(in);
    json_decref(b);
    return rc;
}

static int version(req *q)
{
    static const char v[] = "{\"version\": \"" API_VERSION "\"}\n";
    return reply(q, 200, CT_VERSION, 0, v, sizeof v - 1);
}

/* A label value in Prometheus' text format. */
static int prom_label(cr_sbuf *b, const char *s)
{
    int rc = 0;
    for (; *s && rc == 0; s++) {
        if (*s == '\\' || *s == '"')
            rc = cr_sbuf_add(b, "\\", 1);
        if (rc == 0)
            rc = *s == '\n' ? cr_sbuf_add(b, "\\n", 2) : cr_sbuf_add(b, s, 1);
    }
    return rc;
}

/* GET /metrics: Toxiproxy's proxy metrics (its -proxy-metrics). */
static int metrics(req *q)
{
    static const char *const fam[2] = {"received", "sent"};
    static const char *const help[2] = {
        "Bytes the proxy read, per proxy and direction.",
        "Bytes the proxy wrote, per proxy and direction."};
    static const char *const dirs[2] = {"downstream", "upstream"};
    cr_sbuf b = {0};
    int rc = cr_sbuf_add(&b, "", 0);
    for (int f = 0; f < 2 && rc == 0; f++) {
        char line[256];
        snprintf(line, sizeof line,
                 "# HELP toxiproxy_proxy_%s_bytes_total %s\n"
                 "# TYPE toxiproxy_proxy_%s_bytes_total counter\n",
                 fam[f], help[f], fam[f]);
        rc = cr_sbuf_add(&b, line, strlen(line));
        for (int d = 0; d < 2 && rc == 0; d++)
            for (size_t i = 0; i < q->p->nlinks && rc == 0; i++) {
                const plink *l = q->p->links[i];
                int di = d == 0 ? 1 : 0; /* index 0 is upstream */
                char la[64];
                cr_proxy__fmt_addr(&l->laddr, la, sizeof la);
                snprintf(line, sizeof line,
                         "toxiproxy_proxy_%s_bytes_total{direction=\"%s\","
                         "listener=\"%s\",proxy=\"",
                         fam[f], dirs[d], la);
                rc = cr_sbuf_add(&b, line, strlen(line));
                if (rc == 0)
                    rc = prom_label(&b, l->name);
                if (rc == 0)
                    rc = cr_sbuf_add(&b, "\",upstream=\"", 12);
                if (rc == 0)
                    rc = prom_label(&b, l->upstream);
                snprintf(line, sizeof line, "\"} %llu\n",
                         (unsigned long long)(f == 0 ? l->rbytes[di]
                                                     : l->bytes[di]));
                if (rc == 0)
                    rc = cr_sbuf_add(&b, line, strlen(line));
            }
    }
    if (rc == 0)
        rc = reply(q, 200, CT_METRICS, 0, b.s, b.n);
    cr_free(b.s);
    return rc;
}

/* ---- routing ------------------------------------------------------------ */

static int route(req *q)
{
    const char *s0 = q->seg[0], *m = q->method;
    if (q->nseg == 1 && !strcmp(s0, "reset"))
        return strcmp(m, "POST") ? not_allowed(q) : reset(q);
    if (q->nseg == 1 && !strcmp(s0, "populate"))
        return strcmp(m, "POST") ? not_allowed(q) : populate(q);
    if (q->nseg == 1 && !strcmp(s0, "version"))
        return strcmp(m, "GET") ? not_allowed(q) : version(q);
    if (q->nseg == 1 && !strcmp(s0, "metrics"))
        return metrics(q); /* any method, as Toxiproxy's route */
    if (strcmp(s0, "proxies") != 0)
        return not_found(q);
    if (q->nseg == 1) {
        if (!strcmp(m, "GET"))
            return proxy_index(q);
        return strcmp(m, "POST") ? not_allowed(q) : proxy_create(q);
    }
    if (q->nseg == 2)
        return proxy_route(q);
    if (!strcmp(q->seg[2], "toxics"))
        return toxics_route(q);
    return not_found(q);
}

int cr_proxy_api_handle(cr_proxy *p, const char *method, const char *path,
                        const char *user_agent, const char *body, size_t len,
                        cr_proxy_api_reply *r)
{
    char buf[1024];
    req q = {.p = p, .method = method, .body = body, .len = len, .r = r};
    int rc;
    memset(r, 0, sizeof *r);
    if (user_agent && !strncmp(user_agent, "Mozilla/", 8)) {
        /* Toxiproxy refuses browsers: a web page must not drive a local
         * fault proxy (cross-site requests, DNS rebinding). */
        static const char t[] = "User agent not allowed\n";
        rc = reply(&q, 403, CT_TEXT, 1, t, sizeof t - 1);
    } else if (!path || path[0] != '/' || strlen(path) >= sizeof buf) {
        rc = not_found(&q);
    } else {
        /* "/a/b" into segments; an empty one matches no route. */
        snprintf(buf, sizeof buf, "%s", path + 1);
        int ok = 1;
        for (char *s = buf;;) {
            char *slash = strchr(s, '/');
            if (slash)
                *slash = '\0';
            if (!*s || q.nseg == MAX_SEGS) {
                ok = 0;
                break;
            }
            q.seg[q.nseg++] = s;
            if (!slash)
                break;
            s = slash + 1;
        }
        rc = ok ? route(&q) : not_found(&q);
    }
    if (rc < 0)
        cr_proxy_api_reply_free(r);
    return rc;
}
