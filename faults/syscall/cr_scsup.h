/* cr_scsup: the supervisor thread of the seccomp backend.
 *
 * One thread per run answers every notification of every listener (one
 * listener per started replica, cr_seccomp.h).  Outside any window a call
 * is continued at once (SECCOMP_USER_NOTIF_FLAG_CONTINUE).  Inside a window
 * that targets the replica and names the call, the window's rule decides
 * (cr_scrule.h): fail it with an errno, or delay it -- the call is put on a
 * timer heap and answered when its time comes, so a delay never blocks the
 * thread or any other notification.
 *
 * The path filter reads the target's memory (process_vm_readv, else
 * /proc/PID/mem) and /proc/PID/fd links, then checks with
 * SECCOMP_IOCTL_NOTIF_ID_VALID that the call is still waiting -- so what
 * was read belonged to it.  (It is not a security boundary: the target may
 * change its memory after the check; for fault injection that is fine.)
 *
 * Threading: the harness's loop thread adds listeners (and, for
 * containers, the thread that receives them from the runtime:
 * syscall_sc_ctr.c) and arms/disarms windows; the supervisor thread reads
 * windows and writes their counters; one mutex guards both.  Listener fds
 * are owned by the supervisor. */
#ifndef CR_SCSUP_H
#define CR_SCSUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/cr_err.h"
#include "cr_scrule.h"

#define CR_SC_MAX_TIDS 64

typedef struct cr_scsup cr_scsup;

/* Counters of one named call of one replica within one window. */
typedef struct cr_scstat {
    uint64_t seen;    /* notified while the window was armed */
    uint64_t matched; /* the path filter (if any) held */
    uint64_t failed;  /* answered with the errno (after any delay) */
    uint64_t delayed; /* held back delay_ms before the answer */
} cr_scstat;

/* One targeted replica of a window. */
typedef struct cr_sctarget {
    const void *key; /* the replica (the key its listeners were added with) */
    cr_scdraw draw;  /* seeded: the caller initialises it */
    cr_scstat sys[CR_SC_MAX_SYS]; /* per call of the rule, in rule order */
    pid_t tids[CR_SC_MAX_TIDS];   /* threads with a faulted call (first ones) */
    size_t ntids;
    pid_t pids[CR_SC_MAX_TIDS]; /* their processes (thread group ids) */
    size_t npids;
} cr_sctarget;

/* A fault window.  The caller fills rule (path already absolute or a
 * "socket:"-style prefix), t and nt, and owns the memory; the supervisor
 * writes the rest between arm and disarm. */
typedef struct cr_scwin {
    cr_scrule rule;
    cr_sctarget *t;
    size_t nt;
    double first_mono, last_mono; /* CLOCK_MONOTONIC of the first and last
                                     faulted call's verdict; 0: none */
    uint64_t released;            /* delayed calls answered early by disarm */
    uint64_t interrupted;         /* calls abandoned by their thread before
                                     their answer (a signal cut the wait
                                     short): not counted as failed */
    uint64_t vanished;            /* calls gone before their answer (killed) */
    uint64_t unreadable;          /* path filter could not read: left alone */
    struct cr_scwin *next;        /* the supervisor's list */
} cr_scwin;

/* Start the thread.  0 and *out, or CR_ESYS/CR_ENOMEM. */
int cr_scsup_start(cr_scsup **out, cr_err *err);
/* Stop the thread and close every listener.  Call only once every process
 * under a listener has exited: their notified calls would fail with ENOSYS
 * once nobody listens.  NULL is a no-op. */
void cr_scsup_stop(cr_scsup *s);

/* Hand over a listener of the replica `key`, started with `flags`
 * (CR_SECCOMP_KILLABLE).  The supervisor owns fd from now on, also on
 * failure (then closed). */
int cr_scsup_add(cr_scsup *s, int fd, const void *key, unsigned flags,
                 cr_err *err);
/* Listeners of key still open (their processes have not all exited). */
size_t cr_scsup_listeners(cr_scsup *s, const void *key);

/* From return on, calls of w's targets are judged by w.  Windows armed
 * together are asked in arming order; the first that faults a call wins
 * (the others count it as seen). */
void cr_scsup_arm(cr_scsup *s, cr_scwin *w);
/* From return on, the thread no longer touches w; calls w is delaying are
 * answered now (counted in w->released). */
void cr_scsup_disarm(cr_scsup *s, cr_scwin *w);

/* Totals since start: notifications received, and of them answered
 * without a window's verdict. */
void cr_scsup_totals(cr_scsup *s, uint64_t *notified, uint64_t *untouched);

#endif
