/* cr_fault: the one operations table every fault kind implements.
 *
 * Each faults/<kind>.c exports one const cr_fault_ops built with designated
 * initializers; harness/cr_registry.c maps kind names to them.  The engine
 * calls, in order:
 *
 *   parse    at load time: validate only, fill f->priv, no side effects.
 *            Before calling it the loader has already rejected unknown keys
 *            (cr_vkeys with cr_fault_common_params + ops->params, so list
 *            every key of the kind in params) and parsed the common keys
 *            (kind, name, target, at_s, for_s, every_s, until_s, on_event)
 *            into f, enforcing the flags below.  parse is called even when
 *            common keys had errors, so that all problems are reported.
 *            Return 0, CR_EINVAL (diagnostics recorded with cr_verr) or
 *            CR_ENOMEM.  destroy is called only when f->priv is non-NULL.
 *   check    before any process starts: can this machine do it?  Return
 *            CR_EUNSUP with the reason (exit 3) if not.          (optional)
 *   prepare  before services start: environment, helpers.        (optional)
 *   apply    at each occurrence's start.
 *   revert   at its end (for_s > 0), and at run end for anything still
 *            active; idempotent and safe after a partial apply.  (optional)
 *   on_spawn after a targeted replica was (re)started while the fault is
 *            active, so a restarted replica gets the active faults. (optional)
 *   destroy  free f->priv.                                        (optional)
 *
 * apply/revert record what they did in act->details (a JSON object that
 * goes into the journal); the engine records times and outcome. */
#ifndef CR_FAULT_H
#define CR_FAULT_H

#include <jansson.h>

#include "../harness/cr_err.h"
#include "../harness/cr_rng.h"
#include "../harness/cr_run.h"
#include "../harness/cr_scen.h"

enum {
    /* for_s is required (pause, syscall, network windows). */
    CR_FAULT_NEEDS_DURATION = 1u << 0,
    /* for_s is meaningless (kill, restart, terminate). */
    CR_FAULT_INSTANT = 1u << 1,
    /* target must name a service. */
    CR_FAULT_NEEDS_SERVICE = 1u << 2,
    /* target must not be given (the kind has its own addressing). */
    CR_FAULT_NO_TARGET = 1u << 3,
};

#define CR_ACT_MAX_INST 64

/* One occurrence of a fault. */
typedef struct cr_fault_act {
    cr_fault *fault;
    int occurrence;                 /* 0-based */
    double t_sched;                 /* scheduled start (s after t0) */
    cr_inst *inst[CR_ACT_MAX_INST]; /* targets resolved at apply time */
    size_t ninst;
    cr_rng rng;      /* derived from (seed, fault name, occurrence) */
    json_t *details; /* object; backends add what they did */
    void *state;     /* backend state between apply and revert */
} cr_fault_act;

struct cr_fault_ops {
    const char *kind;
    const char *summary;
    const cr_param *params; /* kind-specific keys; common keys are known */
    unsigned flags;         /* CR_FAULT_* */
    int (*parse)(cr_vctx *vx, const json_t *obj, const char *path, cr_fault *f);
    int (*check)(cr_fault *f, cr_run *r, cr_err *err);
    int (*prepare)(cr_fault *f, cr_run *r, cr_err *err);
    int (*apply)(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err);
    int (*revert)(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err);
    void (*on_spawn)(cr_fault *f, cr_run *r, cr_fault_act *act, cr_inst *inst);
    void (*destroy)(cr_fault *f);
};

/* Registry (harness/cr_registry.c). */
const cr_fault_ops *cr_fault_lookup(const char *kind);
/* NULL-terminated array of every kind, for `chaosrun list` and hints. */
const cr_fault_ops *const *cr_fault_all(void);
/* Keys every fault object may have, documented once. */
extern const cr_param cr_fault_common_params[];

#endif
