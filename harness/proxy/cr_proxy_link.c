/* cr_proxy_link: the fault proxy's links (see cr_proxy.h): a listener in
 * front of one upstream address, added, updated, enabled, disabled and
 * removed while the loop runs.
 *
 * A link listens when it is enabled and no down toxic is active; closing
 * its listener makes new connections fail with ECONNREFUSED.  A removed
 * link leaves the array at once but its memory is freed after the current
 * epoll batch (cr_proxy.c, reap), because later events of the same batch
 * may still point at its listener. */
#include "cr_proxy_internal.h"

#include "base/cr_alloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- addresses ---------------------------------------------------------- */

int cr_proxy__parse_addr(const char *s, struct sockaddr_in *sa,
                         int loopback_only, cr_err *err)
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

void cr_proxy_allow_remote(cr_proxy *p, int allow)
{
    p->allow_remote = allow != 0;
}

plink *cr_proxy__link_find(const cr_proxy *p, const char *name)
{
    for (size_t i = 0; name && i < p->nlinks; i++)
        if (strcmp(p->links[i]->name, name) == 0)
            return p->links[i];
    return NULL;
}

/* ---- namespaces --------------------------------------------------------- */

/* A socket is bound to the network namespace it was made in, whatever the
 * thread's namespace later: so the thread enters l's namespace only for
 * socket(), and bind, listen, connect and accept act there.  The proxy's
 * loop is one thread; the way back is its own namespace, opened once. */
int cr_proxy__socket(cr_proxy *p, const plink *l)
{
    int type = SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC;
    if (l->nsfd < 0)
        return socket(AF_INET, type, 0);
    if (p->self_nsfd < 0 && (p->self_nsfd = open("/proc/thread-self/ns/net",
                                                 O_RDONLY | O_CLOEXEC)) < 0)
        return -1;
    if (setns(l->nsfd, CLONE_NEWNET) < 0)
        return -1;
    int fd = socket(AF_INET, type, 0);
    int e = errno;
    if (setns(p->self_nsfd, CLONE_NEWNET) < 0) {
        /* Left in a client's namespace, every later socket of every link
         * would be made there: no relaying at all beats the wrong one. */
        fprintf(stderr,
                "proxy: cannot return to its own network namespace: "
                "%s\n",
                strerror(errno));
        abort();
    }
    errno = e;
    return fd;
}

/* Open path as a network namespace for l (its sockets are made there). */
static int link_netns(plink *l, const char *path, cr_err *err)
{
    if (strlen(path) >= sizeof l->netns)
        return cr_err_set(err, CR_EINVAL, "proxy link %s: netns path too long",
                          l->name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cr_err_sys(err, CR_ESYS, errno, "proxy link %s: netns %s",
                          l->name, path);
    int t = ioctl(fd, NS_GET_NSTYPE);
    if (t != CLONE_NEWNET) {
        close(fd);
        return cr_err_set(err, CR_EINVAL,
                          "proxy link %s: %s is not a network namespace",
                          l->name, path);
    }
    l->nsfd = fd;
    snprintf(l->netns, sizeof l->netns, "%s", path);
    return 0;
}

/* ---- listeners ---------------------------------------------------------- */

/* A listening socket on *sa (the bound port written back), watched by
 * epoll for l.  Returns the fd, or -1 with errno set. */
static int listen_on(cr_proxy *p, plink *l, struct sockaddr_in *sa)
{
    int one = 1;
    int fd = cr_proxy__socket(p, l);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t len = sizeof *sa;
    if (bind(fd, (struct sockaddr *)sa, sizeof *sa) < 0 ||
        listen(fd, 1024) < 0 ||
        getsockname(fd, (struct sockaddr *)sa, &len) < 0 ||
        cr_proxy__ep_add(p, fd, EPOLLIN, &l->lp) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int cr_proxy__link_listen(cr_proxy *p, plink *l, cr_err *err)
{
    struct sockaddr_in sa = l->laddr;
    int fd = listen_on(p, l, &sa);
    if (fd < 0) {
        char a[64];
        cr_proxy__fmt_addr(&l->laddr, a, sizeof a);
        return cr_err_sys(err, CR_ESYS, errno, "proxy link %s: listen on %s",
                          l->name, a);
    }
    l->laddr = sa;
    l->lfd = fd;
    return 0;
}

int cr_proxy__link_relisten(cr_proxy *p, plink *l, cr_err *err)
{
    if (l->enabled && l->down == 0 && l->lfd < 0)
        return cr_proxy__link_listen(p, l, err);
    return 0;
}

static void link_unlisten(plink *l)
{
    if (l->lfd >= 0) {
        close(l->lfd); /* also leaves the epoll set */
        l->lfd = -1;
    }
}

void cr_proxy__link_accept(cr_proxy *p, plink *l)
{
    for (int i = 0; i < 64 && l->lfd >= 0; i++) {
        int fd = accept4(l->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or a transient error: retried on next event */
        cr_proxy__conn_new(p, l, fd);
    }
}

/* ---- adding and removing ------------------------------------------------ */

static int name_ok(const char *name, cr_err *err)
{
    if (!name || !*name || strlen(name) >= CR_PROXY_NAME_MAX ||
        strpbrk(name, " \t\r\n=,/"))
        return cr_err_set(err, CR_EINVAL,
                          "proxy link name '%s': 1 to %d characters without "
                          "blanks, '=', ',' or '/'",
                          name ? name : "", CR_PROXY_NAME_MAX - 1);
    return 0;
}

static int link_create(cr_proxy *p, const char *name, const char *listen_addr,
                       const char *upstream, const char *netns, int enabled,
                       cr_err *err)
{
    plink *l = NULL;
    int rc;
    if ((rc = name_ok(name, err)) < 0)
        return rc;
    if (cr_proxy__link_find(p, name))
        return cr_err_set(err, CR_EINVAL, "proxy link %s: already exists",
                          name);
    if (p->nlinks >= CR_PROXY_MAX_LINKS)
        return cr_err_set(err, CR_EINVAL, "proxy link %s: at most %d links",
                          name, CR_PROXY_MAX_LINKS);
    if (!upstream || strlen(upstream) >= CR_PROXY_ADDR_MAX)
        return cr_err_set(err, CR_EINVAL,
                          "proxy link %s: upstream address too long", name);
    plink **nl = cr_realloc(p->links, (p->nlinks + 1) * sizeof *nl);
    if (!nl)
        return cr_err_set(err, CR_ENOMEM, "proxy link %s: out of memory", name);
    p->links = nl;
    l = cr_calloc(1, sizeof *l);
    if (!l)
        return cr_err_set(err, CR_ENOMEM, "proxy link %s: out of memory", name);
    snprintf(l->name, sizeof l->name, "%s", name);
    snprintf(l->upstream, sizeof l->upstream, "%s", upstream);
    l->lfd = -1;
    l->nsfd = -1;
    l->lp = (pfd){FK_LISTEN, l};
    l->enabled = enabled != 0;
    if ((netns && (rc = link_netns(l, netns, err)) < 0) ||
        (rc = cr_proxy__parse_addr(listen_addr, &l->laddr, !p->allow_remote,
                                   err)) < 0 ||
        (rc = cr_proxy__parse_addr(upstream, &l->uaddr, 0, err)) < 0 ||
        (rc = cr_proxy__link_relisten(p, l, err)) < 0)
        goto out;
    p->links[p->nlinks++] = l;
    l = NULL;
out:
    if (l && l->nsfd >= 0)
        close(l->nsfd);
    cr_free(l);
    return rc;
}

int cr_proxy_link_create(cr_proxy *p, const char *name, const char *listen_addr,
                         const char *upstream, int enabled, cr_err *err)
{
    return link_create(p, name, listen_addr, upstream, NULL, enabled, err);
}

int cr_proxy_link_add_in(cr_proxy *p, const char *name, const char *listen_addr,
                         const char *upstream, const char *netns, cr_err *err)
{
    return link_create(p, name, listen_addr, upstream, netns, 1, err);
}

int cr_proxy_link_add(cr_proxy *p, const char *name, const char *listen_addr,
                      const char *upstream, cr_err *err)
{
    return cr_proxy_link_create(p, name, listen_addr, upstream, 1, err);
}

int cr_proxy_link_port(const cr_proxy *p, const char *name)
{
    const plink *l = cr_proxy__link_find(p, name);
    return l ? ntohs(l->laddr.sin_port) : -1;
}

void cr_proxy__link_free(plink *l)
{
    if (l->nsfd >= 0)
        close(l->nsfd);
    for (int s = 0; s < MAX_TOXICS; s++)
        cr_free(l->slot[s]);
    for (size_t h = 0; h < l->nhist; h++)
        cr_free(l->hist[(l->hist_head + h) % CR_PROXY_HISTORY]);
    cr_free(l);
}

int cr_proxy_link_remove(cr_proxy *p, const char *name, cr_err *err)
{
    size_t i = 0;
    while (i < p->nlinks && (!name || strcmp(p->links[i]->name, name) != 0))
        i++;
    if (i == p->nlinks)
        return cr_err_set(err, CR_ENOTFOUND, "no link '%s'", name ? name : "");
    plink *l = p->links[i];
    while (l->conns)
        cr_proxy__conn_close(p, l->conns, CLOSE_FIN);
    link_unlisten(l);
    memmove(&p->links[i], &p->links[i + 1],
            (p->nlinks - i - 1) * sizeof *p->links);
    p->nlinks--;
    l->dead_next = p->dead_links;
    p->dead_links = l;
    return 0;
}

/* ---- changing ----------------------------------------------------------- */

int cr_proxy_link_set_enabled(cr_proxy *p, const char *name, int enabled,
                              cr_err *err)
{
    plink *l = cr_proxy__link_find(p, name);
    if (!l)
        return cr_err_set(err, CR_ENOTFOUND, "no link '%s'", name ? name : "");
    if (!enabled) {
        if (l->enabled) {
            l->enabled = 0;
            link_unlisten(l);
            cr_proxy__link_drop(p, l);
        }
        return 0;
    }
    l->enabled = 1;
    int rc = cr_proxy__link_relisten(p, l, err);
    if (rc < 0)
        l->enabled = 0; /* as Toxiproxy: enabled only once it listens */
    return rc;
}

static int same_addr(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
    return a->sin_addr.s_addr == b->sin_addr.s_addr &&
           a->sin_port == b->sin_port;
}

/* Nothing changes unless everything can: the new listener is bound before
 * the old one is closed. */
int cr_proxy_link_update(cr_proxy *p, const char *name, const char *listen_addr,
                         const char *upstream, cr_err *err)
{
    plink *l = cr_proxy__link_find(p, name);
    if (!l)
        return cr_err_set(err, CR_ENOTFOUND, "no link '%s'", name ? name : "");
    struct sockaddr_in la = l->laddr, ua = l->uaddr;
    int rc;
    if (upstream && strlen(upstream) >= CR_PROXY_ADDR_MAX)
        return cr_err_set(err, CR_EINVAL,
                          "proxy link %s: upstream address too long", name);
    if ((listen_addr && (rc = cr_proxy__parse_addr(
                             listen_addr, &la, !p->allow_remote, err)) < 0) ||
        (upstream && (rc = cr_proxy__parse_addr(upstream, &ua, 0, err)) < 0))
        return rc;
    int new_listen = !same_addr(&la, &l->laddr);
    int new_up = upstream && strcmp(upstream, l->upstream) != 0;
    if (!new_listen && !new_up)
        return 0;
    if (new_listen && l->lfd >= 0) {
        int fd = listen_on(p, l, &la);
        if (fd < 0)
            return cr_err_sys(err, CR_ESYS, errno,
                              "proxy link %s: listen on %s", l->name,
                              listen_addr);
        close(l->lfd);
        l->lfd = fd;
    }
    /* As Toxiproxy: a proxy whose addresses change is restarted, which
     * drops its connections. */
    cr_proxy__link_drop(p, l);
    l->laddr = la;
    l->uaddr = ua;
    if (upstream)
        snprintf(l->upstream, sizeof l->upstream, "%s", upstream);
    return 0;
}
