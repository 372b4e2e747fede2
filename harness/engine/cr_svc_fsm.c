/* cr_svc_fsm: see cr_svc_fsm.h.  Every transition is in the table; the
 * only logic outside it is refine(), which turns an exit, a readiness
 * timeout, a resume or a late restart timer into the column the context
 * selects. */
#include "cr_svc_fsm.h"

#include "base/cr_err.h"
#include "scenario/cr_scen.h"

#include <stddef.h>

typedef struct cell {
    unsigned char ok; /* 0: refused (the default of every unlisted cell) */
    unsigned char to;
    unsigned short act;
} cell;

#define GO(s, a)                                                               \
    {                                                                          \
        .ok = 1, .to = (s), .act = (a)                                         \
    }
#define IGN(s) GO(s, 0) /* accepted, nothing happens */

#define D CR_SVC_DOWN
#define S CR_SVC_STARTING
#define R CR_SVC_RUNNING
#define P CR_SVC_PAUSED
#define X CR_SVC_STOPPING
#define Y CR_SVC_RESTARTING
#define W CR_SVC_WAIT_RESTART
#define E CR_SVC_EXITED

/* Actions that recur. */
#define STOP_LIVE   (CR_SVA_STOP_SIGNAL | CR_SVA_ARM_KILL)
#define STOP_PAUSED (CR_SVA_STOP_SIGNAL | CR_SVA_CONT | CR_SVA_ARM_KILL)

// clang-format off
static const cell table[CR_SVC_NSTATES][CR_SVE_N] = {
    [D] = {
        [CR_SVE_START]          = GO(S, CR_SVA_SPAWN),
        [CR_SVE_READY]          = IGN(D),
        [CR_SVE_READY_TIMEOUT]  = IGN(D),
        [CR_SVE_READY_LATE]     = IGN(D),
        [CR_SVE_STOP_TIMEOUT]   = IGN(D),
        [CR_SVE_RESTART_TIMER]  = IGN(D),
        [CR_SVE_SHUTDOWN]       = IGN(D),   /* never started: stays down */
    },
    [S] = {
        [CR_SVE_SPAWN_FAILED]   = GO(E, 0),
        [CR_SVE_READY]          = GO(R, CR_SVA_MARK_READY),
        [CR_SVE_READY_TIMEOUT]  = GO(S, CR_SVA_NOT_READY),
        [CR_SVE_READY_LATE]     = GO(S, CR_SVA_STARTUP_FAILED),
        [CR_SVE_EXIT_FINAL]     = GO(E, 0),
        [CR_SVE_EXIT_STARTUP]   = GO(E, CR_SVA_STARTUP_FAILED),
        [CR_SVE_EXIT_POLICY]    = GO(W, CR_SVA_ARM_RESTART),
        [CR_SVE_EXIT_LIMIT]     = GO(E, CR_SVA_LIMIT),
        [CR_SVE_STOP]           = GO(X, STOP_LIVE),
        [CR_SVE_STOP_RESTART]   = GO(Y, STOP_LIVE),
        [CR_SVE_STOP_TIMEOUT]   = IGN(S),
        [CR_SVE_FAULT_KILL]     = GO(S, CR_SVA_RECORD_CAUSE),
        [CR_SVE_FAULT_PAUSE]    = GO(P, 0),
        [CR_SVE_FAULT_RESUME]   = IGN(S),   /* SIGCONT to a running one */
        [CR_SVE_RESUME_READY]   = IGN(S),
        [CR_SVE_RESUME_STARTING] = IGN(S),
        [CR_SVE_RESTART_TIMER]  = IGN(S),
        [CR_SVE_SHUTDOWN]       = GO(X, STOP_LIVE),
    },
    [R] = {
        [CR_SVE_READY]          = IGN(R),
        [CR_SVE_READY_TIMEOUT]  = IGN(R),
        [CR_SVE_READY_LATE]     = IGN(R),
        [CR_SVE_EXIT_FINAL]     = GO(E, 0),
        [CR_SVE_EXIT_STARTUP]   = GO(E, CR_SVA_STARTUP_FAILED),
        [CR_SVE_EXIT_POLICY]    = GO(W, CR_SVA_ARM_RESTART),
        [CR_SVE_EXIT_LIMIT]     = GO(E, CR_SVA_LIMIT),
        [CR_SVE_STOP]           = GO(X, STOP_LIVE),
        [CR_SVE_STOP_RESTART]   = GO(Y, STOP_LIVE),
        [CR_SVE_STOP_TIMEOUT]   = IGN(R),
        [CR_SVE_FAULT_KILL]     = GO(R, CR_SVA_RECORD_CAUSE),
        [CR_SVE_FAULT_PAUSE]    = GO(P, 0),
        [CR_SVE_FAULT_RESUME]   = IGN(R),
        [CR_SVE_RESUME_READY]   = IGN(R),
        [CR_SVE_RESUME_STARTING] = IGN(R),
        [CR_SVE_RESTART_TIMER]  = IGN(R),
        [CR_SVE_SHUTDOWN]       = GO(X, STOP_LIVE),
    },
    [P] = {
        /* A readiness result may arrive after the freeze: remembered. */
        [CR_SVE_READY]          = GO(P, CR_SVA_MARK_READY),
        [CR_SVE_READY_TIMEOUT]  = IGN(P),
        [CR_SVE_READY_LATE]     = GO(P, CR_SVA_STARTUP_FAILED),
        [CR_SVE_EXIT_FINAL]     = GO(E, 0),
        [CR_SVE_EXIT_STARTUP]   = GO(E, CR_SVA_STARTUP_FAILED),
        [CR_SVE_EXIT_POLICY]    = GO(W, CR_SVA_ARM_RESTART),
        [CR_SVE_EXIT_LIMIT]     = GO(E, CR_SVA_LIMIT),
        [CR_SVE_STOP]           = GO(X, STOP_PAUSED),
        [CR_SVE_STOP_RESTART]   = GO(Y, STOP_PAUSED),
        [CR_SVE_STOP_TIMEOUT]   = IGN(P),
        [CR_SVE_FAULT_KILL]     = GO(P, CR_SVA_RECORD_CAUSE),
        [CR_SVE_FAULT_PAUSE]    = IGN(P),   /* a second pause: still frozen */
        [CR_SVE_RESUME_READY]   = GO(R, 0),
        [CR_SVE_RESUME_STARTING] = GO(S, 0),
        [CR_SVE_RESTART_TIMER]  = IGN(P),
        [CR_SVE_SHUTDOWN]       = GO(X, STOP_PAUSED),
    },
    [X] = {
        [CR_SVE_READY]          = IGN(X),
        [CR_SVE_READY_TIMEOUT]  = IGN(X),
        [CR_SVE_READY_LATE]     = IGN(X),
        [CR_SVE_EXIT]           = GO(E, CR_SVA_CANCEL_KILL),
        [CR_SVE_EXIT_FINAL]     = GO(E, CR_SVA_CANCEL_KILL),
        /* A fault asks again: the signal again, the first deadline holds. */
        [CR_SVE_STOP]           = GO(X, CR_SVA_STOP_SIGNAL),
        [CR_SVE_STOP_RESTART]   = GO(Y, CR_SVA_STOP_SIGNAL),
        [CR_SVE_STOP_TIMEOUT]   = GO(X, CR_SVA_KILL),
        [CR_SVE_FAULT_KILL]     = IGN(X),   /* the exit is the stop's */
        [CR_SVE_FAULT_RESUME]   = IGN(X),   /* SIGCONT went with the stop */
        [CR_SVE_RESUME_READY]   = IGN(X),
        [CR_SVE_RESUME_STARTING] = IGN(X),
        [CR_SVE_RESTART_TIMER]  = IGN(X),
        [CR_SVE_SHUTDOWN]       = IGN(X),   /* stopping already: wait */
    },
    [Y] = {
        [CR_SVE_READY]          = IGN(Y),
        [CR_SVE_READY_TIMEOUT]  = IGN(Y),
        [CR_SVE_READY_LATE]     = IGN(Y),
        [CR_SVE_EXIT]           = GO(W, CR_SVA_CANCEL_KILL | CR_SVA_RESTART_NOW),
        [CR_SVE_EXIT_FINAL]     = GO(E, CR_SVA_CANCEL_KILL),
        [CR_SVE_STOP]           = GO(X, CR_SVA_STOP_SIGNAL),
        [CR_SVE_STOP_RESTART]   = GO(Y, CR_SVA_STOP_SIGNAL),
        [CR_SVE_STOP_TIMEOUT]   = GO(Y, CR_SVA_KILL),
        [CR_SVE_FAULT_KILL]     = IGN(Y),
        [CR_SVE_FAULT_RESUME]   = IGN(Y),
        [CR_SVE_RESUME_READY]   = IGN(Y),
        [CR_SVE_RESUME_STARTING] = IGN(Y),
        [CR_SVE_RESTART_TIMER]  = IGN(Y),
        [CR_SVE_SHUTDOWN]       = GO(X, 0), /* no restart after this stop */
    },
    [W] = {
        [CR_SVE_READY]          = IGN(W),   /* a result for the old process */
        [CR_SVE_READY_TIMEOUT]  = IGN(W),
        [CR_SVE_READY_LATE]     = IGN(W),
        [CR_SVE_STOP_TIMEOUT]   = IGN(W),
        [CR_SVE_RESTART_TIMER]  = GO(S, CR_SVA_SPAWN | CR_SVA_COUNT_RESTART),
        [CR_SVE_SHUTDOWN]       = GO(E, CR_SVA_CANCEL_RESTART),
    },
    [E] = {
        [CR_SVE_READY]          = IGN(E),
        [CR_SVE_READY_TIMEOUT]  = IGN(E),
        [CR_SVE_READY_LATE]     = IGN(E),
        [CR_SVE_STOP_TIMEOUT]   = IGN(E),
        [CR_SVE_RESTART_TIMER]  = IGN(E),
        [CR_SVE_SHUTDOWN]       = IGN(E),
    },
};
// clang-format on

#undef D
#undef S
#undef R
#undef P
#undef X
#undef Y
#undef W
#undef E

static int policy_wants(const cr_svc_fsm_ctx *c)
{
    return c->policy == CR_RESTART_ALWAYS ||
           (c->policy == CR_RESTART_ON_FAILURE && c->exit_failed);
}

/* The column the context selects for an event that depends on it. */
static cr_svc_event refine(cr_svc_state from, cr_svc_event ev,
                           const cr_svc_fsm_ctx *c)
{
    switch (ev) {
    case CR_SVE_EXIT:
        if (c->shutting_down)
            return CR_SVE_EXIT_FINAL;
        if (from == CR_SVC_STOPPING || from == CR_SVC_RESTARTING)
            return CR_SVE_EXIT; /* the end of a stop it was asked for */
        if (c->in_startup)
            return CR_SVE_EXIT_STARTUP;
        if (!policy_wants(c))
            return CR_SVE_EXIT_FINAL;
        if (c->max_restarts >= 0 && c->restarts >= c->max_restarts)
            return CR_SVE_EXIT_LIMIT;
        return CR_SVE_EXIT_POLICY;
    case CR_SVE_READY_TIMEOUT:
        return c->in_startup ? CR_SVE_READY_LATE : ev;
    case CR_SVE_FAULT_RESUME:
        if (from == CR_SVC_PAUSED)
            return c->ready ? CR_SVE_RESUME_READY : CR_SVE_RESUME_STARTING;
        return ev;
    case CR_SVE_RESTART_TIMER:
        /* A timer that outlived the start of the stop phase. */
        return c->shutting_down ? CR_SVE_SHUTDOWN : ev;
    default:
        return ev;
    }
}

int cr_svc_fsm_cell(cr_svc_state from, cr_svc_event ev, cr_svc_fsm_out *out)
{
    out->to = from;
    out->act = 0;
    out->ev = ev;
    if ((unsigned)from >= CR_SVC_NSTATES || (unsigned)ev >= CR_SVE_N)
        return CR_ESTATE;
    const cell *c = &table[from][ev];
    if (!c->ok)
        return CR_ESTATE;
    out->to = (cr_svc_state)c->to;
    out->act = c->act;
    return 0;
}

int cr_svc_fsm_step(cr_svc_state from, cr_svc_event ev,
                    const cr_svc_fsm_ctx *ctx, cr_svc_fsm_out *out)
{
    static const cr_svc_fsm_ctx none = {.max_restarts = -1};
    if (!ctx)
        ctx = &none;
    if ((unsigned)from < CR_SVC_NSTATES && (unsigned)ev < CR_SVE_N)
        ev = refine(from, ev, ctx);
    return cr_svc_fsm_cell(from, ev, out);
}

const char *cr_svc_state_name(cr_svc_state s)
{
    static const char *const n[CR_SVC_NSTATES] = {
        [CR_SVC_DOWN] = "down",
        [CR_SVC_STARTING] = "starting",
        [CR_SVC_RUNNING] = "running",
        [CR_SVC_PAUSED] = "paused",
        [CR_SVC_STOPPING] = "stopping",
        [CR_SVC_RESTARTING] = "restarting",
        [CR_SVC_WAIT_RESTART] = "waiting-restart",
        [CR_SVC_EXITED] = "exited",
    };
    return (unsigned)s < CR_SVC_NSTATES ? n[s] : "?";
}

const char *cr_svc_event_name(cr_svc_event e)
{
    static const char *const n[CR_SVE_N] = {
        [CR_SVE_START] = "start",
        [CR_SVE_SPAWN_FAILED] = "spawn-failed",
        [CR_SVE_READY] = "ready",
        [CR_SVE_READY_TIMEOUT] = "ready-timeout",
        [CR_SVE_EXIT] = "exit",
        [CR_SVE_STOP] = "stop",
        [CR_SVE_STOP_RESTART] = "stop-restart",
        [CR_SVE_STOP_TIMEOUT] = "stop-timeout",
        [CR_SVE_FAULT_KILL] = "fault-kill",
        [CR_SVE_FAULT_PAUSE] = "fault-pause",
        [CR_SVE_FAULT_RESUME] = "fault-resume",
        [CR_SVE_RESTART_TIMER] = "restart-timer",
        [CR_SVE_SHUTDOWN] = "shutdown",
        [CR_SVE_EXIT_FINAL] = "exit-final",
        [CR_SVE_EXIT_STARTUP] = "exit-startup",
        [CR_SVE_EXIT_POLICY] = "exit-policy",
        [CR_SVE_EXIT_LIMIT] = "exit-limit",
        [CR_SVE_READY_LATE] = "ready-late",
        [CR_SVE_RESUME_READY] = "resume-ready",
        [CR_SVE_RESUME_STARTING] = "resume-starting",
    };
    return (unsigned)e < CR_SVE_N ? n[e] : "?";
}

const char *cr_svc_action_name(unsigned bit)
{
    static const char *const n[CR_SVA_NBITS] = {
        "spawn",        "count-restart", "mark-ready",     "not-ready",
        "stop-signal",  "cont",          "arm-kill",       "kill",
        "cancel-kill",  "arm-restart",   "restart-now",    "cancel-restart",
        "record-cause", "limit",         "startup-failed",
    };
    for (unsigned i = 0; i < CR_SVA_NBITS; i++)
        if (bit == 1u << i)
            return n[i];
    return "?";
}

int cr_svc_state_live(cr_svc_state s)
{
    return s == CR_SVC_STARTING || s == CR_SVC_RUNNING || s == CR_SVC_PAUSED ||
           s == CR_SVC_STOPPING || s == CR_SVC_RESTARTING;
}
