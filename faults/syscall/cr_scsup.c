/* cr_scsup: the seccomp backend's supervisor thread (see cr_scsup.h).
 *
 * One epoll set holds every listener, an eventfd (stop) and a timerfd (the
 * earliest delayed call).  Delayed calls wait in a binary heap ordered by
 * their due time; nothing in the thread ever sleeps for a call. */
#include "cr_scsup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "base/cr_alloc.h"
#include "cr_seccomp.h"

#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1UL << 0)
#endif
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
#ifndef SECCOMP_IOCTL_NOTIF_ID_VALID
#define SECCOMP_IOCTL_NOTIF_ID_VALID SECCOMP_IOW(2, __u64)
#endif

#define RESP_ROOM 128

typedef struct sc_lst {
    int fd;
    const void *key;
    unsigned flags;
    struct sc_lst *next;
} sc_lst;

/* A delayed call. */
typedef struct sc_pend {
    int64_t due; /* CLOCK_MONOTONIC, ns */
    sc_lst *l;
    uint64_t id;
    pid_t tid;
    int nr;
    uint64_t args[6];
    int errnum;
    cr_scwin *w;
} sc_pend;

struct cr_scsup {
    pthread_t th;
    int started;
    int epfd, wakefd, tfd;
    pthread_mutex_t mu;
    int stop; /* under mu */
    sc_lst *ls;
    cr_scwin *wins;
    sc_pend *heap;
    size_t nheap, cap;
    struct seccomp_notif *req;
    size_t req_sz;
    uint64_t notified, untouched;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- answers --------------------------------------------------------------
 * error 0: continue the call; otherwise fail it with -error. */
typedef union sc_resp {
    struct seccomp_notif_resp r;
    char room[RESP_ROOM]; /* a newer kernel's larger structure */
} sc_resp;

/* Both threads answer (the loop's disarm too): the buffer is local.
 * Returns whether the answer reached the call. */
static bool answer(int fd, uint64_t id, int errnum)
{
    sc_resp u;
    memset(&u, 0, sizeof u);
    u.r.id = id;
    if (errnum)
        u.r.error = -errnum;
    else
        u.r.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    /* ENOENT: the call is gone (its thread was killed, or a signal cut the
     * wait short); nothing to answer. */
    return ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &u) == 0;
}

/* ---- the heap of delayed calls (under mu) -------------------------------- */

static void heap_swap(cr_scsup *s, size_t a, size_t b)
{
    sc_pend t = s->heap[a];
    s->heap[a] = s->heap[b];
    s->heap[b] = t;
}

static void heap_up(cr_scsup *s, size_t i)
{
    while (i > 0 && s->heap[(i - 1) / 2].due > s->heap[i].due) {
        heap_swap(s, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(cr_scsup *s, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->nheap && s->heap[l].due < s->heap[m].due)
            m = l;
        if (r < s->nheap && s->heap[r].due < s->heap[m].due)
            m = r;
        if (m == i)
            return;
        heap_swap(s, i, m);
        i = m;
    }
}

static int heap_push(cr_scsup *s, const sc_pend *p)
{
    if (s->nheap == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        sc_pend *nv = cr_realloc(s->heap, nc * sizeof *nv);
        if (!nv)
            return -1;
        s->heap = nv;
        s->cap = nc;
    }
    s->heap[s->nheap] = *p;
    heap_up(s, s->nheap++);
    return 0;
}

static sc_pend heap_remove(cr_scsup *s, size_t i)
{
    sc_pend out = s->heap[i];
    s->nheap--;
    if (i < s->nheap) {
        s->heap[i] = s->heap[s->nheap];
        heap_up(s, i);
        heap_down(s, i);
    }
    return out;
}

static void timer_rearm(cr_scsup *s)
{
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    if (s->nheap) {
        int64_t due = s->heap[0].due > 0 ? s->heap[0].due : 1;
        its.it_value.tv_sec = (time_t)(due / 1000000000);
        its.it_value.tv_nsec = (long)(due % 1000000000);
    }
    timerfd_settime(s->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Answer every delayed call that is due. */
static void fire_due(cr_scsup *s)
{
    int64_t now = mono_ns();
    while (s->nheap && s->heap[0].due <= now) {
        sc_pend p = heap_remove(s, 0);
        answer(p.l->fd, p.id, p.errnum);
    }
    timer_rearm(s);
}

/* ---- reading what a call names ------------------------------------------- */

static int read_mem_file(pid_t tid, uint64_t addr, char *out, size_t n)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t r = pread(fd, out, n - 1, (off_t)addr);
    close(fd);
    if (r <= 0)
        return -1;
    out[r] = '\0';
    return memchr(out, '\0', (size_t)r) ? 0 : -1;
}

/* A NUL-terminated string at addr in the target, page by page (a string
 * may end just before an unmapped page). */
static int read_str(pid_t tid, uint64_t addr, char *out, size_t n)
{
    size_t got = 0;
    if (addr == 0)
        return -1;
    while (got + 1 < n) {
        uint64_t a = addr + got;
        size_t chunk = 4096 - (size_t)(a % 4096);
        if (chunk > n - 1 - got)
            chunk = n - 1 - got;
        struct iovec lv = {out + got, chunk};
        struct iovec rv = {(void *)(uintptr_t)a, chunk};
        ssize_t r = process_vm_readv(tid, &lv, 1, &rv, 1, 0);
        if (r <= 0) {
            if (got == 0 && (errno == EPERM || errno == ENOSYS))
                return read_mem_file(tid, addr, out, n);
            return -1;
        }
        if (memchr(out + got, '\0', (size_t)r))
            return 0;
        got += (size_t)r;
    }
    return -1; /* longer than a path can be */
}

static int proc_link(pid_t tid, const char *what, char *out, size_t n)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)tid, what);
    ssize_t r = readlink(path, out, n - 1);
    if (r <= 0)
        return -1;
    out[r] = '\0';
    return 0;
}

static int fd_link(pid_t tid, int fd, char *out, size_t n)
{
    char what[32];
    if (fd < 0)
        return -1;
    snprintf(what, sizeof what, "fd/%d", fd);
    return proc_link(tid, what, out, n);
}

/* The file one argument reference names, absolute when it is a path. */
static int resolve_ref(pid_t tid, const __u64 *args, const cr_sysref *ref,
                       char *out, size_t n)
{
    char s[CR_SC_PATH_MAX], base[CR_SC_PATH_MAX];
    if (ref->kind == CR_SYSARG_FD)
        return fd_link(tid, (int)args[ref->idx], out, n);
    if (read_str(tid, args[ref->idx], s, sizeof s) != 0)
        return -1;
    if (s[0] == '/')
        return cr_scpath_normalize(s, out, n);
    int dirfd = ref->kind == CR_SYSARG_AT ? (int)args[ref->at] : AT_FDCWD;
    if (dirfd == AT_FDCWD ? proc_link(tid, "cwd", base, sizeof base)
                          : fd_link(tid, dirfd, base, sizeof base))
        return -1;
    if (!s[0]) { /* AT_EMPTY_PATH: the dirfd itself */
        snprintf(out, n, "%s", base);
        return 0;
    }
    return cr_scpath_join(base, s, out, n);
}

/* Thread group of a thread (for the journal's list of processes). */
static pid_t tgid_of(pid_t tid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t r = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[r > 0 ? r : 0] = '\0';
    const char *t = strstr(buf, "\nTgid:");
    return t ? (pid_t)atoi(t + 6) : 0;
}

static void note_thread(cr_sctarget *t, pid_t tid)
{
    for (size_t i = 0; i < t->ntids; i++)
        if (t->tids[i] == tid)
            return;
    if (t->ntids >= CR_SC_MAX_TIDS)
        return;
    t->tids[t->ntids++] = tid;
    pid_t g = tgid_of(tid);
    for (size_t i = 0; g > 0 && i < t->npids; i++)
        if (t->pids[i] == g)
            return;
    if (g > 0 && t->npids < CR_SC_MAX_TIDS)
        t->pids[t->npids++] = g;
}

/* ---- one notification ---------------------------------------------------- */

static cr_sctarget *target_of(cr_scwin *w, const void *key)
{
    for (size_t i = 0; i < w->nt; i++)
        if (w->t[i].key == key)
            return &w->t[i];
    return NULL;
}

enum { PATHS_UNREAD = -1, PATHS_UNREADABLE = -2, PATHS_GONE = -3 };

static void on_notif(cr_scsup *s, sc_lst *l)
{
    struct seccomp_notif *q = s->req;
    char paths[2][CR_SC_PATH_MAX];
    int npaths = PATHS_UNREAD;
    cr_scwin *hit = NULL;
    cr_scstat *hit_st = NULL;
    cr_scverdict v = {0, 0};
    memset(q, 0, s->req_sz);
    if (ioctl(l->fd, SECCOMP_IOCTL_NOTIF_RECV, q) != 0)
        return; /* ENOENT: the call went away before we took it */
    int64_t now = mono_ns();
    pthread_mutex_lock(&s->mu);
    s->notified++;
    /* A thread makes one call at a time: a delayed call of this thread
     * still held was abandoned (a signal cut its wait short, without the
     * killable wait).  The same call again is its restart: it keeps its
     * due time and verdict. */
    for (size_t i = 0; i < s->nheap; i++) {
        if (s->heap[i].l != l || s->heap[i].tid != (pid_t)q->pid)
            continue;
        sc_pend o = heap_remove(s, i);
        if (o.nr == q->data.nr &&
            memcmp(o.args, q->data.args, sizeof o.args) == 0) {
            o.id = q->id;
            heap_push(s, &o);
            timer_rearm(s);
            pthread_mutex_unlock(&s->mu);
            return;
        }
        o.w->interrupted++;
        timer_rearm(s);
        break;
    }
    for (cr_scwin *w = s->wins; w; w = w->next) {
        cr_sctarget *t = target_of(w, l->key);
        int idx = t ? cr_scrule_index(&w->rule, q->data.nr) : -1;
        if (idx < 0)
            continue;
        cr_scstat *st = &t->sys[idx];
        st->seen++;
        if (hit)
            continue;
        if (w->rule.path[0]) {
            if (npaths == PATHS_UNREAD) {
                const cr_sysargs *a = &w->rule.args[idx];
                npaths = 0;
                for (int k = 0; k < 2 && a->ref[k].kind; k++) {
                    if (resolve_ref(q->pid, q->data.args, &a->ref[k],
                                    paths[npaths], sizeof paths[0]) == 0)
                        npaths++;
                }
                if (npaths == 0)
                    npaths = PATHS_UNREADABLE;
                /* What was read belongs to this call only if it is still
                 * waiting (its memory and fd table were not reused). */
                uint64_t id = q->id;
                if (ioctl(l->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) != 0)
                    npaths = PATHS_GONE;
            }
            if (npaths == PATHS_GONE) {
                w->vanished++;
                pthread_mutex_unlock(&s->mu);
                return;
            }
            if (npaths == PATHS_UNREADABLE) {
                w->unreadable++;
                continue;
            }
            int m = 0;
            for (int k = 0; k < npaths && !m; k++)
                m = cr_scpath_match(w->rule.path, paths[k]);
            if (!m)
                continue;
        }
        st->matched++;
        if (!cr_scrule_decide(&w->rule, &t->draw, &v))
            continue;
        hit = w;
        hit_st = st;
        st->failed += v.errnum != 0;
        st->delayed += v.delay_ns > 0;
        if (w->first_mono == 0)
            w->first_mono = (double)now / 1e9;
        w->last_mono = (double)now / 1e9;
        note_thread(t, (pid_t)q->pid);
    }
    if (!hit) {
        s->untouched++;
        pthread_mutex_unlock(&s->mu);
        answer(l->fd, q->id, 0);
        return;
    }
    if (v.delay_ns > 0) {
        sc_pend p = {now + v.delay_ns, l,   q->id,    (pid_t)q->pid,
                     q->data.nr,       {0}, v.errnum, hit};
        memcpy(p.args, q->data.args, sizeof p.args);
        if (heap_push(s, &p) == 0) {
            timer_rearm(s);
            pthread_mutex_unlock(&s->mu);
            return;
        }
        /* Out of memory: answer now rather than hold the call forever. */
    }
    /* Answered under the lock, so that a call whose answer did not reach
     * it is not counted: a signal that cut its wait short makes the kernel
     * restart it, and the restart is a new notification, judged (and
     * counted) on its own -- else the journal would count one failure more
     * than the program saw. */
    if (!answer(l->fd, q->id, v.errnum)) {
        hit_st->failed -= v.errnum != 0;
        hit_st->delayed -= v.delay_ns > 0;
        hit->interrupted++;
    }
    pthread_mutex_unlock(&s->mu);
}

/* The listener's processes have all exited. */
static void drop_listener(cr_scsup *s, sc_lst *l)
{
    pthread_mutex_lock(&s->mu);
    for (sc_lst **pp = &s->ls; *pp; pp = &(*pp)->next)
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    for (size_t i = s->nheap; i-- > 0;)
        if (s->heap[i].l == l)
            heap_remove(s, i);
    timer_rearm(s);
    pthread_mutex_unlock(&s->mu);
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, l->fd, NULL);
    close(l->fd);
    cr_free(l);
}

static void *sup_main(void *arg)
{
    cr_scsup *s = arg;
    struct epoll_event ev[16];
    for (;;) {
        int n = epoll_wait(s->epfd, ev, 16, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return NULL;
        for (int i = 0; i < n; i++) {
            void *p = ev[i].data.ptr;
            uint64_t v;
            if (p == &s->wakefd) {
                ssize_t r = read(s->wakefd, &v, sizeof v);
                (void)r;
                pthread_mutex_lock(&s->mu);
                int stop = s->stop;
                pthread_mutex_unlock(&s->mu);
                if (stop)
                    return NULL;
            } else if (p == &s->tfd) {
                ssize_t r = read(s->tfd, &v, sizeof v);
                (void)r;
                pthread_mutex_lock(&s->mu);
                fire_due(s);
                pthread_mutex_unlock(&s->mu);
            } else if (ev[i].events & EPOLLIN) {
                on_notif(s, p);
            } else if (ev[i].events & (EPOLLHUP | EPOLLERR)) {
                drop_listener(s, p);
            }
        }
    }
}

/* ---- public -------------------------------------------------------------- */

int cr_scsup_start(cr_scsup **out, cr_err *err)
{
    cr_scsup *s = cr_calloc(1, sizeof *s);
    struct seccomp_notif_sizes sz;
    int rc = CR_OK;
    *out = NULL;
    if (!s)
        return cr_err_set(err, CR_ENOMEM, "seccomp supervisor: out of memory");
    s->epfd = s->wakefd = s->tfd = -1;
    pthread_mutex_init(&s->mu, NULL);
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) != 0) {
        rc = cr_err_sys(err, CR_ESYS, errno,
                        "seccomp supervisor: SECCOMP_GET_NOTIF_SIZES");
        goto fail;
    }
    /* The kernel's structures may be larger than our headers' (newer
     * kernel): allocate what it says, never less than we use. */
    s->req_sz =
        sz.seccomp_notif > sizeof *s->req ? sz.seccomp_notif : sizeof *s->req;
    if (sz.seccomp_notif_resp > RESP_ROOM) {
        rc = cr_err_set(err, CR_EUNSUP,
                        "seccomp supervisor: the kernel's notification "
                        "answer is %u bytes, more than the %d planned",
                        (unsigned)sz.seccomp_notif_resp, RESP_ROOM);
        goto fail;
    }
    s->req = cr_calloc(1, s->req_sz);
    if (!s->req) {
        rc = cr_err_set(err, CR_ENOMEM, "seccomp supervisor: out of memory");
        goto fail;
    }
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    s->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (s->epfd < 0 || s->wakefd < 0 || s->tfd < 0) {
        rc = cr_err_sys(err, CR_ESYS, errno, "seccomp supervisor: fds");
        goto fail;
    }
    struct epoll_event e1 = {.events = EPOLLIN, .data.ptr = &s->wakefd};
    struct epoll_event e2 = {.events = EPOLLIN, .data.ptr = &s->tfd};
    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->wakefd, &e1) != 0 ||
        epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->tfd, &e2) != 0) {
        rc = cr_err_sys(err, CR_ESYS, errno, "seccomp supervisor: epoll_ctl");
        goto fail;
    }
    /* The thread takes no signal: the harness's loop has them all. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int e = pthread_create(&s->th, NULL, sup_main, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
        rc = cr_err_sys(err, CR_ESYS, e, "seccomp supervisor: pthread_create");
        goto fail;
    }
    s->started = 1;
    *out = s;
    return CR_OK;
fail:
    cr_scsup_stop(s);
    return rc;
}

void cr_scsup_stop(cr_scsup *s)
{
    if (!s)
        return;
    if (s->started) {
        uint64_t one = 1;
        pthread_mutex_lock(&s->mu);
        s->stop = 1;
        pthread_mutex_unlock(&s->mu);
        ssize_t w = write(s->wakefd, &one, sizeof one);
        (void)w;
        pthread_join(s->th, NULL);
    }
    /* Calls still held (a window never disarmed) are let go. */
    for (size_t i = 0; i < s->nheap; i++)
        answer(s->heap[i].l->fd, s->heap[i].id, 0);
    while (s->ls) {
        sc_lst *l = s->ls;
        s->ls = l->next;
        close(l->fd);
        cr_free(l);
    }
    int fds[] = {s->epfd, s->wakefd, s->tfd};
    for (size_t i = 0; i < 3; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    pthread_mutex_destroy(&s->mu);
    cr_free(s->heap);
    cr_free(s->req);
    cr_free(s);
}

int cr_scsup_add(cr_scsup *s, int fd, const void *key, unsigned flags,
                 cr_err *err)
{
    sc_lst *l = cr_calloc(1, sizeof *l);
    if (!l) {
        close(fd);
        return cr_err_set(err, CR_ENOMEM, "seccomp supervisor: out of memory");
    }
    /* Synchronous wake-ups (Linux >= 6.6): the target's CPU switches
     * straight to the supervisor and back instead of waking a thread on
     * another CPU -- a notified call costs ~6 us instead of 6..40 us on
     * the project's 2-core VM.  Older kernels refuse it (EINVAL): fine. */
    (void)ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
                (unsigned long)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
    l->fd = fd;
    l->key = key;
    l->flags = flags;
    /* In the list before the thread can see an event of it. */
    pthread_mutex_lock(&s->mu);
    l->next = s->ls;
    s->ls = l;
    pthread_mutex_unlock(&s->mu);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = l};
    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        int e = errno;
        pthread_mutex_lock(&s->mu);
        for (sc_lst **pp = &s->ls; *pp; pp = &(*pp)->next)
            if (*pp == l) {
                *pp = l->next;
                break;
            }
        pthread_mutex_unlock(&s->mu);
        close(fd);
        cr_free(l);
        return cr_err_sys(err, CR_ESYS, e, "seccomp supervisor: epoll_ctl");
    }
    return CR_OK;
}

size_t cr_scsup_listeners(cr_scsup *s, const void *key)
{
    size_t n = 0;
    pthread_mutex_lock(&s->mu);
    for (sc_lst *l = s->ls; l; l = l->next)
        n += l->key == key;
    pthread_mutex_unlock(&s->mu);
    return n;
}

void cr_scsup_arm(cr_scsup *s, cr_scwin *w)
{
    w->next = NULL;
    pthread_mutex_lock(&s->mu);
    cr_scwin **pp = &s->wins;
    while (*pp)
        pp = &(*pp)->next;
    *pp = w;
    pthread_mutex_unlock(&s->mu);
}

void cr_scsup_disarm(cr_scsup *s, cr_scwin *w)
{
    pthread_mutex_lock(&s->mu);
    for (cr_scwin **pp = &s->wins; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    for (size_t i = s->nheap; i-- > 0;) {
        if (s->heap[i].w != w)
            continue;
        sc_pend p = heap_remove(s, i);
        answer(p.l->fd, p.id, p.errnum);
        w->released++;
    }
    timer_rearm(s);
    pthread_mutex_unlock(&s->mu);
    w->next = NULL;
}

void cr_scsup_totals(cr_scsup *s, uint64_t *notified, uint64_t *untouched)
{
    pthread_mutex_lock(&s->mu);
    *notified = s->notified;
    *untouched = s->untouched;
    pthread_mutex_unlock(&s->mu);
}
