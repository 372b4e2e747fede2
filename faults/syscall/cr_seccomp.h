/* cr_seccomp: the filter of the seccomp backend and its way from a
 * service's child process to the harness.
 *
 * The filter returns SECCOMP_RET_USER_NOTIF for exactly the system calls
 * the faults on a service name and ALLOW for everything else (other
 * architectures' calls included), so calls not named never leave the
 * kernel.  It is built in the harness with libseccomp before any fork and
 * exported as BPF into memory (cr_seccomp_prog), so that the child only
 * has to call prctl(2), seccomp(2) and sendmsg(2):
 *
 *   harness (prepare)      cr_seccomp_prog_build, a socketpair per service
 *   child, before execve   cr_seccomp_child_install: PR_SET_NO_NEW_PRIVS,
 *                          seccomp(SECCOMP_SET_MODE_FILTER,
 *                          NEW_LISTENER | WAIT_KILLABLE_RECV), then the
 *                          listener fd to the harness (SCM_RIGHTS)
 *   harness, after fork    cr_seccomp_recv_listener, then the supervisor
 *                          (cr_scsup.h) answers every notification
 *
 * The filter stays across execve and is inherited by every thread and
 * forked child, so the whole process tree of the replica is covered.
 *
 * One hazard is designed out: the child's own sendmsg(2) of the listener
 * would be notified -- and wait forever, since nobody has the listener yet
 * -- when a fault names sendmsg.  The rule for sendmsg therefore spares
 * calls that pass MSG_CMSG_CLOEXEC in flags (a recvmsg flag no program
 * passes to sendmsg), which is how the child sends. */
#ifndef CR_SECCOMP_H
#define CR_SECCOMP_H

#include <stddef.h>
#include <sys/types.h>

#include "base/cr_err.h"

/* Can this machine do it?  0, or CR_EUNSUP with a sentence naming what is
 * missing: seccomp user notification in the kernel (actions_avail lists
 * user_notif; the file is /proc/sys/kernel/seccomp/actions_avail, or
 * $CHAOSRUN_SECCOMP_ACTIONS for tests), libseccomp's notify API, and a
 * round trip in a forked child whose call is let through with
 * SECCOMP_USER_NOTIF_FLAG_CONTINUE (Linux >= 5.5). */
int cr_seccomp_available(cr_err *err);

typedef struct cr_seccomp_prog cr_seccomp_prog;

/* Build the filter for n native syscall numbers.  0 and *out (free with
 * cr_seccomp_prog_free), or CR_EINVAL/CR_ESYS/CR_ENOMEM with err set. */
int cr_seccomp_prog_build(const int *nrs, size_t n, cr_seccomp_prog **out,
                          cr_err *err);
void cr_seccomp_prog_free(cr_seccomp_prog *p);
/* Number of BPF instructions. */
size_t cr_seccomp_prog_len(const cr_seccomp_prog *p);

/* Flags the child reports with its listener. */
#define CR_SECCOMP_KILLABLE                                                    \
    1u /* WAIT_KILLABLE_RECV: delayed calls wait                               \
          through signals (only SIGKILL ends them) */

/* In the child between fork and execve (async-signal-safe: prctl,
 * seccomp, sendmsg, getpid only): install the filter and send one message
 * on sockfd -- the child's pid, 0 or the errno of what failed, the flags,
 * and the listener fd (SCM_RIGHTS) on success.  The listener is
 * close-on-exec.  Returns 0, or the errno value of the failure (the filter
 * may then be missing; the caller should not exec). */
int cr_seccomp_child_install(const cr_seccomp_prog *prog, int sockfd);

/* In the harness: wait up to timeout_s for the message of child pid on
 * sockfd (messages of other pids, left by earlier children, are dropped).
 * 0 with *fd (the listener, close-on-exec, the caller's) and *flags;
 * CR_ESTATE when the child exited first (a pidfd tells), CR_ETIMEOUT,
 * CR_ESYS (the child's own errno: the filter could not be installed),
 * CR_EPROTO. */
int cr_seccomp_recv_listener(int sockfd, pid_t pid, double timeout_s, int *fd,
                             unsigned *flags, cr_err *err);

#endif
