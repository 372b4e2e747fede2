/* Tests for the proxy's Toxiproxy 2.x HTTP API (proxy/cr_proxy_api.c,
 * cr_proxy_apijson.c): every route, its status codes, JSON shapes and error
 * bodies as Toxiproxy 2.x's api.go answers them, called in process through
 * cr_proxy_api_handle() (the HTTP server, cr_proxy_http.c, is driven with
 * curl and a real Toxiproxy client by tests/e2e/proxy_toxiproxy_api.sh).
 *
 * Toxiproxy's shapes, as its handlers write them:
 *   proxy  {"name","listen","upstream","enabled","toxics":[toxic...]}
 *   toxic  {"attributes":{...},"name","type","stream","toxicity"}
 *   error  {"error":"...","status":N} + "\n", text/plain with nosniff
 *          (apiError through Go's http.Error)
 * and its status codes: 201 proxy created, 200 toxic created (not 201),
 * 204 deletes and /reset, 400 bad body, 404 unknown proxy or toxic, 409
 * duplicates, 405 a known path with another method (no body), "404 page
 * not found" for an unknown path, 403 for a browser's user agent. */
#include "base/cr_alloc.h"
#include "proxy/cr_proxy.h"
#include "cr_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

static cr_proxy *g_p;

typedef struct resp {
    int status;
    const char *ctype;
    int nosniff;
    char body[8192];
    json_t *j; /* the body parsed, or NULL */
} resp;

static resp g_r;

static int setup(void)
{
    cr_err e;
    cr_err_clear(&e);
    return cr_proxy_create(11, &g_p, &e) == 0 ? 0 : -1;
}

static int teardown(void)
{
    json_decref(g_r.j);
    g_r.j = NULL;
    cr_proxy_destroy(g_p);
    g_p = NULL;
    return 0;
}

/* ---- helpers --------------------------------------------------------------
 */

/* One request; the reply in g_r (body NUL-terminated, parsed when JSON). */
static int req(const char *method, const char *path, const char *body)
{
    cr_proxy_api_reply r;
    json_decref(g_r.j);
    memset(&g_r, 0, sizeof g_r);
    int rc = cr_proxy_api_handle(g_p, method, path, "curl/7.88.1", body,
                                 body ? strlen(body) : 0, &r);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    g_r.status = r.status;
    g_r.ctype = r.content_type;
    g_r.nosniff = r.nosniff;
    CU_ASSERT_FATAL(r.len < sizeof g_r.body);
    if (r.len)
        memcpy(g_r.body, r.body, r.len);
    g_r.body[r.len] = '\0';
    g_r.j = json_loads(g_r.body, JSON_DECODE_ANY, NULL);
    cr_proxy_api_reply_free(&r);
    return g_r.status;
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "(none)";
}

static double jnum(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : -12345;
}

/* The object has exactly these keys (NULL-terminated). */
static int keys_are(const json_t *o, ...)
{
    va_list ap;
    size_t n = 0;
    int ok = json_is_object(o);
    va_start(ap, o);
    for (const char *k; (k = va_arg(ap, const char *)); n++)
        if (!json_object_get(o, k)) {
            fprintf(stderr, "\nmissing key %s", k);
            ok = 0;
        }
    va_end(ap);
    if (ok && json_object_size(o) != n) {
        fprintf(stderr, "\n%zu keys, expected %zu", json_object_size(o), n);
        ok = 0;
    }
    return ok;
}

/* Toxiproxy's error: status, exact body, text/plain, nosniff. */
static void expect_error(int status, const char *msg)
{
    char want[512];
    snprintf(want, sizeof want, "{\"error\":\"%s\",\"status\":%d}\n", msg,
             status);
    CU_ASSERT_EQUAL(g_r.status, status);
    if (strcmp(g_r.body, want) != 0)
        fprintf(stderr, "\nbody: %swant: %s", g_r.body, want);
    CU_ASSERT_STRING_EQUAL(g_r.body, want);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g_r.ctype);
    CU_ASSERT_STRING_EQUAL(g_r.ctype, "text/plain; charset=utf-8");
    CU_ASSERT(g_r.nosniff);
}

/* A 400 whose error starts with prefix and names what. */
static void expect_400(const char *prefix, const char *what)
{
    CU_ASSERT_EQUAL(g_r.status, 400);
    CU_ASSERT(keys_are(g_r.j, "error", "status", NULL));
    CU_ASSERT_EQUAL(jnum(g_r.j, "status"), 400);
    const char *e = jstr(g_r.j, "error");
    CU_ASSERT(strncmp(e, prefix, strlen(prefix)) == 0);
    if (what)
        CU_ASSERT_PTR_NOT_NULL(strstr(e, what));
}

static int listen_port(const json_t *proxy)
{
    const char *l = jstr(proxy, "listen");
    const char *c = strrchr(l, ':');
    return c && !strncmp(l, "127.0.0.1:", 10) ? atoi(c + 1) : -1;
}

/* Does a TCP connect to 127.0.0.1:port succeed? (The listen queue accepts
 * without the loop running.) */
static int connects(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

/* A port nothing listens on now (bound, then closed). */
static int free_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
        return -1;
    close(fd);
    return ntohs(sa.sin_port);
}

static void reset_all(void)
{
    /* Delete every proxy (GET /proxies, then DELETE each). */
    CU_ASSERT_EQUAL_FATAL(req("GET", "/proxies", NULL), 200);
    json_t *all = json_incref(g_r.j);
    const char *name;
    json_t *v;
    json_object_foreach (all, name, v) {
        char path[256];
        snprintf(path, sizeof path, "/proxies/%s", name);
        CU_ASSERT_EQUAL(req("DELETE", path, NULL), 204);
    }
    json_decref(all);
}

/* ---- proxies --------------------------------------------------------------
 */

static void test_api_proxy_lifecycle(void)
{
    reset_all();
    /* Empty collection: {} */
    CU_ASSERT_EQUAL(req("GET", "/proxies", NULL), 200);
    CU_ASSERT_STRING_EQUAL(g_r.ctype, "application/json");
    CU_ASSERT_STRING_EQUAL(g_r.body, "{}");

    /* Create: 201 with the proxy, listening on the port it was given. */
    CU_ASSERT_EQUAL(req("POST", "/proxies",
                        "{\"name\":\"redis\",\"listen\":\"127.0.0.1:0\","
                        "\"upstream\":\"127.0.0.1:6379\"}"),
                    201);
    CU_ASSERT_STRING_EQUAL(g_r.ctype, "application/json");
    CU_ASSERT(keys_are(g_r.j, "name", "listen", "upstream", "enabled", "toxics",
                       NULL));
    CU_ASSERT_STRING_EQUAL(jstr(g_r.j, "name"), "redis");
    CU_ASSERT_STRING_EQUAL(jstr(g_r.j, "upstream"), "127.0.0.1:6379");
    CU_ASSERT(json_is_true(json_object_get(g_r.j, "enabled")));
    CU_ASSERT(json_is_array(json_object_get(g_r.j, "toxics")));
    CU_ASSERT_EQUAL(json_array_size(json_object_get(g_r.j, "toxics")), 0);
    int port = listen_port(g_r.j);
    CU_ASSERT(port > 0);
    CU_ASSERT(connects(port) == 1);

    /* Same name again: 409. */
    req("POST", "/proxies",
        "{\"name\":\"redis\",\"listen\":\"127.0.0.1:0\","
        "\"upstream\":\"127.0.0.1:1\"}");
    expect_error(409, "proxy already exists");

    /* A second one, created disabled: nothing listens, as in Toxiproxy.
     * Toxiproxy's wildcard listen (":0", "0.0.0.0:P") is loopback here. */
    CU_ASSERT_EQUAL(req("POST", "/proxies",
                        "{\"name\":\"api\",\"listen\":\"0.0.0.0:0\","
                        "\"upstream\":\"localhost:8080\",\"enabled\":false}"),
                    201);
    CU_ASSERT(json_is_false(json_object_get(g_r.j, "enabled")));
    CU_ASSERT_STRING_EQUAL(jstr(g_r.j, "upstream"), "localhost:8080");

    /* Index: an object by name (Go marshals map keys sorted). */
    CU_ASSERT_EQUAL(req("GET", "/proxies", NULL), 200);
    CU_ASSERT(keys_are(g_r.j, "api", "redis", NULL));
    CU_ASSERT(strstr(g_r.body, "\"api\"") < strstr(g_r.body, "\"redis\""));
    CU_ASSERT_STRING_EQUAL(jstr(json_object_get(g_r.j, "redis"), "name"),
                           "redis");

    /* Show. */
    CU_ASSERT_EQUAL(req("GET", "/proxies/redis", NULL), 200);
    CU_ASSERT_EQUAL(listen_port(g_r.j), port);
    req("GET", "/proxies/nope", NULL);
    expect_error(404, "proxy not found");

    /* Update with PATCH (and the deprecated POST): enabled false closes
     * the listener; true listens again on the same address. */
    CU_ASSERT_EQUAL(req("PATCH", "/proxies/redis", "{\"enabled\":false}"), 200);
    CU_ASSERT(json_is_false(json_object_get(g_r.j, "enabled")));
    CU_ASSERT(connects(port) == 0);
    CU_ASSERT_EQUAL(req("POST", "/proxies/redis", "{\"enabled\":true}"), 200);
    CU_ASSERT(json_is_true(json_object_get(g_r.j, "enabled")));
    CU_ASSERT_EQUAL(listen_port(g_r.j), port);
    CU_ASSERT(connects(port) == 1);

    /* What Toxiproxy's clients send back: the whole proxy, name and toxics
     * included; a new listen address moves the listener. */
    int np = free_port();
    char body[512];
    snprintf(body, sizeof body,
             "{\"name\":\"redis\",\"listen\":\"127.0.0.1:%d\","
             "\"upstream\":\"127.0.0.1:6380\",\"enabled\":true,"
             "\"toxics\":[]}",
             np);
    CU_ASSERT_EQUAL(req("POST", "/proxies/redis", body), 200);
    CU_ASSERT_EQUAL(listen_port(g_r.j), np);
    CU_ASSERT_STRING_EQUAL(jstr(g_r.j, "upstream"), "127.0.0.1:6380");
    CU_ASSERT(connects(np) == 1);
    CU_ASSERT(connects(port) == 0);

    /* A rename is refused (Toxiproxy would ignore it silently). */
    req("PATCH", "/proxies/redis", "{\"name\":\"other\"}");
    expect_400("bad request body: a proxy cannot be renamed", "other");
    req("PATCH", "/proxies/nope", "{\"enabled\":false}");
    expect_error(404, "proxy not found");

    /* Delete: 204 without a body, the listener closed; again: 404. */
    CU_ASSERT_EQUAL(req("DELETE", "/proxies/redis", NULL), 204);
    CU_ASSERT_EQUAL(g_r.body[0], '\0');
    CU_ASSERT_PTR_NULL(g_r.ctype);
    CU_ASSERT(connects(np) == 0);
    req("DELETE", "/proxies/redis", NULL);
    expect_error(404, "proxy not found");
    CU_ASSERT_EQUAL(req("DELETE", "/proxies/api", NULL), 204);
}

static void test_api_proxy_bad_bodies(void)
{
    reset_all();
    req("POST", "/proxies",
        "{\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:1\"}");
    expect_error(400, "missing required field: name");
    req("POST", "/proxies", "{\"name\":\"a\",\"listen\":\"127.0.0.1:0\"}");
    expect_error(400, "missing required field: upstream");
    req("POST", "/proxies", "{\"name\":\"a\",");
    expect_400("bad request body: ", NULL);
    req("POST", "/proxies", "");
    expect_400("bad request body: ", NULL);
    req("POST", "/proxies", "[1]");
    expect_400("bad request body: ", "object");
    /* Fields chaosrun does not know are refused, not dropped. */
    req("POST", "/proxies",
        "{\"name\":\"a\",\"upstream\":\"127.0.0.1:1\",\"listen\":\"127.0.0.1:"
        "0\","
        "\"tls\":{}}");
    expect_400("bad request body: unknown field 'tls'", NULL);
    req("POST", "/proxies",
        "{\"name\":\"a\",\"upstream\":\"127.0.0.1:1\",\"enabled\":\"yes\"}");
    expect_400("bad request body: 'enabled' must be a boolean", NULL);
    req("POST", "/proxies",
        "{\"name\":\"a\",\"upstream\":\"127.0.0.1:1\",\"listen\":\"[::1]:0\"}");
    expect_400("listen address '[::1]:0': IPv6", NULL);
    /* Listeners are loopback unless --allow-remote. */
    req("POST", "/proxies",
        "{\"name\":\"a\",\"upstream\":\"127.0.0.1:1\",\"listen\":\"8.8.8.8:"
        "1\"}");
    expect_400("address '8.8.8.8:1'", "loopback");
    /* The upstream is resolved when the proxy is made (Toxiproxy: at each
     * connection), so a name that does not resolve is a 400 at once. */
    req("POST", "/proxies",
        "{\"name\":\"a\",\"upstream\":\"no-such-host.invalid:1\"}");
    expect_400("address 'no-such-host.invalid:1'", NULL);
    /* Nothing was created by any of them. */
    CU_ASSERT_EQUAL(req("GET", "/proxies", NULL), 200);
    CU_ASSERT_STRING_EQUAL(g_r.body, "{}");
}

/* ---- toxics ---------------------------------------------------------------
 */

static void test_api_toxics(void)
{
    reset_all();
    CU_ASSERT_EQUAL_FATAL(req("POST", "/proxies",
                              "{\"name\":\"db\",\"listen\":\"127.0.0.1:0\","
                              "\"upstream\":\"127.0.0.1:5432\"}"),
                          201);

    /* Created: 200 (Toxiproxy's ToxicCreate does not say 201); defaults:
     * downstream, toxicity 1, name <type>_<stream>, missing attributes 0. */
    CU_ASSERT_EQUAL(req("POST", "/proxies/db/toxics",
                        "{\"type\":\"latency\",\"attributes\":"
                        "{\"latency\":1000}}"),
                    200);
    CU_ASSERT_STRING_EQUAL(g_r.ctype, "application/json");
    CU_ASSERT(keys_are(g_r.j, "attributes", "name", "type", "stream",
                       "toxicity", NULL));
    /* Toxiproxy's field order (its ToxicWrapper). */
    CU_ASSERT_EQUAL(strncmp(g_r.body, "{\"attributes\":", 14), 0);
    CU_ASSERT_STRING_EQUAL(jstr(g_r.j, "name"), "latency_downstream");
    CU_ASSERT_STRING_EQUAL(jstr(g_r.j, "type"), "latency");
    CU_ASSERT_STRING_EQUAL(jstr(g_r.j, "stream"), "downstream");
    CU_ASSERT_EQUAL(jnum(g_r.j, "toxicity"), 1);
    json_t *a = json_object_get(g_r.j, "attributes");
    CU_ASSERT(keys_are(a, "latency", "jitter", NULL));
    CU_ASSERT(json_is_integer(json_object_get(a, "latency")));
    CU_ASSERT_EQUAL(jnum(a, "latency"), 1000);
    CU_ASSERT_EQUAL(jnum(a, "jitter"), 0);

    /* Same name: 409. */
    req("POST", "/proxies/db/toxics",
        "{\"type\":\"latency\",\"attributes\":{\"latency\":5}}");
    expect_error(409, "toxic already exists");

    /* Every Toxiproxy type with its attributes, upstream ones too. */
    static const struct {
        const char *body, *type, *attrs[4];
    } all[] = {
        {"{\"name\":\"bw\",\"type\":\"bandwidth\",\"stream\":\"upstream\","
         "\"attributes\":{\"rate\":100}}",
         "bandwidth",
         {"rate", NULL}},
        {"{\"name\":\"sc\",\"type\":\"slow_close\",\"attributes\":"
         "{\"delay\":10}}",
         "slow_close",
         {"delay", NULL}},
        {"{\"name\":\"to\",\"type\":\"timeout\",\"toxicity\":0.25,"
         "\"attributes\":{\"timeout\":100}}",
         "timeout",
         {"timeout", NULL}},
        {"{\"name\":\"rp\",\"type\":\"reset_peer\",\"stream\":\"upstream\","
         "\"attributes\":{\"timeout\":0}}",
         "reset_peer",
         {"timeout", NULL}},
        {"{\"name\":\"sl\",\"type\":\"slicer\",\"attributes\":"
         "{\"average_size\":64,\"size_variation\":8,\"delay\":10}}",
         "slicer",
         {"average_size", "size_variation", "delay", NULL}},
        {"{\"name\":\"ld\",\"type\":\"limit_data\",\"attributes\":"
         "{\"bytes\":4096}}",
         "limit_data",
         {"bytes", NULL}},
    };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        CU_ASSERT_EQUAL(req("POST", "/proxies/db/toxics", all[i].body), 200);
        CU_ASSERT_STRING_EQUAL(jstr(g_r.j, "type"), all[i].type);
        json_t *at = json_object_get(g_r.j, "attributes");
        size_t n = 0;
        for (; all[i].attrs[n]; n++)
            CU_ASSERT_PTR_NOT_NULL(json_object_get(at, all[i].attrs[n]));
        CU_ASSERT_EQUAL(json_object_size(at), n);
    }
    CU_ASSERT_EQUAL(req("GET", "/proxies/db/toxics/to", NULL), 200);
    CU_ASSERT_EQUAL(jnum(g_r.j, "toxicity"), 0.25);
    CU_ASSERT_PTR_NOT_NULL(strstr(g_r.body, "\"toxicity\":0.25"));

    /* Index: upstream toxics first, then downstream, each in order of
     * addition (Toxiproxy's GetToxicArray). */
    CU_ASSERT_EQUAL(req("GET", "/proxies/db/toxics", NULL), 200);
    static const char *order[] = {"bw", "rp", "latency_downstream", "sc", "to",
                                  "sl", "ld"};
    CU_ASSERT_EQUAL_FATAL(json_array_size(g_r.j), 7);
    for (size_t i = 0; i < 7; i++)
        CU_ASSERT_STRING_EQUAL(jstr(json_array_get(g_r.j, i), "name"),
                               order[i]);
    /* The proxy shows the same list. */
    CU_ASSERT_EQUAL(req("GET", "/proxies/db", NULL), 200);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(g_r.j, "toxics")), 7);

    /* Update (PATCH, and POST as older clients do): attributes merge, the
     * rest stays; the whole toxic sent back is accepted. */
    CU_ASSERT_EQUAL(req("PATCH", "/proxies/db/toxics/latency_downstream",
                        "{\"attributes\":{\"jitter\":50}}"),
                    200);
    a = json_object_get(g_r.j, "attributes");
    CU_ASSERT_EQUAL(jnum(a, "latency"), 1000);
    CU_ASSERT_EQUAL(jnum(a, "jitter"), 50);
    CU_ASSERT_EQUAL(req("POST", "/proxies/db/toxics/latency_downstream",
                        "{\"attributes\":{\"latency\":20,\"jitter\":0},"
                        "\"name\":\"latency_downstream\",\"type\":\"latency\","
                        "\"stream\":\"downstream\",\"toxicity\":0.5}"),
                    200);
    a = json_object_get(g_r.j, "attributes");
    CU_ASSERT_EQUAL(jnum(a, "latency"), 20);
    CU_ASSERT_EQUAL(jnum(g_r.j, "toxicity"), 0.5);
    CU_ASSERT_EQUAL(req("GET", "/proxies/db/toxics/latency_downstream", NULL),
                    200);
    CU_ASSERT_EQUAL(jnum(json_object_get(g_r.j, "attributes"), "latency"), 20);
    CU_ASSERT_EQUAL(jnum(g_r.j, "toxicity"), 0.5);

    /* Not found. */
    req("GET", "/proxies/db/toxics/nope", NULL);
    expect_error(404, "toxic not found");
    req("PATCH", "/proxies/db/toxics/nope", "{}");
    expect_error(404, "toxic not found");
    req("DELETE", "/proxies/db/toxics/nope", NULL);
    expect_error(404, "toxic not found");
    req("GET", "/proxies/nope/toxics", NULL);
    expect_error(404, "proxy not found");
    req("POST", "/proxies/nope/toxics", "{\"type\":\"latency\"}");
    expect_error(404, "proxy not found");

    /* Delete: 204, gone from the list. */
    CU_ASSERT_EQUAL(req("DELETE", "/proxies/db/toxics/sc", NULL), 204);
    CU_ASSERT_EQUAL(g_r.body[0], '\0');
    req("GET", "/proxies/db/toxics/sc", NULL);
    expect_error(404, "toxic not found");
    CU_ASSERT_EQUAL(req("GET", "/proxies/db/toxics", NULL), 200);
    CU_ASSERT_EQUAL(json_array_size(g_r.j), 6);
    CU_ASSERT_EQUAL(req("DELETE", "/proxies/db", NULL), 204);
}

static void test_api_toxic_bad_bodies(void)
{
    reset_all();
    CU_ASSERT_EQUAL_FATAL(req("POST", "/proxies",
                              "{\"name\":\"db\",\"listen\":\"127.0.0.1:0\","
                              "\"upstream\":\"127.0.0.1:5432\"}"),
                          201);
    /* Toxiproxy's own messages. */
    req("POST", "/proxies/db/toxics",
        "{\"type\":\"latency\",\"stream\":\"sideways\"}");
    expect_error(400,
                 "stream was invalid, can be either upstream or downstream");
    req("POST", "/proxies/db/toxics", "{\"type\":\"warp\"}");
    expect_error(400, "invalid toxic type");
    req("POST", "/proxies/db/toxics", "{}");
    expect_error(400, "invalid toxic type");
    req("POST", "/proxies/db/toxics", "{\"type\":");
    expect_400("bad request body: ", NULL);
    /* What chaosrun cannot honour is a 400, never dropped silently. */
    req("POST", "/proxies/db/toxics",
        "{\"type\":\"latency\",\"attributes\":{\"latency\":10,"
        "\"lantecy\":5}}");
    expect_400("bad request body: latency has no attribute 'lantecy'",
               "known: latency, jitter");
    req("POST", "/proxies/db/toxics",
        "{\"type\":\"latency\",\"attributes\":{\"latency\":\"10\"}}");
    expect_400("bad request body: attribute 'latency' must be a number", NULL);
    req("POST", "/proxies/db/toxics", "{\"type\":\"latency\",\"priority\":1}");
    expect_400("bad request body: unknown field 'priority'", NULL);
    req("POST", "/proxies/db/toxics",
        "{\"type\":\"bandwidth\",\"attributes\":{\"rate\":0}}");
    expect_400("bad request body: ", "rate");
    req("POST", "/proxies/db/toxics",
        "{\"type\":\"latency\",\"toxicity\":1.5}");
    expect_400("bad request body: ", "toxicity");
    req("POST", "/proxies/db/toxics", "{\"type\":\"latency\",\"toxicity\":-1}");
    expect_400("bad request body: ", "toxicity");
    req("POST", "/proxies/db/toxics",
        "{\"type\":\"slow_close\",\"attributes\":{\"delay\":-5}}");
    expect_400("bad request body: ", "delay");
    /* None of them was added. */
    CU_ASSERT_EQUAL(req("GET", "/proxies/db/toxics", NULL), 200);
    CU_ASSERT_STRING_EQUAL(g_r.body, "[]");

    /* An update cannot rename, retype or move a toxic, nor add an
     * attribute the type does not have; the toxic stays as it was. */
    CU_ASSERT_EQUAL(req("POST", "/proxies/db/toxics",
                        "{\"name\":\"slow\",\"type\":\"latency\","
                        "\"attributes\":{\"latency\":30}}"),
                    200);
    req("PATCH", "/proxies/db/toxics/slow", "{\"name\":\"fast\"}");
    expect_400("bad request body: a toxic cannot be renamed", NULL);
    req("PATCH", "/proxies/db/toxics/slow", "{\"type\":\"timeout\"}");
    expect_400("bad request body: the type of toxic 'slow'", NULL);
    req("PATCH", "/proxies/db/toxics/slow", "{\"stream\":\"upstream\"}");
    expect_400("bad request body: the stream of toxic 'slow'", NULL);
    req("PATCH", "/proxies/db/toxics/slow", "{\"attributes\":{\"rate\":5}}");
    expect_400("bad request body: latency has no attribute 'rate'", NULL);
    req("PATCH", "/proxies/db/toxics/slow", "{\"toxicity\":2}");
    expect_400("bad request body: ", "toxicity");
    CU_ASSERT_EQUAL(req("GET", "/proxies/db/toxics/slow", NULL), 200);
    CU_ASSERT_EQUAL(jnum(json_object_get(g_r.j, "attributes"), "latency"), 30);
    CU_ASSERT_EQUAL(jnum(g_r.j, "toxicity"), 1);
    CU_ASSERT_EQUAL(req("DELETE", "/proxies/db", NULL), 204);
}

/* ---- reset, populate, version, metrics, routing ---------------------------
 */

static void test_api_reset(void)
{
    reset_all();
    CU_ASSERT_EQUAL_FATAL(req("POST", "/proxies",
                              "{\"name\":\"a\",\"listen\":\"127.0.0.1:0\","
                              "\"upstream\":\"127.0.0.1:1\"}"),
                          201);
    int port = listen_port(g_r.j);
    CU_ASSERT_EQUAL(req("POST", "/proxies/a/toxics",
                        "{\"type\":\"timeout\",\"attributes\":"
                        "{\"timeout\":0}}"),
                    200);
    CU_ASSERT_EQUAL(req("PATCH", "/proxies/a", "{\"enabled\":false}"), 200);
    CU_ASSERT(connects(port) == 0);
    /* Every toxic removed, every proxy enabled again. */
    CU_ASSERT_EQUAL(req("POST", "/reset", NULL), 204);
    CU_ASSERT_EQUAL(g_r.body[0], '\0');
    CU_ASSERT_EQUAL(req("GET", "/proxies/a", NULL), 200);
    CU_ASSERT(json_is_true(json_object_get(g_r.j, "enabled")));
    CU_ASSERT_EQUAL(json_array_size(json_object_get(g_r.j, "toxics")), 0);
    CU_ASSERT(connects(port) == 1);
    CU_ASSERT_EQUAL(req("GET", "/reset", NULL), 405);
    CU_ASSERT_EQUAL(req("DELETE", "/proxies/a", NULL), 204);
}

static void test_api_populate(void)
{
    reset_all();
    int p1 = free_port();
    char body[512];
    snprintf(body, sizeof body,
             "[{\"name\":\"one\",\"listen\":\"127.0.0.1:%d\","
             "\"upstream\":\"127.0.0.1:1\"},"
             "{\"name\":\"two\",\"listen\":\"127.0.0.1:0\","
             "\"upstream\":\"127.0.0.1:2\",\"enabled\":false}]",
             p1);
    CU_ASSERT_EQUAL(req("POST", "/populate", body), 201);
    CU_ASSERT_STRING_EQUAL(g_r.ctype, "application/json");
    CU_ASSERT(keys_are(g_r.j, "proxies", NULL));
    json_t *px = json_object_get(g_r.j, "proxies");
    CU_ASSERT_EQUAL_FATAL(json_array_size(px), 2);
    CU_ASSERT_STRING_EQUAL(jstr(json_array_get(px, 0), "name"), "one");
    CU_ASSERT(keys_are(json_array_get(px, 0), "name", "listen", "upstream",
                       "enabled", "toxics", NULL));
    CU_ASSERT_EQUAL(listen_port(json_array_get(px, 0)), p1);
    CU_ASSERT(json_is_false(json_object_get(json_array_get(px, 1), "enabled")));
    CU_ASSERT(connects(p1) == 1);

    /* Again with "one" unchanged (it keeps its toxic) and "two" changed
     * (replaced: new upstream, no toxics). */
    CU_ASSERT_EQUAL(req("POST", "/proxies/one/toxics",
                        "{\"name\":\"keep\",\"type\":\"latency\"}"),
                    200);
    CU_ASSERT_EQUAL(req("POST", "/proxies/two/toxics",
                        "{\"name\":\"drop\",\"type\":\"latency\"}"),
                    200);
    snprintf(body, sizeof body,
             "[{\"name\":\"one\",\"listen\":\"127.0.0.1:%d\","
             "\"upstream\":\"127.0.0.1:1\"},"
             "{\"name\":\"two\",\"listen\":\"127.0.0.1:0\","
             "\"upstream\":\"127.0.0.1:3\"}]",
             p1);
    CU_ASSERT_EQUAL(req("POST", "/populate", body), 201);
    px = json_object_get(g_r.j, "proxies");
    CU_ASSERT_EQUAL(
        json_array_size(json_object_get(json_array_get(px, 0), "toxics")), 1);
    CU_ASSERT_EQUAL(
        json_array_size(json_object_get(json_array_get(px, 1), "toxics")), 0);
    CU_ASSERT_STRING_EQUAL(jstr(json_array_get(px, 1), "upstream"),
                           "127.0.0.1:3");
    CU_ASSERT(json_is_true(json_object_get(json_array_get(px, 1), "enabled")));

    /* Errors: checked before anything is applied; JSON (not http.Error)
     * with "proxies": null, as Toxiproxy's Populate writes them. */
    CU_ASSERT_EQUAL(req("POST", "/populate",
                        "[{\"name\":\"three\",\"upstream\":\"127.0.0.1:1\"},"
                        "{\"name\":\"four\"}]"),
                    400);
    CU_ASSERT_STRING_EQUAL(g_r.ctype, "application/json");
    CU_ASSERT_STRING_EQUAL(g_r.body,
                           "{\"error\":\"missing required field: upstream at "
                           "proxy 2\",\"status\":400,\"proxies\":null}");
    CU_ASSERT_EQUAL(
        req("POST", "/populate", "[{\"upstream\":\"127.0.0.1:1\"}]"), 400);
    CU_ASSERT_STRING_EQUAL(jstr(g_r.j, "error"),
                           "missing required field: name at proxy 1");
    CU_ASSERT_EQUAL(req("POST", "/populate", "{\"name\":\"x\"}"), 400);
    CU_ASSERT(keys_are(g_r.j, "error", "status", "proxies", NULL));
    CU_ASSERT_EQUAL(req("POST", "/populate", "[{"), 400);
    CU_ASSERT(strncmp(jstr(g_r.j, "error"), "bad request body: ", 18) == 0);
    CU_ASSERT(json_is_null(json_object_get(g_r.j, "proxies")));
    CU_ASSERT_EQUAL(req("GET", "/proxies/three", NULL), 404);

    /* An error while applying: the proxies done before it are listed. */
    CU_ASSERT_EQUAL(
        req("POST", "/populate",
            "[{\"name\":\"five\",\"listen\":\"127.0.0.1:0\","
            "\"upstream\":\"127.0.0.1:1\"},{\"name\":\"six\","
            "\"listen\":\"8.8.8.8:1\",\"upstream\":\"127.0.0.1:1\"}]"),
        400);
    CU_ASSERT(keys_are(g_r.j, "error", "status", "proxies", NULL));
    CU_ASSERT_EQUAL(json_array_size(json_object_get(g_r.j, "proxies")), 1);
    CU_ASSERT_EQUAL(req("GET", "/populate", NULL), 405);
    reset_all();
}

static void test_api_version_metrics_routes(void)
{
    reset_all();
    CU_ASSERT_EQUAL(req("GET", "/version", NULL), 200);
    CU_ASSERT_STRING_EQUAL(g_r.ctype, "application/json;charset=utf-8");
    /* Toxiproxy's exact form: {"version": "X"} and a newline. */
    CU_ASSERT_EQUAL(strncmp(g_r.body, "{\"version\": \"2.", 15), 0);
    CU_ASSERT(g_r.body[strlen(g_r.body) - 1] == '\n');
    CU_ASSERT_PTR_NOT_NULL(strstr(jstr(g_r.j, "version"), "chaosrun"));

    CU_ASSERT_EQUAL(req("POST", "/proxies",
                        "{\"name\":\"m\\\"x\",\"listen\":\"127.0.0.1:0\","
                        "\"upstream\":\"127.0.0.1:1\"}"),
                    201);
    CU_ASSERT_EQUAL(req("GET", "/metrics", NULL), 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(g_r.body,
                                  "# TYPE toxiproxy_proxy_received_bytes_total "
                                  "counter\n"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(g_r.body, "# TYPE toxiproxy_proxy_sent_bytes_total counter\n"));
    /* One line per proxy and direction, label values escaped. */
    CU_ASSERT_PTR_NOT_NULL(strstr(g_r.body,
                                  "toxiproxy_proxy_sent_bytes_total{direction="
                                  "\"upstream\",listener=\"127.0.0.1:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(g_r.body, "proxy=\"m\\\"x\",upstream=\""
                                            "127.0.0.1:1\"} 0\n"));
    CU_ASSERT_EQUAL(req("DELETE", "/proxies/m\"x", NULL), 204);

    /* Routing as gorilla/mux and Go's server: an unknown path is Go's
     * plain 404, a known path with another method a 405 without body. */
    static const char *const unknown[] = {
        "/",           "/proxy",       "/proxies/",
        "/proxies/a/", "/proxies/a/b", "/proxies/a/toxics/b/c",
        "/version/",   "//proxies",    NULL};
    for (int i = 0; unknown[i]; i++) {
        CU_ASSERT_EQUAL(req("GET", unknown[i], NULL), 404);
        CU_ASSERT_STRING_EQUAL(g_r.body, "404 page not found\n");
    }
    static const char *const wrong[][2] = {{"DELETE", "/proxies"},
                                           {"PUT", "/proxies/a"},
                                           {"DELETE", "/proxies/a/toxics"},
                                           {"PUT", "/proxies/a/toxics/b"},
                                           {"POST", "/version"},
                                           {NULL, NULL}};
    for (int i = 0; wrong[i][0]; i++) {
        CU_ASSERT_EQUAL(req(wrong[i][0], wrong[i][1], NULL), 405);
        CU_ASSERT_EQUAL(g_r.body[0], '\0');
    }
    /* A browser is refused, whatever it asks. */
    cr_proxy_api_reply r;
    CU_ASSERT_EQUAL(cr_proxy_api_handle(g_p, "GET", "/proxies",
                                        "Mozilla/5.0 (X11; Linux x86_64)", NULL,
                                        0, &r),
                    0);
    CU_ASSERT_EQUAL(r.status, 403);
    CU_ASSERT_EQUAL(r.len, strlen("User agent not allowed\n"));
    cr_proxy_api_reply_free(&r);
}

/* The line protocol (its new commands: toxic update, link update, enable,
 * disable, remove) and the API change one state: what one does, the other
 * shows at once. */
static char *line(const char *cmd)
{
    char *r = cr_proxy_command(g_p, cmd);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    return r;
}

#define LINE_IS(cmd, want)                                                     \
    do {                                                                       \
        char *r_ = line(cmd);                                                  \
        if (strcmp(r_, want) != 0)                                             \
            fprintf(stderr, "\n%s -> %s", cmd, r_);                            \
        CU_ASSERT_STRING_EQUAL(r_, want);                                      \
        cr_free(r_);                                                           \
    } while (0)

static void test_api_and_line_protocol_share_state(void)
{
    reset_all();
    CU_ASSERT_EQUAL_FATAL(req("POST", "/proxies",
                              "{\"name\":\"db\",\"listen\":\"127.0.0.1:0\","
                              "\"upstream\":\"127.0.0.1:5432\"}"),
                          201);
    int port = listen_port(g_r.j);
    /* Made by the API, seen by `links`. */
    char *r = line("links");
    json_t *j = json_loads(r, 0, NULL);
    cr_free(r);
    json_t *l0 = json_array_get(json_object_get(j, "links"), 0);
    CU_ASSERT_STRING_EQUAL(jstr(l0, "name"), "db");
    CU_ASSERT_EQUAL(jnum(l0, "port"), port);
    CU_ASSERT(json_is_true(json_object_get(l0, "enabled")));
    json_decref(j);

    /* A toxic added and updated on the line, seen by the API. */
    LINE_IS("toxic add db slow latency latency=100 stream=upstream",
            "ok toxic slow added to db");
    LINE_IS("toxic update db slow latency=250 toxicity=0.5",
            "ok toxic slow updated on db");
    CU_ASSERT_EQUAL(req("GET", "/proxies/db/toxics/slow", NULL), 200);
    CU_ASSERT_STRING_EQUAL(jstr(g_r.j, "stream"), "upstream");
    CU_ASSERT_EQUAL(jnum(json_object_get(g_r.j, "attributes"), "latency"), 250);
    CU_ASSERT_EQUAL(jnum(g_r.j, "toxicity"), 0.5);
    LINE_IS("toxic update db nope latency=1", "err no toxic 'nope' on link db");
    LINE_IS("toxic update db slow rate=1",
            "err latency: unknown attribute 'rate' (known: stream, "
            "toxicity, latency, jitter)");

    /* Updated by the API, seen on the line (stats). */
    CU_ASSERT_EQUAL(req("PATCH", "/proxies/db/toxics/slow",
                        "{\"attributes\":{\"jitter\":7}}"),
                    200);
    r = line("stats");
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "\"attributes\":{\"latency\":250,"
                                     "\"jitter\":7}"));
    cr_free(r);

    /* Links disabled, enabled, moved and removed on the line. */
    LINE_IS("link disable db", "ok link db disabled");
    CU_ASSERT_EQUAL(req("GET", "/proxies/db", NULL), 200);
    CU_ASSERT(json_is_false(json_object_get(g_r.j, "enabled")));
    CU_ASSERT(connects(port) == 0);
    LINE_IS("link enable db", "ok link db enabled");
    CU_ASSERT(connects(port) == 1);
    int np = free_port();
    char cmd[128], want[128];
    snprintf(cmd, sizeof cmd, "link update db 127.0.0.1:%d 127.0.0.1:5433", np);
    snprintf(want, sizeof want, "ok link db listening on port %d", np);
    LINE_IS(cmd, want);
    CU_ASSERT_EQUAL(req("GET", "/proxies/db", NULL), 200);
    CU_ASSERT_EQUAL(listen_port(g_r.j), np);
    CU_ASSERT_STRING_EQUAL(jstr(g_r.j, "upstream"), "127.0.0.1:5433");
    /* The toxic survives the move. */
    CU_ASSERT_EQUAL(json_array_size(json_object_get(g_r.j, "toxics")), 1);
    LINE_IS("link remove db", "ok link db removed");
    req("GET", "/proxies/db", NULL);
    expect_error(404, "proxy not found");
    CU_ASSERT(connects(np) == 0);
    r = line("link remove db");
    CU_ASSERT_EQUAL(strncmp(r, "err ", 4), 0);
    cr_free(r);
    LINE_IS("link disable", "err usage: link disable NAME");
}

/* Allocation failures anywhere in the API: every request answers or fails
 * with CR_ENOMEM (and a cleared reply), nothing leaks (ASan), nothing
 * crashes; N = 1, 2, ... until the sequence runs without a failure. */
static int oom_sequence(void)
{
    static const char *const seq[][3] = {
        {"POST", "/proxies",
         "{\"name\":\"o\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:"
         "1\"}"},
        {"POST", "/proxies/o/toxics",
         "{\"type\":\"latency\",\"attributes\":{\"latency\":5}}"},
        {"PATCH", "/proxies/o/toxics/latency_downstream",
         "{\"attributes\":{\"jitter\":1}}"},
        {"POST", "/proxies/o/toxics", "{\"type\":\"nope\"}"},
        {"GET", "/proxies", NULL},
        {"GET", "/proxies/o/toxics", NULL},
        {"GET", "/metrics", NULL},
        {"PATCH", "/proxies/o", "{\"enabled\":false}"},
        {"POST", "/populate",
         "[{\"name\":\"p\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:"
         "2\"}]"},
        {"POST", "/reset", NULL},
        {"DELETE", "/proxies/o/toxics/latency_downstream", NULL},
        {"DELETE", "/proxies/o", NULL},
        {"GET", "/nope", NULL},
        {NULL, NULL, NULL}};
    cr_proxy *p = NULL;
    cr_err e;
    int ok = 1;
    cr_err_clear(&e);
    if (cr_proxy_create(3, &p, &e) < 0)
        return 0;
    for (int i = 0; seq[i][0]; i++) {
        cr_proxy_api_reply r;
        const char *b = seq[i][2];
        int rc = cr_proxy_api_handle(p, seq[i][0], seq[i][1], NULL, b,
                                     b ? strlen(b) : 0, &r);
        if (rc == CR_ENOMEM) {
            CU_ASSERT(r.body == NULL && r.status == 0);
            ok = 0;
        } else {
            CU_ASSERT_EQUAL(rc, 0);
            /* A 500 is how an allocation failure inside the proxy may
             * show; any other status is the request's own answer. */
            if (r.status == 500)
                ok = 0;
        }
        cr_proxy_api_reply_free(&r);
    }
    cr_proxy_destroy(p);
    return ok;
}

static void test_api_oom_loop(void)
{
    long n;
    int done = 0;
    cr_alloc_install_json();
    for (n = 1; n < 100000 && !done; n++) {
        long fails = cr_alloc_failures();
        cr_alloc_fail_after(n);
        int ok = oom_sequence();
        cr_alloc_fail_after(0);
        if (cr_alloc_failures() == fails) {
            CU_ASSERT(ok);
            done = 1;
        }
    }
    CU_ASSERT(done);
    CU_ASSERT(n > 20);
    fprintf(stderr, "(allocation-failure loop: %ld iterations) ", n - 1);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("proxy_api", setup, teardown);
    CR_ADD_TEST(s, test_api_proxy_lifecycle);
    CR_ADD_TEST(s, test_api_proxy_bad_bodies);
    CR_ADD_TEST(s, test_api_toxics);
    CR_ADD_TEST(s, test_api_toxic_bad_bodies);
    CR_ADD_TEST(s, test_api_reset);
    CR_ADD_TEST(s, test_api_populate);
    CR_ADD_TEST(s, test_api_version_metrics_routes);
    CR_ADD_TEST(s, test_api_and_line_protocol_share_state);
    CR_ADD_TEST(s, test_api_oom_loop);
}
