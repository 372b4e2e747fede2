/* stress_internal: what the stress kind's two files share -- stress.c
 * (keys, local stress-ng, apply/revert) and stress_node.c (stress-ng on
 * an ssh node, over the node's control shell). */
#ifndef STRESS_INTERNAL_H
#define STRESS_INTERNAL_H

#include "cr_resfault.h"

#include <sys/types.h>

enum { ST_CPU, ST_VM };
enum { PL_INSIDE, PL_BESIDE };

typedef struct stress_priv {
    int stressor, placement;
    long long workers, load_pct, vm_bytes_mb;
    char *exe;      /* stress-ng's path (check) */
    char *node_exe; /* on an ssh node: its path there (prepare) */
} stress_priv;

/* One running stress-ng. */
typedef struct stress_proc {
    cr_run *r;
    cr_inst *in;       /* inside: the replica whose cgroups it joins */
    const char *cg[2]; /* beside: its own cpu and memory cgroups */
    const char *memcg; /* the memory cgroup it is charged to */
    pid_t pid;
    int ledger_id;
    json_t *d; /* its object in "stress" */
    /* On an ssh node: memcg points into mem; the process group's id is in
     * pidfile (the node's directory), its output in log there. */
    int node;
    cr_rescg mem;
    char memcg_buf[512];
    char pidfile[512], log[512];
} stress_proc;

typedef struct stress_state {
    stress_proc p[CR_ACT_MAX_INST];
    size_t n;
} stress_state;

/* "stress-<fault name>" with anything but [A-Za-z0-9_-] as '_'. */
void stress_own_name(const cr_fault *f, char *buf, size_t n);

/* On an ssh node (stress_node.c): prepare (stress-ng there, the node's
 * memory, the cgroups), start stress-ng av for sp, stop it. */
int stress_node_prepare(cr_fault *f, cr_run *r, const char *node, cr_err *err);
int stress_node_start(cr_fault *f, cr_run *r, cr_fault_act *act,
                      stress_proc *sp, char *const *av, cr_err *err);
int stress_node_stop(cr_fault *f, cr_run *r, stress_proc *sp, cr_err *err);

#endif
