/* cr_fault: the one operations table every fault kind implements.
 *
 * The table itself (struct cr_fault_ops) and the CR_FAULT_* flags are in
 * harness/scenario/cr_kinds.h, where the loader meets every kind.  Each
 * faults/<kind>.c exports one const cr_fault_ops built with designated
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

#include "base/cr_err.h"
#include "base/cr_rng.h"
#include "engine/cr_run.h"
#include "scenario/cr_kinds.h"

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

#endif
