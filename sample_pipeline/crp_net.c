/* crp_net: see crp_net.h. */
#include "crp_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crp_util.h"

static int parse_addr(const char *addr, struct sockaddr_in *sa)
{
    char host[128];
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= sizeof host)
        return -EINVAL;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((unsigned short)atoi(colon + 1));
    if (strcmp(host, "localhost") == 0)
        crp_strlcpy(host, "127.0.0.1", sizeof host);
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return -EINVAL;
    return 0;
}

int crp_net_listen(int port)
{
    return crp_net_listen_on("127.0.0.1", port);
}

int crp_net_listen_on(const char *ip, int port)
{
    struct in_addr ia;
    if (inet_pton(AF_INET, ip, &ia) != 1)
        return -EINVAL;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    int one = 1, rc;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((unsigned short)port)};
    sa.sin_addr = ia;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        listen(fd, 128) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

int crp_net_connect(const char *addr, int timeout_ms)
{
    struct sockaddr_in sa;
    int rc = parse_addr(addr, &sa);
    if (rc < 0)
        return rc;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        if (errno != EINPROGRESS) {
            rc = -errno;
            goto fail;
        }
        /* a signal (SIGCHLD in the supervisor) is not a failure: wait on
         * until the deadline, unless it asked us to stop */
        int64_t deadline = crp_mono_ms() + timeout_ms;
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int n;
        for (;;) {
            int64_t left = deadline - crp_mono_ms();
            n = poll(&p, 1, left > 0 ? (int)left : 0);
            if (n >= 0 || errno != EINTR || crp_stop_requested)
                break;
        }
        if (n <= 0) {
            rc = n == 0 ? -ETIMEDOUT : -errno;
            goto fail;
        }
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        if (soerr) {
            rc = -soerr;
            goto fail;
        }
    }
    return fd;
fail:
    close(fd);
    return rc;
}

int crp_net_accept(int lfd)
{
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

void crp_conn_init(crp_conn *c, int fd)
{
    memset(c, 0, sizeof *c);
    c->fd = fd;
}

void crp_conn_close(crp_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->buf);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

void crp_conn_abort(crp_conn *c)
{
    if (c->fd >= 0) {
        struct linger l = {1, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    crp_conn_close(c);
}

int crp_conn_fill(crp_conn *c)
{
    if (c->fd < 0)
        return -ENOTCONN;
    if (c->off > 0) { /* compact */
        memmove(c->buf, c->buf + c->off, c->len - c->off);
        c->len -= c->off;
        c->off = 0;
    }
    if (c->cap - c->len < 4096) {
        size_t ncap = c->cap ? c->cap * 2 : 16384;
        char *nb = realloc(c->buf, ncap);
        if (!nb)
            return -ENOMEM;
        c->buf = nb;
        c->cap = ncap;
    }
    ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
    if (r < 0)
        return (errno == EAGAIN || errno == EINTR) ? 0 : -errno;
    if (r == 0)
        return -ECONNRESET;
    c->len += (size_t)r;
    return (int)r;
}

int crp_conn_next(crp_conn *c, char **line)
{
    if (!c->buf || c->off >= c->len)
        return 0;
    char *start = c->buf + c->off;
    char *nl = memchr(start, '\n', c->len - c->off);
    if (!nl)
        return 0;
    *nl = '\0';
    if (nl > start && nl[-1] == '\r')
        nl[-1] = '\0';
    c->off = (size_t)(nl - c->buf) + 1;
    *line = start;
    return 1;
}

int crp_conn_readline(crp_conn *c, char **line, int timeout_ms)
{
    int64_t deadline = crp_mono_ms() + timeout_ms;
    for (;;) {
        if (crp_conn_next(c, line))
            return 1;
        int rc = crp_conn_fill(c);
        if (rc < 0)
            return rc;
        if (rc > 0)
            continue;
        int64_t left = deadline - crp_mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        int n = poll(&p, 1, (int)left);
        /* EINTR (SIGTERM): keep waiting until the deadline; an answer in
         * flight must not be mistaken for a timeout */
        if (n < 0 && errno != EINTR)
            return -errno;
    }
}

int crp_conn_send(crp_conn *c, const char *buf, size_t len, int timeout_ms)
{
    if (c->fd < 0)
        return -ENOTCONN;
    int64_t deadline = crp_mono_ms() + timeout_ms;
    size_t done = 0;
    while (done < len) {
        ssize_t w = send(c->fd, buf + done, len - done, MSG_NOSIGNAL);
        if (w > 0) {
            done += (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EINTR)
            return -errno;
        int64_t left = deadline - crp_mono_ms();
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd p = {.fd = c->fd, .events = POLLOUT};
        if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
            return -errno;
    }
    return 0;
}

/* Room for n more bytes and a NUL (at least double the capacity, 4 KiB
 * the first time).  0 or -1. */
static int sb_grow(crp_sb *b, size_t n)
{
    size_t ncap = b->cap ? b->cap * 2 : 4096;
    while (ncap - b->len <= n)
        ncap *= 2;
    char *ns = realloc(b->s, ncap);
    if (!ns)
        return -1;
    b->s = ns;
    b->cap = ncap;
    return 0;
}

int crp_sb_printf(crp_sb *b, const char *fmt, ...)
{
    for (;;) {
        size_t room = b->cap - b->len;
        va_list ap;
        va_start(ap, fmt);
        int n = b->s ? vsnprintf(b->s + b->len, room, fmt, ap) : -2;
        va_end(ap);
        if (n >= 0 && (size_t)n < room) {
            b->len += (size_t)n;
            return 0;
        }
        if (sb_grow(b, n >= 0 ? (size_t)n : 0) < 0)
            return -ENOMEM;
    }
}

int crp_sb_append(crp_sb *b, const char *s, size_t n)
{
    if (b->cap - b->len <= n && sb_grow(b, n) < 0)
        return -ENOMEM;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return 0;
}

void crp_sb_reset(crp_sb *b)
{
    b->len = 0;
    if (b->s)
        b->s[0] = '\0';
}

void crp_sb_free(crp_sb *b)
{
    free(b->s);
    memset(b, 0, sizeof *b);
}

void crp_lsrv_init(crp_lsrv *s, int lfd)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < CRP_LSRV_MAX; i++)
        crp_conn_init(&s->cl[i], -1);
    s->lfd = lfd;
}

int crp_lsrv_wait(crp_lsrv *s, int timeout_ms)
{
    int n = 0;
    s->pfd[n] = (struct pollfd){.fd = s->lfd, .events = POLLIN};
    s->idx[n++] = -1;
    for (int i = 0; i < CRP_LSRV_MAX; i++)
        if (s->cl[i].fd >= 0) {
            s->pfd[n] = (struct pollfd){.fd = s->cl[i].fd, .events = POLLIN};
            s->idx[n++] = i;
        }
    s->n = n;
    int pr = poll(s->pfd, (nfds_t)n, timeout_ms);
    if (pr <= 0) {
        s->n = 0;
        return pr;
    }
    if (s->pfd[0].revents) {
        int fd;
        while ((fd = crp_net_accept(s->lfd)) >= 0) {
            int slot = -1;
            for (int i = 0; i < CRP_LSRV_MAX && slot < 0; i++)
                if (s->cl[i].fd < 0)
                    slot = i;
            if (slot < 0)
                close(fd); /* full */
            else
                crp_conn_init(&s->cl[slot], fd);
        }
    }
    return pr;
}

void crp_lsrv_serve(crp_lsrv *s, crp_lsrv_fn fn, void *ctx)
{
    for (int k = 1; k < s->n; k++) {
        crp_conn *c = &s->cl[s->idx[k]];
        if (!s->pfd[k].revents || c->fd < 0)
            continue;
        int r;
        while ((r = crp_conn_fill(c)) > 0)
            ;
        if (fn(ctx, c) < 0 || r < 0)
            crp_conn_close(c);
    }
    s->n = 0;
}

void crp_lsrv_close(crp_lsrv *s)
{
    for (int i = 0; i < CRP_LSRV_MAX; i++)
        crp_conn_close(&s->cl[i]);
    if (s->lfd >= 0)
        close(s->lfd);
    s->lfd = -1;
}
