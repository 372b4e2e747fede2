/* syscall_sc_ctr: the seccomp backend for services in containers (see
 * syscall_sc_ctr.c): a seccomp profile for the engine whose listener the
 * runtime hands to a socket of the run, and the thread that passes it on
 * to the supervisor. */
#ifndef SYSCALL_SC_CTR_H
#define SYSCALL_SC_CTR_H

#include <stddef.h>

#include "base/cr_err.h"
#include "cr_scsup.h"
#include "faults/cr_fault.h"

typedef struct sc_ctr sc_ctr;

/* The profile: the engine's default profile dflt (JSON) with names[0..n-1]
 * taken out of its allow rules and given SCMP_ACT_NOTIFY, listenerPath
 * `listener`, written to out.  CR_EUNSUP when a name is not allowed
 * unconditionally by dflt (a notify rule would lift the restriction). */
int sys_sc_ctr_profile(const char *dflt, const char *const *names, size_t n,
                       const char *listener, const char *out, cr_err *err);

/* For container service svc: the profile (run directory:
 * seccomp-<svc>.json), the listening socket (sc-<svc>.sock), the thread
 * that hands every listener received to sup under its replica, and the
 * engine told to use the profile (cr_run_ctr_seccomp).  0 and *out, or a
 * code with err (CR_EUNSUP: exit 3). */
int sys_sc_ctr_start(cr_run *r, const char *svc, cr_scsup *sup,
                     const char *const *names, size_t n, sc_ctr **out,
                     cr_err *err);
/* Listeners handed over and refused so far. */
void sys_sc_ctr_counts(sc_ctr *c, unsigned long *handed,
                       unsigned long *refused);
/* Stop the thread, close the socket; the counts (may be NULL).  NULL: a
 * no-op. */
void sys_sc_ctr_stop(sc_ctr *c, unsigned long *handed, unsigned long *refused);

#endif
