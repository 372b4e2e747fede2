// clang-format off
/* crp_supsm: the supervisor's state machine for one child process, as a
 * state x event table (like crp_breaker.c, like s6-supervise).  Pure: no
 * process, no clock; crp_super.c turns events into calls of
 * crp_supsm_step and carries out the action each transition names.
 *
 *   starting  --start-->            running    (spawn)
 *   running   --exit (status 0)-->  exited
 *   running   --crash-->            backoff    (schedule the restart)
 *   running   --crash, no restarts left--> gave_up (crash-loop alert)
 *   backoff   --restart-timer-->    running    (spawn again, `restarted`)
 *   running   --scale-down-->       draining   (SIGTERM: finish or hand back)
 *   backoff   --scale-down-->       exited     (nothing to stop: retire)
 *   draining  --drain-timeout-->    draining   (SIGKILL)
 *   draining  --any exit-->         exited     (`drained`, retire)
 *   draining  --stop-->             draining   (already stopping: waited for)
 *   running   --stop-->             stopping   (SIGTERM: graceful stop)
 *   stopping  --stop-timeout-->     stopping   (SIGKILL)
 *   stopping  --any exit-->         exited
 *
 * Every other (state, event) pair is ignored: it leaves the state as it
 * is and does nothing (e.g. a restart timer that fires after a stop). */
// clang-format on
#ifndef CRP_SUPSM_H
#define CRP_SUPSM_H

typedef enum crp_sup_state {
    CRP_SUP_STARTING, /* slot created, never started */
    CRP_SUP_RUNNING,  /* a process is alive */
    CRP_SUP_BACKOFF,  /* crashed; waiting for the restart timer */
    CRP_SUP_DRAINING, /* retired by a scale-down; waiting for its exit */
    CRP_SUP_STOPPING, /* supervisor shutting down; waiting for its exit */
    CRP_SUP_GAVE_UP,  /* crashed too often: not restarted (alert fired) */
    CRP_SUP_EXITED,   /* ended: exited cleanly, drained or stopped */
    CRP_SUP_NSTATES
} crp_sup_state;

typedef enum crp_sup_event {
    CRP_SUP_EV_START,         /* first start of the slot */
    CRP_SUP_EV_EXIT,          /* the process exited with status 0 */
    CRP_SUP_EV_CRASH,         /* exited otherwise (signal, status != 0,
                                 exec failed), restarts left */
    CRP_SUP_EV_CRASH_LIMIT,   /* the same with no restart left */
    CRP_SUP_EV_RESTART_TIMER, /* the backoff delay is over */
    CRP_SUP_EV_SCALE_DOWN,    /* the autoscaler retires this worker */
    CRP_SUP_EV_DRAIN_TIMEOUT, /* drain-timeout-ms after the scale-down */
    CRP_SUP_EV_STOP,          /* the supervisor shuts down */
    CRP_SUP_EV_STOP_TIMEOUT,  /* still alive 10 s after the stop */
    CRP_SUP_NEVENTS
} crp_sup_event;

typedef enum crp_sup_action {
    CRP_SUP_ACT_NONE,
    CRP_SUP_ACT_SPAWN,      /* start the process */
    CRP_SUP_ACT_RESPAWN,    /* start it again: restarts + 1, `restarted` */
    CRP_SUP_ACT_BACKOFF,    /* arm the restart timer (crp_supsm_delay_ms) */
    CRP_SUP_ACT_ALERT,      /* `alert` <inst>_crashloop firing */
    CRP_SUP_ACT_DRAIN,      /* SIGTERM, arm the drain timer */
    CRP_SUP_ACT_DRAIN_KILL, /* SIGKILL a worker that did not drain */
    CRP_SUP_ACT_DRAINED,    /* `drained` {graceful}; free the slot */
    CRP_SUP_ACT_RETIRE,     /* free the slot (nothing was running) */
    CRP_SUP_ACT_TERM,       /* SIGTERM, arm the stop timer */
    CRP_SUP_ACT_KILL,       /* SIGKILL a stage that did not stop */
    CRP_SUP_NACTIONS
} crp_sup_action;

typedef struct crp_sup_trans {
    crp_sup_state to;
    crp_sup_action act;
    int defined; /* 0: the event is ignored in this state */
} crp_sup_trans;

/* The transition of state on ev (table lookup; out-of-range values give
 * an undefined transition). */
crp_sup_trans crp_supsm_step(crp_sup_state state, crp_sup_event ev);

/* The event for an exit with wait status st of a child that has been
 * restarted `restarts` times, at most restart_max allowed. */
crp_sup_event crp_supsm_exit_event(int st, int restarts, int restart_max);

/* The restart delay after the crash of a child restarted `restarts`
 * times so far: base_ms doubled per restart (at most 5 doublings), capped
 * at 5000 ms. */
int crp_supsm_delay_ms(int base_ms, int restarts);

/* 1 when a worker in this state counts as serving (the autoscaler's
 * current count, the scale-down candidates): starting, running, or
 * waiting for its restart. */
int crp_supsm_serving(crp_sup_state s);
/* 1 when a process may be alive in this state. */
int crp_supsm_alive(crp_sup_state s);

const char *crp_supsm_state_name(crp_sup_state s);
const char *crp_supsm_event_name(crp_sup_event e);

#endif
