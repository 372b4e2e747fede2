/* cr_proxy_conn: the fault proxy's connections (see cr_proxy.c for the
 * loop and the state machines; toxics are added, updated and removed in
 * cr_proxy_toxic.c).
 *
 * pump() moves one direction of a connection: flush the pipe (fast path)
 * or the due chunks of the queue (shaped path), pass the end of stream on,
 * then read more, by splice() into a pipe when no data toxic applies or
 * into the queue through shape() otherwise.  Toxics are added to and
 * removed from live connections here too. */
#include "cr_proxy_internal.h"

#include "base/cr_alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

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
            if (cr_proxy__ms_ns(tr->t.attr[0]) > fx.slow_close)
                fx.slow_close = cr_proxy__ms_ns(tr->t.attr[0]);
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
int cr_proxy__toxic_decide(const cr_proxy *p, const plink *l, uint64_t idx,
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

void cr_proxy__conn_close(cr_proxy *p, conn *c, int how)
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
    cr_proxy__timer_cancel(p, &c->deadline_t);
    cr_proxy__timer_cancel(p, &c->reset_t);
    for (int i = 0; i < 2; i++) {
        dir *d = &c->d[i];
        cr_proxy__timer_cancel(p, &d->release_t);
        cr_proxy__timer_cancel(p, &d->close_t);
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
    cr_proxy__conn_close(
        p, c, (e == ECONNRESET || e == EPIPE) ? CLOSE_RST : CLOSE_FIN);
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
    if (cm != c->cmask && !c->cgone) {
        struct epoll_event e = {.events = cm, .data.ptr = &c->cp};
        epoll_ctl(p->epfd, EPOLL_CTL_MOD, c->cfd, &e);
        c->cmask = cm;
    }
    if (sm != c->smask && !c->sgone) {
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
            if (cr_proxy__timer_set(p, &d->close_t,
                                    cr_proxy__now_ns() + fx.slow_close) == 0)
                return;
        }
    }
    shutdown(di == 0 ? c->sfd : c->cfd, SHUT_WR);
    d->state = DS_DONE;
    if (c->d[0].state == DS_DONE && c->d[1].state == DS_DONE)
        cr_proxy__conn_close(p, c, CLOSE_FIN);
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
        case CR_PTOX_LATENCY:
            lat = tr;
            break;
        case CR_PTOX_BANDWIDTH:
            bw = tr;
            break;
        case CR_PTOX_SLICER:
            sl = tr;
            break;
        case CR_PTOX_LIMIT_DATA:
            if (!lim || tr->t.attr[0] < lim->t.attr[0]) {
                lim = tr;
                lim_slot = s;
            }
            break;
        default:
            break;
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
        base += cr_proxy__ms_ns(ms);
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

static void pump_dir(cr_proxy *p, conn *c, int di);

/* Move as much as possible through one direction; sets want_read /
 * want_write for conn_interest().  May close the connection.  An empty
 * pipe goes back to the pool, so pipes (and the user's pipe-buffer quota)
 * are held only by directions with data in flight. */
static void pump(cr_proxy *p, conn *c, int di)
{
    pump_dir(p, c, di);
    dir *d = &c->d[di];
    if (c->state != CS_DEAD && d->pipe[0] >= 0 && d->pipe_bytes == 0)
        pipe_give(p, d);
}

/* Writes what the direction's pipe holds to dst.  0: the pipe is empty;
 * 1: stop pumping (dst is full: want_write, or the connection failed). */
static int flush_pipe(cr_proxy *p, conn *c, int di, int dst)
{
    dir *d = &c->d[di];
    while (d->pipe_bytes) {
        ssize_t n = splice(d->pipe[0], NULL, dst, NULL, d->pipe_bytes,
                           SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n > 0) {
            d->pipe_bytes -= (size_t)n;
            d->bytes += (uint64_t)n;
            c->l->bytes[di] += (uint64_t)n;
        } else if (n < 0 && errno == EAGAIN) {
            d->want_write = 1;
            return 1;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            conn_fail(p, c, n < 0 ? errno : EPIPE);
            return 1;
        }
    }
    return 0;
}

/* Sends one queued chunk's remaining bytes to dst.  0: all sent; 1: stop
 * pumping (dst is full, or the connection failed). */
static int send_chunk(cr_proxy *p, conn *c, int di, int dst, chunk *ch)
{
    dir *d = &c->d[di];
    while (ch->off < ch->len) {
        ssize_t n = send(dst, ch->data + ch->off, ch->len - ch->off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            ch->off += (size_t)n;
            d->qbytes -= (size_t)n;
            d->bytes += (uint64_t)n;
            c->l->bytes[di] += (uint64_t)n;
        } else if (n < 0 && errno == EAGAIN) {
            d->want_write = 1;
            return 1;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            conn_fail(p, c, n < 0 ? errno : EPIPE);
            return 1;
        }
    }
    return 0;
}

/* Sends the queued (shaped) chunks whose release time has come; arms the
 * release timer for the next.  0: go on; 1: stop pumping. */
static int flush_queue(cr_proxy *p, conn *c, int di, int dst)
{
    dir *d = &c->d[di];
    plink *l = c->l;
    if (!d->qhead)
        return 0;
    uint64_t now = cr_proxy__now_ns();
    while (d->qhead) {
        chunk *ch = d->qhead;
        if (ch->release > now) {
            if (cr_proxy__timer_set(p, &d->release_t, ch->release) < 0)
                cr_proxy__conn_close(p, c, CLOSE_FIN);
            break;
        }
        if (send_chunk(p, c, di, dst, ch))
            return 1;
        d->qhead = ch->next;
        if (!d->qhead)
            d->qtail = NULL;
        int close_now = ch->close_after;
        int slot = ch->toxic;
        cr_free(ch);
        if (close_now) {
            if (slot >= 0 && l->slot[slot])
                l->slot[slot]->events++;
            cr_proxy__conn_close(p, c, CLOSE_FIN);
            return 1;
        }
    }
    return c->state == CS_DEAD;
}

/* Reads once from src: into the shaping queue when a toxic shapes this
 * direction, else spliced into the direction's pipe.  *drained is set by a
 * short read.  0: go on; 1: stop pumping. */
static int read_once(cr_proxy *p, conn *c, int di, int src, int shaped,
                     int *drained)
{
    dir *d = &c->d[di];
    plink *l = c->l;
    ssize_t n;
    size_t asked;
    if (shaped) {
        size_t lim = queue_limit(c, di);
        if (d->qbytes >= lim)
            return 1; /* the release timer pumps again */
        size_t room = lim - d->qbytes;
        asked = room < CHUNK_MAX ? room : CHUNK_MAX;
        n = recv(src, p->rbuf, asked, MSG_DONTWAIT);
        if (n > 0)
            l->rbytes[di] += (uint64_t)n;
        if (n > 0 && shape(p, c, di, (size_t)n, cr_proxy__now_ns()) < 0) {
            cr_proxy__conn_close(p, c, CLOSE_FIN);
            return 1;
        }
    } else {
        if (d->qhead)
            return 1; /* delayed bytes go first; the timer pumps again */
        if (pipe_take(p, d) < 0) {
            cr_proxy__conn_close(p, c, CLOSE_FIN);
            return 1;
        }
        asked = d->pipe_cap;
        n = splice(src, NULL, d->pipe[1], NULL, asked,
                   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n > 0) {
            d->pipe_bytes += (size_t)n;
            l->rbytes[di] += (uint64_t)n;
        }
    }
    if (n > 0 && (size_t)n < asked) {
        *drained = 1;
    } else if (n == 0) {
        d->state = DS_EOF;
    } else if (n < 0) {
        if (errno == EAGAIN) {
            d->want_read = 1;
            return 1;
        }
        if (errno == ECONNRESET && d->qhead) {
            /* Delayed data was sent before the reset: deliver it first,
             * then pass the reset on, as a slow link would. */
            d->rst_after = 1;
            d->state = DS_EOF;
        } else if (errno != EINTR) {
            conn_fail(p, c, errno);
            return 1;
        }
    }
    return 0;
}

static void pump_dir(cr_proxy *p, conn *c, int di)
{
    dir *d = &c->d[di];
    int src = di == 0 ? c->cfd : c->sfd;
    int dst = di == 0 ? c->sfd : c->cfd;
    d->want_read = d->want_write = 0;
    if (c->state != CS_OPEN || d->state == DS_DONE)
        return;
    int drained = 0; /* a short read emptied the socket: epoll tells more */
    for (int rounds = 0;;) {
        if (flush_pipe(p, c, di, dst) || flush_queue(p, c, di, dst))
            return;
        if (d->state == DS_EOF) {
            if (!d->pipe_bytes && !d->qhead) {
                if (d->rst_after)
                    cr_proxy__conn_close(p, c, CLOSE_RST);
                else
                    dir_finish(p, c, di);
            }
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
        if (read_once(p, c, di, src, fx.shaped, &drained))
            return;
    }
}

void cr_proxy__conn_pump(cr_proxy *p, conn *c)
{
    pump(p, c, 0);
    pump(p, c, 1);
    conn_interest(p, c);
}

/* (Re)compute the timeout and reset_peer deadlines of a connection. */
void cr_proxy__conn_deadlines(cr_proxy *p, conn *c)
{
    uint64_t dl = 0, rs = 0;
    for (int s = 0; s < MAX_TOXICS; s++) {
        toxic_rec *tr = c->l->slot[s];
        if (!tr || !conn_hit(c, s))
            continue;
        uint64_t from = tr->armed > c->start ? tr->armed : c->start;
        if (tr->t.type == CR_PTOX_TIMEOUT && tr->t.attr[0] > 0) {
            uint64_t w = from + cr_proxy__ms_ns(tr->t.attr[0]);
            if (!dl || w < dl)
                dl = w;
        } else if (tr->t.type == CR_PTOX_RESET_PEER) {
            uint64_t w = from + cr_proxy__ms_ns(tr->t.attr[0]);
            if (!rs || w < rs)
                rs = w;
        }
    }
    int rc = 0;
    if (dl)
        rc |= cr_proxy__timer_set(p, &c->deadline_t, dl);
    else
        cr_proxy__timer_cancel(p, &c->deadline_t);
    if (rs)
        rc |= cr_proxy__timer_set(p, &c->reset_t, rs);
    else
        cr_proxy__timer_cancel(p, &c->reset_t);
    if (rc)
        cr_proxy__conn_close(p, c, CLOSE_FIN);
}

void cr_proxy__toxic_count(toxic_rec *tr, int hit)
{
    if (hit)
        tr->affected++;
    else
        tr->spared++;
}

void cr_proxy__conn_new(cr_proxy *p, plink *l, int cfd)
{
    uint64_t idx = l->next_idx++;
    l->accepted++;
    /* refuse: accept, then close at once (decided per connection). */
    for (int s = 0; s < MAX_TOXICS; s++) {
        toxic_rec *tr = l->slot[s];
        if (tr && tr->t.type == CR_PTOX_REFUSE) {
            int hit = cr_proxy__toxic_decide(p, l, idx, tr);
            cr_proxy__toxic_count(tr, hit);
            if (hit) {
                tr->events++;
                l->refused++;
                close(cfd);
                return;
            }
        }
    }
    int one = 1;
    int sfd = cr_proxy__socket(p, l); /* in the client's namespace */
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
    c->start = cr_proxy__now_ns();
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
        int hit = cr_proxy__toxic_decide(p, l, idx, tr);
        cr_proxy__toxic_count(tr, hit);
        if (hit)
            c->affected |= 1u << s;
    }
    c->next = l->conns;
    if (l->conns)
        l->conns->prev = c;
    l->conns = c;
    l->active++;
    /* On loopback the handshake usually completes inside connect(); a
     * second connect() says so (EISCONN), which saves a trip through the
     * loop.  Otherwise wait for EPOLLOUT in CONNECTING. */
    int rc = connect(sfd, (struct sockaddr *)&l->uaddr, sizeof l->uaddr);
    int connected = rc == 0 ? 1 : errno == EINPROGRESS ? 0 : -1;
    if (connected == 0) {
        /* The second call reports (and consumes) the outcome: a failure
         * here is a failed connect, not a later SO_ERROR. */
        rc = connect(sfd, (struct sockaddr *)&l->uaddr, sizeof l->uaddr);
        if (rc == 0 || errno == EISCONN)
            connected = 1;
        else if (errno != EALREADY && errno != EINPROGRESS)
            connected = -1;
    }
    c->state = connected > 0 ? CS_OPEN : CS_CONNECTING;
    c->cmask = connected > 0 ? EPOLLIN : 0;
    c->smask = connected > 0 ? EPOLLIN : EPOLLOUT;
    if (connected < 0 || cr_proxy__ep_add(p, cfd, c->cmask, &c->cp) < 0 ||
        cr_proxy__ep_add(p, sfd, c->smask, &c->sp) < 0) {
        l->connect_failed++;
        cr_proxy__conn_close(p, c, CLOSE_FIN);
        return;
    }
    cr_proxy__conn_deadlines(p, c);
    if (c->state == CS_OPEN) {
        c->d[0].want_read = c->d[1].want_read = 1;
        pump(p, c, 0); /* the client may have written already */
        conn_interest(p, c);
    }
}

static void on_connected(cr_proxy *p, conn *c)
{
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(c->sfd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
        e = errno;
    if (e) {
        c->l->connect_failed++;
        cr_proxy__conn_close(p, c, CLOSE_FIN);
        return;
    }
    c->state = CS_OPEN;
    cr_proxy__conn_pump(p, c);
}

void cr_proxy__conn_event(cr_proxy *p, conn *c, uint32_t ev, int server)
{
    if (c->state == CS_DEAD)
        return;
    if (c->state == CS_CONNECTING) {
        if (server)
            on_connected(p, c);
        else if (ev & (EPOLLERR | EPOLLHUP))
            cr_proxy__conn_close(p, c, CLOSE_FIN);
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
    dir *src_dir = &c->d[server ? 1 : 0];
    if ((ev & EPOLLERR) && src_dir->qhead) {
        /* Reset, but data read before the reset is still held by a delay
         * toxic: deliver it, then reset (as a slow link would), and stop
         * watching the fd meanwhile (EPOLLERR cannot be masked). */
        src_dir->rst_after = 1;
        if (src_dir->state == DS_OPEN)
            src_dir->state = DS_EOF;
        epoll_ctl(p->epfd, EPOLL_CTL_DEL, server ? c->sfd : c->cfd, NULL);
        if (server)
            c->sgone = 1;
        else
            c->cgone = 1;
    } else if (ev & EPOLLERR) {
        int e = 0;
        socklen_t len = sizeof e;
        getsockopt(server ? c->sfd : c->cfd, SOL_SOCKET, SO_ERROR, &e, &len);
        conn_fail(p, c, e ? e : ECONNRESET);
    } else if ((ev & EPOLLHUP) && !(server ? c->smask : c->cmask)) {
        /* Hung up while we wait for nothing on it (a stalled direction):
         * level-triggered HUP would spin, so the connection ends here. */
        cr_proxy__conn_close(p, c, CLOSE_FIN);
    }
}

void cr_proxy__timer_fire(cr_proxy *p, ptimer *t)
{
    conn *c = t->c;
    if (c->state == CS_DEAD)
        return;
    switch (t->kind) {
    case T_RELEASE:
        /* The direction whose chunk is due first: its bytes are late by
         * whatever runs before them. */
        pump(p, c, t->dir);
        if (c->state != CS_DEAD)
            pump(p, c, !t->dir);
        conn_interest(p, c);
        break;
    case T_CLOSE_WAIT:
        dir_finish(p, c, t->dir);
        if (c->state != CS_DEAD)
            cr_proxy__conn_pump(p, c);
        break;
    case T_DEADLINE:
    case T_RESET:
        for (int s = 0; s < MAX_TOXICS; s++) {
            toxic_rec *tr = c->l->slot[s];
            int want =
                t->kind == T_RESET ? CR_PTOX_RESET_PEER : CR_PTOX_TIMEOUT;
            if (tr && conn_hit(c, s) && tr->t.type == want)
                tr->events++;
        }
        cr_proxy__conn_close(p, c, t->kind == T_RESET ? CLOSE_RST : CLOSE_FIN);
        break;
    }
}
