/* syscall_internal: what the `syscall` fault kind's files share.
 *
 *   syscall.c          the kind: keys, validation, the backend choice
 *                      (check), the journal's common fields, dispatch
 *   syscall_fiu.c      the libfiu backend (LD_PRELOAD + remote control)
 *   syscall_seccomp.c  the seccomp backend (filter at spawn, supervisor) */
#ifndef SYSCALL_INTERNAL_H
#define SYSCALL_INTERNAL_H

#include <jansson.h>

#include "cr_scrule.h"
#include "faults/cr_fault.h"

enum { SYS_AUTO, SYS_LIBFIU, SYS_SECCOMP };

typedef struct sys_spec {
    int backend;   /* asked for: SYS_AUTO, SYS_LIBFIU, SYS_SECCOMP */
    int chosen;    /* decided by check(): SYS_LIBFIU or SYS_SECCOMP */
    char why[600]; /* the choice, for the journal */
    /* auto: which backends can do what the keys ask, and why not */
    int can_fiu, can_sc;
    char no_fiu[512], no_sc[512];
    const char *preset; /* static name, or NULL */
    double probability;
    long long count;
    /* libfiu */
    char **points; /* owned, npoints entries */
    size_t npoints;
    int errnum;  /* 0: the points set no errno */
    int onetime; /* count: 1 */
    /* seccomp (path as written; a relative one is under the run dir) */
    cr_scrule rule;
} sys_spec;

extern const cr_fault_ops cr_fault_syscall_ops;

/* Unix time in microseconds (the journal's reals are too coarse to line
 * up with a service's own timestamps). */
json_int_t sys_unix_us(void);
/* details[key], created as an array when missing. */
json_t *sys_details_array(json_t *details, const char *key);
/* The errors the targeted replicas reported in their events during the
 * window, counted by value (details.errors_seen). */
void sys_errors_seen(cr_fault *f, cr_run *r, cr_fault_act *act);
/* 1 when fault g is handled by backend `which` (after check()). */
int sys_uses(const cr_fault *g, int which);

/* syscall_fiu.c */
int sys_fiu_check(cr_fault *f, cr_run *r, cr_err *err);
int sys_fiu_prepare(cr_fault *f, cr_run *r, cr_err *err);
int sys_fiu_apply(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err);
int sys_fiu_revert(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err);
void sys_fiu_on_spawn(cr_fault *f, cr_run *r, cr_fault_act *act, cr_inst *in);

/* syscall_seccomp.c */
int sys_sc_prepare(cr_fault *f, cr_run *r, cr_err *err);
int sys_sc_apply(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err);
int sys_sc_revert(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err);
void sys_sc_on_spawn(cr_fault *f, cr_run *r, cr_fault_act *act, cr_inst *in);

#endif
