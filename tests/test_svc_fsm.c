/* Tests for cr_svc_fsm, the supervision table, without any process:
 * every cell of the table against the specification below (moves, ignored
 * events, everything else refused), the refinement of exits, readiness
 * timeouts, resumes and late restart timers by the context, walks through
 * whole lives of a replica, and the names. */
#include <string.h>

#include "base/cr_err.h"
#include "engine/cr_svc_fsm.h"
#include "scenario/cr_scen.h"
#include "cr_test.h"

#define D CR_SVC_DOWN
#define S CR_SVC_STARTING
#define R CR_SVC_RUNNING
#define P CR_SVC_PAUSED
#define X CR_SVC_STOPPING
#define Y CR_SVC_RESTARTING
#define W CR_SVC_WAIT_RESTART
#define E CR_SVC_EXITED

#define STOP_LIVE   (CR_SVA_STOP_SIGNAL | CR_SVA_ARM_KILL)
#define STOP_PAUSED (CR_SVA_STOP_SIGNAL | CR_SVA_CONT | CR_SVA_ARM_KILL)

/* The specification: every accepted cell.  A cell not listed is refused;
 * one listed with to == from and no action is an ignored event. */
typedef struct spec {
    cr_svc_state from;
    cr_svc_event ev;
    cr_svc_state to;
    unsigned act;
} spec;

static const spec moves[] = {
    /* start-up and readiness */
    {D, CR_SVE_START, S, CR_SVA_SPAWN},
    {S, CR_SVE_SPAWN_FAILED, E, 0},
    {S, CR_SVE_READY, R, CR_SVA_MARK_READY},
    {S, CR_SVE_READY_TIMEOUT, S, CR_SVA_NOT_READY},
    {S, CR_SVE_READY_LATE, S, CR_SVA_STARTUP_FAILED},
    {P, CR_SVE_READY, P, CR_SVA_MARK_READY},
    {P, CR_SVE_READY_LATE, P, CR_SVA_STARTUP_FAILED},
    /* exits of a live replica */
    {S, CR_SVE_EXIT_FINAL, E, 0},
    {R, CR_SVE_EXIT_FINAL, E, 0},
    {P, CR_SVE_EXIT_FINAL, E, 0},
    {S, CR_SVE_EXIT_STARTUP, E, CR_SVA_STARTUP_FAILED},
    {R, CR_SVE_EXIT_STARTUP, E, CR_SVA_STARTUP_FAILED},
    {P, CR_SVE_EXIT_STARTUP, E, CR_SVA_STARTUP_FAILED},
    {S, CR_SVE_EXIT_POLICY, W, CR_SVA_ARM_RESTART},
    {R, CR_SVE_EXIT_POLICY, W, CR_SVA_ARM_RESTART},
    {P, CR_SVE_EXIT_POLICY, W, CR_SVA_ARM_RESTART},
    {S, CR_SVE_EXIT_LIMIT, E, CR_SVA_LIMIT},
    {R, CR_SVE_EXIT_LIMIT, E, CR_SVA_LIMIT},
    {P, CR_SVE_EXIT_LIMIT, E, CR_SVA_LIMIT},
    /* stops asked by faults */
    {S, CR_SVE_STOP, X, STOP_LIVE},
    {R, CR_SVE_STOP, X, STOP_LIVE},
    {P, CR_SVE_STOP, X, STOP_PAUSED},
    {X, CR_SVE_STOP, X, CR_SVA_STOP_SIGNAL},
    {Y, CR_SVE_STOP, X, CR_SVA_STOP_SIGNAL},
    {S, CR_SVE_STOP_RESTART, Y, STOP_LIVE},
    {R, CR_SVE_STOP_RESTART, Y, STOP_LIVE},
    {P, CR_SVE_STOP_RESTART, Y, STOP_PAUSED},
    {X, CR_SVE_STOP_RESTART, Y, CR_SVA_STOP_SIGNAL},
    {Y, CR_SVE_STOP_RESTART, Y, CR_SVA_STOP_SIGNAL},
    {X, CR_SVE_STOP_TIMEOUT, X, CR_SVA_KILL},
    {Y, CR_SVE_STOP_TIMEOUT, Y, CR_SVA_KILL},
    {X, CR_SVE_EXIT, E, CR_SVA_CANCEL_KILL},
    {X, CR_SVE_EXIT_FINAL, E, CR_SVA_CANCEL_KILL},
    {Y, CR_SVE_EXIT, W, CR_SVA_CANCEL_KILL | CR_SVA_RESTART_NOW},
    {Y, CR_SVE_EXIT_FINAL, E, CR_SVA_CANCEL_KILL},
    /* signals of faults */
    {S, CR_SVE_FAULT_KILL, S, CR_SVA_RECORD_CAUSE},
    {R, CR_SVE_FAULT_KILL, R, CR_SVA_RECORD_CAUSE},
    {P, CR_SVE_FAULT_KILL, P, CR_SVA_RECORD_CAUSE},
    {S, CR_SVE_FAULT_PAUSE, P, 0},
    {R, CR_SVE_FAULT_PAUSE, P, 0},
    {P, CR_SVE_RESUME_READY, R, 0},
    {P, CR_SVE_RESUME_STARTING, S, 0},
    /* restarts */
    {W, CR_SVE_RESTART_TIMER, S, CR_SVA_SPAWN | CR_SVA_COUNT_RESTART},
    /* the end of the run */
    {S, CR_SVE_SHUTDOWN, X, STOP_LIVE},
    {R, CR_SVE_SHUTDOWN, X, STOP_LIVE},
    {P, CR_SVE_SHUTDOWN, X, STOP_PAUSED},
    {Y, CR_SVE_SHUTDOWN, X, 0},
    {W, CR_SVE_SHUTDOWN, E, CR_SVA_CANCEL_RESTART},
};

/* Ignored: accepted, nothing happens (stale timers and results, repeats,
 * SIGCONT to what runs, a stop of what already stops). */
typedef struct cellref {
    cr_svc_state from;
    cr_svc_event ev;
} cellref;

static const cellref ignored[] = {
    {D, CR_SVE_READY},           {D, CR_SVE_READY_TIMEOUT},
    {D, CR_SVE_READY_LATE},      {D, CR_SVE_STOP_TIMEOUT},
    {D, CR_SVE_RESTART_TIMER},   {D, CR_SVE_SHUTDOWN},
    {S, CR_SVE_STOP_TIMEOUT},    {S, CR_SVE_FAULT_RESUME},
    {S, CR_SVE_RESUME_READY},    {S, CR_SVE_RESUME_STARTING},
    {S, CR_SVE_RESTART_TIMER},   {R, CR_SVE_READY},
    {R, CR_SVE_READY_TIMEOUT},   {R, CR_SVE_READY_LATE},
    {R, CR_SVE_STOP_TIMEOUT},    {R, CR_SVE_FAULT_RESUME},
    {R, CR_SVE_RESUME_READY},    {R, CR_SVE_RESUME_STARTING},
    {R, CR_SVE_RESTART_TIMER},   {P, CR_SVE_READY_TIMEOUT},
    {P, CR_SVE_STOP_TIMEOUT},    {P, CR_SVE_FAULT_PAUSE},
    {P, CR_SVE_RESTART_TIMER},   {X, CR_SVE_READY},
    {X, CR_SVE_READY_TIMEOUT},   {X, CR_SVE_READY_LATE},
    {X, CR_SVE_FAULT_KILL},      {X, CR_SVE_FAULT_RESUME},
    {X, CR_SVE_RESUME_READY},    {X, CR_SVE_RESUME_STARTING},
    {X, CR_SVE_RESTART_TIMER},   {X, CR_SVE_SHUTDOWN},
    {Y, CR_SVE_READY},           {Y, CR_SVE_READY_TIMEOUT},
    {Y, CR_SVE_READY_LATE},      {Y, CR_SVE_FAULT_KILL},
    {Y, CR_SVE_FAULT_RESUME},    {Y, CR_SVE_RESUME_READY},
    {Y, CR_SVE_RESUME_STARTING}, {Y, CR_SVE_RESTART_TIMER},
    {W, CR_SVE_READY},           {W, CR_SVE_READY_TIMEOUT},
    {W, CR_SVE_READY_LATE},      {W, CR_SVE_STOP_TIMEOUT},
    {E, CR_SVE_READY},           {E, CR_SVE_READY_TIMEOUT},
    {E, CR_SVE_READY_LATE},      {E, CR_SVE_STOP_TIMEOUT},
    {E, CR_SVE_RESTART_TIMER},   {E, CR_SVE_SHUTDOWN},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_svc_fsm_every_cell(void)
{
    int accepted = 0, refused = 0;
    for (int s = 0; s < CR_SVC_NSTATES; s++) {
        for (int e = 0; e < CR_SVE_N; e++) {
            const spec *m = NULL;
            int ign = 0;
            for (size_t k = 0; k < N(moves); k++)
                if (moves[k].from == (cr_svc_state)s &&
                    moves[k].ev == (cr_svc_event)e)
                    m = &moves[k];
            for (size_t k = 0; k < N(ignored); k++)
                if (ignored[k].from == (cr_svc_state)s &&
                    ignored[k].ev == (cr_svc_event)e)
                    ign++;
            CU_ASSERT(!(m && ign)); /* the specification is consistent */
            cr_svc_fsm_out out;
            int rc = cr_svc_fsm_cell((cr_svc_state)s, (cr_svc_event)e, &out);
            if (m) {
                if (rc != 0 || out.to != m->to || out.act != m->act)
                    fprintf(stderr, "\n  cell %s x %s: got %s %s/0x%x\n",
                            cr_svc_state_name(s), cr_svc_event_name(e),
                            rc ? "refused" : "->", cr_svc_state_name(out.to),
                            out.act);
                CU_ASSERT_EQUAL(rc, 0);
                CU_ASSERT_EQUAL(out.to, m->to);
                CU_ASSERT_EQUAL(out.act, m->act);
                accepted++;
            } else if (ign) {
                if (rc != 0 || out.to != (cr_svc_state)s || out.act)
                    fprintf(stderr, "\n  cell %s x %s: not ignored\n",
                            cr_svc_state_name(s), cr_svc_event_name(e));
                CU_ASSERT_EQUAL(rc, 0);
                CU_ASSERT_EQUAL(out.to, (cr_svc_state)s);
                CU_ASSERT_EQUAL(out.act, 0);
                accepted++;
            } else {
                if (rc != CR_ESTATE)
                    fprintf(stderr, "\n  cell %s x %s: not refused\n",
                            cr_svc_state_name(s), cr_svc_event_name(e));
                CU_ASSERT_EQUAL(rc, CR_ESTATE);
                /* A refusal changes nothing. */
                CU_ASSERT_EQUAL(out.to, (cr_svc_state)s);
                CU_ASSERT_EQUAL(out.act, 0);
                refused++;
            }
        }
    }
    CU_ASSERT_EQUAL(accepted, (int)(N(moves) + N(ignored)));
    CU_ASSERT_EQUAL(accepted + refused, CR_SVC_NSTATES * CR_SVE_N);
}

/* Requests that cannot be honoured, as the engine feeds them. */
static void test_svc_fsm_refusals(void)
{
    static const struct {
        cr_svc_state from;
        cr_svc_event ev;
    } r[] = {
        {R, CR_SVE_START},        {E, CR_SVE_START},
        {W, CR_SVE_STOP},         {E, CR_SVE_STOP},
        {D, CR_SVE_STOP},         {W, CR_SVE_STOP_RESTART},
        {E, CR_SVE_FAULT_KILL},   {W, CR_SVE_FAULT_PAUSE},
        {X, CR_SVE_FAULT_PAUSE},  {Y, CR_SVE_FAULT_PAUSE},
        {E, CR_SVE_EXIT},         {W, CR_SVE_EXIT},
        {D, CR_SVE_EXIT},         {R, CR_SVE_SPAWN_FAILED},
        {E, CR_SVE_FAULT_RESUME},
    };
    cr_svc_fsm_ctx c = {.max_restarts = -1, .policy = CR_RESTART_ALWAYS};
    for (size_t k = 0; k < N(r); k++) {
        cr_svc_fsm_out out;
        CU_ASSERT_EQUAL(cr_svc_fsm_step(r[k].from, r[k].ev, &c, &out),
                        CR_ESTATE);
        CU_ASSERT_EQUAL(out.to, r[k].from);
        CU_ASSERT_EQUAL(out.act, 0);
    }
    cr_svc_fsm_out out;
    CU_ASSERT_EQUAL(cr_svc_fsm_step(CR_SVC_NSTATES, CR_SVE_START, NULL, &out),
                    CR_ESTATE);
    CU_ASSERT_EQUAL(cr_svc_fsm_step(D, CR_SVE_N, NULL, &out), CR_ESTATE);
}

static cr_svc_event refined(cr_svc_state from, cr_svc_event ev,
                            const cr_svc_fsm_ctx *c)
{
    cr_svc_fsm_out out;
    cr_svc_fsm_step(from, ev, c, &out);
    return out.ev;
}

static void test_svc_fsm_refine_exit(void)
{
    cr_svc_fsm_ctx c = {.max_restarts = -1};
    /* No policy: the exit is final. */
    c.policy = CR_RESTART_NEVER;
    CU_ASSERT_EQUAL(refined(R, CR_SVE_EXIT, &c), CR_SVE_EXIT_FINAL);
    /* on-failure: only a failed exit restarts. */
    c.policy = CR_RESTART_ON_FAILURE;
    CU_ASSERT_EQUAL(refined(R, CR_SVE_EXIT, &c), CR_SVE_EXIT_FINAL);
    c.exit_failed = 1;
    CU_ASSERT_EQUAL(refined(R, CR_SVE_EXIT, &c), CR_SVE_EXIT_POLICY);
    CU_ASSERT_EQUAL(refined(S, CR_SVE_EXIT, &c), CR_SVE_EXIT_POLICY);
    CU_ASSERT_EQUAL(refined(P, CR_SVE_EXIT, &c), CR_SVE_EXIT_POLICY);
    /* always: a clean exit restarts too. */
    c.policy = CR_RESTART_ALWAYS;
    c.exit_failed = 0;
    CU_ASSERT_EQUAL(refined(R, CR_SVE_EXIT, &c), CR_SVE_EXIT_POLICY);
    /* The limit: restarts so far against max_restarts (-1 unlimited). */
    c.max_restarts = 3;
    c.restarts = 2;
    CU_ASSERT_EQUAL(refined(R, CR_SVE_EXIT, &c), CR_SVE_EXIT_POLICY);
    c.restarts = 3;
    CU_ASSERT_EQUAL(refined(R, CR_SVE_EXIT, &c), CR_SVE_EXIT_LIMIT);
    c.max_restarts = 0;
    c.restarts = 0;
    CU_ASSERT_EQUAL(refined(R, CR_SVE_EXIT, &c), CR_SVE_EXIT_LIMIT);
    c.max_restarts = -1;
    c.restarts = 1000;
    CU_ASSERT_EQUAL(refined(R, CR_SVE_EXIT, &c), CR_SVE_EXIT_POLICY);
    /* During start-up an exit fails the run, whatever the policy. */
    c.in_startup = 1;
    CU_ASSERT_EQUAL(refined(S, CR_SVE_EXIT, &c), CR_SVE_EXIT_STARTUP);
    /* The end of a stop that was asked for: no policy. */
    c.in_startup = 0;
    CU_ASSERT_EQUAL(refined(X, CR_SVE_EXIT, &c), CR_SVE_EXIT);
    CU_ASSERT_EQUAL(refined(Y, CR_SVE_EXIT, &c), CR_SVE_EXIT);
    /* Once the run stops, nothing starts again: not even a restart fault
     * in flight, nor the policy. */
    c.shutting_down = 1;
    CU_ASSERT_EQUAL(refined(R, CR_SVE_EXIT, &c), CR_SVE_EXIT_FINAL);
    CU_ASSERT_EQUAL(refined(Y, CR_SVE_EXIT, &c), CR_SVE_EXIT_FINAL);
    cr_svc_fsm_out out;
    CU_ASSERT_EQUAL(cr_svc_fsm_step(Y, CR_SVE_EXIT, &c, &out), 0);
    CU_ASSERT_EQUAL(out.to, E);
}

static void test_svc_fsm_refine_others(void)
{
    cr_svc_fsm_ctx c = {.max_restarts = -1};
    CU_ASSERT_EQUAL(refined(S, CR_SVE_READY_TIMEOUT, &c), CR_SVE_READY_TIMEOUT);
    c.in_startup = 1;
    CU_ASSERT_EQUAL(refined(S, CR_SVE_READY_TIMEOUT, &c), CR_SVE_READY_LATE);
    c.in_startup = 0;
    /* A resume goes back to where the pause found it. */
    CU_ASSERT_EQUAL(refined(P, CR_SVE_FAULT_RESUME, &c),
                    CR_SVE_RESUME_STARTING);
    c.ready = 1;
    CU_ASSERT_EQUAL(refined(P, CR_SVE_FAULT_RESUME, &c), CR_SVE_RESUME_READY);
    CU_ASSERT_EQUAL(refined(R, CR_SVE_FAULT_RESUME, &c), CR_SVE_FAULT_RESUME);
    /* A restart timer after the stop phase began ends the replica. */
    c.shutting_down = 1;
    cr_svc_fsm_out out;
    CU_ASSERT_EQUAL(cr_svc_fsm_step(W, CR_SVE_RESTART_TIMER, &c, &out), 0);
    CU_ASSERT_EQUAL(out.to, E);
    CU_ASSERT_EQUAL(out.act, CR_SVA_CANCEL_RESTART);
}

/* Feed a sequence of events, checking each state reached. */
typedef struct step {
    cr_svc_event ev;
    cr_svc_state to;
    unsigned act;
} step;

static void walk(const char *what, cr_svc_fsm_ctx *c, const step *v, size_t n)
{
    cr_svc_state s = D;
    for (size_t i = 0; i < n; i++) {
        cr_svc_fsm_out out;
        int rc = cr_svc_fsm_step(s, v[i].ev, c, &out);
        if (rc || out.to != v[i].to || out.act != v[i].act)
            fprintf(stderr, "\n  %s, step %zu (%s in %s): got %s/0x%x\n", what,
                    i, cr_svc_event_name(v[i].ev), cr_svc_state_name(s),
                    cr_svc_state_name(out.to), out.act);
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_EQUAL(out.to, v[i].to);
        CU_ASSERT_EQUAL(out.act, v[i].act);
        s = out.to;
        /* What the engine keeps in the context. */
        if (out.act & CR_SVA_MARK_READY)
            c->ready = 1;
        if (out.act & CR_SVA_SPAWN)
            c->ready = 0;
        if (out.act & CR_SVA_COUNT_RESTART)
            c->restarts++;
    }
}

static void test_svc_fsm_walk_crash_restart_limit(void)
{
    cr_svc_fsm_ctx c = {.policy = CR_RESTART_ON_FAILURE, .max_restarts = 1};
    const step v[] = {
        {CR_SVE_START, S, CR_SVA_SPAWN},
        {CR_SVE_READY, R, CR_SVA_MARK_READY},
        {CR_SVE_FAULT_KILL, R, CR_SVA_RECORD_CAUSE},
        {CR_SVE_EXIT, W, CR_SVA_ARM_RESTART},
        {CR_SVE_RESTART_TIMER, S, CR_SVA_SPAWN | CR_SVA_COUNT_RESTART},
        {CR_SVE_READY, R, CR_SVA_MARK_READY},
        {CR_SVE_EXIT, E, CR_SVA_LIMIT}, /* the second crash: limit 1 */
        {CR_SVE_SHUTDOWN, E, 0},
    };
    c.exit_failed = 1;
    walk("crash, restart, limit", &c, v, N(v));
    CU_ASSERT_EQUAL(c.restarts, 1);
}

static void test_svc_fsm_walk_restart_fault(void)
{
    cr_svc_fsm_ctx c = {.policy = CR_RESTART_NEVER, .max_restarts = -1};
    const step v[] = {
        {CR_SVE_START, S, CR_SVA_SPAWN},
        {CR_SVE_READY, R, CR_SVA_MARK_READY},
        {CR_SVE_STOP_RESTART, Y, STOP_LIVE},
        {CR_SVE_STOP_TIMEOUT, Y, CR_SVA_KILL},
        {CR_SVE_EXIT, W, CR_SVA_CANCEL_KILL | CR_SVA_RESTART_NOW},
        {CR_SVE_RESTART_TIMER, S, CR_SVA_SPAWN | CR_SVA_COUNT_RESTART},
        {CR_SVE_READY, R, CR_SVA_MARK_READY},
        /* then a terminate fault: it stays down */
        {CR_SVE_STOP, X, STOP_LIVE},
        {CR_SVE_EXIT, E, CR_SVA_CANCEL_KILL},
    };
    walk("restart fault, then terminate", &c, v, N(v));
}

static void test_svc_fsm_walk_terminate_with_policy(void)
{
    /* A terminate fault's stop is not a crash: "always" does not apply. */
    cr_svc_fsm_ctx c = {.policy = CR_RESTART_ALWAYS, .max_restarts = -1};
    const step v[] = {
        {CR_SVE_START, S, CR_SVA_SPAWN},
        {CR_SVE_STOP, X, STOP_LIVE},
        {CR_SVE_EXIT, E, CR_SVA_CANCEL_KILL},
    };
    walk("terminate with restart always", &c, v, N(v));
}

static void test_svc_fsm_walk_pause(void)
{
    cr_svc_fsm_ctx c = {.max_restarts = -1};
    const step v[] = {
        {CR_SVE_START, S, CR_SVA_SPAWN},
        {CR_SVE_FAULT_PAUSE, P, 0},
        {CR_SVE_READY, P, CR_SVA_MARK_READY}, /* result in flight */
        {CR_SVE_FAULT_RESUME, R, 0},          /* ready: back to running */
        {CR_SVE_FAULT_PAUSE, P, 0},
        {CR_SVE_FAULT_PAUSE, P, 0}, /* a second pause fault */
        {CR_SVE_SHUTDOWN, X, STOP_PAUSED},
        {CR_SVE_FAULT_RESUME, X, 0}, /* the pause's revert comes late */
        {CR_SVE_EXIT, E, CR_SVA_CANCEL_KILL},
    };
    walk("pause", &c, v, N(v));
    /* Paused before it was ready: back to starting. */
    cr_svc_fsm_ctx c2 = {.max_restarts = -1};
    const step v2[] = {
        {CR_SVE_START, S, CR_SVA_SPAWN},
        {CR_SVE_FAULT_PAUSE, P, 0},
        {CR_SVE_FAULT_RESUME, S, 0},
        {CR_SVE_READY, R, CR_SVA_MARK_READY},
    };
    walk("pause while starting", &c2, v2, N(v2));
}

static void test_svc_fsm_walk_shutdown(void)
{
    cr_svc_fsm_ctx c = {.policy = CR_RESTART_ALWAYS, .max_restarts = -1};
    /* A replica waiting for its restart when the run ends. */
    const step v[] = {
        {CR_SVE_START, S, CR_SVA_SPAWN},
        {CR_SVE_EXIT, W, CR_SVA_ARM_RESTART},
        {CR_SVE_SHUTDOWN, E, CR_SVA_CANCEL_RESTART},
    };
    walk("shutdown while waiting for a restart", &c, v, N(v));
    /* A restart fault in flight when the run ends: no restart. */
    cr_svc_fsm_ctx c2 = {.max_restarts = -1};
    const step v2[] = {
        {CR_SVE_START, S, CR_SVA_SPAWN},
        {CR_SVE_READY, R, CR_SVA_MARK_READY},
        {CR_SVE_STOP_RESTART, Y, STOP_LIVE},
        {CR_SVE_SHUTDOWN, X, 0},
        {CR_SVE_STOP_TIMEOUT, X, CR_SVA_KILL},
        {CR_SVE_EXIT, E, CR_SVA_CANCEL_KILL},
    };
    walk("shutdown during a restart fault", &c2, v2, N(v2));
    /* A replica that exits by itself before its turn to be stopped. */
    cr_svc_fsm_ctx c3 = {.policy = CR_RESTART_ALWAYS, .max_restarts = -1};
    const step v3[] = {
        {CR_SVE_START, S, CR_SVA_SPAWN},
        {CR_SVE_READY, R, CR_SVA_MARK_READY},
    };
    walk("start", &c3, v3, N(v3));
    c3.shutting_down = 1;
    cr_svc_fsm_out out;
    CU_ASSERT_EQUAL(cr_svc_fsm_step(R, CR_SVE_EXIT, &c3, &out), 0);
    CU_ASSERT_EQUAL(out.to, E);
    CU_ASSERT_EQUAL(out.act, 0);
}

static void test_svc_fsm_invariants(void)
{
    /* Over every cell: a spawn lands in starting; signals are sent only
     * to live states; nothing leaves exited; down is left only by start. */
    for (int s = 0; s < CR_SVC_NSTATES; s++)
        for (int e = 0; e < CR_SVE_N; e++) {
            cr_svc_fsm_out o;
            if (cr_svc_fsm_cell((cr_svc_state)s, (cr_svc_event)e, &o) != 0)
                continue;
            if (o.act & CR_SVA_SPAWN)
                CU_ASSERT_EQUAL(o.to, S);
            if (o.act & (CR_SVA_STOP_SIGNAL | CR_SVA_KILL | CR_SVA_CONT))
                CU_ASSERT(cr_svc_state_live((cr_svc_state)s));
            if (o.act & CR_SVA_CONT)
                CU_ASSERT_EQUAL(s, P);
            if (s == E)
                CU_ASSERT_EQUAL(o.to, E);
            if (s == D && o.to != D)
                CU_ASSERT_EQUAL(e, CR_SVE_START);
            if (o.to == X || o.to == Y)
                CU_ASSERT(cr_svc_state_live((cr_svc_state)s));
        }
}

static void test_svc_fsm_names(void)
{
    for (int s = 0; s < CR_SVC_NSTATES; s++) {
        CU_ASSERT_STRING_NOT_EQUAL(cr_svc_state_name(s), "?");
        for (int k = 0; k < s; k++)
            CU_ASSERT_STRING_NOT_EQUAL(cr_svc_state_name(s),
                                       cr_svc_state_name(k));
    }
    for (int e = 0; e < CR_SVE_N; e++) {
        CU_ASSERT_PTR_NOT_NULL(cr_svc_event_name(e));
        CU_ASSERT_STRING_NOT_EQUAL(cr_svc_event_name(e), "?");
    }
    for (unsigned b = 0; b < CR_SVA_NBITS; b++)
        CU_ASSERT_STRING_NOT_EQUAL(cr_svc_action_name(1u << b), "?");
    CU_ASSERT_STRING_EQUAL(cr_svc_state_name(W), "waiting-restart");
    CU_ASSERT_STRING_EQUAL(cr_svc_event_name(CR_SVE_FAULT_PAUSE),
                           "fault-pause");
    CU_ASSERT_STRING_EQUAL(cr_svc_state_name(CR_SVC_NSTATES), "?");
    CU_ASSERT_STRING_EQUAL(cr_svc_action_name(3), "?");
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("svc_fsm", NULL, NULL);
    CR_ADD_TEST(s, test_svc_fsm_every_cell);
    CR_ADD_TEST(s, test_svc_fsm_refusals);
    CR_ADD_TEST(s, test_svc_fsm_refine_exit);
    CR_ADD_TEST(s, test_svc_fsm_refine_others);
    CR_ADD_TEST(s, test_svc_fsm_walk_crash_restart_limit);
    CR_ADD_TEST(s, test_svc_fsm_walk_restart_fault);
    CR_ADD_TEST(s, test_svc_fsm_walk_terminate_with_policy);
    CR_ADD_TEST(s, test_svc_fsm_walk_pause);
    CR_ADD_TEST(s, test_svc_fsm_walk_shutdown);
    CR_ADD_TEST(s, test_svc_fsm_invariants);
    CR_ADD_TEST(s, test_svc_fsm_names);
}
