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
 * events of the same batch may still point at it. */
#include "cr_proxy.h"

#include "cr_alloc.h"
#include "cr_rng.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_TOXICS 32          /* per link, active at once */
#define CHUNK_MAX 65536        /* one read in the shaped path */
#define QUEUE_MAX (1u << 20)   /* bytes held per direction before backpressure */
#define PIPE_CAP (1u << 18)    /* requested pipe size for the fast path */
#define PIPE_POOL 64
#define PUMP_ROUNDS 16         /* reads per wake-up, for fairness */
#define CTL_LINE_MAX 4096

enum { FK_LISTEN, FK_CLIENT, FK_SERVER, FK_TIMER, FK_CTL_LISTEN, FK_CTL,
       FK_STOP };
enum { CS_CONNECTING, CS_OPEN, CS_DEAD };
enum { DS_OPEN, DS_EOF, DS_CLOSE_WAIT, DS_DONE };
enum { T_RELEASE, T_CLOSE_WAIT, T_DEADLINE, T_RESET };
enum { CLOSE_FIN, CLOSE_RST };

typedef struct pfd {
    int kind;
    void *obj;
} pfd;

typedef struct conn conn;

typedef struct ptimer {
    uint64_t when;  /* CLOCK_MONOTONIC ns */
    size_t hidx;    /* position in the heap, SIZE_MAX when not armed */
    int kind;       /* T_* */
    int dir;
    conn *c;
} ptimer;

typedef struct chunk {
    struct chunk *next;
    uint64_t release;
    size_t len, off;
    int close_after;   /* limit_data: close the connection once sent */
    int toxic;         /* slot of the limit_data toxic, -1 */
    unsigned char data[];
} chunk;

typedef struct dir {
    int state;             /* DS_* */
    int pipe[2];           /* fast path, lazily taken from the pool */
    size_t pipe_bytes, pipe_cap;
    chunk *qhead, *qtail;
    size_t qbytes;
    uint64_t last_release; /* keeps shaped chunks in order */
    uint64_t bw_next;      /* bandwidth: earliest start of the next byte */
    uint64_t limit_passed; /* limit_data: bytes let through */
    uint64_t bytes;
    int want_read, want_write;
    cr_rng rng;            /* jitter, slice sizes */
    ptimer release_t, close_t;
} dir;

typedef struct plink plink;

struct conn {
    conn *next, *prev;
    plink *l;
    uint64_t idx;          /* order of acceptance on the link, from 0 */
    int state;             /* CS_* */
    int cfd, sfd;
    pfd cp, sp;
    uint32_t cmask, smask; /* registered epoll interest */
    uint32_t affected;     /* bit per toxic slot */
    uint64_t start;
    dir d[2];
    ptimer deadline_t, reset_t;
    conn *dead_next;
};

typedef struct toxic_rec {
    char name[CR_PROXY_NAME_MAX];
    cr_proxy_toxic t;
    int active;
    uint64_t added, removed;
    uint64_t affected, spared, chunks, bytes, events;
} toxic_rec;

struct plink {
    char name[CR_PROXY_NAME_MAX];
    struct sockaddr_in laddr, uaddr;
    int lfd;
    pfd lp;
    int down;              /* active down toxics */
    toxic_rec *slot[MAX_TOXICS];
    toxic_rec **hist;      /* every toxic ever added (owned) */
    size_t nhist, hcap;
    conn *conns;
    uint64_t next_idx;
    uint64_t accepted, active, refused, dropped, resets, connect_failed,
        closed;
    uint64_t bytes[2];
};

typedef struct ctl {
    struct ctl *next;
    pfd p;
    int fd, out_fd;        /* out_fd == fd for sockets */
    int owned;             /* 1: close fd on release */
    int dead;
    char buf[CTL_LINE_MAX];
    size_t len;
} ctl;

struct cr_proxy {
    uint64_t seed;
    int epfd, tfd;
    pfd tp, ctl_lp, stop_p;
    int ctl_lfd;
    char *ctl_path;
    int stop_fd;
    int stop;
    plink **links;
    size_t nlinks;
    ptimer **heap;
    size_t nheap, hcap;
    uint64_t armed;        /* when the timerfd is armed for, 0: disarmed */
    int pool[PIPE_POOL][3]; /* read end, write end, capacity */
    size_t npool;
    ctl *ctls;
    conn *dead;
    uint64_t t_start;
    unsigned char rbuf[CHUNK_MAX];
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t ms_ns(double ms)
{
    return ms <= 0 ? 0 : (uint64_t)(ms * 1e6);
}

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

static void timer_cancel(cr_proxy *p, ptimer *t)
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
static int timer_set(cr_proxy *p, ptimer *t, uint64_t when)
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
        return cr_err_set(err, CR_EINVAL,
                          "address '%s': expected HOST:PORT", s ? s : "");
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
                          "(127.0.0.0/8) only", s);
    return 0;
}

static void fmt_addr(const struct sockaddr_in *sa, char *buf, size_t n)
{
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof ip);
    snprintf(buf, n, "%s:%u", ip, (unsigned)ntohs(sa->sin_port));
}

static int ep_add(cr_proxy *p, int fd, uint32_t ev, pfd *pf)
{
    struct epoll_event e = {.events = ev, .data.ptr = pf};
    return epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &e);
}

static plink *link_find(const cr_proxy *p, const char *name)
{
    for (size_t i = 0; name && i < p->nlinks; i++)
        if (strcmp(p->links[i]->name, name) == 0)
            return p->links[i];
    return NULL;
}

static int conn_hit(const conn *c, int slot)
{
    return (c->affected >> slot) & 1u;
}

/* The effect of the link's toxics on one direction of a connection. */
typedef struct dir_fx {
    int shaped, stalled;
    uint64_t slow_close;
} dir_fx;

static dir_fx dir_effects(const conn *c, int di)
{
    dir_fx fx = {0, 0, 0};
    if (!c->affected)
        return fx;
    unsigned bit = di == 0 ? CR_PROXY_UP : CR_PROXY_DOWN;
    for (int s = 0; s < MAX_TOXICS; s++) {
        const toxic_rec *tr = c->l->slot[s];
        if (!tr || !conn_hit(c, s) || !(tr->t.streams & bit))
            continue;
        switch (tr->t.type) {
        case CR_PTOX_LATENCY:
        case CR_PTOX_BANDWIDTH:
        case CR_PTOX_SLICER:
        case CR_PTOX_LIMIT_DATA:
            fx.shaped = 1;
            break;
        case CR_PTOX_TIMEOUT:
            fx.stalled = 1;
            break;
        case CR_PTOX_SLOW_CLOSE:
            if (ms_ns(tr->t.attr[0]) > fx.slow_close)
                fx.slow_close = ms_ns(tr->t.attr[0]);
            break;
        default:
            break;
        }
    }
    return fx;
}

/* Does toxic tr (in slot) affect connection number idx?  Drawn from
 * (seed, link, idx, toxic name) so that it does not depend on timing or on
 * the other toxics. */
static int toxic_decide(const cr_proxy *p, const plink *l, uint64_t idx,
                        const toxic_rec *tr)
{
    if (tr->t.toxicity >= 1.0)
        return 1;
    if (tr->t.toxicity <= 0.0)
        return 0;
    char label[3 * CR_PROXY_NAME_MAX];
    snprintf(label, sizeof label, "proxy/%s/%llu/%s", l->name,
             (unsigned long long)idx, tr->name);
    cr_rng r;
    cr_rng_derive(&r, p->seed, label);
    return cr_rng_unit(&r) < tr->t.toxicity;
}

/* ---- pipes -------------------------------------------------------------- */

static int pipe_take(cr_proxy *p, dir *d)
{
    if (d->pipe[0] >= 0)
        return 0;
    if (p->npool) {
        p->npool--;
        d->pipe[0] = p->pool[p->npool][0];
        d->pipe[1] = p->pool[p->npool][1];
        d->pipe_cap = (size_t)p->pool[p->npool][2];
        return 0;
    }
    if (pipe2(d->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        d->pipe[0] = d->pipe[1] = -1;
        return -1;
    }
    /* A bigger pipe moves more per splice; failure only costs speed. */
    (void)fcntl(d->pipe[1], F_SETPIPE_SZ, (int)PIPE_CAP);
    int cap = fcntl(d->pipe[1], F_GETPIPE_SZ);
    d->pipe_cap = cap > 0 ? (size_t)cap : 65536;
    return 0;
}

static void pipe_give(cr_proxy *p, dir *d)
{
    if (d->pipe[0] < 0)
        return;
    if (d->pipe_bytes == 0 && p->npool < PIPE_POOL) {
        p->pool[p->npool][0] = d->pipe[0];
        p->pool[p->npool][1] = d->pipe[1];
        p->pool[p->npool][2] = (int)d->pipe_cap;
        p->npool++;
    } else {
        close(d->pipe[0]);
        close(d->pipe[1]);
    }
    d->pipe[0] = d->pipe[1] = -1;
    d->pipe_bytes = 0;
}

/* ---- connections -------------------------------------------------------- */

static void conn_close(cr_proxy *p, conn *c, int how)
{
    if (c->state == CS_DEAD)
        return;
    plink *l = c->l;
    if (how == CLOSE_RST) {
        /* Linger 0: close() sends RST, the peers see ECONNRESET. */
        struct linger lg = {1, 0};
        setsockopt(c->cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        setsockopt(c->sfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        l->resets++;
    } else {
        l->closed++;
    }
    close(c->cfd);
    close(c->sfd);
    c->cfd = c->sfd = -1;
    timer_cancel(p, &c->deadline_t);
    timer_cancel(p, &c->reset_t);
    for (int i = 0; i < 2; i++) {
        dir *d = &c->d[i];
        timer_cancel(p, &d->release_t);
        timer_cancel(p, &d->close_t);
        while (d->qhead) {
            chunk *ch = d->qhead;
            d->qhead = ch->next;
            cr_free(ch);
        }
        d->qtail = NULL;
        d->qbytes = 0;
        pipe_give(p, d);
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        l->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    l->active--;
    c->state = CS_DEAD;
    c->dead_next = p->dead;
    p->dead = c;
}

/* A read or write failed: a reset from one peer is passed on as a reset. */
static void conn_fail(cr_proxy *p, conn *c, int e)
{
    conn_close(p, c, (e == ECONNRESET || e == EPIPE) ? CLOSE_RST : CLOSE_FIN);
}

static void conn_interest(cr_proxy *p, conn *c)
{
    if (c->state == CS_DEAD)
        return;
    uint32_t cm = 0, sm = 0;
    if (c->state == CS_CONNECTING) {
        sm = EPOLLOUT;
    } else {
        if (c->d[0].want_read)
            cm |= EPOLLIN;
        if (c->d[0].want_write)
            sm |= EPOLLOUT;
        if (c->d[1].want_read)
            sm |= EPOLLIN;
        if (c->d[1].want_write)
            cm |= EPOLLOUT;
    }
    if (cm != c->cmask) {
        struct epoll_event e = {.events = cm, .data.ptr = &c->cp};
        epoll_ctl(p->epfd, EPOLL_CTL_MOD, c->cfd, &e);
        c->cmask = cm;
    }
    if (sm != c->smask) {
        struct epoll_event e = {.events = sm, .data.ptr = &c->sp};
        epoll_ctl(p->epfd, EPOLL_CTL_MOD, c->sfd, &e);
        c->smask = sm;
    }
}

/* The source of a direction reached end of stream and everything is
 * flushed: pass the EOF on, after slow_close's delay if any. */
static void dir_finish(cr_proxy *p, conn *c, int di)
{
    dir *d = &c->d[di];
    if (d->state == DS_EOF) {
        dir_fx fx = dir_effects(c, di);
        if (fx.slow_close) {
            unsigned bit = di == 0 ? CR_PROXY_UP : CR_PROXY_DOWN;
            for (int s = 0; s < MAX_TOXICS; s++) {
                toxic_rec *tr = c->l->slot[s];
                if (tr && conn_hit(c, s) && tr->t.type == CR_PTOX_SLOW_CLOSE &&
                    (tr->t.streams & bit))
                    tr->events++;
            }
            d->state = DS_CLOSE_WAIT;
            if (timer_set(p, &d->close_t, now_ns() + fx.slow_close) == 0)
                return;
        }
    }
    shutdown(di == 0 ? c->sfd : c->cfd, SHUT_WR);
    d->state = DS_DONE;
    if (c->d[0].state == DS_DONE && c->d[1].state == DS_DONE)
        conn_close(p, c, CLOSE_FIN);
}

/* Queue n bytes read into p->rbuf through the shaping toxics, in a fixed
 * order: limit_data, slicer, latency (+jitter), bandwidth.  Returns 0 or
 * CR_ENOMEM. */
static int shape(cr_proxy *p, conn *c, int di, size_t n, uint64_t now)
{
    dir *d = &c->d[di];
    unsigned bit = di == 0 ? CR_PROXY_UP : CR_PROXY_DOWN;
    toxic_rec *lat = NULL, *bw = NULL, *sl = NULL, *lim = NULL;
    int lim_slot = -1;
    for (int s = 0; s < MAX_TOXICS; s++) {
        toxic_rec *tr = c->l->slot[s];
        if (!tr || !conn_hit(c, s) || !(tr->t.streams & bit))
            continue;
        switch (tr->t.type) {
        case CR_PTOX_LATENCY: lat = tr; break;
        case CR_PTOX_BANDWIDTH: bw = tr; break;
        case CR_PTOX_SLICER: sl = tr; break;
        case CR_PTOX_LIMIT_DATA:
            if (!lim || tr->t.attr[0] < lim->t.attr[0]) {
                lim = tr;
                lim_slot = s;
            }
            break;
        default: break;
        }
    }
    int close_after = 0;
    if (lim) {
        uint64_t cap = (uint64_t)lim->t.attr[0];
        uint64_t left = cap > d->limit_passed ? cap - d->limit_passed : 0;
        if (n >= left) {
            n = (size_t)left;
            close_after = 1;
        }
        d->limit_passed += n;
        lim->bytes += n;
    }
    uint64_t base = now;
    if (lat) {
        double j = lat->t.attr[1];
        double ms = lat->t.attr[0] + (j > 0 ? cr_rng_range(&d->rng, -j, j) : 0);
        base += ms_ns(ms);
        lat->chunks++;
        lat->bytes += n;
    }
    uint64_t bw_piece = 0, bw_ns_per_byte_x1k = 0;
    if (bw) {
        double rate = bw->t.attr[0] * 1000.0; /* bytes per second */
        /* Pieces of 10 ms worth of data keep the rate smooth. */
        bw_piece = (uint64_t)(rate / 100.0);
        if (bw_piece == 0)
            bw_piece = 1;
        bw_ns_per_byte_x1k = (uint64_t)(1e12 / rate);
        bw->chunks++;
        bw->bytes += n;
    }
    size_t off = 0;
    uint64_t when = base;
    do {
        size_t len = n - off;
        if (sl) {
            double avg = sl->t.attr[0], var = sl->t.attr[1];
            double sz = avg + (var > 0 ? cr_rng_range(&d->rng, -var, var) : 0);
            size_t want = sz < 1 ? 1 : (size_t)sz;
            if (len > want)
                len = want;
            if (off > 0)
                when += (uint64_t)(sl->t.attr[2] * 1000.0);
            sl->chunks++;
            sl->bytes += len;
        }
        if (bw && len > bw_piece)
            len = (size_t)bw_piece;
        uint64_t rel = when;
        if (bw) {
            if (rel < d->bw_next)
                rel = d->bw_next;
            d->bw_next = rel + (uint64_t)len * bw_ns_per_byte_x1k / 1000u;
        }
        if (rel < d->last_release)
            rel = d->last_release;
        d->last_release = rel;
        chunk *ch = cr_malloc(sizeof *ch + len);
        if (!ch)
            return CR_ENOMEM;
        ch->next = NULL;
        ch->release = rel;
        ch->len = len;
        ch->off = 0;
        memcpy(ch->data, p->rbuf + off, len);
        off += len;
        ch->close_after = close_after && off == n;
        ch->toxic = ch->close_after ? lim_slot : -1;
        if (d->qtail)
            d->qtail->next = ch;
        else
            d->qhead = ch;
        d->qtail = ch;
        d->qbytes += len;
    } while (off < n);
    return 0;
}

static size_t queue_limit(const conn *c, int di)
{
    unsigned bit = di == 0 ? CR_PROXY_UP : CR_PROXY_DOWN;
    size_t lim = QUEUE_MAX;
    for (int s = 0; s < MAX_TOXICS; s++) {
        const toxic_rec *tr = c->l->slot[s];
        if (tr && conn_hit(c, s) && tr->t.type == CR_PTOX_BANDWIDTH &&
            (tr->t.streams & bit)) {
            /* Hold at most ~100 ms of data so senders feel the rate. */
            size_t b = (size_t)(tr->t.attr[0] * 100.0);
            if (b < 4096)
                b = 4096;
            if (b < lim)
                lim = b;
        }
    }
    return lim;
}

/* Move as much as possible through one direction; sets want_read /
 * want_write for conn_interest().  May close the connection. */
static void pump(cr_proxy *p, conn *c, int di)
{
    dir *d = &c->d[di];
    int src = di == 0 ? c->cfd : c->sfd;
    int dst = di == 0 ? c->sfd : c->cfd;
    plink *l = c->l;
    d->want_read = d->want_write = 0;
    if (c->state != CS_OPEN || d->state == DS_DONE)
        return;
    int drained = 0; /* a short read emptied the socket: epoll tells more */
    for (int rounds = 0;;) {
        while (d->pipe_bytes) {
            ssize_t n = splice(d->pipe[0], NULL, dst, NULL, d->pipe_bytes,
                               SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            if (n > 0) {
                d->pipe_bytes -= (size_t)n;
                d->bytes += (uint64_t)n;
                l->bytes[di] += (uint64_t)n;
            } else if (n < 0 && errno == EAGAIN) {
                d->want_write = 1;
                return;
            } else if (n < 0 && errno == EINTR) {
                continue;
            } else {
                conn_fail(p, c, n < 0 ? errno : EPIPE);
                return;
            }
        }
        if (d->qhead) {
            uint64_t now = now_ns();
            while (d->qhead) {
                chunk *ch = d->qhead;
                if (ch->release > now) {
                    if (timer_set(p, &d->release_t, ch->release) < 0)
                        conn_close(p, c, CLOSE_FIN);
                    break;
                }
                while (ch->off < ch->len) {
                    ssize_t n = send(dst, ch->data + ch->off, ch->len - ch->off,
                                     MSG_NOSIGNAL | MSG_DONTWAIT);
                    if (n > 0) {
                        ch->off += (size_t)n;
                        d->qbytes -= (size_t)n;
                        d->bytes += (uint64_t)n;
                        l->bytes[di] += (uint64_t)n;
                    } else if (n < 0 && errno == EAGAIN) {
                        d->want_write = 1;
                        return;
                    } else if (n < 0 && errno == EINTR) {
                        continue;
                    } else {
                        conn_fail(p, c, n < 0 ? errno : EPIPE);
                        return;
                    }
                }
                d->qhead = ch->next;
                if (!d->qhead)
                    d->qtail = NULL;
                int close_now = ch->close_after;
                int slot = ch->toxic;
                cr_free(ch);
                if (close_now) {
                    if (slot >= 0 && l->slot[slot])
                        l->slot[slot]->events++;
                    conn_close(p, c, CLOSE_FIN);
                    return;
                }
            }
            if (c->state == CS_DEAD)
                return;
        }
        if (d->state == DS_EOF) {
            if (!d->pipe_bytes && !d->qhead)
                dir_finish(p, c, di);
            return;
        }
        if (d->state != DS_OPEN)
            return;
        dir_fx fx = dir_effects(c, di);
        if (fx.stalled)
            return;
        if (drained || ++rounds > PUMP_ROUNDS) {
            d->want_read = 1;
            return;
        }
        ssize_t n;
        size_t asked;
        if (fx.shaped) {
            size_t lim = queue_limit(c, di);
            if (d->qbytes >= lim)
                return; /* the release timer pumps again */
            size_t room = lim - d->qbytes;
            asked = room < CHUNK_MAX ? room : CHUNK_MAX;
            n = recv(src, p->rbuf, asked, MSG_DONTWAIT);
            if (n > 0 && shape(p, c, di, (size_t)n, now_ns()) < 0) {
                conn_close(p, c, CLOSE_FIN);
                return;
            }
        } else {
            if (d->qhead)
                return; /* delayed bytes go first; the timer pumps again */
            if (pipe_take(p, d) < 0) {
                conn_close(p, c, CLOSE_FIN);
                return;
            }
            asked = d->pipe_cap;
            n = splice(src, NULL, d->pipe[1], NULL, asked,
                       SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            if (n > 0)
                d->pipe_bytes += (size_t)n;
        }
        if (n > 0 && (size_t)n < asked) {
            drained = 1;
        } else if (n == 0) {
            d->state = DS_EOF;
        } else if (n < 0) {
            if (errno == EAGAIN) {
                d->want_read = 1;
                return;
            }
            if (errno != EINTR) {
                conn_fail(p, c, errno);
                return;
            }
        }
    }
}

static void conn_pump(cr_proxy *p, conn *c)
{
    pump(p, c, 0);
    pump(p, c, 1);
    conn_interest(p, c);
}

/* (Re)compute the timeout and reset_peer deadlines of a connection. */
static void conn_deadlines(cr_proxy *p, conn *c)
{
    uint64_t dl = 0, rs = 0;
    for (int s = 0; s < MAX_TOXICS; s++) {
        toxic_rec *tr = c->l->slot[s];
        if (!tr || !conn_hit(c, s))
            continue;
        uint64_t from = tr->added > c->start ? tr->added : c->start;
        if (tr->t.type == CR_PTOX_TIMEOUT && tr->t.attr[0] > 0) {
            uint64_t w = from + ms_ns(tr->t.attr[0]);
            if (!dl || w < dl)
                dl = w;
        } else if (tr->t.type == CR_PTOX_RESET_PEER) {
            uint64_t w = from + ms_ns(tr->t.attr[0]);
            if (!rs || w < rs)
                rs = w;
        }
    }
    int rc = 0;
    if (dl)
        rc |= timer_set(p, &c->deadline_t, dl);
    else
        timer_cancel(p, &c->deadline_t);
    if (rs)
        rc |= timer_set(p, &c->reset_t, rs);
    else
        timer_cancel(p, &c->reset_t);
    if (rc)
        conn_close(p, c, CLOSE_FIN);
}

static void toxic_count(toxic_rec *tr, int hit)
{
    if (hit)
        tr->affected++;
    else
        tr->spared++;
}

static void conn_new(cr_proxy *p, plink *l, int cfd)
{
    uint64_t idx = l->next_idx++;
    l->accepted++;
    /* refuse: accept, then close at once (decided per connection). */
    for (int s = 0; s < MAX_TOXICS; s++) {
        toxic_rec *tr = l->slot[s];
        if (tr && tr->t.type == CR_PTOX_REFUSE) {
            int hit = toxic_decide(p, l, idx, tr);
            toxic_count(tr, hit);
            if (hit) {
                tr->events++;
                l->refused++;
                close(cfd);
                return;
            }
        }
    }
    int one = 1;
    int sfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    conn *c = sfd >= 0 ? cr_calloc(1, sizeof *c) : NULL;
    if (!c) {
        if (sfd >= 0)
            close(sfd);
        close(cfd);
        l->connect_failed++;
        return;
    }
    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->l = l;
    c->idx = idx;
    c->cfd = cfd;
    c->sfd = sfd;
    c->cp = (pfd){FK_CLIENT, c};
    c->sp = (pfd){FK_SERVER, c};
    c->start = now_ns();
    c->deadline_t = (ptimer){0, SIZE_MAX, T_DEADLINE, 0, c};
    c->reset_t = (ptimer){0, SIZE_MAX, T_RESET, 0, c};
    for (int i = 0; i < 2; i++) {
        dir *d = &c->d[i];
        d->pipe[0] = d->pipe[1] = -1;
        d->release_t = (ptimer){0, SIZE_MAX, T_RELEASE, i, c};
        d->close_t = (ptimer){0, SIZE_MAX, T_CLOSE_WAIT, i, c};
        char label[2 * CR_PROXY_NAME_MAX];
        snprintf(label, sizeof label, "proxy/%s/%llu/%s", l->name,
                 (unsigned long long)idx, i == 0 ? "up" : "down");
        cr_rng_derive(&d->rng, p->seed, label);
    }
    for (int s = 0; s < MAX_TOXICS; s++) {
        toxic_rec *tr = l->slot[s];
        if (!tr || tr->t.type == CR_PTOX_REFUSE || tr->t.type == CR_PTOX_DOWN)
            continue;
        int hit = toxic_decide(p, l, idx, tr);
        toxic_count(tr, hit);
        if (hit)
            c->affected |= 1u << s;
    }
    c->next = l->conns;
    if (l->conns)
        l->conns->prev = c;
    l->conns = c;
    l->active++;
    c->state = CS_CONNECTING;
    c->smask = EPOLLOUT;
    if (ep_add(p, cfd, 0, &c->cp) < 0 || ep_add(p, sfd, EPOLLOUT, &c->sp) < 0 ||
        (connect(sfd, (struct sockaddr *)&l->uaddr, sizeof l->uaddr) < 0 &&
         errno != EINPROGRESS)) {
        l->connect_failed++;
        conn_close(p, c, CLOSE_FIN);
        return;
    }
    conn_deadlines(p, c);
}

static void on_connected(cr_proxy *p, conn *c)
{
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(c->sfd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
        e = errno;
    if (e) {
        c->l->connect_failed++;
        conn_close(p, c, CLOSE_FIN);
        return;
    }
    c->state = CS_OPEN;
    conn_pump(p, c);
}

static void on_conn_event(cr_proxy *p, conn *c, uint32_t ev, int server)
{
    if (c->state == CS_DEAD)
        return;
    if (c->state == CS_CONNECTING) {
        if (server)
            on_connected(p, c);
        else if (ev & (EPOLLERR | EPOLLHUP))
            conn_close(p, c, CLOSE_FIN);
        return;
    }
    /* A readable fd feeds the direction it is the source of, a writable
     * fd drains the other; an error or hang-up surfaces in both. */
    if (ev & (EPOLLERR | EPOLLHUP)) {
        pump(p, c, 0);
        pump(p, c, 1);
    } else {
        if (ev & EPOLLIN)
            pump(p, c, server ? 1 : 0);
        if ((ev & EPOLLOUT) && c->state != CS_DEAD)
            pump(p, c, server ? 0 : 1);
    }
    conn_interest(p, c);
    if (c->state == CS_DEAD)
        return;
    if (ev & EPOLLERR) {
        int e = 0;
        socklen_t len = sizeof e;
        getsockopt(server ? c->sfd : c->cfd, SOL_SOCKET, SO_ERROR, &e, &len);
        conn_fail(p, c, e ? e : ECONNRESET);
    } else if ((ev & EPOLLHUP) && !(server ? c->smask : c->cmask)) {
        /* Hung up while we wait for nothing on it (a stalled direction):
         * level-triggered HUP would spin, so the connection ends here. */
        conn_close(p, c, CLOSE_FIN);
    }
}

static void on_timer(cr_proxy *p, ptimer *t)
{
    conn *c = t->c;
    if (c->state == CS_DEAD)
        return;
    switch (t->kind) {
    case T_RELEASE:
        conn_pump(p, c);
        break;
    case T_CLOSE_WAIT:
        dir_finish(p, c, t->dir);
        if (c->state != CS_DEAD)
            conn_pump(p, c);
        break;
    case T_DEADLINE:
    case T_RESET:
        for (int s = 0; s < MAX_TOXICS; s++) {
            toxic_rec *tr = c->l->slot[s];
            int want = t->kind == T_RESET ? CR_PTOX_RESET_PEER : CR_PTOX_TIMEOUT;
            if (tr && conn_hit(c, s) && tr->t.type == want)
                tr->events++;
        }
        conn_close(p, c, t->kind == T_RESET ? CLOSE_RST : CLOSE_FIN);
        break;
    }
}

static void on_timerfd(cr_proxy *p)
{
    uint64_t ticks;
    while (read(p->tfd, &ticks, sizeof ticks) > 0) {
    }
    p->armed = 0;
    uint64_t now = now_ns();
    while (p->nheap && p->heap[0]->when <= now) {
        ptimer *t = p->heap[0];
        timer_cancel(p, t);
        on_timer(p, t);
    }
}

/* ---- links -------------------------------------------------------------- */

static int link_listen(cr_proxy *p, plink *l, cr_err *err)
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
        ep_add(p, fd, EPOLLIN, &l->lp) < 0) {
        int e = errno;
        close(fd);
        fmt_addr(&l->laddr, a, sizeof a);
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
        conn_new(p, l, fd);
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
                          "blanks, '=' or ','", name ? name : "",
                          CR_PROXY_NAME_MAX - 1);
    if (link_find(p, name))
        return cr_err_set(err, CR_EINVAL, "proxy link %s: already exists",
                          name);
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
        (rc = link_listen(p, l, err)) < 0)
        goto out;
    p->links[p->nlinks++] = l;
    l = NULL;
out:
    cr_free(l);
    return rc;
}

int cr_proxy_link_port(const cr_proxy *p, const char *name)
{
    const plink *l = link_find(p, name);
    return l ? ntohs(l->laddr.sin_port) : -1;
}

/* ---- toxics ------------------------------------------------------------- */

int cr_proxy_toxic_add(cr_proxy *p, const char *lname, const char *name,
                       const cr_proxy_toxic *t, cr_err *err)
{
    plink *l = link_find(p, lname);
    if (!l)
        return cr_err_set(err, CR_ENOTFOUND, "no link '%s'", lname ? lname : "");
    if (!name || !*name || strlen(name) >= CR_PROXY_NAME_MAX ||
        strpbrk(name, " \t\r\n"))
        return cr_err_set(err, CR_EINVAL,
                          "toxic name '%s': 1 to %d characters without blanks",
                          name ? name : "", CR_PROXY_NAME_MAX - 1);
    if (t->type < 0 || t->type >= CR_PTOX_COUNT)
        return cr_err_set(err, CR_EINVAL, "toxic %s: unknown type", name);
    int rc = cr_proxy_toxic_check(t, err);
    if (rc < 0)
        return rc;
    int free_slot = -1;
    for (int s = 0; s < MAX_TOXICS; s++) {
        if (l->slot[s] && strcmp(l->slot[s]->name, name) == 0)
            return cr_err_set(err, CR_EINVAL,
                              "toxic %s: already exists on link %s", name,
                              l->name);
        if (!l->slot[s] && free_slot < 0)
            free_slot = s;
    }
    if (free_slot < 0)
        return cr_err_set(err, CR_EINVAL, "link %s: more than %d toxics",
                          l->name, MAX_TOXICS);
    if (l->nhist == l->hcap) {
        size_t ncap = l->hcap ? 2 * l->hcap : 8;
        toxic_rec **nh = cr_realloc(l->hist, ncap * sizeof *nh);
        if (!nh)
            return cr_err_set(err, CR_ENOMEM, "toxic %s: out of memory", name);
        l->hist = nh;
        l->hcap = ncap;
    }
    toxic_rec *tr = cr_calloc(1, sizeof *tr);
    if (!tr)
        return cr_err_set(err, CR_ENOMEM, "toxic %s: out of memory", name);
    snprintf(tr->name, sizeof tr->name, "%s", name);
    tr->t = *t;
    tr->active = 1;
    tr->added = now_ns();
    l->hist[l->nhist++] = tr;
    l->slot[free_slot] = tr;
    if (t->type == CR_PTOX_DOWN) {
        if (l->down++ == 0 && l->lfd >= 0) {
            /* Closing the listener makes new connections fail with
             * ECONNREFUSED; the port is bound again on removal. */
            close(l->lfd);
            l->lfd = -1;
        }
        while (l->conns) {
            tr->events++;
            l->dropped++;
            conn_close(p, l->conns, CLOSE_FIN);
        }
        return 0;
    }
    if (t->type == CR_PTOX_REFUSE)
        return 0; /* acts on new connections only */
    for (conn *c = l->conns, *next; c; c = next) {
        next = c->next;
        int hit = toxic_decide(p, l, c->idx, tr);
        toxic_count(tr, hit);
        if (!hit)
            continue;
        c->affected |= 1u << free_slot;
        if (t->type == CR_PTOX_LIMIT_DATA)
            for (int i = 0; i < 2; i++)
                if (t->streams & (i == 0 ? CR_PROXY_UP : CR_PROXY_DOWN))
                    c->d[i].limit_passed = 0; /* counts from now */
        conn_deadlines(p, c);
        if (c->state == CS_OPEN)
            conn_pump(p, c);
    }
    return 0;
}

static int toxic_remove_slot(cr_proxy *p, plink *l, int s, cr_err *err)
{
    toxic_rec *tr = l->slot[s];
    l->slot[s] = NULL;
    tr->active = 0;
    tr->removed = now_ns();
    if (tr->t.type == CR_PTOX_DOWN) {
        if (--l->down == 0 && l->lfd < 0)
            return link_listen(p, l, err);
        return 0;
    }
    uint32_t mask = 1u << s;
    for (conn *c = l->conns, *next; c; c = next) {
        next = c->next;
        if (!(c->affected & mask))
            continue;
        c->affected &= ~mask;
        conn_deadlines(p, c);
        if (c->state == CS_OPEN)
            conn_pump(p, c);
    }
    return 0;
}

int cr_proxy_toxic_remove(cr_proxy *p, const char *lname, const char *name,
                          cr_err *err)
{
    plink *l = link_find(p, lname);
    if (!l)
        return cr_err_set(err, CR_ENOTFOUND, "no link '%s'", lname ? lname : "");
    for (int s = 0; name && s < MAX_TOXICS; s++)
        if (l->slot[s] && strcmp(l->slot[s]->name, name) == 0)
            return toxic_remove_slot(p, l, s, err);
    return cr_err_set(err, CR_ENOTFOUND, "no toxic '%s' on link %s",
                      name ? name : "", l->name);
}

int cr_proxy_toxic_reset(cr_proxy *p, cr_err *err)
{
    int rc = 0;
    for (size_t i = 0; i < p->nlinks; i++)
        for (int s = 0; s < MAX_TOXICS; s++)
            if (p->links[i]->slot[s]) {
                int r = toxic_remove_slot(p, p->links[i], s, err);
                if (r < 0 && rc == 0)
                    rc = r;
            }
    return rc;
}

/* ---- statistics --------------------------------------------------------- */

static json_t *toxic_json(const cr_proxy *p, const toxic_rec *tr)
{
    const cr_proxy_toxic_kind *k = &cr_proxy_toxic_kinds()[tr->t.type];
    json_t *attrs = json_object();
    for (int i = 0; attrs && i < CR_PROXY_NATTR; i++)
        if (k->attr[i].name)
            json_object_set_new(attrs, k->attr[i].name,
                                json_real(tr->t.attr[i]));
    return json_pack(
        "{s:s, s:s, s:s, s:f, s:o, s:b, s:f, s:o, s:I, s:I, s:I, s:I, s:I}",
        "name", tr->name, "type", k->name, "stream",
        cr_proxy_stream_name(tr->t.streams), "toxicity", tr->t.toxicity,
        "attributes", attrs ? attrs : json_object(), "active", tr->active,
        "added_s", (double)(tr->added - p->t_start) / 1e9, "removed_s",
        tr->removed ? json_real((double)(tr->removed - p->t_start) / 1e9)
                    : json_null(),
        "affected", (json_int_t)tr->affected, "spared",
        (json_int_t)tr->spared, "chunks", (json_int_t)tr->chunks, "bytes",
        (json_int_t)tr->bytes, "events", (json_int_t)tr->events);
}

json_t *cr_proxy_stats(const cr_proxy *p)
{
    json_t *links = json_array();
    json_t *root = json_pack("{s:I, s:o}", "seed", (json_int_t)p->seed,
                             "links", links);
    if (!root)
        return NULL;
    for (size_t i = 0; i < p->nlinks; i++) {
        const plink *l = p->links[i];
        char la[64], ua[64];
        fmt_addr(&l->laddr, la, sizeof la);
        fmt_addr(&l->uaddr, ua, sizeof ua);
        json_t *tox = json_array();
        for (size_t h = 0; tox && h < l->nhist; h++)
            json_array_append_new(tox, toxic_json(p, l->hist[h]));
        json_t *lj = json_pack(
            "{s:s, s:s, s:s, s:b, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I},"
            " s:{s:I, s:I}, s:o}",
            "name", l->name, "listen", la, "upstream", ua, "down", l->down > 0,
            "connections", "accepted", (json_int_t)l->accepted, "active",
            (json_int_t)l->active, "refused", (json_int_t)l->refused,
            "dropped", (json_int_t)l->dropped, "reset", (json_int_t)l->resets,
            "connect_failed", (json_int_t)l->connect_failed, "closed",
            (json_int_t)l->closed, "bytes", "upstream",
            (json_int_t)l->bytes[0], "downstream", (json_int_t)l->bytes[1],
            "toxics", tox ? tox : json_array());
        if (!lj || json_array_append_new(links, lj) < 0) {
            json_decref(root);
            return NULL;
        }
    }
    return root;
}

json_t *cr_proxy_links_json(const cr_proxy *p)
{
    json_t *links = json_array();
    json_t *root = json_pack("{s:o}", "links", links);
    for (size_t i = 0; root && i < p->nlinks; i++) {
        char la[64], ua[64];
        fmt_addr(&p->links[i]->laddr, la, sizeof la);
        fmt_addr(&p->links[i]->uaddr, ua, sizeof ua);
        json_array_append_new(links,
                              json_pack("{s:s, s:s, s:s, s:i}", "name",
                                        p->links[i]->name, "listen", la,
                                        "upstream", ua, "port",
                                        ntohs(p->links[i]->laddr.sin_port)));
    }
    return root;
}

/* ---- control channels --------------------------------------------------- */

static int ctl_new(cr_proxy *p, int fd, int out_fd, int owned)
{
    ctl *k = cr_calloc(1, sizeof *k);
    if (!k)
        return CR_ENOMEM;
    k->p = (pfd){FK_CTL, k};
    k->fd = fd;
    k->out_fd = out_fd;
    k->owned = owned;
    if (ep_add(p, fd, EPOLLIN, &k->p) < 0) {
        cr_free(k);
        return CR_ESYS;
    }
    k->next = p->ctls;
    p->ctls = k;
    return 0;
}

static void ctl_release(cr_proxy *p, ctl *k)
{
    if (k->dead)
        return;
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, k->fd, NULL);
    if (k->owned)
        close(k->fd);
    k->dead = 1; /* freed with the proxy or at the end of the batch */
}

static int write_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            /* Replies are small; wait briefly for room rather than keep an
             * output queue per channel. */
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
            continue;
        }
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

static void on_ctl(cr_proxy *p, ctl *k)
{
    if (k->dead)
        return;
    ssize_t n = read(k->fd, k->buf + k->len, sizeof k->buf - k->len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        ctl_release(p, k);
        return;
    }
    k->len += (size_t)n;
    char *start = k->buf;
    char *nl;
    while ((nl = memchr(start, '\n', k->len - (size_t)(start - k->buf)))) {
        *nl = '\0';
        if (nl > start && nl[-1] == '\r')
            nl[-1] = '\0';
        char *reply = cr_proxy_command(p, start);
        const char *r = reply ? reply : "err out of memory";
        if (write_all(k->out_fd, r, strlen(r)) < 0 ||
            write_all(k->out_fd, "\n", 1) < 0) {
            cr_free(reply);
            ctl_release(p, k);
            return;
        }
        cr_free(reply);
        start = nl + 1;
    }
    k->len -= (size_t)(start - k->buf);
    memmove(k->buf, start, k->len);
    if (k->len == sizeof k->buf) {
        write_all(k->out_fd, "err line too long\n", 18);
        ctl_release(p, k);
    }
}

static void on_ctl_accept(cr_proxy *p)
{
    for (;;) {
        int fd = accept4(p->ctl_lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (ctl_new(p, fd, fd, 1) < 0)
            close(fd);
    }
}

int cr_proxy_control_listen(cr_proxy *p, const char *path, cr_err *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (p->ctl_lfd >= 0)
        return cr_err_set(err, CR_ESTATE, "proxy control: already listening");
    if (!path || strlen(path) >= sizeof sa.sun_path)
        return cr_err_set(err, CR_EINVAL,
                          "proxy control socket '%s': path too long",
                          path ? path : "");
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return cr_err_sys(err, CR_ESYS, errno, "proxy control socket: socket");
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    mode_t old = umask(077);
    int b = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (b < 0 || listen(fd, 16) < 0 || ep_add(p, fd, EPOLLIN, &p->ctl_lp) < 0) {
        int e = errno;
        close(fd);
        return cr_err_sys(err, CR_ESYS, e, "proxy control socket %s", path);
    }
    p->ctl_path = cr_strdup(path);
    p->ctl_lfd = fd;
    return 0;
}

int cr_proxy_control_stdio(cr_proxy *p, int in_fd, int out_fd, cr_err *err)
{
    int rc = ctl_new(p, in_fd, out_fd, 0);
    if (rc == CR_ESYS)
        return cr_err_sys(err, rc, errno, "proxy control on fd %d", in_fd);
    if (rc < 0)
        return cr_err_set(err, rc, "proxy control on fd %d: out of memory",
                          in_fd);
    return 0;
}

int cr_proxy_watch_stop(cr_proxy *p, int stop_fd, cr_err *err)
{
    if (ep_add(p, stop_fd, EPOLLIN, &p->stop_p) < 0)
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
            case FK_LISTEN: on_accept(p, pf->obj); break;
            case FK_CLIENT: on_conn_event(p, pf->obj, evs[i].events, 0); break;
            case FK_SERVER: on_conn_event(p, pf->obj, evs[i].events, 1); break;
            case FK_TIMER: on_timerfd(p); break;
            case FK_CTL_LISTEN: on_ctl_accept(p); break;
            case FK_CTL: on_ctl(p, pf->obj); break;
            case FK_STOP: p->stop = 1; break;
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
    p->t_start = now_ns();
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    p->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (p->epfd < 0 || p->tfd < 0 || ep_add(p, p->tfd, EPOLLIN, &p->tp) < 0) {
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
            conn_close(p, l->conns, CLOSE_FIN);
        if (l->lfd >= 0)
            close(l->lfd);
        for (size_t h = 0; h < l->nhist; h++)
            cr_free(l->hist[h]);
        cr_free(l->hist);
        cr_free(l);
    }
    cr_free(p->links);
    for (ctl *k = p->ctls; k; k = k->next)
        ctl_release(p, k);
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
