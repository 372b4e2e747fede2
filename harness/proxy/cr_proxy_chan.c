/* cr_proxy_chan: the fault proxy's control channels (unix socket
 * clients, stdin/stdout) and its statistics.  Each line read is executed
 * by cr_proxy_command() (cr_proxy_ctl.c) and answered with one line. */
#include "cr_proxy_internal.h"

#include "base/cr_alloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* ---- statistics --------------------------------------------------------- */

/* Seconds since the proxy started, rounded to microseconds (the clock's
 * nanoseconds only made long, meaningless decimals). */
static double secs(const cr_proxy *p, uint64_t t)
{
    return round((double)(t - p->t_start) / 1e3) / 1e6;
}

/* An attribute: an integer when it is one (byte counts, milliseconds),
 * else a real. */
static json_t *attr_json(double v)
{
    if (v == floor(v) && fabs(v) <= 9007199254740992.0)
        return json_integer((json_int_t)v);
    return json_real(v);
}

static json_t *toxic_json(const cr_proxy *p, const toxic_rec *tr)
{
    const cr_proxy_toxic_kind *k = &cr_proxy_toxic_kinds()[tr->t.type];
    json_t *attrs = json_object();
    for (int i = 0; attrs && i < CR_PROXY_NATTR; i++)
        if (k->attr[i].name &&
            json_object_set_new(attrs, k->attr[i].name,
                                attr_json(tr->t.attr[i])) < 0) {
            json_decref(attrs);
            return NULL;
        }
    /* json_pack takes the "o" references even when it fails. */
    return json_pack(
        "{s:s, s:s, s:s, s:f, s:o, s:b, s:f, s:o, s:I, s:I, s:I, s:I, s:I}",
        "name", tr->name, "type", k->name, "stream",
        cr_proxy_stream_name(tr->t.streams), "toxicity", tr->t.toxicity,
        "attributes", attrs, "active", tr->active, "added_s",
        secs(p, tr->added), "removed_s",
        tr->removed ? json_real(secs(p, tr->removed)) : json_null(), "affected",
        (json_int_t)tr->affected, "spared", (json_int_t)tr->spared, "chunks",
        (json_int_t)tr->chunks, "bytes", (json_int_t)tr->bytes, "events",
        (json_int_t)tr->events);
}

static int by_seq(const void *a, const void *b)
{
    const toxic_rec *x = *(toxic_rec *const *)a, *y = *(toxic_rec *const *)b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Active and kept removed toxics, in order of addition. */
static json_t *toxics_json(const cr_proxy *p, const plink *l)
{
    toxic_rec *v[MAX_TOXICS + CR_PROXY_HISTORY];
    size_t n = 0;
    for (size_t h = 0; h < l->nhist; h++)
        v[n++] = l->hist[(l->hist_head + h) % CR_PROXY_HISTORY];
    for (int s = 0; s < MAX_TOXICS; s++)
        if (l->slot[s])
            v[n++] = l->slot[s];
    qsort(v, n, sizeof *v, by_seq);
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, toxic_json(p, v[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *history_json(const plink *l)
{
    json_t *by = json_object();
    for (int t = 0; by && t < CR_PTOX_COUNT; t++) {
        const toxic_sum *s = &l->evicted[t];
        if (!s->toxics)
            continue;
        json_t *o = json_pack(
            "{s:I, s:I, s:I, s:I, s:I, s:I}", "toxics", (json_int_t)s->toxics,
            "affected", (json_int_t)s->affected, "spared",
            (json_int_t)s->spared, "chunks", (json_int_t)s->chunks, "bytes",
            (json_int_t)s->bytes, "events", (json_int_t)s->events);
        if (json_object_set_new(by, cr_proxy_toxic_kinds()[t].name, o) < 0) {
            json_decref(by);
            return NULL;
        }
    }
    return json_pack("{s:I, s:I, s:I, s:I, s:o}", "added",
                     (json_int_t)l->nadded, "removed", (json_int_t)l->nremoved,
                     "kept", (json_int_t)l->nhist, "evicted",
                     (json_int_t)l->nevicted, "evicted_by_type", by);
}

json_t *cr_proxy_stats(const cr_proxy *p)
{
    json_t *links = json_array();
    json_t *root =
        json_pack("{s:I, s:o}", "seed", (json_int_t)p->seed, "links", links);
    if (!root)
        return NULL;
    for (size_t i = 0; i < p->nlinks; i++) {
        const plink *l = p->links[i];
        char la[64], ua[64];
        cr_proxy__fmt_addr(&l->laddr, la, sizeof la);
        cr_proxy__fmt_addr(&l->uaddr, ua, sizeof ua);
        json_t *lj = json_pack(
            "{s:s, s:s, s:s, s:b, s:b, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I},"
            " s:{s:I, s:I}, s:o, s:o}",
            "name", l->name, "listen", la, "upstream", ua, "enabled",
            l->enabled, "down", l->down > 0, "connections", "accepted",
            (json_int_t)l->accepted, "active", (json_int_t)l->active, "refused",
            (json_int_t)l->refused, "dropped", (json_int_t)l->dropped, "reset",
            (json_int_t)l->resets, "connect_failed",
            (json_int_t)l->connect_failed, "closed", (json_int_t)l->closed,
            "bytes", "upstream", (json_int_t)l->bytes[0], "downstream",
            (json_int_t)l->bytes[1], "toxics", toxics_json(p, l), "history",
            history_json(l));
        if (lj && l->nsfd >= 0)
            json_object_set_new(lj, "netns", json_string(l->netns));
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
        cr_proxy__fmt_addr(&p->links[i]->laddr, la, sizeof la);
        cr_proxy__fmt_addr(&p->links[i]->uaddr, ua, sizeof ua);
        json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:b}", "name",
                              p->links[i]->name, "listen", la, "upstream", ua,
                              "port", ntohs(p->links[i]->laddr.sin_port),
                              "enabled", p->links[i]->enabled);
        if (o && p->links[i]->nsfd >= 0)
            json_object_set_new(o, "netns", json_string(p->links[i]->netns));
        if (json_array_append_new(links, o) < 0) {
            json_decref(root);
            return NULL;
        }
    }
    return root;
}

/* ---- control channels --------------------------------------------------- */

/* *out (may be NULL) receives the channel.  An fd epoll refuses (EPERM: a
 * regular file, /dev/null) is kept unwatched when unwatched_ok. */
static int ctl_new(cr_proxy *p, int fd, int out_fd, int owned, int unwatched_ok,
                   ctl **out)
{
    ctl *k = cr_calloc(1, sizeof *k);
    if (!k)
        return CR_ENOMEM;
    k->p = (pfd){FK_CTL, k};
    k->fd = fd;
    k->out_fd = out_fd;
    k->owned = owned;
    if (cr_proxy__ep_add(p, fd, EPOLLIN, &k->p) < 0) {
        if (!(unwatched_ok && errno == EPERM)) {
            int e = errno;
            cr_free(k);
            errno = e;
            return CR_ESYS;
        }
        k->unwatched = 1;
    }
    k->next = p->ctls;
    p->ctls = k;
    if (out)
        *out = k;
    return 0;
}

void cr_proxy__ctl_release(cr_proxy *p, ctl *k)
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

void cr_proxy__ctl_event(cr_proxy *p, ctl *k)
{
    if (k->dead)
        return;
    ssize_t n = read(k->fd, k->buf + k->len, sizeof k->buf - k->len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        cr_proxy__ctl_release(p, k);
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
            cr_proxy__ctl_release(p, k);
            return;
        }
        cr_free(reply);
        start = nl + 1;
    }
    k->len -= (size_t)(start - k->buf);
    memmove(k->buf, start, k->len);
    if (k->len == sizeof k->buf) {
        write_all(k->out_fd, "err line too long\n", 18);
        cr_proxy__ctl_release(p, k);
    }
}

void cr_proxy__ctl_accept(cr_proxy *p)
{
    for (;;) {
        int fd = accept4(p->ctl_lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (ctl_new(p, fd, fd, 1, 0, NULL) < 0)
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
    if (b < 0 || listen(fd, 16) < 0 ||
        cr_proxy__ep_add(p, fd, EPOLLIN, &p->ctl_lp) < 0) {
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
    ctl *k = NULL;
    int rc = ctl_new(p, in_fd, out_fd, 0, 1, &k);
    if (rc == 0) {
        /* A file (or /dev/null) cannot be watched: its commands run now,
         * in order, until its end. */
        if (k->unwatched)
            while (!k->dead)
                cr_proxy__ctl_event(p, k);
        return 0;
    }
    if (rc == CR_ESYS)
        return cr_err_sys(err, rc, errno, "proxy control on fd %d", in_fd);
    if (rc < 0)
        return cr_err_set(err, rc, "proxy control on fd %d: out of memory",
                          in_fd);
    return 0;
}
