/* cr_proxy_http: Toxiproxy's HTTP API served by libmicrohttpd inside the
 * proxy's own epoll loop (the endpoints are cr_proxy_api.c).
 *
 * Why in the loop and not on a thread of its own: the proxy's state (links,
 * toxics, connections, the timer heap) belongs to one thread and has no
 * locks; an API thread would have to hand every request over to the loop
 * and wait for it anyway.  MHD runs with MHD_USE_EPOLL and no thread: its
 * epoll fd sits in the proxy's epoll set, and its timeout in the proxy's
 * timer heap (one ptimer, armed only while MHD has a connection to time
 * out or buffered work).  An idle API is one fd that never wakes the loop
 * and no timer (tests/bench/bench_proxy.c measures that the relay path
 * does not notice it); a request costs the loop the few microseconds of
 * its handler, all non-blocking. */
#include "cr_proxy_internal.h"

#include "base/cr_alloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

/* A request body larger than this is refused (413): a /populate of the
 * most links a proxy holds fits many times over. */
#define BODY_MAX (1u << 20)
#define CONN_MAX 64
/* Seconds an idle client connection is kept (Toxiproxy: 60). */
#define IDLE_S 60

struct cr_proxy_http {
    struct MHD_Daemon *d;
    int epfd; /* MHD's (owned by MHD) */
    int port;
    pfd pf;
    ptimer t;
    char log[256]; /* MHD's last message (start-up errors) */
};

/* One request in progress: its body. */
typedef struct http_req {
    cr_sbuf body;
    int too_big, oom;
} http_req;

static void on_log(void *cls, const char *fmt, va_list ap)
{
    struct cr_proxy_http *h = cls;
    vsnprintf(h->log, sizeof h->log, fmt, ap);
    size_t n = strlen(h->log);
    while (n && (h->log[n - 1] == '\n' || h->log[n - 1] == '.'))
        h->log[--n] = '\0';
}

static enum MHD_Result respond(struct MHD_Connection *c,
                               const cr_proxy_api_reply *r)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    if (r->content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                r->content_type);
    if (r->nosniff)
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* An error of the server itself, in the API's error shape. */
static enum MHD_Result respond_err(struct MHD_Connection *c, int status,
                                   const char *msg)
{
    char body[256];
    int n = snprintf(body, sizeof body, "{\"error\":\"%s\",\"status\":%d}\n",
                     msg, status);
    cr_proxy_api_reply r = {status, "text/plain; charset=utf-8", 1, body,
                            (size_t)n};
    return respond(c, &r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    cr_proxy *p = cls;
    http_req *q = *con_cls;
    if (!q) { /* headers only so far */
        q = cr_calloc(1, sizeof *q);
        *con_cls = q;
        return q ? MHD_YES : MHD_NO;
    }
    if (*upload_size) {
        if (q->body.n + *upload_size > BODY_MAX)
            q->too_big = 1; /* keep reading, keep nothing, answer at the end */
        else if (!q->too_big && cr_sbuf_add(&q->body, upload, *upload_size) < 0)
            q->oom = 1;
        *upload_size = 0;
        return MHD_YES;
    }
    if (q->too_big)
        return respond_err(c, 413, "request body too large (max 1 MiB)");
    if (q->oom)
        return respond_err(c, 500, "out of memory");
    cr_proxy_api_reply r;
    const char *ua = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_USER_AGENT);
    if (cr_proxy_api_handle(p, method, url, ua, q->body.s, q->body.n, &r) < 0)
        return respond_err(c, 500, "out of memory");
    enum MHD_Result ok = respond(c, &r);
    cr_proxy_api_reply_free(&r);
    return ok;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode why)
{
    http_req *q = *con_cls;
    if (q) {
        cr_free(q->body.s);
        cr_free(q);
        *con_cls = NULL;
    }
}

/* ---- the loop's side ---------------------------------------------------- */

void cr_proxy__http_run(cr_proxy *p)
{
    struct cr_proxy_http *h = p->http;
    if (!h)
        return;
    MHD_run(h->d);
    MHD_UNSIGNED_LONG_LONG ms;
    if (MHD_get_timeout(h->d, &ms) == MHD_YES) {
        if (cr_proxy__timer_set(p, &h->t,
                                cr_proxy__now_ns() + ms * 1000000ull) < 0)
            cr_proxy__timer_set(p, &h->t, cr_proxy__now_ns()); /* no room */
    } else {
        cr_proxy__timer_cancel(p, &h->t);
    }
}

void cr_proxy__http_destroy(cr_proxy *p)
{
    struct cr_proxy_http *h = p->http;
    if (!h)
        return;
    cr_proxy__timer_cancel(p, &h->t);
    MHD_stop_daemon(h->d); /* closes its epoll fd: it leaves our set */
    cr_free(h);
    p->http = NULL;
}

/* "HOST:PORT", "HOST", "PORT", ":PORT" to an IPv4 address. */
static int api_addr(const char *addr, struct sockaddr_in *sa, cr_err *err)
{
    char host[256] = "127.0.0.1";
    long port = CR_PROXY_API_PORT;
    const char *colon = addr ? strrchr(addr, ':') : NULL;
    const char *ps = colon ? colon + 1 : NULL;
    if (addr && !colon && *addr && strspn(addr, "0123456789") == strlen(addr))
        ps = addr; /* a port alone */
    else if (addr && *addr && (!colon || colon > addr))
        snprintf(host, sizeof host, "%.*s",
                 (int)(colon ? (size_t)(colon - addr) : strlen(addr)), addr);
    if (ps) {
        char *end;
        port = strtol(ps, &end, 10);
        if (!*ps || *end || port < 0 || port > 65535)
            return cr_err_set(err, CR_EINVAL,
                              "Toxiproxy API address '%s': bad port", addr);
    }
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
        struct addrinfo hints = {.ai_family = AF_INET,
                                 .ai_socktype = SOCK_STREAM};
        struct addrinfo *res = NULL;
        int rc = getaddrinfo(host, NULL, &hints, &res);
        if (rc != 0 || !res)
            return cr_err_set(err, CR_EINVAL, "Toxiproxy API address '%s': %s",
                              addr, gai_strerror(rc));
        sa->sin_addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
        freeaddrinfo(res);
    }
    return 0;
}

int cr_proxy_api_listen(cr_proxy *p, const char *addr, cr_err *err)
{
    struct sockaddr_in sa;
    int rc;
    if (p->http)
        return cr_err_set(err, CR_EINVAL, "Toxiproxy API: already served");
    if ((rc = api_addr(addr, &sa, err)) < 0)
        return rc;
    if (!p->allow_remote && (ntohl(sa.sin_addr.s_addr) >> 24) != 127)
        return cr_err_set(err, CR_EINVAL,
                          "Toxiproxy API address '%s': not a loopback address "
                          "(the API changes what the proxy does: give "
                          "--allow-remote to serve it beyond this machine)",
                          addr);
    struct cr_proxy_http *h = cr_calloc(1, sizeof *h);
    if (!h)
        return cr_err_set(err, CR_ENOMEM, "Toxiproxy API: out of memory");
    h->pf = (pfd){FK_HTTP, NULL};
    h->t = (ptimer){0, SIZE_MAX, T_HTTP, 0, NULL};
    errno = 0;
    h->d = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_USE_ERROR_LOG, ntohs(sa.sin_port), NULL, NULL,
        on_request, p, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_EXTERNAL_LOGGER, on_log, h, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)CONN_MAX, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_S,
        MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_END);
    const union MHD_DaemonInfo *ep =
        h->d ? MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
    const union MHD_DaemonInfo *port =
        h->d ? MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!h->d || !ep || !port ||
        cr_proxy__ep_add(p, ep->epoll_fd, EPOLLIN, &h->pf) < 0) {
        int e = errno;
        if (h->d)
            MHD_stop_daemon(h->d);
        rc = *h->log ? cr_err_set(err, CR_ESYS, "Toxiproxy API on %s: %s",
                                  addr ? addr : "", h->log)
                     : cr_err_sys(err, CR_ESYS, e ? e : EIO,
                                  "Toxiproxy API on %s", addr ? addr : "");
        cr_free(h);
        return rc;
    }
    h->epfd = ep->epoll_fd;
    h->port = port->port;
    p->http = h;
    return 0;
}

int cr_proxy_api_port(const cr_proxy *p)
{
    return p->http ? p->http->port : -1;
}
