/* cr_kinds: the operations tables through which a scenario reaches its
 * kinds -- fault kinds (faults/), probe kinds (probes/), checkers (checks/)
 * and extra top-level sections (net/ "hosts", proxy/ "links").
 *
 * The loader calls only the parse-side members (kind, summary, params,
 * flags, parse, destroy); the engine calls the run-side ones.  Both meet
 * here, so the loader never includes a header of a folder above it: the
 * run-side argument types are only declared (their definitions live in
 * engine/cr_run.h, faults/cr_fault.h, probes/cr_probe.h and
 * checks/cr_check.h, which document each member).  harness/cr_registry.c
 * maps names to the tables. */
#ifndef CR_KINDS_H
#define CR_KINDS_H

#include <jansson.h>
#include <stddef.h>

#include "base/cr_err.h"
#include "cr_scen.h"

/* Run-side types (defined above the scenario). */
typedef struct cr_run cr_run;
typedef struct cr_inst cr_inst;
typedef struct cr_fault_act cr_fault_act;
typedef struct cr_probe_ctx cr_probe_ctx;
typedef struct cr_facts cr_facts;
typedef struct cr_result cr_result;
typedef struct cr_event cr_event;
typedef struct cr_live cr_live;

/* ---- fault kinds (the members are documented in faults/cr_fault.h) ---- */

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

struct cr_fault_ops {
    const char *kind;
    const char *summary;
    const cr_param *params; /* kind-specific keys; common keys are known */
    unsigned flags;         /* CR_FAULT_* */
    /* What the machine must offer (`chaosrun list`), NULL: nothing
     * special; check() exits 3 with the reason when it is missing. */
    const char *requires;
    int (*parse)(cr_vctx *vx, const json_t *obj, const char *path, cr_fault *f);
    int (*check)(cr_fault *f, cr_run *r, cr_err *err);
    int (*prepare)(cr_fault *f, cr_run *r, cr_err *err);
    int (*apply)(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err);
    int (*revert)(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err);
    void (*on_spawn)(cr_fault *f, cr_run *r, cr_fault_act *act, cr_inst *inst);
    void (*destroy)(cr_fault *f);
};

/* ---- probe kinds (probes/cr_probe.h) ----------------------------------- */

struct cr_probe_ops {
    const char *kind;
    const char *summary;
    const cr_param *params;
    int (*parse)(cr_vctx *vx, const json_t *obj, const char *path,
                 cr_probe_spec *p);
    /* 1 healthy, 0 unhealthy (detail says why), < 0 harness error. */
    int (*run)(const cr_probe_spec *p, const cr_probe_ctx *cx, char *detail,
               size_t n);
    void (*destroy)(cr_probe_spec *p);
};

/* ---- checkers (checks/cr_check.h) -------------------------------------- */

enum {
    CR_CHECK_NEEDS_BASELINE = 1u << 0, /* run a fault-free baseline first */
};

struct cr_check_ops {
    const char *kind;
    const char *summary;
    const cr_param *params;
    unsigned flags; /* CR_CHECK_* */
    int (*parse)(cr_vctx *vx, const json_t *obj, const char *path,
                 cr_expect *x);
    int (*eval)(const cr_expect *x, const cr_facts *facts, cr_result *res,
                cr_err *err);
    void (*destroy)(cr_expect *x);
    /* Judging while the run goes on (checks/cr_live.h): all NULL when the
     * checker is judged at the end only. */
    int (*live_open)(const cr_expect *x, void **st);
    int (*live_feed)(void *st, const cr_event *e);
    void (*live_status)(void *st, const cr_facts *facts, cr_live *out);
    void (*live_close)(void *st);
};

/* ---- extra top-level sections ------------------------------------------ */

typedef struct cr_section_ops {
    const char *key; /* "links", "hosts" */
    const char *summary;
    int (*parse)(cr_vctx *vx, const json_t *val, const char *path, cr_scen *sc);
    void (*destroy)(cr_scen *sc);
} cr_section_ops;

/* ---- the registry (harness/cr_registry.c) ------------------------------
 *
 * lookup: the table of a kind name, or NULL.  all: a NULL-terminated array
 * of every table, for `chaosrun list` and "did you mean" hints. */
const cr_fault_ops *cr_fault_lookup(const char *kind);
const cr_fault_ops *const *cr_fault_all(void);
const cr_probe_ops *cr_probe_lookup(const char *kind);
const cr_probe_ops *const *cr_probe_all(void);
const cr_check_ops *cr_check_lookup(const char *kind);
const cr_check_ops *const *cr_check_all(void);
const cr_section_ops *const *cr_section_all(void);

/* Keys every fault, probe and expectation object may have, documented once
 * (scenario/cr_params.c); kind-specific keys are in each table's params. */
extern const cr_param cr_fault_common_params[];
extern const cr_param cr_probe_common_params[];
extern const cr_param cr_expect_common_params[];

#endif
