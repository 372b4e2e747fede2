/* cr_proxy: the fault proxy's engine (see cr_proxy.h).
 *
 * One epoll loop, level-triggered, over: link listeners, the two sockets of
 * every relayed connection, one timerfd (CLOCK_MONOTONIC, absolute) armed at
 * the earliest entry of an intrusive timer heap, control channels and an
 * optional stop fd.
 *
 * A connection is two directions (0 = upstream: client -> server, 1 =
 * downstream).  Each direction is pumped by pump(): it flushes what it
 * already holds (a pipe in the fast path, a queue of timed chunks in the
 * shaped path), handles end of stream, then reads more.  A direction is
 * shaped when a data toxic (latency, bandwidth, slicer, limit_data) affects
 * it, stalled when a timeout toxic does, and otherwise relayed with splice()
 * through a pipe without copying.  Switching modes never loses or reorders
 * bytes: the fast path waits until the queue is empty, the shaped path
 * flushes the pipe first.
 *
 * Connection states (explicit; every transition is in one function):
 *   CONNECTING --connect ok--> OPEN --both directions done--> DEAD
 *   CONNECTING --connect failed--> DEAD         OPEN --error/toxic--> DEAD
 * Direction states: OPEN --EOF read--> EOF --flushed--> (CLOSE_WAIT
 * --slow_close timer-->) DONE.  A DEAD connection has its fds closed at
 * once and its memory freed after the current epoll batch, because later
 * events of the same batch may still point at it.
 *
 * This file: the loop, the timer heap, links (listeners).  Connections and
 * toxics: cr_proxy_conn.c; control channels and statistics:
 * cr_proxy_chan.c; their shared structures: cr_proxy_internal.h. */
#include "cr_proxy_internal.h"

#include "base/cr_alloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* ---- timer heap -------------------------------------------------------- */

static void heap_swap(cr_proxy *p, size_t a, size_t b)
{
    ptimer *t = p->heap[a];
    p->heap[a] = p->heap[b];
    p->heap[b] = t;
    p->heap[a]->hidx = a;
    p->heap[b]->hidx = b;
}

static void heap_up(cr_proxy *p, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (p->heap[parent]->when <= p->heap[i]->when)
            break;
        heap_swap(p, i, parent);
        i = parent;
    }
}

static void heap_down(cr_proxy *p, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < p->nheap && p->heap[l]->when < p->heap[m]->when)
            m = l;
        if (r < p->nheap && p->heap[r]->when < p->heap[m]->when)
            m = r;
        if (m == i)
            return;
        heap_swap(p, i, m);
        i = m;
    }
}

void cr_proxy__timer_cancel(cr_proxy *p, ptimer *t)
{
    if (t->hidx == SIZE_MAX)
        return;
    size_t i = t->hidx;
    p->nheap--;
    if (i != p->nheap) {
        p->heap[i] = p->heap[p->nheap];
        p->heap[i]->hidx = i;
        heap_down(p, i);
        heap_up(p, i);
    }
    t->hidx = SIZE_MAX;
}

/* Returns 0 or CR_ENOMEM (the timer stays unarmed). */
int cr_proxy__timer_set(cr_proxy *p, ptimer *t, uint64_t when)
{
    if (t->hidx != SIZE_MAX) {
        t->when = when;
        heap_down(p, t->hidx);
        heap_up(p, t->hidx);
        return 0;
    }
    if (p->nheap == p->hcap) {
        size_t ncap = p->hcap ? p->hcap * 2 : 64;
        ptimer **nh = cr_realloc(p->heap, ncap * sizeof *nh);
        if (!nh)
            return CR_ENOMEM;
        p->heap = nh;
        p->hcap = ncap;
    }
    t->when = when;
    t->hidx = p->nheap;
    p->heap[p->nheap++] = t;
    heap_up(p, t->hidx);
    return 0;
}

/* Arm the timerfd at the heap's earliest entry (only when it changed). */
static void timer_rearm(cr_proxy *p)
{
    uint64_t want = p->nheap ? p->heap[0]->when : 0;
    if (want == p->armed)
        return;
    struct itimerspec its = {0};
    if (want) {
        its.it_value.tv_sec = (time_t)(want / 1000000000ull);
        its.it_value.tv_nsec = (long)(want % 1000000000ull);
    }
    timerfd_settime(p->tfd, TFD_TIMER_ABSTIME, &its, NULL);
    p->armed = want;
}

/* ---- helpers ----------------------------------------------------------- */

static int parse_addr(const char *s, struct sockaddr_in *sa, int loopback_only,
                      cr_err *err)
{
    char host[256];
    const char *colon = s ? strrchr(s, ':') : NULL;
    if (!colon || (size_t)(colon - s) >= sizeof host || colon == s)
        return cr_err_set(err, CR_EINVAL, "address '%s': expected HOST:PORT",
                          s ? s : "");
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 0 || port > 65535)
        return cr_err_set(err, CR_EINVAL, "address '%s': bad port", s);
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
        struct addrinfo hints = {.ai_family = AF_INET,
                                 .ai_socktype = SOCK_STREAM};
        struct addrinfo *res = NULL;
        int rc = getaddrinfo(host, NULL, &hints, &res);
        if (rc != 0 || !res)
            return cr_err_set(err, CR_EINVAL, "address '%s': %s", s,
                              gai_strerror(rc));
        sa->sin_addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
        freeaddrinfo(res);
    }
    if (loopback_only && (ntohl(sa->sin_addr.s_addr) >> 24) != 127)
        return cr_err_set(err, CR_EINVAL,
                          "address '%s': the proxy listens on loopback "
                          "(127.0.0.0/8) only",
                          s);
    return 0;
}

void cr_proxy__fmt_addr(const struct sockaddr_in *sa, char *buf, size_t n)
{
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof ip);
    snprintf(buf, n, "%s:%u", ip, (unsigned)ntohs(sa->sin_port));
}

int cr_proxy__ep_add(cr_proxy *p, int fd, uint32_t ev, pfd *pf)
{
    struct epoll_event e = {.events = ev, .data.ptr = pf};
    return epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &e);
}

plink *cr_proxy__link_find(const cr_proxy *p, const char *name)
{
    for (size_t i = 0; name && i < p->nlinks; i++)
        if (strcmp(p->links[i]->name, name) == 0)
            return p->links[i];
    return NULL;
}

static void on_timerfd(cr_proxy *p)
{
    uint64_t ticks;
    while (read(p->tfd, &ticks, sizeof ticks) > 0) {
    }
    p->armed = 0;
    uint64_t now = cr_proxy__now_ns();
    while (p->nheap && p->heap[0]->when <= now) {
        ptimer *t = p->heap[0];
        cr_proxy__timer_cancel(p, t);
        cr_proxy__timer_fire(p, t);
    }
}

/* ---- links -------------------------------------------------------------- */

int cr_proxy__link_listen(cr_proxy *p, plink *l, cr_err *err)
{
    char a[64];
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return cr_err_sys(err, CR_ESYS, errno, "proxy link %s: socket",
                          l->name);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t len = sizeof l->laddr;
    if (bind(fd, (struct sockaddr *)&l->laddr, sizeof l->laddr) < 0 ||
        listen(fd, 1024) < 0 ||
        getsockname(fd, (struct sockaddr *)&l->laddr, &len) < 0 ||
        cr_proxy__ep_add(p, fd, EPOLLIN, &l->lp) < 0) {
        int e = errno;
        close(fd);
        cr_proxy__fmt_addr(&l->laddr, a, sizeof a);
        return cr_err_sys(err, CR_ESYS, e, "proxy link %s: listen on %s",
                          l->name, a);
    }
    l->lfd = fd;
    return 0;
}

static void on_accept(cr_proxy *p, plink *l)
{
    for (int i = 0; i < 64 && l->lfd >= 0; i++) {
        int fd = accept4(l->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or a transient error: retried on next event */
        cr_proxy__conn_new(p, l, fd);
    }
}

int cr_proxy_link_add(cr_proxy *p, const char *name, const char *listen_addr,
                      const char *upstream, cr_err *err)
{
    plink *l = NULL;
    int rc;
    if (!name || !*name || strlen(name) >= CR_PROXY_NAME_MAX ||
        strpbrk(name, " \t\r\n=,"))
        return cr_err_set(err, CR_EINVAL,
                          "proxy link name '%s': 1 to %d characters without "
                          "blanks, '=' or ','",
                          name ? name : "", CR_PROXY_NAME_MAX - 1);
    if (cr_proxy__link_find(p, name))
        return cr_err_set(err, CR_EINVAL, "proxy link %s: already exists",
                          name);
    if (p->nlinks >= CR_PROXY_MAX_LINKS)
        return cr_err_set(err, CR_EINVAL, "proxy link %s: at most %d links",
                          name, CR_PROXY_MAX_LINKS);
    plink **nl = cr_realloc(p->links, (p->nlinks + 1) * sizeof *nl);
    if (!nl)
        return cr_err_set(err, CR_ENOMEM, "proxy link %s: out of memory", name);
    p->links = nl;
    l = cr_calloc(1, sizeof *l);
    if (!l)
        return cr_err_set(err, CR_ENOMEM, "proxy link %s: out of memory", name);
    snprintf(l->name, sizeof l->name, "%s", name);
    l->lfd = -1;
    l->lp = (pfd){FK_LISTEN, l};
    if ((rc = parse_addr(listen_addr, &l->laddr, 1, err)) < 0 ||
        (rc = parse_addr(upstream, &l->uaddr, 0, err)) < 0 ||
        (rc = cr_proxy__link_listen(p, l, err)) < 0)
        goto out;
    p->links[p->nlinks++] = l;
    l = NULL;
out:
    cr_free(l);
    return rc;
}

int cr_proxy_link_port(const cr_proxy *p, const char *name)
{
    const plink *l = cr_proxy__link_find(p, name);
    return l ? ntohs(l->laddr.sin_port) : -1;
}

int cr_proxy_watch_stop(cr_proxy *p, int stop_fd, cr_err *err)
{
    if (cr_proxy__ep_add(p, stop_fd, EPOLLIN, &p->stop_p) < 0)
        return cr_err_sys(err, CR_ESYS, errno, "proxy: watch fd %d", stop_fd);
    p->stop_fd = stop_fd;
    return 0;
}

void cr_proxy_request_stop(cr_proxy *p)
{
    p->stop = 1;
}

/* ---- the loop ----------------------------------------------------------- */

static void reap(cr_proxy *p)
{
    while (p->dead) {
        conn *c = p->dead;
        p->dead = c->dead_next;
        cr_free(c);
    }
    for (ctl **pk = &p->ctls; *pk;) {
        ctl *k = *pk;
        if (k->dead) {
            *pk = k->next;
            cr_free(k);
        } else {
            pk = &k->next;
        }
    }
}

int cr_proxy_run(cr_proxy *p, cr_err *err)
{
    struct epoll_event evs[128];
    while (!p->stop) {
        timer_rearm(p);
        int n = epoll_wait(p->epfd, evs, 128, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return cr_err_sys(err, CR_ESYS, errno, "proxy: epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            pfd *pf = evs[i].data.ptr;
            switch (pf->kind) {
            case FK_LISTEN:
                on_accept(p, pf->obj);
                break;
            case FK_CLIENT:
                cr_proxy__conn_event(p, pf->obj, evs[i].events, 0);
                break;
            case FK_SERVER:
                cr_proxy__conn_event(p, pf->obj, evs[i].events, 1);
                break;
            case FK_TIMER:
                on_timerfd(p);
                break;
            case FK_CTL_LISTEN:
                cr_proxy__ctl_accept(p);
                break;
            case FK_CTL:
                cr_proxy__ctl_event(p, pf->obj);
                break;
            case FK_STOP:
                p->stop = 1;
                break;
            }
        }
        reap(p);
    }
    return 0;
}

int cr_proxy_create(uint64_t seed, cr_proxy **out, cr_err *err)
{
    cr_proxy *p = cr_calloc(1, sizeof *p);
    if (!p)
        return cr_err_set(err, CR_ENOMEM, "proxy: out of memory");
    p->seed = seed;
    p->ctl_lfd = -1;
    p->stop_fd = -1;
    p->tp = (pfd){FK_TIMER, NULL};
    p->ctl_lp = (pfd){FK_CTL_LISTEN, NULL};
    p->stop_p = (pfd){FK_STOP, NULL};
    p->t_start = cr_proxy__now_ns();
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    p->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (p->epfd < 0 || p->tfd < 0 ||
        cr_proxy__ep_add(p, p->tfd, EPOLLIN, &p->tp) < 0) {
        int e = errno;
        cr_proxy_destroy(p);
        return cr_err_sys(err, CR_ESYS, e, "proxy: epoll/timerfd");
    }
    *out = p;
    return 0;
}

void cr_proxy_destroy(cr_proxy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nlinks; i++) {
        plink *l = p->links[i];
        while (l->conns)
            cr_proxy__conn_close(p, l->conns, CLOSE_FIN);
        if (l->lfd >= 0)
            close(l->lfd);
        for (int s = 0; s < MAX_TOXICS; s++)
            cr_free(l->slot[s]);
        for (size_t h = 0; h < l->nhist; h++)
            cr_free(l->hist[(l->hist_head + h) % CR_PROXY_HISTORY]);
        cr_free(l);
    }
    cr_free(p->links);
    for (ctl *k = p->ctls; k; k = k->next)
        cr_proxy__ctl_release(p, k);
    reap(p);
    if (p->ctl_lfd >= 0) {
        close(p->ctl_lfd);
        unlink(p->ctl_path);
    }
    cr_free(p->ctl_path);
    for (size_t i = 0; i < p->npool; i++) {
        close(p->pool[i][0]);
        close(p->pool[i][1]);
    }
    cr_free(p->heap);
    if (p->tfd >= 0)
        close(p->tfd);
    if (p->epfd >= 0)
        close(p->epfd);
    cr_free(p);
}
