/* Tests for the core checkers: steady_state, recovers, service, events.
 * Each rule has a history that passes and one that breaks just that rule. */
#include <signal.h>

#include "check_fixture.h"

/* ---- steady_state ---- */

static void test_check_steady_state_pass_and_fail(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"steady_state\"}, {\"kind\": \"steady_state\", "
                "\"during\": true}");
    fx_probe(&x, "health", CR_PHASE_BEFORE, -1, 1, "200");
    fx_probe(&x, "health", CR_PHASE_DURING, 3, 0, "connection refused");
    fx_probe(&x, "health", CR_PHASE_AFTER, 21, 1, "200");
    FX_PASSED(&x, 0); /* during failures are allowed by default */
    CU_ASSERT(fx_sum(&x, "all 2 probe results passed"));
    FX_FAILED(&x, 1);
    CU_ASSERT(fx_sum(&x, "1 of 3 probe results failed"));
    CU_ASSERT(
        fx_evid(&x, "probe health failed (during phase): connection refused"));
    fx_probe(&x, "health", CR_PHASE_AFTER, 21.5, 0, "HTTP 503");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_evid(&x, "HTTP 503"));
    CU_ASSERT_EQUAL(fx_detail(&x, "failed"), 1);
    fx_free(&x);
}

static void test_check_steady_state_unknown_without_results(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"steady_state\"}, {\"kind\": \"steady_state\", "
                "\"min_samples\": 3}");
    FX_UNKNOWN(&x, 0);
    fx_probe(&x, "health", CR_PHASE_BEFORE, -1, 1, "200");
    FX_PASSED(&x, 0);
    FX_UNKNOWN(&x, 1); /* 1 < min_samples */
    fx_free(&x);
}

static void test_check_steady_state_probe_filter(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"steady_state\", \"probes\": [\"a\"]}");
    fx_probe(&x, "a", CR_PHASE_BEFORE, -1, 1, "");
    fx_probe(&x, "b", CR_PHASE_BEFORE, -1, 0, "b is down");
    FX_PASSED(&x, 0);
    fx_free(&x);
    CU_ASSERT(fx_invalid("{\"kind\": \"steady_state\", \"probes\": [3]}",
                         "non-empty string"));
    CU_ASSERT(fx_invalid("{\"kind\": \"steady_state\", \"during\": 1}",
                         "true or false"));
    CU_ASSERT(fx_invalid("{\"kind\": \"steady_state\", \"durign\": true}",
                         "unknown key"));
}

/* A slow starter: the first before-round failed (the service was still
 * booting), the harness retried the round and it passed, so the
 * experiment started.  Only the last before-result of each probe says
 * whether the steady state held; an aborted start (last one failed) still
 * fails. */
static void test_check_steady_state_slow_start(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"steady_state\"}");
    fx_probe(&x, "health", CR_PHASE_BEFORE, -0.6, 0, "connection refused");
    fx_probe(&x, "db", CR_PHASE_BEFORE, -0.6, 1, "ok");
    fx_probe(&x, "health", CR_PHASE_BEFORE, -0.35, 0, "HTTP 503");
    fx_probe(&x, "db", CR_PHASE_BEFORE, -0.35, 1, "ok");
    fx_probe(&x, "health", CR_PHASE_BEFORE, -0.1, 1, "200");
    fx_probe(&x, "db", CR_PHASE_BEFORE, -0.1, 1, "ok");
    fx_probe(&x, "health", CR_PHASE_AFTER, 21, 1, "200");
    FX_PASSED(&x, 0);
    CU_ASSERT(fx_sum(&x, "all 3 probe results passed"));
    CU_ASSERT_EQUAL(fx_detail(&x, "before_retried"), 2);
    fx_free(&x);

    /* never came up: the experiment was aborted on a failed round */
    fx_init(&x, "{\"kind\": \"steady_state\"}");
    fx_probe(&x, "health", CR_PHASE_BEFORE, -0.6, 1, "200");
    fx_probe(&x, "health", CR_PHASE_BEFORE, -0.3, 0, "connection refused");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_evid(&x, "probe health failed (before phase): connection "
                          "refused"));
    fx_free(&x);
}

/* ---- recovers ---- */

static void test_check_recovers_within_bound(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"recovers\", \"within_s\": 2}, {\"kind\": "
                "\"recovers\", \"within_s\": 0.5}");
    fx_fault(&x, "dep", "db", 2, 5);
    fx_probe(&x, "health", CR_PHASE_DURING, 4, 0, "refused");
    fx_probe(&x, "health", CR_PHASE_AFTER, 5.2, 0, "refused");
    fx_probe(&x, "health", CR_PHASE_AFTER, 6.0, 1, "200");
    fx_probe(&x, "health", CR_PHASE_AFTER, 7.0, 1, "200");
    FX_PASSED(&x, 0);
    CU_ASSERT(
        fx_sum(&x, "recovered 1.000 s after the faults ended (bound 2 s)"));
    CU_ASSERT_DOUBLE_EQUAL(x.res.measured, 1.0, 1e-9);
    FX_FAILED(&x, 1);
    CU_ASSERT(fx_sum(
        &x, "recovered only 1.000 s after the faults ended (bound 0.5 s)"));
    CU_ASSERT(fx_evid(&x, "probe health still failing: refused"));
    fx_free(&x);
}

static void test_check_recovers_needs_every_probe(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"recovers\", \"within_s\": 5}");
    fx_fault(&x, "dep", "db", 2, 5);
    /* a result from before the end does not count as recovered */
    fx_probe(&x, "a", CR_PHASE_DURING, 4.9, 1, "");
    fx_probe(&x, "a", CR_PHASE_AFTER, 5.5, 1, "");
    fx_probe(&x, "b", CR_PHASE_AFTER, 5.6, 0, "b down");
    fx_probe(&x, "b", CR_PHASE_AFTER, 6.5, 1, "");
    FX_PASSED(&x, 0);
    CU_ASSERT_DOUBLE_EQUAL(x.res.measured, 1.5, 1e-9);
    fx_free(&x);
}

/* A correct system under load: recovered, then one probe fails once (a
 * timeout on a busy machine).  Recovery is the first time every probe's
 * latest result passed; a later blip does not undo it (steady_state
 * judges the after phase). */
static void test_check_recovers_blip_after_recovery(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"recovers\", \"within_s\": 1}");
    fx_fault(&x, "dep", "db", 2, 5);
    fx_probe(&x, "a", CR_PHASE_DURING, 5.1, 0, "refused"); /* booting */
    fx_probe(&x, "b", CR_PHASE_DURING, 5.1, 1, "");
    fx_probe(&x, "a", CR_PHASE_DURING, 5.6, 1, "");
    fx_probe(&x, "a", CR_PHASE_DURING, 8, 0, "timeout (load)");
    fx_probe(&x, "b", CR_PHASE_DURING, 8, 0, "timeout (load)");
    fx_probe(&x, "a", CR_PHASE_AFTER, 21, 1, "");
    FX_PASSED(&x, 0);
    CU_ASSERT_DOUBLE_EQUAL(x.res.measured, 0.6, 1e-9);
    fx_free(&x);
}

static void test_check_recovers_never(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"recovers\", \"within_s\": 5}");
    fx_fault(&x, "kill-db", "db", 1, 1);
    fx_probe(&x, "a", CR_PHASE_AFTER, 2, 0, "refused");
    fx_probe(&x, "a", CR_PHASE_AFTER, 3, 0, "still refused");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "never recovered"));
    CU_ASSERT(fx_evid(&x, "probe a last failed: still refused"));
    fx_free(&x);
}

static void test_check_recovers_unknown(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"recovers\", \"within_s\": 5}, "
                "{\"kind\": \"recovers\", \"within_s\": 5, \"probes\": [\"a\", "
                "\"zz\"]}");
    fx_probe(&x, "a", CR_PHASE_AFTER, 2, 1, "");
    FX_UNKNOWN(&x, 0); /* no fault applied */
    CU_ASSERT(fx_sum(&x, "no fault was applied"));
    fx_fault(&x, "kill-db", "db", 1, 1);
    FX_PASSED(&x, 0);
    FX_UNKNOWN(&x, 1); /* probe zz never reported */
    CU_ASSERT(fx_sum(&x, "probe zz has no result"));
    fx_free(&x);
    CU_ASSERT(fx_invalid("{\"kind\": \"recovers\"}",
                         "missing required key \"within_s\""));
    CU_ASSERT(
        fx_invalid("{\"kind\": \"recovers\", \"within_s\": -1}", "within_s"));
}

/* ---- service ---- */

static void test_check_service_restarts(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"service\", \"service\": \"worker\", "
                "\"restarts\": {\"min\": 1, \"max\": 1}},"
                "{\"kind\": \"service\", \"service\": \"worker\", "
                "\"restarts\": {\"max\": 0}, \"per_instance\": true},"
                "{\"kind\": \"service\", \"service\": \"worker\", "
                "\"restarts\": {\"min\": 1}, \"per_instance\": true}");
    fx_proc(&x, -2, "worker.0", "worker", CR_PROC_START, -1, 0, NULL);
    fx_proc(&x, -2, "worker.1", "worker", CR_PROC_START, -1, 0, NULL);
    fx_proc(&x, 1, "worker.1", "worker", CR_PROC_EXIT, -1, SIGKILL,
            "fault:kill-worker");
    fx_proc(&x, 1.2, "worker.1", "worker", CR_PROC_START, -1, 0,
            "restart-policy");
    fx_proc(&x, 21, "worker.0", "worker", CR_PROC_EXIT, -1, SIGTERM, "stop");
    fx_proc(&x, 21, "worker.1", "worker", CR_PROC_EXIT, 0, 0, "stop");
    FX_PASSED(&x, 0);
    CU_ASSERT_EQUAL(fx_detail(&x, "restarts"), 1);
    FX_FAILED(&x, 1);
    CU_ASSERT(fx_sum(&x, "worker.1 restarted 1 times (bound 0..0)"));
    FX_FAILED(&x, 2);
    CU_ASSERT(fx_sum(&x, "worker.0 restarted 0 times (bound >= 1)"));
    fx_proc(&x, 3, "worker.1", "worker", CR_PROC_START, -1, 0,
            "restart-policy");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "worker restarted 2 times in all (bound 1..1)"));
    fx_free(&x);
}

static void test_check_service_exit_and_running(void)
{
    fx x;
    fx_init(
        &x,
        "{\"kind\": \"service\", \"service\": \"db\", \"exit\": \"clean\"},"
        "{\"kind\": \"service\", \"service\": \"db\", \"running_at_end\": "
        "true},"
        "{\"kind\": \"service\", \"service\": \"db\", \"running_at_end\": "
        "false},"
        "{\"kind\": \"service\", \"service\": \"db\", \"exit\": \"crash\"}");
    fx_proc(&x, -1, "db.0", "db", CR_PROC_START, -1, 0, NULL);
    fx_proc(&x, 21, "db.0", "db", CR_PROC_EXIT, -1, SIGTERM, "stop");
    FX_PASSED(&x, 0);
    FX_PASSED(&x, 1);
    FX_FAILED(&x, 2);
    CU_ASSERT(fx_sum(&x, "db.0 was still running at the end"));
    FX_FAILED(&x, 3);
    CU_ASSERT(fx_sum(&x, "db.0 did not crash"));
    fx_free(&x);

    fx_init(
        &x,
        "{\"kind\": \"service\", \"service\": \"db\", \"exit\": \"clean\"},"
        "{\"kind\": \"service\", \"service\": \"db\", \"running_at_end\": "
        "true},"
        "{\"kind\": \"service\", \"service\": \"db\", \"exit\": \"crash\"}");
    fx_proc(&x, -1, "db.0", "db", CR_PROC_START, -1, 0, NULL);
    fx_proc(&x, 4, "db.0", "db", CR_PROC_EXIT, 3, 0, NULL);
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "db.0 did not end cleanly: db.0 exited with code 3"));
    CU_ASSERT(fx_evid(&x, "db.0 exited with code 3"));
    FX_FAILED(&x, 1);
    CU_ASSERT(fx_sum(&x, "db.0 was not running at the end"));
    FX_PASSED(&x, 2);
    fx_free(&x);
}

/* A JVM (or a shell) that handles SIGTERM exits with code 128 + 15 = 143:
 * that is the stop signal too, a clean end. */
static void test_check_service_exit_code_of_the_stop_signal(void)
{
    fx x;
    fx_init(
        &x,
        "{\"kind\": \"service\", \"service\": \"db\", \"exit\": \"clean\"},"
        "{\"kind\": \"service\", \"service\": \"db\", \"exit\": \"crash\"}");
    fx_proc(&x, -2, "db.0", "db", CR_PROC_START, -1, 0, NULL);
    fx_proc(&x, 21, "db.0", "db", CR_PROC_EXIT, 143, 0, "stop");
    FX_PASSED(&x, 0);
    FX_FAILED(&x, 1);
    fx_proc(&x, 21.5, "db.0", "db", CR_PROC_START, -1, 0, NULL);
    fx_proc(&x, 22, "db.0", "db", CR_PROC_EXIT, 137, 0, NULL); /* KILL */
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "db.0 did not end cleanly: db.0 exited with code "
                         "137"));
    fx_free(&x);
}

static void test_check_service_errors(void)
{
    fx x;
    fx_init(
        &x,
        "{\"kind\": \"service\", \"service\": \"db\", \"exit\": \"clean\"}");
    FX_UNKNOWN(&x, 0); /* no process history */
    fx_free(&x);
    CU_ASSERT(fx_invalid("{\"kind\": \"service\", \"service\": \"nope\"}",
                         "unknown service \"nope\""));
    CU_ASSERT(fx_invalid("{\"kind\": \"service\"}",
                         "missing required key \"service\""));
    CU_ASSERT(fx_invalid("{\"kind\": \"service\", \"service\": \"db\", "
                         "\"restarts\": {\"min\": 3, \"max\": 1}}",
                         "min (3) is greater than max (1)"));
    CU_ASSERT(fx_invalid(
        "{\"kind\": \"service\", \"service\": \"db\", \"restarts\": {}}",
        "needs \"min\" or \"max\""));
    CU_ASSERT(fx_invalid(
        "{\"kind\": \"service\", \"service\": \"db\", \"exit\": \"clena\"}",
        "unknown value \"clena\""));
}

/* ---- events ---- */

static void test_check_events_count(void)
{
    fx x;
    fx_init(&x,
            "{\"kind\": \"events\", \"ev\": \"giveup\", \"max\": 0},"
            "{\"kind\": \"events\", \"ev\": \"retry\", \"svc\": \"worker\", "
            "\"where\": {\"op\": \"db\"}, \"min\": 2, \"max\": 3}");
    fx_ev(&x, "{\"ts\": 1, \"svc\": \"worker\", \"ev\": \"retry\", \"op\": "
              "\"db\", \"attempt\": 1}");
    fx_ev(&x, "{\"ts\": 2, \"svc\": \"worker\", \"ev\": \"retry\", \"op\": "
              "\"cache\", \"attempt\": 1}");
    fx_ev(&x, "{\"ts\": 3, \"svc\": \"db\", \"ev\": \"retry\", \"op\": \"db\", "
              "\"attempt\": 1}");
    fx_ev(&x, "{\"ts\": 4, \"svc\": \"worker\", \"ev\": \"retry\", \"op\": "
              "\"db\", \"attempt\": 2}");
    FX_PASSED(&x, 0);
    FX_PASSED(&x, 1);
    CU_ASSERT_DOUBLE_EQUAL(x.res.measured, 2, 0);
    fx_ev(&x, "{\"ts\": 5, \"svc\": \"worker\", \"ev\": \"giveup\", \"op\": "
              "\"db\", \"attempts\": 3}");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "1 giveup events (bound <= 0)"));
    CU_ASSERT(fx_evid(
        &x, "over the maximum: t=5.000 worker giveup op=db attempts=3"));
    fx_ev(&x, "{\"ts\": 6, \"svc\": \"worker\", \"ev\": \"retry\", \"op\": "
              "\"db\", \"attempt\": 3}");
    fx_ev(&x, "{\"ts\": 7, \"svc\": \"worker\", \"ev\": \"retry\", \"op\": "
              "\"db\", \"attempt\": 4}");
    FX_FAILED(&x, 1);
    CU_ASSERT(fx_sum(&x, "4 retry from worker events (bound <= 3)"));
    fx_free(&x);
}

static void test_check_events_min_and_empty(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"events\", \"ev\": \"ready\", \"min\": 1},"
                "{\"kind\": \"events\", \"ev\": \"giveup\", \"max\": 0},"
                "{\"kind\": \"events\", \"ev\": \"giveup\", \"max\": 0, "
                "\"min_samples\": 0}");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "only 0 ready events (bound >= 1)"));
    FX_UNKNOWN(&x, 1); /* an empty history must not pass "no giveups" */
    FX_PASSED(&x, 2);  /* unless asked to */
    fx_ev(&x, "{\"ts\": 1, \"svc\": \"worker\", \"inst\": \"worker.1\", "
              "\"ev\": \"ready\"}");
    FX_PASSED(&x, 0);
    FX_PASSED(&x, 1);
    fx_free(&x);
}

static void test_check_events_windows(void)
{
    fx x;
    fx_init(&x,
            "{\"kind\": \"events\", \"ev\": \"degraded\", \"min\": 1, "
            "\"window\": {\"fault\": \"dep\"}},"
            "{\"kind\": \"events\", \"ev\": \"degraded\", \"max\": 0, "
            "\"window\": {\"fault\": \"dep\", \"from_s\": 3.5, \"to_s\": 10}},"
            "{\"kind\": \"events\", \"ev\": \"degraded\", \"min\": 2, "
            "\"window\": {\"from_s\": 0, \"to_s\": 10}},"
            "{\"kind\": \"events\", \"ev\": \"degraded\", \"svc\": "
            "\"worker.1\", \"min\": 1}");
    fx_ev(&x, "{\"ts\": 0.5, \"svc\": \"worker\", \"inst\": \"worker.0\", "
              "\"ev\": \"degraded\"}");
    FX_UNKNOWN(&x, 0); /* the fault never applied */
    CU_ASSERT(fx_sum(&x, "fault dep was never applied"));
    fx_fault(&x, "dep", "db", 2, 5);
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "only 0 degraded events in the window (bound >= 1)"));
    fx_ev(&x, "{\"ts\": 3, \"svc\": \"worker\", \"inst\": \"worker.1\", "
              "\"ev\": \"degraded\"}");
    FX_PASSED(&x, 0);
    FX_PASSED(&x, 1); /* nothing happened in [5.5, 12]: a real zero */
    FX_PASSED(&x, 2);
    FX_PASSED(&x, 3); /* svc names an instance */
    fx_ev(&x, "{\"ts\": 6, \"svc\": \"worker\", \"inst\": \"worker.0\", "
              "\"ev\": \"degraded\"}");
    FX_FAILED(&x, 1); /* 6 is in [2+3.5, 2+10] */
    CU_ASSERT(fx_evid(&x, "t=6.000 worker.0 degraded"));
    fx_free(&x);
}

/* "from": "end": the window after the heal is anchored at the fault's
 * end, not at start + for_s.  Seen under load: a partition applied 0.31 s
 * late (its revert still at the scheduled time) healed 3.79 s after its
 * start, the workers failed back at 3.9 s, and a window {from_s: 4} after
 * the start missed them. */
static void test_check_events_window_from_end(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"events\", \"ev\": \"failover\", \"min\": 1, "
                "\"window\": {\"fault\": \"dep\", \"from\": \"end\", "
                "\"from_s\": 0, \"to_s\": 4}},"
                "{\"kind\": \"events\", \"ev\": \"failover\", \"min\": 1, "
                "\"window\": {\"fault\": \"dep\", \"from_s\": 4, "
                "\"to_s\": 8}}");
    fx_fault(&x, "dep", "-", 4.31, 8.10);
    fx_ev(&x, "{\"ts\": 8.2, \"svc\": \"worker\", \"inst\": \"worker.0\", "
              "\"ev\": \"failover\"}");
    FX_PASSED(&x, 0); /* 8.2 is in [8.10, 12.10] */
    FX_FAILED(&x, 1); /* but not in [8.31, 12.31] */
    fx_free(&x);
}

/* "from": "applied": anchored where the apply was complete, not where it
 * began (a container's freeze took effect 0.13 s after the apply began:
 * ticks at +0.104 were counted in a window from start + 0.1). */
static void test_check_events_window_from_applied(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"events\", \"ev\": \"tick\", \"max\": 0, "
                "\"window\": {\"fault\": \"dep\", \"from\": \"applied\", "
                "\"from_s\": 0, \"to_s\": 0.5}},"
                "{\"kind\": \"events\", \"ev\": \"tick\", \"max\": 0, "
                "\"window\": {\"fault\": \"dep\", \"from_s\": 0.1, "
                "\"to_s\": 0.6}},"
                "{\"kind\": \"events\", \"ev\": \"tick\", \"min\": 1, "
                "\"window\": {\"fault\": \"dep\", \"from\": \"applied\", "
                "\"from_s\": 0}}");
    fx_fault(&x, "dep", "db", 2.5, 4.0);
    x.faults[0].applied = 2.633;
    fx_ev(&x, "{\"ts\": 2.604, \"inst\": \"api.0\", \"ev\": \"tick\"}");
    fx_ev(&x, "{\"ts\": 3.99, \"inst\": \"api.0\", \"ev\": \"tick\"}");
    FX_PASSED(&x, 0); /* 2.604 is before [2.633, 3.133] */
    FX_FAILED(&x, 1); /* but in [2.6, 3.1] */
    FX_PASSED(&x, 2); /* default to_s: to the end (4.0) */
    fx_free(&x);
}

/* A window anchored at readiness: the count-th time db (or an instance)
 * became ready; an anchor that never came fails, saying so. */
static void test_check_events_ready_window(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"events\", \"ev\": \"delivered\", \"min\": 2, "
                "\"window\": {\"ready\": \"db\", \"count\": 2, \"from_s\": 0, "
                "\"to_s\": 5}},"
                "{\"kind\": \"events\", \"ev\": \"delivered\", \"max\": 0, "
                "\"window\": {\"ready\": \"worker.1\", \"from_s\": -1, "
                "\"to_s\": 0}}");
    fx_proc(&x, -2, "db.0", "db", CR_PROC_START, -1, 0, NULL);
    fx_proc(&x, -1, "db.0", "db", CR_PROC_READY, -1, 0, NULL);
    fx_proc(&x, -0.5, "worker.0", "worker", CR_PROC_READY, -1, 0, NULL);
    fx_proc(&x, -0.2, "worker.1", "worker", CR_PROC_READY, -1, 0, NULL);
    fx_ev(&x, "{\"ts\": 2, \"svc\": \"sink\", \"ev\": \"delivered\"}");
    fx_ev(&x, "{\"ts\": 12, \"svc\": \"sink\", \"ev\": \"delivered\"}");
    fx_ev(&x, "{\"ts\": 14, \"svc\": \"sink\", \"ev\": \"delivered\"}");
    fx_ev(&x, "{\"ts\": 18, \"svc\": \"sink\", \"ev\": \"delivered\"}");
    /* db was ready once (start-up): the window's anchor never came.  Not
     * a pass, and not a count of 0 either. */
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "the window's anchor never happened: db became "
                         "ready 1 time, the window starts at its readiness "
                         "#2"));
    CU_ASSERT_EQUAL(fx_detail(&x, "ready_seen"), 1);
    /* Ready again at 10 s (slow boot after a kill at 1 s): [10, 15]. */
    fx_proc(&x, 1, "db.0", "db", CR_PROC_EXIT, -1, 9, "fault:kill-db");
    fx_proc(&x, 1.3, "db.0", "db", CR_PROC_START, -1, 0, "restart-policy");
    fx_proc(&x, 10, "db.0", "db", CR_PROC_READY, -1, 0, NULL);
    FX_PASSED(&x, 0);
    CU_ASSERT_DOUBLE_EQUAL(x.res.measured, 2, 0);
    CU_ASSERT(fx_evid(&x, "db ready (#2): the window is [10.000 s, 15.000 s]"));
    CU_ASSERT(fx_evid(&x, "t=12.000 sink delivered"));
    /* Instance anchor: worker.1 became ready at -0.2 s; [-1.2, -0.2]
     * holds no delivery. */
    FX_PASSED(&x, 1);
    fx_ev(&x, "{\"ts\": -0.5, \"svc\": \"sink\", \"ev\": \"delivered\"}");
    FX_FAILED(&x, 1);
    fx_free(&x);
    CU_ASSERT(fx_invalid("{\"kind\": \"events\", \"ev\": \"x\", \"max\": 1, "
                         "\"window\": {\"ready\": \"nosvc\", \"to_s\": 1}}",
                         "unknown service or instance \"nosvc\""));
    CU_ASSERT(fx_invalid("{\"kind\": \"events\", \"ev\": \"x\", \"max\": 1, "
                         "\"window\": {\"ready\": \"db\"}}",
                         "a readiness window needs \"to_s\""));
    CU_ASSERT(fx_invalid("{\"kind\": \"events\", \"ev\": \"x\", \"max\": 1, "
                         "\"window\": {\"ready\": \"db\", \"fault\": \"dep\", "
                         "\"to_s\": 1}}",
                         "a window has one anchor"));
    CU_ASSERT(fx_invalid("{\"kind\": \"events\", \"ev\": \"x\", \"max\": 1, "
                         "\"window\": {\"count\": 2, \"to_s\": 1}}",
                         "only applies to a readiness window"));
}

static void test_check_events_parse_errors(void)
{
    CU_ASSERT(fx_invalid("{\"kind\": \"events\", \"ev\": \"x\"}",
                         "needs \"min\" or \"max\""));
    CU_ASSERT(fx_invalid("{\"kind\": \"events\", \"max\": 1}",
                         "missing required key \"ev\""));
    CU_ASSERT(fx_invalid(
        "{\"kind\": \"events\", \"ev\": \"x\", \"min\": 5, \"max\": 1}",
        "greater than max"));
    CU_ASSERT(fx_invalid("{\"kind\": \"events\", \"ev\": \"x\", \"max\": 1, "
                         "\"window\": {\"fault\": \"nofault\"}}",
                         "unknown fault \"nofault\""));
    CU_ASSERT(fx_invalid("{\"kind\": \"events\", \"ev\": \"x\", \"max\": 1, "
                         "\"window\": {\"from_s\": 1}}",
                         "needs \"to_s\""));
    CU_ASSERT(fx_invalid("{\"kind\": \"events\", \"ev\": \"x\", \"max\": 1, "
                         "\"window\": {\"from_s\": 5, \"to_s\": 1}}",
                         "before from_s"));
    CU_ASSERT(fx_invalid("{\"kind\": \"events\", \"ev\": \"x\", \"max\": 1, "
                         "\"window\": {\"fualt\": \"dep\"}}",
                         "unknown key"));
    CU_ASSERT(fx_invalid(
        "{\"kind\": \"events\", \"ev\": \"x\", \"max\": 1, \"where\": 3}",
        "where"));
}

/* ---- every checker under allocation failure ---- */

static void test_check_all_oom_loop(void)
{
    fx x;
    fx_init(
        &x,
        "{\"kind\": \"steady_state\"}, {\"kind\": \"recovers\", \"within_s\": "
        "5},"
        "{\"kind\": \"service\", \"service\": \"worker\", \"exit\": \"clean\"},"
        "{\"kind\": \"events\", \"ev\": \"retry\", \"max\": 1},"
        "{\"kind\": \"no_loss\"},"
        "{\"kind\": \"backoff\", \"op\": \"db\", \"base_ms\": 10, "
        "\"max_attempts\": 2},"
        "{\"kind\": \"breaker\", \"breaker\": \"db\"},"
        "{\"kind\": \"checkpoint\", \"service\": \"worker\"},"
        "{\"kind\": \"same_result\", \"result\": \"r\"},"
        "{\"kind\": \"failover\", \"within_ms\": 5},"
        "{\"kind\": \"slo\", \"error_ratio_max\": 0.1, \"p99_ms_max\": 1}");
    fx_fault(&x, "dep", "db", 2, 5);
    fx_probe(&x, "p", CR_PHASE_AFTER, 6, 0, "down");
    fx_proc(&x, 1, "worker.0", "worker", CR_PROC_START, -1, 0, NULL);
    fx_proc(&x, 3, "worker.0", "worker", CR_PROC_EXIT, 1, 0, NULL);
    fx_proc(&x, 3.5, "worker.0", "worker", CR_PROC_START, -1, 0, NULL);
    for (int i = 0; i < 30; i++) {
        fx_ev(&x,
              "{\"ts\": %g, \"svc\": \"worker\", \"inst\": \"worker.%d\", "
              "\"ev\": \"retry\", \"op\": \"db\", \"attempt\": %d, "
              "\"delay_ms\": 999}",
              1 + i * 0.1, i % 2, 1 + i % 3);
        fx_ev(&x, "{\"ts\": %g, \"ev\": \"accepted\", \"id\": %d}", 1 + i * 0.1,
              i);
        fx_ev(&x,
              "{\"ts\": %g, \"ev\": \"delivered\", \"id\": %d, \"latency_ms\": "
              "5}",
              4 + i * 0.1, i + 3);
        fx_ev(&x,
              "{\"ts\": %g, \"svc\": \"worker\", \"ev\": \"breaker\", "
              "\"name\": \"db\", \"state\": \"%s\"}",
              1 + i * 0.1, i % 2 ? "open" : "half_open");
    }
    cr_history_sort(&x.h);
    for (size_t k = 0; k < x.sc->nexpects; k++) {
        const cr_expect *e = &x.sc->expects[k];
        int done = 0;
        for (long n = 1; n < 5000 && !done; n++) {
            cr_result r;
            cr_err err;
            cr_err_clear(&err);
            cr_alloc_fail_after(n);
            cr_result_init(&r);
            int rc = e->ops->eval(e, &x.f, &r, &err);
            long used = cr_alloc_count();
            cr_alloc_fail_after(0);
            CU_ASSERT(rc == 0 || rc == CR_ENOMEM);
            if (rc == CR_ENOMEM)
                CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "out of memory"));
            done = rc == 0 && r.evidence && r.details &&
                   used < n; /* nothing failed this time */
            cr_result_free(&r);
        }
        CU_ASSERT(done);
    }
    fx_free(&x);
}

/* harness/checks/CHECKS.md documents every checker and every key. */
static void test_check_doc_complete(void)
{
    FILE *fp = fopen(cr_test_src("harness/checks/CHECKS.md"), "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    static char doc[200000];
    size_t n = fread(doc, 1, sizeof doc - 1, fp);
    doc[n] = '\0';
    fclose(fp);
    const cr_check_ops *const *all = cr_check_all();
    size_t k = 0;
    for (; all[k]; k++) {
        char want[128];
        snprintf(want, sizeof want, "## `%s`", all[k]->kind);
        const char *sec = strstr(doc, want);
        if (!sec) {
            fprintf(stderr, "CHECKS.md lacks %s\n", want);
            CU_FAIL("checker undocumented");
            continue;
        }
        const char *next = strstr(sec + 3, "\n## ");
        for (const cr_param *p = all[k]->params; p && p->name; p++) {
            snprintf(want, sizeof want, "| `%s` |", p->name);
            const char *at = strstr(sec, want);
            if (!at || (next && at > next)) {
                fprintf(stderr, "CHECKS.md: %s lacks key %s\n", all[k]->kind,
                        p->name);
                CU_FAIL("key undocumented");
            }
        }
    }
    CU_ASSERT_EQUAL(k, 12);
}

void cr_test_register(void)
{
    cr_alloc_install_json();
    CU_pSuite s = CU_add_suite("check_core", NULL, NULL);
    CR_ADD_TEST(s, test_check_steady_state_pass_and_fail);
    CR_ADD_TEST(s, test_check_steady_state_unknown_without_results);
    CR_ADD_TEST(s, test_check_steady_state_probe_filter);
    CR_ADD_TEST(s, test_check_steady_state_slow_start);
    CR_ADD_TEST(s, test_check_recovers_within_bound);
    CR_ADD_TEST(s, test_check_recovers_needs_every_probe);
    CR_ADD_TEST(s, test_check_recovers_blip_after_recovery);
    CR_ADD_TEST(s, test_check_recovers_never);
    CR_ADD_TEST(s, test_check_recovers_unknown);
    CR_ADD_TEST(s, test_check_service_restarts);
    CR_ADD_TEST(s, test_check_service_exit_and_running);
    CR_ADD_TEST(s, test_check_service_exit_code_of_the_stop_signal);
    CR_ADD_TEST(s, test_check_service_errors);
    CR_ADD_TEST(s, test_check_events_count);
    CR_ADD_TEST(s, test_check_events_min_and_empty);
    CR_ADD_TEST(s, test_check_events_windows);
    CR_ADD_TEST(s, test_check_events_ready_window);
    CR_ADD_TEST(s, test_check_events_window_from_end);
    CR_ADD_TEST(s, test_check_events_window_from_applied);
    CR_ADD_TEST(s, test_check_events_parse_errors);
    CR_ADD_TEST(s, test_check_all_oom_loop);
    CR_ADD_TEST(s, test_check_doc_complete);
}
