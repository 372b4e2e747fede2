/* Unit tests of crp_supsm: the supervisor's state x event table, the exit
 * classification and the restart delay. */
#include "cr_test.h"

#include <signal.h>
#include <sys/wait.h>

#include "crp_supsm.h"

/* Wait statuses as waitpid() reports them. */
#define EXITED_WITH(code) (((code)&0xff) << 8)
#define KILLED_BY(sig)    ((sig)&0x7f)

static void expect(crp_sup_state from, crp_sup_event ev, crp_sup_state to,
                   crp_sup_action act)
{
    crp_sup_trans t = crp_supsm_step(from, ev);
    CU_ASSERT_TRUE(t.defined);
    CU_ASSERT_EQUAL(t.to, to);
    CU_ASSERT_EQUAL(t.act, act);
    if (!t.defined || t.to != to || t.act != act)
        fprintf(stderr, "%s --%s--> %s/%d, expected %s/%d\n",
                crp_supsm_state_name(from), crp_supsm_event_name(ev),
                crp_supsm_state_name(t.to), (int)t.act,
                crp_supsm_state_name(to), (int)act);
}

static void ignored(crp_sup_state s, crp_sup_event ev)
{
    crp_sup_trans t = crp_supsm_step(s, ev);
    CU_ASSERT_FALSE(t.defined);
    CU_ASSERT_EQUAL(t.to, s);
    CU_ASSERT_EQUAL(t.act, CRP_SUP_ACT_NONE);
}

static void test_crp_supsm_start_crash_restart(void)
{
    expect(CRP_SUP_STARTING, CRP_SUP_EV_START, CRP_SUP_RUNNING,
           CRP_SUP_ACT_SPAWN);
    expect(CRP_SUP_RUNNING, CRP_SUP_EV_CRASH, CRP_SUP_BACKOFF,
           CRP_SUP_ACT_BACKOFF);
    expect(CRP_SUP_BACKOFF, CRP_SUP_EV_RESTART_TIMER, CRP_SUP_RUNNING,
           CRP_SUP_ACT_RESPAWN);
    /* a clean exit is not a crash: not restarted */
    expect(CRP_SUP_RUNNING, CRP_SUP_EV_EXIT, CRP_SUP_EXITED, CRP_SUP_ACT_NONE);
    /* the restart timer means nothing outside the backoff */
    ignored(CRP_SUP_RUNNING, CRP_SUP_EV_RESTART_TIMER);
    ignored(CRP_SUP_STARTING, CRP_SUP_EV_RESTART_TIMER);
    ignored(CRP_SUP_RUNNING, CRP_SUP_EV_START);
}

static void test_crp_supsm_crash_loop_gives_up(void)
{
    expect(CRP_SUP_RUNNING, CRP_SUP_EV_CRASH_LIMIT, CRP_SUP_GAVE_UP,
           CRP_SUP_ACT_ALERT);
    /* gave up: nothing brings it back, nothing is sent to it */
    for (int e = 0; e < CRP_SUP_NEVENTS; e++)
        ignored(CRP_SUP_GAVE_UP, (crp_sup_event)e);
}

static void test_crp_supsm_drain(void)
{
    expect(CRP_SUP_RUNNING, CRP_SUP_EV_SCALE_DOWN, CRP_SUP_DRAINING,
           CRP_SUP_ACT_DRAIN);
    expect(CRP_SUP_DRAINING, CRP_SUP_EV_DRAIN_TIMEOUT, CRP_SUP_DRAINING,
           CRP_SUP_ACT_DRAIN_KILL);
    /* whatever way it ends, a drained worker is reported and never
     * restarted */
    expect(CRP_SUP_DRAINING, CRP_SUP_EV_EXIT, CRP_SUP_EXITED,
           CRP_SUP_ACT_DRAINED);
    expect(CRP_SUP_DRAINING, CRP_SUP_EV_CRASH, CRP_SUP_EXITED,
           CRP_SUP_ACT_DRAINED);
    expect(CRP_SUP_DRAINING, CRP_SUP_EV_CRASH_LIMIT, CRP_SUP_EXITED,
           CRP_SUP_ACT_DRAINED);
    ignored(CRP_SUP_DRAINING, CRP_SUP_EV_STOP);
    ignored(CRP_SUP_DRAINING, CRP_SUP_EV_SCALE_DOWN);
    ignored(CRP_SUP_DRAINING, CRP_SUP_EV_RESTART_TIMER);
    /* a worker waiting for its restart is retired without a process */
    expect(CRP_SUP_BACKOFF, CRP_SUP_EV_SCALE_DOWN, CRP_SUP_EXITED,
           CRP_SUP_ACT_RETIRE);
}

static void test_crp_supsm_stop(void)
{
    expect(CRP_SUP_RUNNING, CRP_SUP_EV_STOP, CRP_SUP_STOPPING,
           CRP_SUP_ACT_TERM);
    expect(CRP_SUP_STOPPING, CRP_SUP_EV_STOP_TIMEOUT, CRP_SUP_STOPPING,
           CRP_SUP_ACT_KILL);
    expect(CRP_SUP_STOPPING, CRP_SUP_EV_EXIT, CRP_SUP_EXITED, CRP_SUP_ACT_NONE);
    /* a stage that crashes while being stopped is not restarted */
    expect(CRP_SUP_STOPPING, CRP_SUP_EV_CRASH, CRP_SUP_EXITED,
           CRP_SUP_ACT_NONE);
    expect(CRP_SUP_STOPPING, CRP_SUP_EV_CRASH_LIMIT, CRP_SUP_EXITED,
           CRP_SUP_ACT_NONE);
    expect(CRP_SUP_BACKOFF, CRP_SUP_EV_STOP, CRP_SUP_EXITED, CRP_SUP_ACT_NONE);
    expect(CRP_SUP_STARTING, CRP_SUP_EV_STOP, CRP_SUP_EXITED, CRP_SUP_ACT_NONE);
    ignored(CRP_SUP_STOPPING, CRP_SUP_EV_SCALE_DOWN);
    ignored(CRP_SUP_STOPPING, CRP_SUP_EV_STOP);
    for (int e = 0; e < CRP_SUP_NEVENTS; e++)
        ignored(CRP_SUP_EXITED, (crp_sup_event)e);
}

/* Properties of the whole table: a process that may be alive only stops
 * being tracked through an exit event (it must have been reaped), and a
 * process is only started by start and restart-timer transitions. */
static void test_crp_supsm_table_properties(void)
{
    for (int s = 0; s < CRP_SUP_NSTATES; s++)
        for (int e = 0; e < CRP_SUP_NEVENTS; e++) {
            crp_sup_trans t = crp_supsm_step((crp_sup_state)s, e);
            int exit_ev = e == CRP_SUP_EV_EXIT || e == CRP_SUP_EV_CRASH ||
                          e == CRP_SUP_EV_CRASH_LIMIT;
            CU_ASSERT_TRUE(t.to < CRP_SUP_NSTATES);
            CU_ASSERT_TRUE(t.act < CRP_SUP_NACTIONS);
            if (crp_supsm_alive((crp_sup_state)s) && !crp_supsm_alive(t.to))
                CU_ASSERT_TRUE(exit_ev);
            if (exit_ev && t.defined)
                CU_ASSERT_TRUE(crp_supsm_alive((crp_sup_state)s));
            int spawns =
                t.act == CRP_SUP_ACT_SPAWN || t.act == CRP_SUP_ACT_RESPAWN;
            CU_ASSERT_EQUAL(spawns, e == CRP_SUP_EV_START ||
                                            e == CRP_SUP_EV_RESTART_TIMER
                                        ? t.defined
                                        : 0);
            if (spawns)
                CU_ASSERT_EQUAL(t.to, CRP_SUP_RUNNING);
        }
    /* out of range: nothing */
    crp_sup_trans t = crp_supsm_step(CRP_SUP_NSTATES, CRP_SUP_EV_START);
    CU_ASSERT_FALSE(t.defined);
    t = crp_supsm_step(CRP_SUP_RUNNING, CRP_SUP_NEVENTS);
    CU_ASSERT_FALSE(t.defined);
    CU_ASSERT_EQUAL(t.to, CRP_SUP_RUNNING);
    CU_ASSERT_TRUE(crp_supsm_serving(CRP_SUP_BACKOFF));
    CU_ASSERT_FALSE(crp_supsm_serving(CRP_SUP_DRAINING));
    CU_ASSERT_FALSE(crp_supsm_serving(CRP_SUP_GAVE_UP));
    CU_ASSERT_FALSE(crp_supsm_alive(CRP_SUP_BACKOFF));
    CU_ASSERT_STRING_EQUAL(crp_supsm_state_name(CRP_SUP_DRAINING), "draining");
    CU_ASSERT_STRING_EQUAL(crp_supsm_event_name(CRP_SUP_EV_RESTART_TIMER),
                           "restart_timer");
    CU_ASSERT_STRING_EQUAL(crp_supsm_state_name(CRP_SUP_NSTATES), "?");
}

static void test_crp_supsm_exit_event(void)
{
    CU_ASSERT_EQUAL(crp_supsm_exit_event(EXITED_WITH(0), 9, 5),
                    CRP_SUP_EV_EXIT);
    CU_ASSERT_EQUAL(crp_supsm_exit_event(EXITED_WITH(1), 0, 5),
                    CRP_SUP_EV_CRASH);
    CU_ASSERT_EQUAL(crp_supsm_exit_event(KILLED_BY(SIGKILL), 4, 5),
                    CRP_SUP_EV_CRASH);
    CU_ASSERT_EQUAL(crp_supsm_exit_event(KILLED_BY(SIGKILL), 5, 5),
                    CRP_SUP_EV_CRASH_LIMIT);
    /* a failed exec (status 127) is a crash too */
    CU_ASSERT_EQUAL(crp_supsm_exit_event(EXITED_WITH(127), 0, 0),
                    CRP_SUP_EV_CRASH_LIMIT);
    /* SIGTERM is a crash unless the stage exits 0 on it (it does) */
    CU_ASSERT_EQUAL(crp_supsm_exit_event(KILLED_BY(SIGTERM), 0, 5),
                    CRP_SUP_EV_CRASH);
}

static void test_crp_supsm_delay(void)
{
    static const int want[] = {200, 400, 800, 1600, 3200, 5000, 5000, 5000};
    for (int r = 0; r < 8; r++)
        CU_ASSERT_EQUAL(crp_supsm_delay_ms(200, r), want[r]);
    /* at most 5 doublings */
    CU_ASSERT_EQUAL(crp_supsm_delay_ms(50, 7), 1600);
    CU_ASSERT_EQUAL(crp_supsm_delay_ms(100000, 0), 5000);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("crp_supsm", NULL, NULL);
    CR_ADD_TEST(s, test_crp_supsm_start_crash_restart);
    CR_ADD_TEST(s, test_crp_supsm_crash_loop_gives_up);
    CR_ADD_TEST(s, test_crp_supsm_drain);
    CR_ADD_TEST(s, test_crp_supsm_stop);
    CR_ADD_TEST(s, test_crp_supsm_table_properties);
    CR_ADD_TEST(s, test_crp_supsm_exit_event);
    CR_ADD_TEST(s, test_crp_supsm_delay);
}
