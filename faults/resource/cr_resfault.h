/* cr_resfault: what the cgroup fault kinds (cpu, memory, pids) share.
 *
 * Each replica of the targeted service gets its own cgroup in the kind's
 * controller when the run prepares (cr_run_inst_cgroup: made below a
 * run-owned parent, in the ledger, the replica put inside before its
 * program runs).  apply sets the kind's limit on the cgroup of every
 * targeted replica -- running or not: a replica restarted inside the
 * window starts in the same limited cgroup -- and revert lifts it.
 *
 * On an ssh node (cpu, memory, pids: on_nodes) the cgroup is made there by
 * the engine (cr_run_ssh_cgroup, at prepare; the replica's wrapper joins
 * it at every start) and the kinds read and write it through cr_rescg_*,
 * one command over the node's control shell a call.
 *
 * A controller on a cgroup v1 hierarchy is used there; one on none, that
 * the cgroup2 mount offers, through cgroup v2 (base/cr_cgroup2.h): the
 * kinds write v2's files (cpu.max, memory.max, io.max, pids.max) where
 * cr_cgroup_is_v2 says the cgroup is a v2 one.
 *
 * act->details: "controller", "backend" ("cgroup v1" or "cgroup v2"),
 * and "cgroups": one object per targeted replica {"instance", "cgroup",
 * "pid" (at apply, 0: not running)} to which the kind adds what it set
 * and what the kernel counted. */
#ifndef CR_RESFAULT_H
#define CR_RESFAULT_H

#include "faults/cr_fault.h"

/* A replica's cgroup, here or on its ssh node: the kinds read and write
 * it through cr_rescg_*, which reach a node's over ssh (one command a
 * call, through the node's control shell). */
typedef struct cr_rescg {
    const char *path; /* its directory (on the node when in) */
    int v2;           /* a cgroup v2 one */
    cr_run *r;        /* with in: on in's ssh node */
    const cr_inst *in;
} cr_rescg;

/* Write value to file of cg.  0 or a CR_E* code with err. */
int cr_rescg_write(const cr_rescg *cg, const char *file, const char *value,
                   cr_err *err);
/* Read file of cg (at most n-1 bytes).  0 or -1. */
int cr_rescg_read(const cr_rescg *cg, const char *file, char *buf, size_t n);
/* 1 when cg has file. */
int cr_rescg_has(const cr_rescg *cg, const char *file);
/* cr_resfault_num for cg (its v1 file and key; v2's counterpart read in a
 * v2 cgroup); -1 when unreadable. */
long long cr_rescg_num(const cr_rescg *cg, const char *file, const char *key);

typedef struct cr_reskind {
    const char *controller; /* "cpu", "memory", "pids" */
    /* A file the controller must offer in a child cgroup (v1, v2). */
    const char *probe_file;
    const char *probe_file2;
    /* Set the limit on cgroup cg; add to d what was set and the counters
     * at the start; *mark: the kind's own note for lift.  0 or a CR_E*
     * code with err. */
    int (*limit)(const cr_fault *f, const cr_rescg *cg, json_t *d,
                 long long *mark, cr_err *err);
    /* Lift it (idempotent); add to d what the kernel counted since. */
    int (*lift)(const cr_fault *f, const cr_rescg *cg, json_t *d,
                long long mark, cr_err *err);
    /* 1: the kind works on ssh nodes (its files through cr_rescg_*). */
    int on_nodes;
} cr_reskind;

/* ops->check: the controller's v1 hierarchy is mounted, or cgroup2
 * offers it, and chaosrun may make cgroups there (cr_cgroup_check);
 * CR_EUNSUP naming the fault and the reason. */
int cr_resfault_check(const cr_reskind *k, cr_fault *f, cr_run *r, cr_err *err);
/* ops->prepare: a cgroup for every replica of the targeted service, and
 * the controller's probe_file present in it. */
int cr_resfault_prepare(const cr_reskind *k, cr_fault *f, cr_run *r,
                        cr_err *err);
/* ops->apply and ops->revert. */
int cr_resfault_apply(const cr_reskind *k, cr_fault *f, cr_run *r,
                      cr_fault_act *act, cr_err *err);
int cr_resfault_revert(const cr_reskind *k, cr_fault *f, cr_run *r,
                       cr_fault_act *act, cr_err *err);

/* ops->destroy of the kinds whose f->priv is one cr_malloc'd block. */
void cr_resfault_destroy(cr_fault *f);

/* act->inst: the fault's target resolved (unless the engine already did);
 * CR_ESTATE with err when it has no instance. */
int cr_resfault_targets(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err);

/* A counter of cgroup file (key NULL: the file is one number), named by
 * its v1 file and key; in a v2 cgroup the counterpart cr_cgroup2_map
 * names is read.  -1 when it cannot be read (or v2 has none). */
long long cr_resfault_num(const char *cg, const char *file, const char *key);

/* "cgroup v1" or "cgroup v2": the hierarchy of cgroup directory cg. */
const char *cr_resfault_backend(const char *cg);

#endif
