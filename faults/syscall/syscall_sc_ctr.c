/* syscall_sc_ctr: the seccomp backend for services in containers.
 *
 * A container's process is started by the OCI runtime, not by chaosrun,
 * so the filter cannot be installed by a spawn hook.  Instead the engine
 * is given a seccomp profile (OCI runtime spec, `linux.seccomp`) built
 * from its own default profile: the fault's system calls are taken out of
 * its allow rules and given the action SCMP_ACT_NOTIFY, and its
 * `listenerPath` names a unix socket of the run.  At every start of the
 * container the runtime (runc >= 1.1) connects there and sends the OCI
 * state -- with the annotation chaosrun.instance the container was made
 * with -- and the filter's listener (SCM_RIGHTS).  A thread of ours accepts
 * it and hands the listener to the run's supervisor (cr_scsup_add) under
 * that replica: from then on it is the same backend as for a process.
 *
 * Refused (exit 3), so that a fault never lifts a restriction of the
 * engine's profile: a call the profile allows only under conditions
 * (arguments, capabilities, architectures) or not at all -- a NOTIFY rule
 * would let it through whenever no window is armed.
 *
 * Until the listener is handed over, a notified call of the container
 * waits (nobody answers yet); the thread takes it within milliseconds of
 * the runtime's create.  The profile and the socket are files of the run
 * directory (nothing outside it). */
#include "syscall_internal.h"
#include "cr_scsup.h"
#include "syscall_sc_ctr.h"

#include "base/cr_alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CTR_MSG_MAX     (256 * 1024) /* the OCI state runc sends */
#define CTR_RECV_WAIT_S 5            /* a connection's whole message */

struct sc_ctr {
    cr_scsup *sup;
    int lfd;     /* listening socket */
    int wake[2]; /* a byte on [1]: stop */
    pthread_t th;
    int started;
    cr_inst *inst[CR_ACT_MAX_INST];
    size_t ninst;
    pthread_mutex_t mu;
    unsigned long handed, refused; /* listeners (under mu) */
};

/* ---- the profile ---------------------------------------------------------
 */

static int has_conditions(const json_t *rule)
{
    const json_t *a = json_object_get(rule, "args");
    const json_t *in = json_object_get(rule, "includes");
    const json_t *ex = json_object_get(rule, "excludes");
    return (json_is_array(a) && json_array_size(a) > 0) ||
           (json_is_object(in) && json_object_size(in) > 0) ||
           (json_is_object(ex) && json_object_size(ex) > 0);
}

int sys_sc_ctr_profile(const char *dflt, const char *const *names, size_t n,
                       const char *listener, const char *out, cr_err *err)
{
    json_error_t je;
    json_t *d = json_load_file(dflt, 0, &je);
    json_t *rules = d ? json_object_get(d, "syscalls") : NULL;
    if (!json_is_array(rules)) {
        json_decref(d);
        return cr_err_set(err, CR_EUNSUP, "the engine's seccomp profile %s: %s",
                          dflt, d ? "no \"syscalls\" array" : je.text);
    }
    for (size_t k = 0; k < n; k++) {
        int allowed = 0;
        size_t i;
        json_t *rule;
        json_array_foreach (rules, i, rule) {
            json_t *nm = json_object_get(rule, "names");
            const char *act =
                json_string_value(json_object_get(rule, "action"));
            size_t j;
            json_t *x;
            json_array_foreach (nm, j, x) {
                if (!json_is_string(x) ||
                    strcmp(json_string_value(x), names[k]))
                    continue;
                if (!act || strcmp(act, "SCMP_ACT_ALLOW") != 0 ||
                    has_conditions(rule)) {
                    /* (the message before d goes: act is d's) */
                    cr_err_set(err, CR_EUNSUP,
                               "%s is restricted by the engine's seccomp "
                               "profile (%s: action %s%s): a notify rule "
                               "would lift that",
                               names[k], dflt, act ? act : "?",
                               has_conditions(rule) ? " under conditions" : "");
                    json_decref(d);
                    return CR_EUNSUP;
                }
                allowed = 1;
                json_array_remove(nm, j);
                break;
            }
        }
        if (!allowed) {
            json_decref(d);
            return cr_err_set(err, CR_EUNSUP,
                              "%s is not allowed by the engine's seccomp "
                              "profile (%s): a notify rule would lift that",
                              names[k], dflt);
        }
    }
    /* Rules left without a name would match nothing: dropped. */
    for (size_t i = json_array_size(rules); i-- > 0;) {
        json_t *nm = json_object_get(json_array_get(rules, i), "names");
        if (json_is_array(nm) && json_array_size(nm) == 0)
            json_array_remove(rules, i);
    }
    json_t *nv = json_array();
    for (size_t k = 0; k < n; k++)
        json_array_append_new(nv, json_string(names[k]));
    json_array_append_new(rules, json_pack("{s:o,s:s}", "names", nv, "action",
                                           "SCMP_ACT_NOTIFY"));
    json_object_set_new(d, "listenerPath", json_string(listener));
    int rc = json_dump_file(d, out, JSON_COMPACT);
    json_decref(d);
    if (rc != 0)
        return cr_err_sys(err, CR_ESYS, errno, "write %s", out);
    return 0;
}

/* ---- the listeners' way in -------------------------------------------------
 */

/* One connection of the runtime: its whole message and the listener fd
 * (the one the message's "fds" names "seccompFd").  The replica it is for
 * from the annotation.  The fd goes to the supervisor or is closed. */
static void take_one(sc_ctr *c, int conn)
{
    char *buf = cr_malloc(CTR_MSG_MAX);
    int fds[8], nfd = 0;
    size_t len = 0;
    while (buf && len < CTR_MSG_MAX) {
        struct pollfd p = {.fd = conn, .events = POLLIN};
        if (poll(&p, 1, CTR_RECV_WAIT_S * 1000) <= 0)
            break;
        char cm[CMSG_SPACE(sizeof fds)];
        struct iovec iov = {.iov_base = buf + len,
                            .iov_len = CTR_MSG_MAX - len};
        struct msghdr m = {.msg_iov = &iov,
                           .msg_iovlen = 1,
                           .msg_control = cm,
                           .msg_controllen = sizeof cm};
        ssize_t k = recvmsg(conn, &m, MSG_CMSG_CLOEXEC);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h))
            if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) {
                size_t q = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < q; i++) {
                    int fd;
                    memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof fd);
                    if (nfd < 8)
                        fds[nfd++] = fd;
                    else
                        close(fd);
                }
            }
        len += (size_t)k;
    }
    json_t *msg = buf ? json_loadb(buf, len, 0, NULL) : NULL;
    cr_free(buf);
    const char *name = json_string_value(json_object_get(
        json_object_get(json_object_get(msg, "state"), "annotations"),
        CR_CTR_ANNOT_INSTANCE));
    int which = -1;
    size_t i;
    json_t *x;
    json_array_foreach (json_object_get(msg, "fds"), i, x)
        if (json_is_string(x) && !strcmp(json_string_value(x), "seccompFd"))
            which = (int)i;
    cr_inst *in = NULL;
    for (size_t k = 0; name && k < c->ninst; k++)
        if (strcmp(cr_inst_name(c->inst[k]), name) == 0)
            in = c->inst[k];
    int ok = 0;
    for (int k = 0; k < nfd; k++) {
        if (k == which && in) {
            cr_err e;
            cr_err_clear(&e);
            ok = cr_scsup_add(c->sup, fds[k], in, 0, &e) == 0;
        } else {
            close(fds[k]);
        }
    }
    json_decref(msg);
    pthread_mutex_lock(&c->mu);
    if (ok)
        c->handed++;
    else
        c->refused++;
    pthread_mutex_unlock(&c->mu);
}

static void *acceptor(void *arg)
{
    sc_ctr *c = arg;
    for (;;) {
        struct pollfd p[2] = {{.fd = c->lfd, .events = POLLIN},
                              {.fd = c->wake[0], .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        int conn = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0)
            continue;
        take_one(c, conn);
        close(conn);
    }
    return NULL;
}

int sys_sc_ctr_start(cr_run *r, const char *svc, cr_scsup *sup,
                     const char *const *names, size_t n, sc_ctr **out,
                     cr_err *err)
{
    const char *dflt = cr_run_ctr_seccomp_default(r, svc);
    if (!dflt)
        return cr_err_set(err, CR_EUNSUP,
                          "service %s: its container engine has no seccomp "
                          "profile to build on (docker's is built into the "
                          "daemon): the seccomp backend needs podman here",
                          svc);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char profile[4200];
    int k = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/sc-%s.sock",
                     cr_run_dir(r), svc);
    if (k < 0 || (size_t)k >= sizeof sa.sun_path)
        return cr_err_set(err, CR_EUNSUP,
                          "service %s: the run directory's path is too long "
                          "for the seccomp listener's unix socket (%zu bytes "
                          "at most): give a shorter --out",
                          svc, sizeof sa.sun_path - 1);
    snprintf(profile, sizeof profile, "%s/seccomp-%s.json", cr_run_dir(r), svc);
    int rc = sys_sc_ctr_profile(dflt, names, n, sa.sun_path, profile, err);
    if (rc != 0)
        return cr_err_set(err, rc, "service %s: %s", svc, err->msg);
    sc_ctr *c = cr_calloc(1, sizeof *c);
    if (!c)
        return cr_err_set(err, CR_ENOMEM, "out of memory");
    c->sup = sup;
    c->wake[0] = c->wake[1] = -1;
    pthread_mutex_init(&c->mu, NULL);
    c->ninst = cr_run_instances(r, svc, c->inst, CR_ACT_MAX_INST);
    unlink(sa.sun_path); /* ours: the run directory is new */
    c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->lfd < 0 || bind(c->lfd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        chmod(sa.sun_path, 0600) != 0 || listen(c->lfd, 8) != 0 ||
        pipe2(c->wake, O_CLOEXEC) != 0) {
        rc = cr_err_sys(err, CR_ESYS, errno, "service %s: listener socket %s",
                        svc, sa.sun_path);
    } else if (pthread_create(&c->th, NULL, acceptor, c) != 0) {
        rc = cr_err_set(err, CR_ESYS, "service %s: listener thread", svc);
    } else {
        c->started = 1;
        rc = cr_run_ctr_seccomp(r, svc, profile, err);
    }
    if (rc != 0) {
        sys_sc_ctr_stop(c, NULL, NULL);
        return rc;
    }
    *out = c;
    return 0;
}

void sys_sc_ctr_stop(sc_ctr *c, unsigned long *handed, unsigned long *refused)
{
    if (!c)
        return;
    if (c->started) {
        char one = 1;
        ssize_t w = write(c->wake[1], &one, 1);
        (void)w;
        pthread_join(c->th, NULL);
    }
    if (handed)
        *handed = c->handed;
    if (refused)
        *refused = c->refused;
    if (c->lfd >= 0)
        close(c->lfd);
    for (int i = 0; i < 2; i++)
        if (c->wake[i] >= 0)
            close(c->wake[i]);
    pthread_mutex_destroy(&c->mu);
    cr_free(c);
}

void sys_sc_ctr_counts(sc_ctr *c, unsigned long *handed, unsigned long *refused)
{
    pthread_mutex_lock(&c->mu);
    *handed = c->handed;
    *refused = c->refused;
    pthread_mutex_unlock(&c->mu);
}
