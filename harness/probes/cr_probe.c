/* cr_probe: the probe kinds (http, tcp, exec, event) and the one-shot
 * checks they share with service readiness.
 *
 * Every function here may block up to its timeout; the engine calls them
 * from its probe thread only.  HTTP goes through libcurl. */
#include "cr_probe.h"
#include "cr_probe_util.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cr_alloc.h"
#include "base/cr_spawn.h"

/* ---- one-shot checks -------------------------------------------------- */

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int cr_probe_tcp_once(const char *host, int port, double timeout_s,
                      char *detail, size_t n)
{
    struct addrinfo hints = {0}, *res = NULL;
    char portbuf[16];
    int ok = 0;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(portbuf, sizeof portbuf, "%d", port);
    int gai = getaddrinfo(host ? host : "127.0.0.1", portbuf, &hints, &res);
    if (gai != 0) {
        snprintf(detail, n, "tcp %s:%d: %s", host, port, gai_strerror(gai));
        return 0;
    }
    for (struct addrinfo *ai = res; ai && !ok; ai = ai->ai_next) {
        int fd = socket(ai->ai_family,
                        ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc == 0) {
            ok = 1;
        } else if (errno == EINPROGRESS) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int pr = poll(&p, 1, (int)(timeout_s * 1000));
            if (pr == 1) {
                int soerr = 0;
                socklen_t sl = sizeof soerr;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
                if (soerr == 0)
                    ok = 1;
                else
                    snprintf(detail, n, "tcp %s:%d: %s", host, port,
                             strerror(soerr));
            } else {
                snprintf(detail, n, "tcp %s:%d: no answer within %.3g s", host,
                         port, timeout_s);
            }
        } else {
            snprintf(detail, n, "tcp %s:%d: %s", host, port, strerror(errno));
        }
        close(fd);
    }
    freeaddrinfo(res);
    if (ok)
        snprintf(detail, n, "tcp %s:%d: connected", host, port);
    return ok;
}

static size_t http_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    cr_sbuf *b = ud;
    size_t len = size * nmemb;
    /* Keep at most 1 MiB of body; probes judge health, not payloads. */
    size_t room = b->n < (1u << 20) ? (1u << 20) - b->n : 0;
    if (cr_sbuf_add(b, ptr, len < room ? len : room) < 0)
        return 0;
    return len;
}

int cr_probe_http_once(const char *url, int want_status, double timeout_s,
                       char **body_out, char *detail, size_t n)
{
    CURL *c = curl_easy_init();
    cr_sbuf b = {0};
    long status = 0;
    int ok = 0;
    if (body_out)
        *body_out = NULL;
    if (!c) {
        snprintf(detail, n, "http %s: curl_easy_init failed", url);
        return -1;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout_s * 1000));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_s * 1000));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        snprintf(detail, n, "http %s: %s", url, curl_easy_strerror(rc));
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        ok = status == want_status;
        snprintf(detail, n, "http %s: status %ld%s", url, status,
                 ok ? "" : " (unexpected)");
    }
    curl_easy_cleanup(c);
    if (ok && body_out)
        *body_out = b.s ? b.s : cr_strdup("");
    else
        cr_free(b.s);
    return ok;
}

int cr_probe_exec_once(char *const *argv, double timeout_s, char *detail,
                       size_t n)
{
    pid_t pid;
    int ok = 0;
    /* Through cr_spawn like every program chaosrun starts: own process
     * group (killed whole on a timeout), clean signal state, stdio on
     * /dev/null. */
    char *path = cr_spawn_which(argv[0]);
    if (!path) {
        snprintf(detail, n, "exec %s: %s", argv[0], strerror(ENOENT));
        return 0;
    }
    cr_spawn_opts o = CR_SPAWN_OPTS_INIT;
    cr_spawn_proc pr;
    cr_err err;
    cr_err_clear(&err);
    o.path = path;
    o.argv = argv;
    o.stdout_fd = o.stderr_fd = CR_SPAWN_DEVNULL;
    o.new_pgroup = 1;
    int rc = cr_spawn(&o, &pr, &err);
    cr_free(path);
    if (rc != 0) {
        snprintf(detail, n, "exec %s: %s", argv[0],
                 pr.child_errno ? strerror(pr.child_errno) : err.msg);
        return 0;
    }
    pid = pr.pid;
    double deadline = mono_now() + timeout_s;
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            snprintf(detail, n, "exec %s: waitpid: %s", argv[0],
                     strerror(errno));
            return -1;
        }
        if (mono_now() > deadline) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            snprintf(detail, n, "exec %s: no exit within %.3g s", argv[0],
                     timeout_s);
            return 0;
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (WIFEXITED(status)) {
        ok = WEXITSTATUS(status) == 0;
        snprintf(detail, n, "exec %s: exit %d", argv[0], WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        snprintf(detail, n, "exec %s: killed by %s", argv[0],
                 cr_signal_name(WTERMSIG(status)));
    }
    return ok;
}

/* ---- http probe -------------------------------------------------------- */

typedef struct http_probe {
    const char *url;
    int status;
    int has_regex;
    regex_t regex;
    const char *json_path; /* dotted path with [i] indexes */
    json_t *json_equals;   /* borrowed from the scenario */
} http_probe;

static const cr_param http_params[] = {
    {"url", "string", NULL,
     "URL to GET (http:// or https://, on loopback or a host)"},
    {"status", "integer", "200", "expected HTTP status"},
    {"body_regex", "string", "null",
     "POSIX extended regex the body must match"},
    {"json", "object", "null",
     "{\"path\": \"a.b[0]\", \"equals\": value}: a JSON body value that must "
     "equal"},
    {NULL, NULL, NULL, NULL},
};

static int http_parse(cr_vctx *vx, const json_t *obj, const char *path,
                      cr_probe_spec *p)
{
    http_probe *h = cr_calloc(1, sizeof *h);
    const char *re = NULL;
    long long status = 200;
    char sub[CR_PATH_MAX];
    if (!h)
        return CR_ENOMEM;
    p->priv = h;
    if (cr_vrequire(vx, obj, path, "url") == 1)
        cr_vstr(vx, obj, path, "url", NULL, &h->url);
    if (h->url && strncmp(h->url, "http://", 7) != 0 &&
        strncmp(h->url, "https://", 8) != 0) {
        cr_path_key(sub, sizeof sub, path, "url");
        cr_verr(vx, sub, "url must start with http:// or https://");
    }
    cr_vint(vx, obj, path, "status", 100, 599, 200, &status);
    h->status = (int)status;
    /* Bounded before compiling (scenario/cr_regex.c). */
    if (cr_vregex(vx, obj, path, "body_regex", &re, &h->regex) == 1)
        h->has_regex = 1;
    json_t *j = json_object_get(obj, "json");
    if (j) {
        cr_path_key(sub, sizeof sub, path, "json");
        if (!json_is_object(j)) {
            cr_verr(vx, sub, "json must be an object {\"path\", \"equals\"}");
        } else {
            static const cr_param jp[] = {
                {"path", "string", NULL, "dotted path"},
                {"equals", "any", NULL, "expected value"},
                {NULL, NULL, NULL, NULL},
            };
            cr_vkeys(vx, j, sub, jp, NULL);
            if (cr_vrequire(vx, j, sub, "path") == 1)
                cr_vstr(vx, j, sub, "path", NULL, &h->json_path);
            if (cr_vrequire(vx, j, sub, "equals") == 1)
                h->json_equals = json_object_get(j, "equals");
        }
    }
    return 0;
}

/* Follow "a.b[2].c" into a JSON document. */
static json_t *json_walk(json_t *v, const char *path)
{
    char key[256];
    const char *p = path;
    while (v && *p) {
        if (*p == '.') {
            p++;
            continue;
        }
        if (*p == '[') {
            char *end;
            long idx = strtol(p + 1, &end, 10);
            if (*end != ']')
                return NULL;
            v = json_array_get(v, (size_t)idx);
            p = end + 1;
            continue;
        }
        size_t k = strcspn(p, ".[");
        if (k >= sizeof key)
            return NULL;
        memcpy(key, p, k);
        key[k] = '\0';
        v = json_object_get(v, key);
        p += k;
    }
    return v;
}

static int http_run(const cr_probe_spec *p, const cr_probe_ctx *cx,
                    char *detail, size_t n)
{
    const http_probe *h = p->priv;
    char *body = NULL;
    (void)cx;
    int ok = cr_probe_http_once(h->url, h->status, p->timeout_s,
                                (h->has_regex || h->json_path) ? &body : NULL,
                                detail, n);
    if (ok == 1 && h->has_regex && regexec(&h->regex, body, 0, NULL, 0) != 0) {
        size_t k = strlen(detail);
        snprintf(detail + k, n - k, "; body does not match body_regex");
        ok = 0;
    }
    if (ok == 1 && h->json_path) {
        json_error_t je;
        json_t *doc = json_loads(body, 0, &je);
        json_t *v = doc ? json_walk(doc, h->json_path) : NULL;
        if (!v || !json_equal(v, h->json_equals)) {
            char *got =
                v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
            size_t k = strlen(detail);
            snprintf(detail + k, n - k, "; %s is %s", h->json_path,
                     doc ? (got ? got : "absent") : "not JSON");
            free(got);
            ok = 0;
        }
        json_decref(doc);
    }
    cr_free(body);
    return ok;
}

static void http_destroy(cr_probe_spec *p)
{
    http_probe *h = p->priv;
    if (h && h->has_regex)
        regfree(&h->regex);
    cr_free(h);
    p->priv = NULL;
}

const cr_probe_ops cr_probe_http_ops = {
    .kind = "http",
    .summary = "HTTP GET answers with the expected status (and body)",
    .params = http_params,
    .parse = http_parse,
    .run = http_run,
    .destroy = http_destroy,
};

/* ---- tcp probe ---------------------------------------------------------- */

typedef struct tcp_probe {
    const char *host;
    int port;
} tcp_probe;

static const cr_param tcp_params[] = {
    {"host", "string", "\"127.0.0.1\"", "host name or address"},
    {"port", "integer", NULL, "TCP port that must accept connections"},
    {NULL, NULL, NULL, NULL},
};

static int tcp_parse(cr_vctx *vx, const json_t *obj, const char *path,
                     cr_probe_spec *p)
{
    tcp_probe *t = cr_calloc(1, sizeof *t);
    long long port = 0;
    if (!t)
        return CR_ENOMEM;
    p->priv = t;
    cr_vstr(vx, obj, path, "host", "127.0.0.1", &t->host);
    if (cr_vrequire(vx, obj, path, "port") == 1)
        cr_vint(vx, obj, path, "port", 1, 65535, 0, &port);
    t->port = (int)port;
    return 0;
}

static int tcp_run(const cr_probe_spec *p, const cr_probe_ctx *cx, char *detail,
                   size_t n)
{
    const tcp_probe *t = p->priv;
    (void)cx;
    return cr_probe_tcp_once(t->host, t->port, p->timeout_s, detail, n);
}

static void simple_destroy(cr_probe_spec *p)
{
    cr_free(p->priv);
    p->priv = NULL;
}

const cr_probe_ops cr_probe_tcp_ops = {
    .kind = "tcp",
    .summary = "a TCP port accepts connections",
    .params = tcp_params,
    .parse = tcp_parse,
    .run = tcp_run,
    .destroy = simple_destroy,
};

/* ---- exec probe --------------------------------------------------------- */

typedef struct exec_probe {
    char **argv;
} exec_probe;

static const cr_param exec_params[] = {
    {"cmd", "array", NULL, "argv of a command that must exit 0 (no shell)"},
    {NULL, NULL, NULL, NULL},
};

static int exec_parse(cr_vctx *vx, const json_t *obj, const char *path,
                      cr_probe_spec *p)
{
    exec_probe *e = cr_calloc(1, sizeof *e);
    char sub[CR_PATH_MAX];
    if (!e)
        return CR_ENOMEM;
    p->priv = e;
    if (cr_vrequire(vx, obj, path, "cmd") != 1)
        return 0;
    json_t *cmd = json_object_get(obj, "cmd");
    cr_path_key(sub, sizeof sub, path, "cmd");
    if (!json_is_array(cmd) || json_array_size(cmd) == 0) {
        cr_verr(vx, sub, "cmd must be a non-empty array of strings");
        return 0;
    }
    e->argv = cr_calloc(json_array_size(cmd) + 1, sizeof *e->argv);
    if (!e->argv)
        return CR_ENOMEM;
    for (size_t i = 0; i < json_array_size(cmd); i++) {
        json_t *a = json_array_get(cmd, i);
        if (!json_is_string(a)) {
            char el[CR_PATH_MAX];
            cr_path_idx(el, sizeof el, sub, i);
            cr_verr(vx, el, "cmd elements must be strings");
            continue;
        }
        e->argv[i] = (char *)json_string_value(a);
    }
    return 0;
}

static int exec_run(const cr_probe_spec *p, const cr_probe_ctx *cx,
                    char *detail, size_t n)
{
    const exec_probe *e = p->priv;
    (void)cx;
    return cr_probe_exec_once(e->argv, p->timeout_s, detail, n);
}

static void exec_destroy(cr_probe_spec *p)
{
    exec_probe *e = p->priv;
    if (e)
        cr_free(e->argv);
    cr_free(e);
    p->priv = NULL;
}

const cr_probe_ops cr_probe_exec_ops = {
    .kind = "exec",
    .summary = "a command exits 0 within the timeout",
    .params = exec_params,
    .parse = exec_parse,
    .run = exec_run,
    .destroy = exec_destroy,
};

/* ---- event probe -------------------------------------------------------- */

typedef struct event_probe {
    cr_match m;
    double within_s; /* <= 0: any time since t0 */
    long long min;
} event_probe;

static const cr_param event_params[] = {
    {"ev", "string", NULL, "event name"},
    {"svc", "string", "any", "service (or instance) that must emit it"},
    {"where", "object", "null", "fields that must be equal"},
    {"within_s", "number", "0",
     "only events of the last so many seconds count (0: since t0)"},
    {"min", "integer", "1", "at least this many matching events"},
    {NULL, NULL, NULL, NULL},
};

static int event_parse(cr_vctx *vx, const json_t *obj, const char *path,
                       cr_probe_spec *p)
{
    event_probe *e = cr_calloc(1, sizeof *e);
    if (!e)
        return CR_ENOMEM;
    p->priv = e;
    cr_vmatch(vx, obj, path, &e->m);
    cr_vnum(vx, obj, path, "within_s", 0, 86400, 0, &e->within_s);
    cr_vint(vx, obj, path, "min", 1, 1000000000, 1, &e->min);
    return 0;
}

static int event_run(const cr_probe_spec *p, const cr_probe_ctx *cx,
                     char *detail, size_t n)
{
    const event_probe *e = p->priv;
    double since = e->within_s > 0 ? cx->now_t - e->within_s : -INFINITY;
    size_t c = cx->count_events(cx->eng, &e->m, since);
    if (e->within_s > 0)
        snprintf(detail, n, "%zu '%s' event(s) in the last %.3g s (need %lld)",
                 c, e->m.ev, e->within_s, e->min);
    else
        snprintf(detail, n, "%zu '%s' event(s) since t0 (need %lld)", c,
                 e->m.ev, e->min);
    return c >= (size_t)e->min;
}

static void event_destroy(cr_probe_spec *p)
{
    event_probe *e = p->priv;
    if (e)
        cr_match_free(&e->m);
    cr_free(e);
    p->priv = NULL;
}

const cr_probe_ops cr_probe_event_ops = {
    .kind = "event",
    .summary = "a matching event was seen in the event stream",
    .params = event_params,
    .parse = event_parse,
    .run = event_run,
    .destroy = event_destroy,
};
