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
 * This file: the loop and the timer heap.  Links (listeners):
 * cr_proxy_link.c; connections: cr_proxy_conn.c; toxics: cr_proxy_toxic.c;
 * control channels and statistics: cr_proxy_chan.c; the Toxiproxy HTTP
 * API: cr_proxy_http.c (MHD in this loop), cr_proxy_api.c (endpoints) and
 * cr_proxy_apijson.c (JSON); shared structures: cr_proxy_internal.h. */
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

/* ---- waking on time ----------------------------------------------------
 *
 * A timerfd armed for T (absolute, so a late re-arm cannot push T back)
 * wakes the loop some tens of microseconds after T: the hrtimer interrupt,
 * then the wake-up of a task that slept; on a virtual machine whose vCPU
 * halted, more (measured here: 30-45 us at the median, 100-500 us at p99,
 * with the task's timer slack at 50 us or at 1 ns alike: a timerfd's
 * hrtimer has no slack).  Every delayed chunk paid it on top of its latency.
 * So the timerfd is armed early by about the lateness it showed (an EWMA of
 * the last wake-ups, times 2, capped at WAKE_LEAD_MAX) and the loop spins
 * the rest of the way to T on the monotonic clock.  Spinning costs CPU, so
 * it is bounded: at most SPIN_SHARE of the time that passes (a token bucket
 * of SPIN_BUDGET_MAX); without budget the timerfd is armed at T itself.
 * Nothing is ever released before its time: the spin ends at T. */
#define WAKE_LEAD_MAX   300000ull  /* ns */
#define SPIN_SHARE      50         /* 1/50 = 2 % of wall time */
#define SPIN_BUDGET_MAX 2000000ull /* ns */

static uint64_t wake_lead(cr_proxy *p, uint64_t now)
{
    if (now > p->spin_refill_at) {
        p->spin_budget += (now - p->spin_refill_at) / SPIN_SHARE;
        if (p->spin_budget > SPIN_BUDGET_MAX)
            p->spin_budget = SPIN_BUDGET_MAX;
    }
    p->spin_refill_at = now;
    uint64_t lead = 2 * p->wake_late;
    if (lead > WAKE_LEAD_MAX)
        lead = WAKE_LEAD_MAX;
    return lead <= p->spin_budget ? lead : 0;
}

/* Called when the timerfd woke the loop: learn the lateness, then spin to
 * the heap's head when it is due within the lead.  Returns the time. */
static uint64_t wake_on_time(cr_proxy *p)
{
    uint64_t now = cr_proxy__now_ns();
    if (p->armed && now > p->armed) {
        /* EWMA with weight 1/8: a lasting change of the machine's load
         * moves the lead within a few wake-ups, one outlier barely. */
        uint64_t late = now - p->armed;
        p->wake_late = p->wake_late - p->wake_late / 8 + late / 8;
    }
    if (!p->nheap || p->heap[0]->when <= now)
        return now;
    uint64_t due = p->heap[0]->when;
    if (due - now > WAKE_LEAD_MAX || due - now > p->spin_budget)
        return now;
    uint64_t t0 = now;
    while (now < due)
        now = cr_proxy__now_ns();
    p->spin_budget -= now - t0;
    return now;
}

/* Arm the timerfd at the heap's earliest entry, less the wake-up lead
 * (only when it changed). */
static void timer_rearm(cr_proxy *p)
{
    uint64_t want = p->nheap ? p->heap[0]->when : 0;
    if (want) {
        uint64_t lead = wake_lead(p, cr_proxy__now_ns());
        want = want > lead ? want - lead : 1;
    }
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

int cr_proxy__ep_add(cr_proxy *p, int fd, uint32_t ev, pfd *pf)
{
    struct epoll_event e = {.events = ev, .data.ptr = pf};
    return epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &e);
}

static void on_timerfd(cr_proxy *p)
{
    uint64_t ticks;
    while (read(p->tfd, &ticks, sizeof ticks) > 0) {
    }
    uint64_t now = wake_on_time(p);
    p->armed = 0;
    while (p->nheap && p->heap[0]->when <= now) {
        ptimer *t = p->heap[0];
        cr_proxy__timer_cancel(p, t);
        if (t->kind == T_HTTP)
            cr_proxy__http_run(p);
        else
            cr_proxy__timer_fire(p, t);
    }
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
    while (p->dead_links) {
        plink *l = p->dead_links;
        p->dead_links = l->dead_next;
        cr_proxy__link_free(l);
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
                cr_proxy__link_accept(p, pf->obj);
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
            case FK_HTTP:
                cr_proxy__http_run(p);
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
    p->self_nsfd = -1;
    p->tp = (pfd){FK_TIMER, NULL};
    p->ctl_lp = (pfd){FK_CTL_LISTEN, NULL};
    p->stop_p = (pfd){FK_STOP, NULL};
    p->t_start = cr_proxy__now_ns();
    p->spin_refill_at = p->t_start;
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
    cr_proxy__http_destroy(p);
    for (size_t i = 0; i < p->nlinks; i++) {
        plink *l = p->links[i];
        while (l->conns)
            cr_proxy__conn_close(p, l->conns, CLOSE_FIN);
        if (l->lfd >= 0)
            close(l->lfd);
        cr_proxy__link_free(l);
    }
    cr_free(p->links);
    if (p->self_nsfd >= 0)
        close(p->self_nsfd);
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
