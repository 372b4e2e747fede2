/* crp_supsm: see crp_supsm.h.  Every transition is in the table. */
#include "crp_supsm.h"

#include <sys/wait.h>

// clang-format off
#define T(state, action) {.to = (state), .act = (action), .defined = 1}
static const crp_sup_trans table[CRP_SUP_NSTATES][CRP_SUP_NEVENTS] = {
    [CRP_SUP_STARTING] = {
        [CRP_SUP_EV_START]         = T(CRP_SUP_RUNNING,  CRP_SUP_ACT_SPAWN),
        [CRP_SUP_EV_STOP]          = T(CRP_SUP_EXITED,   CRP_SUP_ACT_NONE),
    },
    [CRP_SUP_RUNNING] = {
        [CRP_SUP_EV_EXIT]          = T(CRP_SUP_EXITED,   CRP_SUP_ACT_NONE),
        [CRP_SUP_EV_CRASH]         = T(CRP_SUP_BACKOFF,  CRP_SUP_ACT_BACKOFF),
        [CRP_SUP_EV_CRASH_LIMIT]   = T(CRP_SUP_GAVE_UP,  CRP_SUP_ACT_ALERT),
        [CRP_SUP_EV_SCALE_DOWN]    = T(CRP_SUP_DRAINING, CRP_SUP_ACT_DRAIN),
        [CRP_SUP_EV_STOP]          = T(CRP_SUP_STOPPING, CRP_SUP_ACT_TERM),
    },
    [CRP_SUP_BACKOFF] = {
        [CRP_SUP_EV_RESTART_TIMER] = T(CRP_SUP_RUNNING,  CRP_SUP_ACT_RESPAWN),
        [CRP_SUP_EV_SCALE_DOWN]    = T(CRP_SUP_EXITED,   CRP_SUP_ACT_RETIRE),
        [CRP_SUP_EV_STOP]          = T(CRP_SUP_EXITED,   CRP_SUP_ACT_NONE),
    },
    /* a draining worker is already stopping gracefully: the supervisor's
     * own stop waits for it (bounded by the drain timeout) */
    [CRP_SUP_DRAINING] = {
        [CRP_SUP_EV_EXIT]          = T(CRP_SUP_EXITED,   CRP_SUP_ACT_DRAINED),
        [CRP_SUP_EV_CRASH]         = T(CRP_SUP_EXITED,   CRP_SUP_ACT_DRAINED),
        [CRP_SUP_EV_CRASH_LIMIT]   = T(CRP_SUP_EXITED,   CRP_SUP_ACT_DRAINED),
        [CRP_SUP_EV_DRAIN_TIMEOUT] = T(CRP_SUP_DRAINING, CRP_SUP_ACT_DRAIN_KILL),
    },
    [CRP_SUP_STOPPING] = {
        [CRP_SUP_EV_EXIT]          = T(CRP_SUP_EXITED,   CRP_SUP_ACT_NONE),
        [CRP_SUP_EV_CRASH]         = T(CRP_SUP_EXITED,   CRP_SUP_ACT_NONE),
        [CRP_SUP_EV_CRASH_LIMIT]   = T(CRP_SUP_EXITED,   CRP_SUP_ACT_NONE),
        [CRP_SUP_EV_STOP_TIMEOUT]  = T(CRP_SUP_STOPPING, CRP_SUP_ACT_KILL),
    },
    [CRP_SUP_GAVE_UP] = {{0}},
    [CRP_SUP_EXITED] = {{0}},
};
#undef T
// clang-format on

crp_sup_trans crp_supsm_step(crp_sup_state state, crp_sup_event ev)
{
    if ((unsigned)state >= CRP_SUP_NSTATES || (unsigned)ev >= CRP_SUP_NEVENTS)
        return (crp_sup_trans){.to = state};
    crp_sup_trans t = table[state][ev];
    if (!t.defined)
        t.to = state;
    return t;
}

crp_sup_event crp_supsm_exit_event(int st, int restarts, int restart_max)
{
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return CRP_SUP_EV_EXIT;
    return restarts >= restart_max ? CRP_SUP_EV_CRASH_LIMIT : CRP_SUP_EV_CRASH;
}

int crp_supsm_delay_ms(int base_ms, int restarts)
{
    long long d = (long long)base_ms << (restarts < 5 ? restarts : 5);
    return d > 5000 ? 5000 : (int)d;
}

int crp_supsm_serving(crp_sup_state s)
{
    return s == CRP_SUP_STARTING || s == CRP_SUP_RUNNING ||
           s == CRP_SUP_BACKOFF;
}

int crp_supsm_alive(crp_sup_state s)
{
    return s == CRP_SUP_RUNNING || s == CRP_SUP_DRAINING ||
           s == CRP_SUP_STOPPING;
}

const char *crp_supsm_state_name(crp_sup_state s)
{
    static const char *const n[CRP_SUP_NSTATES] = {
        [CRP_SUP_STARTING] = "starting", [CRP_SUP_RUNNING] = "running",
        [CRP_SUP_BACKOFF] = "backoff",   [CRP_SUP_DRAINING] = "draining",
        [CRP_SUP_STOPPING] = "stopping", [CRP_SUP_GAVE_UP] = "gave_up",
        [CRP_SUP_EXITED] = "exited",
    };
    return (unsigned)s < CRP_SUP_NSTATES ? n[s] : "?";
}

const char *crp_supsm_event_name(crp_sup_event e)
{
    static const char *const n[CRP_SUP_NEVENTS] = {
        [CRP_SUP_EV_START] = "start",
        [CRP_SUP_EV_EXIT] = "exit",
        [CRP_SUP_EV_CRASH] = "crash",
        [CRP_SUP_EV_CRASH_LIMIT] = "crash_limit",
        [CRP_SUP_EV_RESTART_TIMER] = "restart_timer",
        [CRP_SUP_EV_SCALE_DOWN] = "scale_down",
        [CRP_SUP_EV_DRAIN_TIMEOUT] = "drain_timeout",
        [CRP_SUP_EV_STOP] = "stop",
        [CRP_SUP_EV_STOP_TIMEOUT] = "stop_timeout",
    };
    return (unsigned)e < CRP_SUP_NEVENTS ? n[e] : "?";
}
