/* cr_svc_fsm: the supervision of one service replica as a state x event
 * table (as s6-supervise and the reference pipeline's breaker do it).
 *
 * A pure function: (state, event, context) -> (new state, actions).  It
 * starts nothing and sends no signal; the engine (cr_supervise.c) feeds it
 * what happened or what is asked, takes the new state and carries out the
 * actions, in the order of their bits.  Every transition is in one table in
 * cr_svc_fsm.c; tests/test_svc_fsm.c checks every cell.
 *
 *   down --start--> starting --ready--> running
 *   starting|running --fault-pause--> paused --fault-resume--> back
 *   starting|running|paused --stop--> stopping --exit--> exited
 *   starting|running|paused --stop-restart--> restarting --exit-->
 *       waiting-restart --restart-timer--> starting
 *   starting|running|paused --exit--> waiting-restart (restart policy),
 *       or exited (no policy, limit reached, start-up, shutdown)
 *   stopping|restarting --stop-timeout--> (same, SIGKILL)
 *   any live state --shutdown--> stopping; waiting-restart --shutdown-->
 *       exited
 *
 * Events that make no sense in a state come in two kinds: harmless ones
 * (a stale timer, a readiness result after the process exited, a second
 * pause) are IGNORED -- accepted, no change, no action; requests that
 * cannot be honoured (stop or pause what does not run, start what runs, an
 * exit of nothing) are REFUSED: cr_svc_fsm_step returns CR_ESTATE and the
 * caller reports it (a fault then fails with that reason). */
#ifndef CR_SVC_FSM_H
#define CR_SVC_FSM_H

typedef enum cr_svc_state {
    CR_SVC_DOWN,         /* not started yet (before its turn in start-up) */
    CR_SVC_STARTING,     /* running; its readiness check has not passed */
    CR_SVC_RUNNING,      /* running and ready */
    CR_SVC_PAUSED,       /* frozen by a fault (SIGSTOP) */
    CR_SVC_STOPPING,     /* stop signal sent; SIGKILL at the deadline */
    CR_SVC_RESTARTING,   /* the same, and started again once it exited */
    CR_SVC_WAIT_RESTART, /* exited; a restart timer runs */
    CR_SVC_EXITED,       /* exited, not coming back in this run */
    CR_SVC_NSTATES
} cr_svc_state;

typedef enum cr_svc_event {
    /* What the engine feeds. */
    CR_SVE_START,         /* first start, in start-up order */
    CR_SVE_SPAWN_FAILED,  /* a start or restart could not exec */
    CR_SVE_READY,         /* the readiness check passed */
    CR_SVE_READY_TIMEOUT, /* ... not within ready.timeout_s */
    CR_SVE_EXIT,          /* the process exited (reaped) */
    CR_SVE_STOP,          /* a fault stops it (terminate) */
    CR_SVE_STOP_RESTART,  /* a fault stops it and starts it again (restart) */
    CR_SVE_STOP_TIMEOUT,  /* the stop deadline passed */
    CR_SVE_FAULT_KILL,    /* a fault sent a signal that may end it */
    CR_SVE_FAULT_PAUSE,   /* a fault froze it (SIGSTOP) */
    CR_SVE_FAULT_RESUME,  /* ... and lets it continue (SIGCONT) */
    CR_SVE_RESTART_TIMER, /* the restart delay elapsed */
    CR_SVE_SHUTDOWN,      /* the run ends and it is this service's turn */
    /* What cr_svc_fsm_step refines them into with the context (the table
     * has a column for each; they may also be fed directly). */
    CR_SVE_EXIT_FINAL,      /* exit, nothing starts it again */
    CR_SVE_EXIT_STARTUP,    /* exit while the run starts its services */
    CR_SVE_EXIT_POLICY,     /* exit, the restart policy starts it again */
    CR_SVE_EXIT_LIMIT,      /* ... would, but max_restarts is reached */
    CR_SVE_READY_LATE,      /* readiness timeout during start-up */
    CR_SVE_RESUME_READY,    /* resume of a replica that had become ready */
    CR_SVE_RESUME_STARTING, /* resume of one that had not */
    CR_SVE_N
} cr_svc_event;

/* Actions, carried out in the order of their bits. */
enum {
    CR_SVA_SPAWN = 1u << 0,         /* start the program, watch readiness */
    CR_SVA_COUNT_RESTART = 1u << 1, /* (after a successful spawn) */
    CR_SVA_MARK_READY = 1u << 2,    /* it is ready: record, go on */
    CR_SVA_NOT_READY = 1u << 3,     /* report: not ready in time */
    CR_SVA_STOP_SIGNAL = 1u << 4,   /* send the stop signal to its group */
    CR_SVA_CONT = 1u << 5,          /* SIGCONT (after the stop signal: a
                                       frozen process cannot handle it) */
    CR_SVA_ARM_KILL = 1u << 6,      /* SIGKILL at the stop deadline */
    CR_SVA_KILL = 1u << 7,          /* SIGKILL now */
    CR_SVA_CANCEL_KILL = 1u << 8,   /* the stop deadline no longer matters */
    CR_SVA_ARM_RESTART = 1u << 9,   /* restart after restart_delay_s */
    CR_SVA_RESTART_NOW = 1u << 10,  /* restart at once (restart fault) */
    CR_SVA_CANCEL_RESTART = 1u << 11,
    CR_SVA_RECORD_CAUSE = 1u << 12,   /* its next exit is the fault's doing */
    CR_SVA_LIMIT = 1u << 13,          /* report: restart limit reached */
    CR_SVA_STARTUP_FAILED = 1u << 14, /* the run's start-up failed */
    CR_SVA_NBITS = 15
};

/* The facts the refinement needs; the table itself needs none. */
typedef struct cr_svc_fsm_ctx {
    int ready;         /* the readiness check passed since the last start */
    int in_startup;    /* the run is starting its services */
    int shutting_down; /* the run's stop phase has begun */
    int exit_failed;   /* EXIT: ended by a signal or a non-zero status */
    int policy;        /* CR_RESTART_NEVER, _ON_FAILURE or _ALWAYS */
    int restarts;      /* restarts of this replica so far */
    int max_restarts;  /* -1: unlimited */
} cr_svc_fsm_ctx;

typedef struct cr_svc_fsm_out {
    cr_svc_state to;
    unsigned act;    /* CR_SVA_* */
    cr_svc_event ev; /* the event as refined */
} cr_svc_fsm_out;

/* One step.  Returns 0 with *out filled (out->to == from and act == 0 for
 * an ignored event), or CR_ESTATE for a refused one (*out: from, no
 * action).  ctx may be NULL (all zero: no policy, not ready). */
int cr_svc_fsm_step(cr_svc_state from, cr_svc_event ev,
                    const cr_svc_fsm_ctx *ctx, cr_svc_fsm_out *out);

/* The table's cell itself, without refinement: 0 with *out filled, or
 * CR_ESTATE for a refused cell (for tests and documentation). */
int cr_svc_fsm_cell(cr_svc_state from, cr_svc_event ev, cr_svc_fsm_out *out);

/* "waiting-restart", "fault-pause", "stop-signal": for logs and tests;
 * "?" when out of range.  For actions: the name of one bit. */
const char *cr_svc_state_name(cr_svc_state s);
const char *cr_svc_event_name(cr_svc_event e);
const char *cr_svc_action_name(unsigned bit);
/* The process runs (starting, running, paused, stopping, restarting). */
int cr_svc_state_live(cr_svc_state s);

#endif
