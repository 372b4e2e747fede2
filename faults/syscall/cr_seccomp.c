/* cr_seccomp: the seccomp backend's filter, its installation in a child
 * and the listener's way to the harness (see cr_seccomp.h). */
#include "cr_seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cr_alloc.h"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1UL << 0)
#endif

struct cr_seccomp_prog {
    struct sock_fprog fprog;
    struct sock_filter *insns;
};

/* What a child sends with its listener. */
typedef struct child_msg {
    pid_t pid;
    int err;
    unsigned flags;
} child_msg;

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the filter ---------------------------------------------------------- */

int cr_seccomp_prog_build(const int *nrs, size_t n, cr_seccomp_prog **out,
                          cr_err *err)
{
    scmp_filter_ctx ctx = NULL;
    cr_seccomp_prog *p = NULL;
    int mfd = -1, rc = CR_OK;
    *out = NULL;
    ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx)
        return cr_err_set(err, CR_ENOMEM,
                          "seccomp filter: seccomp_init failed");
    /* Calls of another ABI (int 0x80, x32) are let through untouched,
     * not killed: the filter must change nothing it does not name. */
    int e = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
    if (e < 0) {
        rc = cr_err_sys(err, CR_ESYS, -e, "seccomp filter: bad-arch action");
        goto out;
    }
    int sendmsg_nr = seccomp_syscall_resolve_name("sendmsg");
    for (size_t i = 0; i < n; i++) {
        if (nrs[i] == sendmsg_nr)
            /* Spare the child's own sendmsg of the listener (see .h). */
            e = seccomp_rule_add(
                ctx, SCMP_ACT_NOTIFY, nrs[i], 1,
                SCMP_A2(SCMP_CMP_MASKED_EQ, MSG_CMSG_CLOEXEC, 0));
        else
            e = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nrs[i], 0);
        if (e < 0) {
            rc = cr_err_sys(err, CR_EINVAL, -e,
                            "seccomp filter: rule for syscall %d", nrs[i]);
            goto out;
        }
    }
    /* libseccomp 2.5 exports to an fd only: a memfd keeps it in memory. */
    mfd = memfd_create("cr-seccomp-bpf", MFD_CLOEXEC);
    if (mfd < 0) {
        rc = cr_err_sys(err, CR_ESYS, errno, "seccomp filter: memfd_create");
        goto out;
    }
    e = seccomp_export_bpf(ctx, mfd);
    if (e < 0) {
        rc = cr_err_sys(err, CR_ESYS, -e, "seccomp filter: export");
        goto out;
    }
    off_t len = lseek(mfd, 0, SEEK_END);
    if (len <= 0 || len % (off_t)sizeof(struct sock_filter) != 0 ||
        len / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS) {
        rc = cr_err_set(err, CR_EPROTO,
                        "seccomp filter: exported %lld bytes, not a program",
                        (long long)len);
        goto out;
    }
    p = cr_calloc(1, sizeof *p);
    if (p)
        p->insns = cr_malloc((size_t)len);
    if (!p || !p->insns) {
        rc = cr_err_set(err, CR_ENOMEM, "seccomp filter: out of memory");
        goto out;
    }
    if (pread(mfd, p->insns, (size_t)len, 0) != (ssize_t)len) {
        rc = cr_err_sys(err, CR_ESYS, errno, "seccomp filter: read back");
        goto out;
    }
    p->fprog.len = (unsigned short)(len / (off_t)sizeof(struct sock_filter));
    p->fprog.filter = p->insns;
    *out = p;
    p = NULL;
out:
    cr_seccomp_prog_free(p);
    if (mfd >= 0)
        close(mfd);
    seccomp_release(ctx);
    return rc;
}

void cr_seccomp_prog_free(cr_seccomp_prog *p)
{
    if (!p)
        return;
    cr_free(p->insns);
    cr_free(p);
}

size_t cr_seccomp_prog_len(const cr_seccomp_prog *p)
{
    return p ? p->fprog.len : 0;
}

/* ---- child and parent ---------------------------------------------------- */

int cr_seccomp_child_install(const cr_seccomp_prog *prog, int sockfd)
{
    child_msg m = {getpid(), 0, 0};
    int l = -1;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        m.err = errno;
    } else {
        /* Killable wait (Linux >= 5.19): a delayed call is not cut short
         * by a signal once the supervisor has it. */
        l = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                         SECCOMP_FILTER_FLAG_NEW_LISTENER |
                             SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
                         &prog->fprog);
        if (l >= 0)
            m.flags |= CR_SECCOMP_KILLABLE;
        else if (errno == EINVAL)
            l = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                             SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog->fprog);
        if (l < 0)
            m.err = errno;
    }
    struct iovec iov = {&m, sizeof m};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } cbuf;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (l >= 0) {
        memset(&cbuf, 0, sizeof cbuf);
        mh.msg_control = cbuf.buf;
        mh.msg_controllen = sizeof cbuf.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &l, sizeof l);
    }
    /* MSG_CMSG_CLOEXEC: the mark the filter spares (see cr_seccomp.h). */
    if (sendmsg(sockfd, &mh, MSG_CMSG_CLOEXEC | MSG_NOSIGNAL) < 0 && !m.err)
        m.err = errno;
    return m.err;
}

int cr_seccomp_recv_listener(int sockfd, pid_t pid, double timeout_s, int *fd,
                             unsigned *flags, cr_err *err)
{
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    double until = mono_now() + timeout_s;
    int rc = CR_OK;
    *fd = -1;
    *flags = 0;
    for (;;) {
        struct pollfd pf[2] = {{sockfd, POLLIN, 0}, {pidfd, POLLIN, 0}};
        double left = until - mono_now();
        if (left < 0)
            left = 0;
        int k = poll(pf, pidfd >= 0 ? 2 : 1, (int)(left * 1000) + 1);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = cr_err_sys(err, CR_ESYS, errno, "seccomp listener: poll");
            break;
        }
        if (pf[0].revents & POLLIN) {
            child_msg m;
            union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
            } cbuf;
            struct iovec iov = {&m, sizeof m};
            struct msghdr mh = {.msg_iov = &iov,
                                .msg_iovlen = 1,
                                .msg_control = cbuf.buf,
                                .msg_controllen = sizeof cbuf.buf};
            ssize_t got = recvmsg(sockfd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
            if (got < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (got < 0) {
                rc = cr_err_sys(err, CR_ESYS, errno,
                                "seccomp listener: recvmsg");
                break;
            }
            int lfd = -1;
            struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
            if (c && c->cmsg_level == SOL_SOCKET &&
                c->cmsg_type == SCM_RIGHTS &&
                c->cmsg_len == CMSG_LEN(sizeof(int)))
                memcpy(&lfd, CMSG_DATA(c), sizeof lfd);
            if (got != (ssize_t)sizeof m || m.pid != pid) {
                /* A message of an earlier child that was given up on. */
                if (lfd >= 0)
                    close(lfd);
                continue;
            }
            if (m.err) {
                if (lfd >= 0)
                    close(lfd);
                rc = cr_err_sys(err, CR_ESYS, m.err,
                                "pid %d could not install its seccomp filter",
                                (int)pid);
                break;
            }
            if (lfd < 0 || (mh.msg_flags & MSG_CTRUNC)) {
                if (lfd >= 0)
                    close(lfd);
                rc = cr_err_set(err, CR_EPROTO,
                                "pid %d sent no seccomp listener", (int)pid);
                break;
            }
            *fd = lfd;
            *flags = m.flags;
            break;
        }
        if (pidfd >= 0 && (pf[1].revents & POLLIN)) {
            rc = cr_err_set(err, CR_ESTATE,
                            "pid %d exited before installing its seccomp "
                            "filter",
                            (int)pid);
            break;
        }
        if (mono_now() >= until) {
            rc = cr_err_set(err, CR_ETIMEOUT,
                            "pid %d sent no seccomp listener within %.3g s",
                            (int)pid, timeout_s);
            break;
        }
    }
    if (pidfd >= 0)
        close(pidfd);
    return rc;
}

/* ---- can this machine do it? -------------------------------------------- */

static int actions_have_user_notif(cr_err *err)
{
    const char *path = getenv("CHAOSRUN_SECCOMP_ACTIONS");
    char buf[512];
    if (!path || !*path)
        path = "/proc/sys/kernel/seccomp/actions_avail";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cr_err_sys(err, CR_EUNSUP, errno,
                          "seccomp backend: cannot read %s (a kernel without "
                          "seccomp filters?)",
                          path);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    for (char *save = NULL, *w = strtok_r(buf, " \t\n", &save); w;
         w = strtok_r(NULL, " \t\n", &save))
        if (strcmp(w, "user_notif") == 0)
            return CR_OK;
    return cr_err_set(err, CR_EUNSUP,
                      "seccomp backend: this kernel has no seccomp user "
                      "notification (SECCOMP_RET_USER_NOTIF, Linux >= 5.5: "
                      "%s does not list user_notif)",
                      path);
}

/* A child notified of getppid(2) that the parent continues: the whole path
 * the backend needs, once. */
static int round_trip(cr_err *err)
{
    int nr = seccomp_syscall_resolve_name("getppid");
    cr_seccomp_prog *p = NULL;
    int sv[2] = {-1, -1}, lfd = -1, rc;
    unsigned flags = 0;
    pid_t pid = -1;
    rc = cr_seccomp_prog_build(&nr, 1, &p, err);
    if (rc)
        return rc;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        rc = cr_err_sys(err, CR_ESYS, errno, "seccomp check: socketpair");
        goto out;
    }
    pid_t me = getpid();
    /* fork WITHOUT exec (an exception of tests/style/spawn.sh): the child
     * only installs the filter, calls getppid and _exits -- raw,
     * async-signal-safe system calls; there is no program to start. */
    pid = fork();
    if (pid < 0) {
        rc = cr_err_sys(err, CR_ESYS, errno, "seccomp check: fork");
        goto out;
    }
    if (pid == 0) {
        if (cr_seccomp_child_install(p, sv[0]) != 0)
            _exit(2);
        _exit(getppid() == me ? 0 : 3);
    }
    rc = cr_seccomp_recv_listener(sv[1], pid, 5, &lfd, &flags, err);
    if (rc)
        goto out;
    struct pollfd pf = {lfd, POLLIN, 0};
    if (poll(&pf, 1, 5000) != 1) {
        rc = cr_err_set(err, CR_EUNSUP,
                        "seccomp backend: no notification within 5 s");
        goto out;
    }
    struct seccomp_notif_sizes sz;
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) != 0) {
        rc = cr_err_sys(err, CR_EUNSUP, errno,
                        "seccomp backend: SECCOMP_GET_NOTIF_SIZES");
        goto out;
    }
    size_t nsz = sz.seccomp_notif > sizeof(struct seccomp_notif)
                     ? sz.seccomp_notif
                     : sizeof(struct seccomp_notif);
    size_t rsz = sz.seccomp_notif_resp > sizeof(struct seccomp_notif_resp)
                     ? sz.seccomp_notif_resp
                     : sizeof(struct seccomp_notif_resp);
    struct seccomp_notif *req = cr_calloc(1, nsz);
    struct seccomp_notif_resp *resp = cr_calloc(1, rsz);
    if (!req || !resp) {
        cr_free(req);
        cr_free(resp);
        rc = cr_err_set(err, CR_ENOMEM, "seccomp check: out of memory");
        goto out;
    }
    if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_RECV, req) != 0) {
        rc = cr_err_sys(err, CR_EUNSUP, errno,
                        "seccomp backend: SECCOMP_IOCTL_NOTIF_RECV");
    } else {
        resp->id = req->id;
        resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_SEND, resp) != 0)
            rc = cr_err_sys(err, CR_EUNSUP, errno,
                            "seccomp backend: this kernel cannot continue a "
                            "notified call (SECCOMP_USER_NOTIF_FLAG_CONTINUE, "
                            "Linux >= 5.5)");
    }
    cr_free(req);
    cr_free(resp);
out:
    if (pid > 0) {
        int st = 0;
        if (rc)
            kill(pid, SIGKILL);
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
        if (!rc && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
            rc = cr_err_set(err, CR_EUNSUP,
                            "seccomp backend: the test child's continued "
                            "getppid() did not return its parent (status "
                            "0x%x)",
                            st);
    }
    if (lfd >= 0)
        close(lfd);
    if (sv[0] >= 0)
        close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
    cr_seccomp_prog_free(p);
    return rc;
}

int cr_seccomp_available(cr_err *err)
{
    int rc = actions_have_user_notif(err);
    if (rc)
        return rc;
    if (seccomp_api_get() < 5)
        return cr_err_set(err, CR_EUNSUP,
                          "seccomp backend: libseccomp reports API level %u; "
                          "user notification needs level 5 (libseccomp >= "
                          "2.5 and a kernel with SECCOMP_RET_USER_NOTIF)",
                          seccomp_api_get());
    /* Whatever fails in the round trip means "not here": exit 3. */
    cr_err e;
    cr_err_clear(&e);
    if (round_trip(&e) != 0)
        return cr_err_set(err, CR_EUNSUP, "%s", e.msg);
    return CR_OK;
}
