/* cr_netns: network namespace and rtnetlink primitives (see cr_netns.h).
 *
 * The harness thread never changes namespace.  Work that must happen
 * inside a namespace (creating it, opening a netlink socket there) runs on
 * a helper thread: unshare(CLONE_NEWNET) and setns(CLONE_NEWNET) affect only
 * the calling thread, and a netlink socket stays bound to the namespace it
 * was created in after that thread is gone. */
#include "cr_netns.h"

#include "base/cr_alloc.h"
#include "base/cr_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/pkt_sched.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/route.h>
#include <netlink/route/tc.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int cr_netns_record(const cr_netns_ledger *lg, cr_err *err, const char *fmt,
                    ...)
{
    if (!lg || !lg->add)
        return 0;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    return lg->add(lg->ctx, line, err);
}

void cr_netns_done(const cr_netns_ledger *lg, int id)
{
    if (lg && lg->done && id > 0)
        lg->done(lg->ctx, id);
}

int cr_netns_privileged(const char **missing)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capget, &hdr, data) != 0) {
        if (missing)
            *missing = "CAP_NET_ADMIN";
        return 0;
    }
    static const struct {
        int cap;
        const char *name;
    } need[] = {{CAP_NET_ADMIN, "CAP_NET_ADMIN"},
                {CAP_SYS_ADMIN, "CAP_SYS_ADMIN"}};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        int c = need[i].cap;
        if (!(data[c / 32].effective & (1u << (c % 32)))) {
            if (missing)
                *missing = need[i].name;
            return 0;
        }
    }
    return 1;
}

/* ---- helper thread ---------------------------------------------------- */

typedef struct ns_job {
    const char *path; /* create: bind target; NULL for enter */
    int enter_fd;     /* enter: namespace to join */
    int want_fd;      /* create: return an fd of the new namespace */
    int want_sock;
    int nsfd;             /* out */
    struct nl_sock *sock; /* out */
    int sys_errno;        /* out: errno of the failed step */
    int nl_errno;         /* out: libnl code of the failed step */
    const char *step;     /* out */
} ns_job;

static int lo_up(struct nl_sock *sock)
{
    struct rtnl_link *lo = NULL, *chg = NULL;
    int rc = rtnl_link_get_kernel(sock, 0, "lo", &lo);
    if (rc < 0)
        goto out;
    rc = -NLE_NOMEM;
    if (!(chg = rtnl_link_alloc()))
        goto out;
    rtnl_link_set_flags(chg, IFF_UP);
    rc = rtnl_link_change(sock, lo, chg, 0);
out:
    rtnl_link_put(chg);
    rtnl_link_put(lo);
    return rc;
}

static void *ns_job_run(void *arg)
{
    ns_job *j = arg;
    if (j->path) {
        if (unshare(CLONE_NEWNET) != 0) {
            j->sys_errno = errno, j->step = "unshare(CLONE_NEWNET)";
            return NULL;
        }
        if (mount("/proc/thread-self/ns/net", j->path, "none", MS_BIND, NULL) !=
            0) {
            j->sys_errno = errno, j->step = "bind mount";
            return NULL;
        }
        if (j->want_fd) {
            j->nsfd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
            if (j->nsfd < 0) {
                j->sys_errno = errno, j->step = "open ns";
                return NULL;
            }
        }
    } else if (setns(j->enter_fd, CLONE_NEWNET) != 0) {
        j->sys_errno = errno, j->step = "setns";
        return NULL;
    }
    if (!j->want_sock && !j->path)
        return NULL;
    struct nl_sock *s = nl_socket_alloc();
    if (!s) {
        j->sys_errno = ENOMEM, j->step = "nl_socket_alloc";
        return NULL;
    }
    int rc = nl_connect(s, NETLINK_ROUTE);
    if (rc == 0) {
        fcntl(nl_socket_get_fd(s), F_SETFD, FD_CLOEXEC);
        if (j->path)
            rc = lo_up(s);
        if (rc < 0)
            j->step = "set lo up";
    } else {
        j->step = "nl_connect";
    }
    if (rc < 0) {
        j->nl_errno = rc;
        nl_socket_free(s);
        return NULL;
    }
    if (j->want_sock)
        j->sock = s;
    else
        nl_socket_free(s);
    return NULL;
}

static int ns_job_do(ns_job *j, const char *what, cr_err *err)
{
    pthread_t th;
    j->nsfd = -1;
    int rc = pthread_create(&th, NULL, ns_job_run, j);
    if (rc != 0)
        return cr_err_sys(err, CR_ESYS, rc, "%s: pthread_create", what);
    pthread_join(th, NULL);
    if (j->sys_errno)
        return cr_err_sys(err, j->sys_errno == EPERM ? CR_EUNSUP : CR_ESYS,
                          j->sys_errno, "%s: %s", what, j->step);
    if (j->nl_errno)
        return cr_err_set(err, CR_ESYS, "%s: %s: %s", what, j->step,
                          nl_geterror(j->nl_errno));
    return 0;
}

/* /run/netns must exist and be a shared mount, like iproute2 makes it, so
 * that namespaces bound there are visible in every mount namespace. */
static int netns_dir_ready(cr_err *err)
{
    if (mkdir(CR_NETNS_DIR, 0755) != 0 && errno != EEXIST)
        return cr_err_sys(err, CR_ESYS, errno, "mkdir %s", CR_NETNS_DIR);
    if (mount("", CR_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
        return 0;
    if (errno != EINVAL)
        return cr_err_sys(err, errno == EPERM ? CR_EUNSUP : CR_ESYS, errno,
                          "make %s shared", CR_NETNS_DIR);
    if (mount(CR_NETNS_DIR, CR_NETNS_DIR, "none", MS_BIND | MS_REC, NULL) != 0)
        return cr_err_sys(err, CR_ESYS, errno, "bind %s", CR_NETNS_DIR);
    if (mount("", CR_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) != 0)
        return cr_err_sys(err, CR_ESYS, errno, "make %s shared", CR_NETNS_DIR);
    return 0;
}

static int ns_path(char *buf, size_t n, const char *name, cr_err *err)
{
    if (!name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 ||
        strcmp(name, "..") == 0)
        return cr_err_set(err, CR_EINVAL, "netns name \"%s\" is not valid",
                          name ? name : "");
    if ((size_t)snprintf(buf, n, "%s/%s", CR_NETNS_DIR, name) >= n)
        return cr_err_set(err, CR_EINVAL, "netns name \"%s\" is too long",
                          name);
    return 0;
}

int cr_netns_create(const char *name, int *nsfd_out, struct nl_sock **sock_out,
                    cr_err *err)
{
    char path[256];
    int rc = ns_path(path, sizeof path, name, err);
    if (rc < 0)
        return rc;
    if ((rc = netns_dir_ready(err)) < 0)
        return rc;
    int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
    if (fd < 0)
        return cr_err_sys(err, CR_ESYS, errno, "create netns %s", name);
    close(fd);
    ns_job j = {.path = path,
                .want_fd = nsfd_out != NULL,
                .want_sock = sock_out != NULL};
    char what[300];
    snprintf(what, sizeof what, "create netns %s", name);
    rc = ns_job_do(&j, what, err);
    if (rc < 0) {
        if (j.nsfd >= 0)
            close(j.nsfd);
        umount2(path, MNT_DETACH);
        unlink(path);
        return rc;
    }
    if (nsfd_out)
        *nsfd_out = j.nsfd;
    if (sock_out)
        *sock_out = j.sock;
    return 0;
}

int cr_netns_delete(const char *name, cr_err *err)
{
    char path[256];
    int rc = ns_path(path, sizeof path, name, err);
    if (rc < 0)
        return rc;
    if (umount2(path, MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
        return cr_err_sys(err, CR_ESYS, errno, "unmount netns %s", name);
    if (unlink(path) != 0 && errno != ENOENT)
        return cr_err_sys(err, CR_ESYS, errno, "remove netns %s", name);
    return 0;
}

int cr_netns_exists(const char *name)
{
    char path[256];
    if (ns_path(path, sizeof path, name, NULL) < 0)
        return 0;
    return access(path, F_OK) == 0;
}

int cr_netns_open(const char *name, cr_err *err)
{
    char path[256];
    if (name && strcmp(name, "-") == 0) {
        snprintf(path, sizeof path, "/proc/self/ns/net");
    } else {
        int rc = ns_path(path, sizeof path, name, err);
        if (rc < 0)
            return rc;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cr_err_sys(err, errno == ENOENT ? CR_ENOTFOUND : CR_ESYS, errno,
                          "open netns %s", name);
    return fd;
}

int cr_netns_sock(int nsfd, struct nl_sock **out, cr_err *err)
{
    ns_job j = {.enter_fd = nsfd, .want_sock = 1};
    int rc = ns_job_do(&j, "netlink socket in netns", err);
    if (rc == 0)
        *out = j.sock;
    return rc;
}

typedef struct call_job {
    int nsfd;
    void *(*fn)(void *);
    void *arg;
    void *ret;
    int sys_errno;
} call_job;

static void *call_run(void *arg)
{
    call_job *j = arg;
    if (setns(j->nsfd, CLONE_NEWNET) != 0) {
        j->sys_errno = errno;
        return NULL;
    }
    j->ret = j->fn(j->arg);
    return NULL;
}

int cr_netns_call(int nsfd, void *(*fn)(void *), void *arg, void **ret,
                  cr_err *err)
{
    call_job j = {nsfd, fn, arg, NULL, 0};
    pthread_t th;
    int rc = pthread_create(&th, NULL, call_run, &j);
    if (rc != 0)
        return cr_err_sys(err, CR_ESYS, rc, "netns call: pthread_create");
    pthread_join(th, NULL);
    if (j.sys_errno)
        return cr_err_sys(err, CR_ESYS, j.sys_errno, "netns call: setns");
    if (ret)
        *ret = j.ret;
    return 0;
}

/* ---- links, addresses, routes ----------------------------------------- */

static int nlerr(cr_err *err, int rc, const char *fmt, const char *a,
                 const char *b)
{
    char what[300];
    snprintf(what, sizeof what, fmt, a, b ? b : "");
    int code = (rc == -NLE_PERM) ? CR_EUNSUP : CR_ESYS;
    return cr_err_set(err, code, "%s: %s", what, nl_geterror(rc));
}

int cr_netns_ifindex(struct nl_sock *sock, const char *name, cr_err *err)
{
    struct rtnl_link *l = NULL;
    int rc = rtnl_link_get_kernel(sock, 0, name, &l);
    if (rc < 0)
        return rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NODEV
                   ? cr_err_set(err, CR_ENOTFOUND, "link %s: no such device",
                                name)
                   : nlerr(err, rc, "link %s%s", name, NULL);
    int idx = rtnl_link_get_ifindex(l);
    rtnl_link_put(l);
    return idx;
}

int cr_netns_veth_add(struct nl_sock *sock, const char *name,
                      const char *peer_name, int peer_nsfd, cr_err *err)
{
    int rc = CR_ENOMEM;
    struct rtnl_link *l = rtnl_link_veth_alloc();
    if (!l)
        return cr_err_set(err, CR_ENOMEM, "veth %s: out of memory", name);
    struct rtnl_link *p = rtnl_link_veth_get_peer(l);
    /* No IFF_UP here: libnl's flag change mask makes RTM_NEWLINK for a
     * veth fail; both ends are set up afterwards (cr_netns_link_up). */
    rtnl_link_set_name(l, name);
    rtnl_link_set_name(p, peer_name);
    if (peer_nsfd >= 0)
        rtnl_link_set_ns_fd(p, peer_nsfd);
    rtnl_link_put(p);
    rc = rtnl_link_add(sock, l, NLM_F_CREATE | NLM_F_EXCL);
    if (rc < 0)
        rc = nlerr(err, rc, "create veth %s/%s", name, peer_name);
    rtnl_link_veth_release(l);
    return rc;
}

int cr_netns_link_up(struct nl_sock *sock, const char *name, cr_err *err)
{
    struct rtnl_link *l = NULL, *chg = NULL;
    int rc = rtnl_link_get_kernel(sock, 0, name, &l);
    if (rc < 0)
        goto out;
    rc = -NLE_NOMEM;
    if (!(chg = rtnl_link_alloc()))
        goto out;
    rtnl_link_set_flags(chg, IFF_UP);
    rc = rtnl_link_change(sock, l, chg, 0);
out:
    rtnl_link_put(chg);
    rtnl_link_put(l);
    return rc < 0 ? nlerr(err, rc, "set %s up%s", name, NULL) : 0;
}

int cr_netns_link_del(struct nl_sock *sock, const char *name, cr_err *err)
{
    struct rtnl_link *l = rtnl_link_alloc();
    if (!l)
        return cr_err_set(err, CR_ENOMEM, "delete link %s: out of memory",
                          name);
    rtnl_link_set_name(l, name);
    int rc = rtnl_link_delete(sock, l);
    rtnl_link_put(l);
    if (rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NODEV)
        rc = 0;
    return rc < 0 ? nlerr(err, rc, "delete link %s%s", name, NULL) : 0;
}

int cr_netns_addr_add(struct nl_sock *sock, const char *ifname,
                      const char *addr, int prefixlen, cr_err *err)
{
    struct rtnl_addr *a = NULL;
    struct nl_addr *local = NULL;
    int idx = cr_netns_ifindex(sock, ifname, err);
    if (idx < 0)
        return idx;
    char text[64];
    snprintf(text, sizeof text, "%s/%d", addr, prefixlen);
    int rc = nl_addr_parse(text, AF_INET, &local);
    if (rc < 0) {
        rc =
            cr_err_set(err, CR_EINVAL, "address %s: %s", text, nl_geterror(rc));
        goto out;
    }
    if (!(a = rtnl_addr_alloc())) {
        rc = cr_err_set(err, CR_ENOMEM, "address %s: out of memory", text);
        goto out;
    }
    rtnl_addr_set_ifindex(a, idx);
    rtnl_addr_set_local(a, local);
    rc = rtnl_addr_add(sock, a, 0);
    if (rc < 0)
        rc = nlerr(err, rc, "add address %s on %s", text, ifname);
out:
    rtnl_addr_put(a);
    nl_addr_put(local);
    return rc;
}

int cr_netns_route_add(struct nl_sock *sock, const char *ifname,
                       const char *dst, cr_err *err)
{
    struct rtnl_route *r = NULL;
    struct nl_addr *d = NULL;
    int idx = cr_netns_ifindex(sock, ifname, err);
    if (idx < 0)
        return idx;
    char text[64];
    snprintf(text, sizeof text, "%s/32", dst);
    int rc = nl_addr_parse(text, AF_INET, &d);
    if (rc < 0) {
        rc = cr_err_set(err, CR_EINVAL, "route %s: %s", text, nl_geterror(rc));
        goto out;
    }
    struct rtnl_nexthop *nh = NULL;
    if (!(r = rtnl_route_alloc()) || !(nh = rtnl_route_nh_alloc())) {
        rc = cr_err_set(err, CR_ENOMEM, "route %s: out of memory", text);
        goto out;
    }
    rtnl_route_set_family(r, AF_INET);
    rtnl_route_set_dst(r, d);
    rtnl_route_set_scope(r, RT_SCOPE_LINK);
    rtnl_route_set_table(r, RT_TABLE_MAIN);
    rtnl_route_set_protocol(r, RTPROT_STATIC);
    rtnl_route_set_type(r, RTN_UNICAST);
    rtnl_route_nh_set_ifindex(nh, idx);
    rtnl_route_add_nexthop(r, nh); /* r owns nh now */
    rc = rtnl_route_add(sock, r, NLM_F_CREATE | NLM_F_EXCL);
    if (rc < 0)
        rc = nlerr(err, rc, "add route %s dev %s", text, ifname);
out:
    rtnl_route_put(r);
    nl_addr_put(d);
    return rc;
}

/* ---- qdiscs ----------------------------------------------------------- */

int cr_netns_send(struct nl_sock *sock, struct nl_msg *msg)
{
    int rc = nl_send_auto(sock, msg);
    if (rc < 0)
        return rc;
    return nl_wait_for_ack(sock);
}

int cr_netns_qdisc_del(struct nl_sock *sock, const char *ifname,
                       const char *parent, cr_err *err)
{
    int idx = cr_netns_ifindex(sock, ifname, NULL);
    if (idx < 0)
        return 0; /* the link is gone, and its qdiscs with it */
    struct rtnl_qdisc *q = rtnl_qdisc_alloc();
    if (!q)
        return cr_err_set(err, CR_ENOMEM, "delete qdisc on %s: out of memory",
                          ifname);
    rtnl_tc_set_ifindex(TC_CAST(q), idx);
    rtnl_tc_set_parent(TC_CAST(q), strcmp(parent, "ingress") == 0 ? TC_H_INGRESS
                                                                  : TC_H_ROOT);
    int rc = rtnl_qdisc_delete(sock, q);
    rtnl_qdisc_put(q);
    /* ENOENT: no such qdisc; EINVAL: only the default qdisc is left
     * ("cannot delete qdisc with handle of zero"). */
    if (rc == -NLE_OBJ_NOTFOUND || rc == -NLE_INVAL || rc == -NLE_NOADDR)
        rc = 0;
    return rc < 0 ? nlerr(err, rc, "delete %s qdisc on %s", parent, ifname) : 0;
}

/* ---- nftables --------------------------------------------------------- */

static const char *nft_path(void)
{
    static const char *const cands[] = {"/usr/sbin/nft", "/sbin/nft",
                                        "/usr/bin/nft", "/usr/local/sbin/nft"};
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++)
        if (access(cands[i], X_OK) == 0)
            return cands[i];
    return NULL;
}

int cr_netns_nft(int nsfd, const char *ruleset, char **stderr_out, cr_err *err)
{
    int in[2] = {-1, -1}, errp[2] = {-1, -1}, rc = 0, status = 0;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    const char *nft = nft_path();
    if (!nft)
        return cr_err_set(err, CR_EUNSUP,
                          "nftables: the nft program is not installed "
                          "(package nftables)");
    char *const argv[] = {(char *)nft, "-f", "-", NULL};
    /* A socket for stdin so a premature exit of nft gives EPIPE through
     * MSG_NOSIGNAL instead of SIGPIPE to the harness. */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0 ||
        pipe2(errp, O_CLOEXEC) != 0) {
        rc = cr_err_sys(err, CR_ESYS, errno, "nft: pipe");
        goto out;
    }
    /* nft reads the ruleset on stdin and reports on stdout/stderr; it
     * runs inside the namespace (setns in the child, before exec). */
    cr_spawn_opts o = CR_SPAWN_OPTS_INIT;
    cr_spawn_proc pr;
    cr_err e;
    cr_err_clear(&e);
    o.path = nft;
    o.argv = argv;
    o.stdin_fd = in[1];
    o.stdout_fd = o.stderr_fd = errp[1];
    o.netns_fd = nsfd;
    rc = cr_spawn(&o, &pr, &e);
    if (rc == CR_EUNSUP) {
        rc = cr_err_set(err, CR_EUNSUP, "nft: cannot execute %s (%s)", nft,
                        e.msg);
        goto out;
    }
    if (rc != 0) {
        rc = pr.step && strcmp(pr.step, "setns") == 0
                 ? cr_err_set(err, rc, "nft: cannot enter the namespace (%s)",
                              e.msg)
                 : cr_err_set(err, rc, "nft: %s", e.msg);
        goto out;
    }
    pid_t pid = pr.pid;
    /* Our copies of the child's ends: EOF on errp only once nft is done. */
    close(in[1]), in[1] = -1;
    close(errp[1]), errp[1] = -1;
    size_t n = strlen(ruleset), off = 0;
    while (off < n) {
        ssize_t w = send(in[0], ruleset + off, n - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break; /* nft exited early; its status tells why */
        off += (size_t)w;
    }
    shutdown(in[0], SHUT_WR);
    for (;;) {
        if (cap - len < 512) {
            char *nb = cr_realloc(buf, cap + 4096);
            if (!nb)
                break;
            buf = nb, cap += 4096;
        }
        ssize_t r = read(errp[0], buf + len, cap - len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    if (buf)
        buf[len] = '\0';
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char first[300] = "";
        if (buf) {
            const char *p = buf;
            if (strncmp(p, "Error: ", 7) != 0 && strstr(p, "Error: "))
                p = strstr(p, "Error: ");
            snprintf(first, sizeof first, "%.*s", (int)strcspn(p, "\n"), p);
        }
        rc =
            cr_err_set(err, CR_ESYS, "nft -f: %s", first[0] ? first : "failed");
    }
    if (stderr_out) {
        *stderr_out = buf;
        buf = NULL;
    }
out:
    for (int i = 0; i < 2; i++) {
        if (in[i] >= 0)
            close(in[i]);
        if (errp[i] >= 0)
            close(errp[i]);
    }
    cr_free(buf);
    return rc;
}
