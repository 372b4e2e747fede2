/* Tests for the recovery checkers: checkpoint, same_result, failover. */
#include <signal.h>

#include "check_fixture.h"

/* ---- checkpoint ---- */

static void cp(fx *x, double t, const char *ev, int step)
{
    fx_ev(x,
          "{\"ts\": %g, \"svc\": \"worker\", \"inst\": \"worker.0\", \"ev\": "
          "\"%s\", \"name\": \"model\", \"step\": %d}",
          t, ev, step);
}

/* Saves every 10 steps, reaches 27, crashes at 3, restarts at 3.2. */
static void crash_story(fx *x, int restored)
{
    fx_proc(x, -1, "worker.0", "worker", CR_PROC_START, -1, 0, NULL);
    cp(x, 0.5, "checkpoint_saved", 10);
    cp(x, 1.5, "checkpoint_saved", 20);
    fx_ev(x, "{\"ts\": 2.5, \"svc\": \"worker\", \"inst\": \"worker.0\", "
             "\"ev\": \"progress\", \"step\": 27}");
    fx_proc(x, 3, "worker.0", "worker", CR_PROC_EXIT, -1, SIGKILL,
            "fault:kill-worker");
    fx_proc(x, 3.2, "worker.0", "worker", CR_PROC_START, -1, 0,
            "restart-policy");
    cp(x, 3.3, "checkpoint_restored", restored);
}

static void test_check_checkpoint_pass(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"checkpoint\", \"service\": \"worker\", "
                "\"checkpoint\": \"model\", \"max_replay\": 10}");
    crash_story(&x, 20);
    FX_PASSED(&x, 0);
    CU_ASSERT(fx_sum(&x, "1 crashes, each resumed from the last saved "
                         "checkpoint (worst replay 7 steps)"));
    CU_ASSERT_DOUBLE_EQUAL(x.res.measured, 7, 0);
    CU_ASSERT(fx_evid(
        &x, "worker.0 crashed: killed by SIGKILL, cause fault:kill-worker"));
    fx_free(&x);
}

static void test_check_checkpoint_rules(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"checkpoint\", \"service\": \"worker\"}");
    crash_story(&x, 10); /* older */
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "worker.0 restored step 10 but step 20 was saved "
                         "before the crash at t=3.000"));
    CU_ASSERT(fx_evid(&x, "last saved before the crash: t=1.500 worker.0 "
                          "checkpoint_saved name=model step=20"));
    fx_free(&x);

    fx_init(&x, "{\"kind\": \"checkpoint\", \"service\": \"worker\"}");
    crash_story(&x, 30); /* newer than anything saved */
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "restored step 30 but the last step saved before the "
                         "crash at t=3.000 was 20"));
    fx_free(&x);

    fx_init(&x, "{\"kind\": \"checkpoint\", \"service\": \"worker\", "
                "\"max_replay\": 5}");
    crash_story(&x, 20); /* replays 27 - 20 = 7 */
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "worker.0 replays 7 steps after the crash at t=3.000 "
                         "(reached 27, restored 20; bound 5)"));
    fx_free(&x);

    /* restarted but never restored */
    fx_init(&x, "{\"kind\": \"checkpoint\", \"service\": \"worker\"}");
    fx_proc(&x, -1, "worker.0", "worker", CR_PROC_START, -1, 0, NULL);
    cp(&x, 0.5, "checkpoint_saved", 10);
    fx_proc(&x, 3, "worker.0", "worker", CR_PROC_EXIT, 1, 0, NULL);
    fx_proc(&x, 3.2, "worker.0", "worker", CR_PROC_START, -1, 0,
            "restart-policy");
    FX_FAILED(&x, 0);
    CU_ASSERT(
        fx_sum(&x, "started again but never reported checkpoint_restored"));
    fx_free(&x);

    /* nothing saved, restored a non-zero step */
    fx_init(&x, "{\"kind\": \"checkpoint\", \"service\": \"worker\"}");
    fx_proc(&x, 3, "worker.0", "worker", CR_PROC_EXIT, -1, SIGSEGV, NULL);
    fx_proc(&x, 3.2, "worker.0", "worker", CR_PROC_START, -1, 0, NULL);
    cp(&x, 3.3, "checkpoint_restored", 5);
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "restored step 5 but nothing was saved"));
    fx_free(&x);
}

/* A correct service crashed in legitimate but awkward places. */
static void test_check_checkpoint_awkward_crashes(void)
{
    fx x;
    /* killed after making checkpoint 30 durable, before reporting it: it
     * restores 30, a step it had reached (34) */
    fx_init(&x, "{\"kind\": \"checkpoint\", \"service\": \"worker\", "
                "\"max_replay\": 5}");
    fx_proc(&x, -1, "worker.0", "worker", CR_PROC_START, -1, 0, NULL);
    cp(&x, 0.5, "checkpoint_saved", 10);
    cp(&x, 1.5, "checkpoint_saved", 20);
    fx_ev(&x, "{\"ts\": 2.5, \"svc\": \"worker\", \"inst\": \"worker.0\", "
              "\"ev\": \"progress\", \"step\": 34}");
    fx_proc(&x, 3, "worker.0", "worker", CR_PROC_EXIT, -1, SIGKILL, "fault:k");
    fx_proc(&x, 3.2, "worker.0", "worker", CR_PROC_START, -1, 0, NULL);
    cp(&x, 3.3, "checkpoint_restored", 30);
    FX_PASSED(&x, 0);
    CU_ASSERT_EQUAL(fx_detail(&x, "unreported_saves"), 1);
    CU_ASSERT(fx_evid(&x, "made durable before the crash, not yet reported"));
    CU_ASSERT_DOUBLE_EQUAL(x.res.measured, 4, 0);
    fx_free(&x);

    /* killed again while starting (a crash loop): the second restart
     * restores the checkpoint saved before the first crash */
    fx_init(&x, "{\"kind\": \"checkpoint\", \"service\": \"worker\"}");
    fx_proc(&x, -1, "worker.0", "worker", CR_PROC_START, -1, 0, NULL);
    cp(&x, 1.5, "checkpoint_saved", 20);
    fx_proc(&x, 3, "worker.0", "worker", CR_PROC_EXIT, -1, SIGKILL, "fault:k");
    fx_proc(&x, 3.2, "worker.0", "worker", CR_PROC_START, -1, 0, NULL);
    fx_proc(&x, 3.4, "worker.0", "worker", CR_PROC_EXIT, -1, SIGKILL,
            "fault:k");
    fx_proc(&x, 3.6, "worker.0", "worker", CR_PROC_START, -1, 0, NULL);
    fx_proc(&x, 3.8, "worker.0", "worker", CR_PROC_READY, -1, 0, NULL);
    cp(&x, 3.9, "checkpoint_restored", 20);
    FX_PASSED(&x, 0);
    CU_ASSERT_EQUAL(fx_detail(&x, "crashes"), 2);
    CU_ASSERT_EQUAL(fx_detail(&x, "judged"), 1);
    CU_ASSERT(fx_evid(&x, "crashed again at t=3.400 while starting"));
    fx_free(&x);

    /* restarted during the drain and stopped by the run while booting */
    fx_init(&x, "{\"kind\": \"checkpoint\", \"service\": \"worker\"}");
    fx_proc(&x, -1, "worker.0", "worker", CR_PROC_START, -1, 0, NULL);
    cp(&x, 1.5, "checkpoint_saved", 20);
    fx_proc(&x, 19.6, "worker.0", "worker", CR_PROC_EXIT, -1, SIGKILL,
            "fault:k");
    fx_proc(&x, 20.5, "worker.0", "worker", CR_PROC_START, -1, 0, NULL);
    fx_proc(&x, 20.5, "worker.0", "worker", CR_PROC_READY, -1, 0, NULL);
    fx_proc(&x, 22, "worker.0", "worker", CR_PROC_EXIT, -1, SIGTERM, "stop");
    FX_UNKNOWN(&x, 0);
    CU_ASSERT(fx_evid(&x, "stopped by the run at t=22.000 while starting"));
    fx_free(&x);

    /* restarted mid-run, never ready (its readiness check never passed),
     * stopped by the run: still starting, not judged */
    fx_init(&x, "{\"kind\": \"checkpoint\", \"service\": \"worker\"}");
    fx_proc(&x, -1, "worker.0", "worker", CR_PROC_START, -1, 0, NULL);
    cp(&x, 1.5, "checkpoint_saved", 20);
    fx_proc(&x, 5, "worker.0", "worker", CR_PROC_EXIT, -1, SIGKILL, "fault:k");
    fx_proc(&x, 5.2, "worker.0", "worker", CR_PROC_START, -1, 0, NULL);
    fx_proc(&x, 22, "worker.0", "worker", CR_PROC_EXIT, -1, SIGTERM, "stop");
    FX_UNKNOWN(&x, 0);
    fx_free(&x);
}

/* The defects those allowances must not hide. */
static void test_check_checkpoint_awkward_defects(void)
{
    fx x;
    /* restores a step it never reached */
    fx_init(&x, "{\"kind\": \"checkpoint\", \"service\": \"worker\"}");
    crash_story(&x, 40); /* reached 27 */
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "restored step 40 but the last step saved before the "
                         "crash at t=3.000 was 20"));
    fx_free(&x);

    /* started again, ready and working, but never restored */
    fx_init(&x, "{\"kind\": \"checkpoint\", \"service\": \"worker\"}");
    fx_proc(&x, -1, "worker.0", "worker", CR_PROC_START, -1, 0, NULL);
    cp(&x, 1.5, "checkpoint_saved", 20);
    fx_proc(&x, 3, "worker.0", "worker", CR_PROC_EXIT, -1, SIGKILL, "fault:k");
    fx_proc(&x, 3.2, "worker.0", "worker", CR_PROC_START, -1, 0, NULL);
    fx_proc(&x, 3.2, "worker.0", "worker", CR_PROC_READY, -1, 0, NULL);
    fx_ev(&x, "{\"ts\": 3.5, \"svc\": \"worker\", \"inst\": \"worker.0\", "
              "\"ev\": \"progress\", \"step\": 1}");
    fx_proc(&x, 22, "worker.0", "worker", CR_PROC_EXIT, -1, SIGTERM, "stop");
    FX_FAILED(&x, 0);
    CU_ASSERT(
        fx_sum(&x, "started again but never reported checkpoint_restored"));
    CU_ASSERT(fx_sum(&x, "it reported step 1 at t=3.500"));
    fx_free(&x);

    /* ready mid-run and stopped at the end without ever restoring: a hang */
    fx_init(&x, "{\"kind\": \"checkpoint\", \"service\": \"worker\"}");
    fx_proc(&x, -1, "worker.0", "worker", CR_PROC_START, -1, 0, NULL);
    cp(&x, 1.5, "checkpoint_saved", 20);
    fx_proc(&x, 5, "worker.0", "worker", CR_PROC_EXIT, -1, SIGKILL, "fault:k");
    fx_proc(&x, 5.2, "worker.0", "worker", CR_PROC_START, -1, 0, NULL);
    fx_proc(&x, 5.3, "worker.0", "worker", CR_PROC_READY, -1, 0, NULL);
    fx_proc(&x, 22, "worker.0", "worker", CR_PROC_EXIT, -1, SIGTERM, "stop");
    FX_FAILED(&x, 0);
    fx_free(&x);
}

static void test_check_checkpoint_unknown_and_filters(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"checkpoint\", \"service\": \"worker\"},"
                "{\"kind\": \"checkpoint\", \"service\": \"worker\", "
                "\"checkpoint\": \"other\"}");
    fx_proc(&x, -1, "worker.0", "worker", CR_PROC_START, -1, 0, NULL);
    cp(&x, 0.5, "checkpoint_saved", 10);
    fx_proc(&x, 21, "worker.0", "worker", CR_PROC_EXIT, -1, SIGTERM,
            "stop"); /* not a crash */
    FX_UNKNOWN(&x, 0);
    CU_ASSERT(fx_sum(&x, "never crashed"));
    fx_free(&x);
    /* crash without a restart: not judged */
    fx_init(&x, "{\"kind\": \"checkpoint\", \"service\": \"worker\"}");
    fx_proc(&x, 3, "worker.0", "worker", CR_PROC_EXIT, -1, SIGKILL, "fault:k");
    FX_UNKNOWN(&x, 0);
    fx_free(&x);
    /* another checkpoint name is ignored: "other" was never saved */
    fx_init(&x, "{\"kind\": \"checkpoint\", \"service\": \"worker\", "
                "\"checkpoint\": \"other\"}");
    crash_story(&x, 20);
    FX_FAILED(&x, 0); /* restarted, but never restored "other" */
    CU_ASSERT(fx_sum(&x, "never reported checkpoint_restored"));
    fx_free(&x);
    CU_ASSERT(fx_invalid("{\"kind\": \"checkpoint\"}",
                         "missing required key \"service\""));
    CU_ASSERT(fx_invalid("{\"kind\": \"checkpoint\", \"service\": \"zz\"}",
                         "unknown service \"zz\""));
}

/* ---- same_result ---- */

static void test_check_same_result(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"same_result\", \"result\": \"hash\"}");
    CU_ASSERT(x.sc->expects[0].ops->flags & CR_CHECK_NEEDS_BASELINE);
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "the run produced no result \"hash\""));
    fx_ev(&x, "{\"ts\": 5, \"svc\": \"worker\", \"ev\": \"result\", \"name\": "
              "\"hash\", \"value\": \"abc\"}");
    fx_ev(&x, "{\"ts\": 6, \"svc\": \"worker\", \"ev\": \"result\", \"name\": "
              "\"other\", \"value\": \"zzz\"}");
    FX_UNKNOWN(&x, 0);
    CU_ASSERT(fx_sum(&x, "no baseline run"));
    fx_base_ev(
        &x,
        "{\"ts\": 1, \"ev\": \"result\", \"name\": \"other\", \"value\": 1}");
    FX_UNKNOWN(&x, 0);
    CU_ASSERT(fx_sum(&x, "the baseline run produced no result \"hash\""));
    fx_base_ev(&x, "{\"ts\": 2, \"ev\": \"result\", \"name\": \"hash\", "
                   "\"value\": \"abd\"}");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(
        &x,
        "result \"hash\" is \"abc\" but the fault-free baseline gave \"abd\""));
    fx_base_ev(&x, "{\"ts\": 3, \"ev\": \"result\", \"name\": \"hash\", "
                   "\"value\": \"abc\"}"); /* last wins */
    FX_PASSED(&x, 0);
    fx_free(&x);

    fx_init(&x, "{\"kind\": \"same_result\", \"result\": \"n\"}");
    fx_ev(&x, "{\"ts\": 5, \"ev\": \"result\", \"name\": \"n\", \"value\": 3}");
    fx_base_ev(
        &x, "{\"ts\": 5, \"ev\": \"result\", \"name\": \"n\", \"value\": 3.0}");
    FX_PASSED(&x, 0);
    fx_free(&x);
    CU_ASSERT(fx_invalid("{\"kind\": \"same_result\"}",
                         "missing required key \"result\""));
}

/* ---- failover ---- */

static void served(fx *x, double t, const char *inst)
{
    fx_ev(
        x,
        "{\"ts\": %.4f, \"svc\": \"db\", \"inst\": \"%s\", \"ev\": \"served\"}",
        t, inst);
}

static void test_check_failover_pass_and_slow(void)
{
    fx x;
    fx_init(&x,
            "{\"kind\": \"failover\", \"from\": \"db.0\", \"to\": \"db.1\", "
            "\"within_ms\": 500, \"exclusive\": true},"
            "{\"kind\": \"failover\", \"from\": \"db.0\", \"within_ms\": 100}");
    served(&x, 1, "db.0");
    fx_fault(&x, "kill-db", "db.0", 2, 2);
    fx_ev(&x, "{\"ts\": 2.2, \"svc\": \"lb\", \"ev\": \"failover\", \"from\": "
              "\"db.0\", \"to\": \"db.1\"}");
    served(&x, 2.3, "db.1");
    served(&x, 2.4, "db.1");
    FX_PASSED(&x, 0);
    CU_ASSERT(fx_sum(&x, "failed over in 200 ms, first success on db.1 after "
                         "300 ms (bound 500 ms)"));
    CU_ASSERT_DOUBLE_EQUAL(x.res.measured, 300, 1e-6);
    FX_FAILED(&x, 1); /* to taken from the failover event */
    CU_ASSERT(fx_sum(&x, "failover took 200 ms and the first success on db.1 "
                         "300 ms (bound 100 ms)"));
    fx_free(&x);
}

static void test_check_failover_rules(void)
{
    fx x;
    /* no failover event at all */
    fx_init(&x,
            "{\"kind\": \"failover\", \"from\": \"db.0\", \"within_ms\": 500}");
    fx_proc(&x, 2, "db.0", "db", CR_PROC_EXIT, -1, SIGKILL, "fault:kill-db");
    served(&x, 2.3, "db.1");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "no failover event after db.0 exited at t=2.000"));
    fx_free(&x);

    /* standby never serves */
    fx_init(&x, "{\"kind\": \"failover\", \"from\": \"db.0\", \"to\": "
                "\"db.1\", \"within_ms\": 500}");
    fx_fault(&x, "kill-db", "db.0", 2, 2);
    fx_ev(&x, "{\"ts\": 2.2, \"svc\": \"lb\", \"ev\": \"failover\", \"from\": "
              "\"db.0\", \"to\": \"db.1\"}");
    served(&x, 2.3, "db.0");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "the standby db.1 never succeeded"));
    fx_free(&x);

    /* split brain: the old primary keeps serving after the failover */
    fx_init(&x, "{\"kind\": \"failover\", \"from\": \"db.0\", \"to\": "
                "\"db.1\", \"within_ms\": 500, \"exclusive\": true},"
                "{\"kind\": \"failover\", \"from\": \"db.0\", \"to\": "
                "\"db.1\", \"within_ms\": 500}");
    fx_ev(&x, "{\"ts\": 2, \"svc\": \"db\", \"inst\": \"db.0\", \"ev\": "
              "\"stopped\"}");
    fx_ev(&x, "{\"ts\": 2.2, \"svc\": \"lb\", \"ev\": \"failover\", \"from\": "
              "\"db.0\", \"to\": \"db.1\"}");
    served(&x, 2.3, "db.1");
    served(&x, 2.5, "db.0");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(
        &x,
        "split brain: db.0 served 1 operations after the failover at t=2.200"));
    CU_ASSERT(fx_evid(&x, "primary still serving after the failover"));
    FX_PASSED(&x, 1); /* not exclusive */
    fx_free(&x);

    /* after a failback the primary may serve again */
    fx_init(&x, "{\"kind\": \"failover\", \"from\": \"db.0\", \"to\": "
                "\"db.1\", \"within_ms\": 500, \"exclusive\": true}");
    fx_fault(&x, "kill-db", "db.0", 2, 2);
    fx_ev(&x, "{\"ts\": 2.2, \"svc\": \"lb\", \"ev\": \"failover\", \"from\": "
              "\"db.0\", \"to\": \"db.1\"}");
    served(&x, 2.3, "db.1");
    fx_ev(&x, "{\"ts\": 4, \"svc\": \"lb\", \"ev\": \"failover\", \"from\": "
              "\"db.1\", \"to\": \"db.0\"}");
    served(&x, 4.1, "db.0");
    FX_PASSED(&x, 0);
    fx_free(&x);
}

/* A network fault has no service target: it hits the primary through the
 * host the primary's service is placed on (the fact's hosts). */
static void test_check_failover_network_fault_on_primary_host(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"failover\", \"from\": \"db\", \"to\": "
                "\"worker\", \"within_ms\": 500, \"exclusive\": true}");
    cr_free(x.sc->svcs[1].host);
    x.sc->svcs[1].host = cr_strdup("region-a"); /* db runs on region-a */
    served(&x, 1, "db.0");
    fx_fault(&x, "cut", "-", 2, 4);
    x.faults[0].kind = "partition";
    x.faults[0].hosts = "region-c,region-a";
    fx_ev(&x, "{\"ts\": 2.2, \"svc\": \"lb\", \"ev\": \"failover\", "
              "\"from\": \"db.0\", \"to\": \"worker.0\"}");
    fx_ev(&x, "{\"ts\": 2.3, \"svc\": \"worker\", \"inst\": "
              "\"worker.0\", \"ev\": \"served\"}");
    FX_PASSED(&x, 0);
    CU_ASSERT(fx_evid(&x, "fault cut (partition) hit host region-c,region-a"));
    /* the primary still serving during the cut: split brain */
    served(&x, 3, "db.0");
    FX_FAILED(&x, 0);
    fx_free(&x);

    /* a cut elsewhere (a prefix of the name is not the host) */
    fx_init(&x, "{\"kind\": \"failover\", \"from\": \"db\", "
                "\"within_ms\": 500}");
    cr_free(x.sc->svcs[1].host);
    x.sc->svcs[1].host = cr_strdup("region-a");
    fx_fault(&x, "cut", "-", 2, 4);
    x.faults[0].hosts = "region-b,region-aa";
    FX_UNKNOWN(&x, 0);
    fx_free(&x);
}

/* A cut of db.0 from t=4 whose apply completed at 6.44, a failover to
 * db.1 at fo and its first success at ok; bound within_ms. */
static void late_cut(fx *x, double within_ms, double fo, double ok)
{
    char spec[160];
    snprintf(spec, sizeof spec,
             "{\"kind\": \"failover\", \"from\": \"db.0\", \"to\": "
             "\"db.1\", \"within_ms\": %g, \"exclusive\": true}",
             within_ms);
    fx_init(x, spec);
    served(x, 1, "db.0");
    fx_fault(x, "cut", "db.0", 4, 12);
    x->faults[0].applied = 6.44;
    served(x, 3.9, "db.0"); /* before the cut */
    fx_ev(x,
          "{\"ts\": %.4f, \"svc\": \"lb\", \"ev\": \"failover\", "
          "\"from\": \"db.0\", \"to\": \"db.1\"}",
          fo);
    served(x, ok, "db.1");
}

/* A fault applied late (a loaded machine: the partition's apply took
 * 2.4 s, the primary serving all along): the bound counts from the apply's
 * completion, not its start (stability run, pipeline-regions seed 7 beside
 * stress-ng: "failover took 2835 ms"); a failover during the apply is 0. */
static void test_check_failover_fault_applied_late(void)
{
    fx x;
    late_cut(&x, 2000, 6.836, 6.837);
    FX_PASSED(&x, 0);
    CU_ASSERT(fx_sum(&x, "failed over in 396 ms, first success on db.1 after "
                         "397 ms (bound 2000 ms)"));
    CU_ASSERT(fx_evid(&x, "its apply complete after 2440 ms"));
    fx_free(&x);
    late_cut(&x, 2000, 8.6, 8.7); /* slow after the apply: still a failure */
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "failover took 2160 ms and the first success on db.1 "
                         "2260 ms (bound 2000 ms)"));
    fx_free(&x);
    late_cut(&x, 100, 5, 5.1); /* over while the apply still ran: 0 ms */
    FX_PASSED(&x, 0);
    CU_ASSERT(fx_sum(&x, "failed over in 0 ms, first success on db.1 after 0 "
                         "ms (bound 100 ms)"));
    fx_free(&x);
}

/* A primary stopped gracefully drains: it finishes the requests it had
 * taken after the balancer moved traffic away (between its `stopping` and
 * `stopped`): no split brain.  And the primary's own `stopped` at the
 * run's end is no failure of the primary. */
static void test_check_failover_drain_and_shutdown(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"failover\", \"from\": \"db.0\", \"to\": "
                "\"db.1\", \"within_ms\": 500, \"exclusive\": true}");
    served(&x, 1, "db.0");
    fx_fault(&x, "dep", "db.0", 2, 2);
    x.faults[0].kind = "terminate";
    fx_ev(&x, "{\"ts\": 2.01, \"svc\": \"db\", \"inst\": \"db.0\", \"ev\": "
              "\"stopping\"}");
    fx_ev(&x, "{\"ts\": 2.1, \"svc\": \"lb\", \"ev\": \"failover\", \"from\": "
              "\"db.0\", \"to\": \"db.1\"}");
    served(&x, 2.15, "db.1");
    served(&x, 2.2, "db.0"); /* in flight when it began to drain */
    fx_ev(&x, "{\"ts\": 2.3, \"svc\": \"db\", \"inst\": \"db.0\", \"ev\": "
              "\"stopped\"}");
    fx_proc(&x, 2.3, "db.0", "db", CR_PROC_EXIT, 0, 0, "fault:dep");
    FX_PASSED(&x, 0);
    CU_ASSERT_EQUAL(fx_detail(&x, "served_while_draining"), 1);
    /* serving after it said it stopped is split brain again */
    served(&x, 2.5, "db.0");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "split brain: db.0 served 1 operations"));
    fx_free(&x);

    /* no fault hit the primary; it wrote `stopped` when the run stopped it */
    fx_init(&x, "{\"kind\": \"failover\", \"from\": \"db.0\", \"within_ms\": "
                "500}");
    served(&x, 1, "db.0");
    fx_ev(&x, "{\"ts\": 21, \"svc\": \"db\", \"inst\": \"db.0\", \"ev\": "
              "\"stopped\"}");
    fx_proc(&x, 21.01, "db.0", "db", CR_PROC_EXIT, 0, 0, "stop");
    FX_UNKNOWN(&x, 0);
    CU_ASSERT(fx_sum(&x, "the primary db.0 never failed"));
    fx_free(&x);
}

static void test_check_failover_unknown_and_parse(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"failover\", \"from\": \"db.0\", \"within_ms\": "
                "500, \"success_ev\": [\"ok\"]}");
    served(&x, 1, "db.0");
    FX_UNKNOWN(&x, 0);
    CU_ASSERT(fx_sum(&x, "the primary db.0 never failed"));
    fx_fault(&x, "kill-worker", "worker.1", 2, 2); /* another target */
    FX_UNKNOWN(&x, 0);
    fx_fault(&x, "kill-db", "db", 3, 3); /* the whole service designates db.0 */
    fx_ev(&x, "{\"ts\": 3.1, \"svc\": \"lb\", \"ev\": \"failover\", \"to\": "
              "\"db.1\"}");
    served(&x, 3.2, "db.1"); /* "served" is not in success_ev here */
    FX_FAILED(&x, 0);
    fx_ev(&x,
          "{\"ts\": 3.3, \"svc\": \"db\", \"inst\": \"db.1\", \"ev\": \"ok\"}");
    FX_PASSED(&x, 0);
    fx_free(&x);
    CU_ASSERT(fx_invalid("{\"kind\": \"failover\", \"from\": \"db.0\"}",
                         "missing required key \"within_ms\""));
    CU_ASSERT(fx_invalid(
        "{\"kind\": \"failover\", \"within_ms\": 5, \"success_ev\": \"ok\"}",
        "array of strings"));
}

void cr_test_register(void)
{
    cr_alloc_install_json();
    CU_pSuite s = CU_add_suite("check_recovery", NULL, NULL);
    CR_ADD_TEST(s, test_check_checkpoint_pass);
    CR_ADD_TEST(s, test_check_checkpoint_rules);
    CR_ADD_TEST(s, test_check_checkpoint_awkward_crashes);
    CR_ADD_TEST(s, test_check_checkpoint_awkward_defects);
    CR_ADD_TEST(s, test_check_checkpoint_unknown_and_filters);
    CR_ADD_TEST(s, test_check_same_result);
    CR_ADD_TEST(s, test_check_failover_pass_and_slow);
    CR_ADD_TEST(s, test_check_failover_rules);
    CR_ADD_TEST(s, test_check_failover_network_fault_on_primary_host);
    CR_ADD_TEST(s, test_check_failover_drain_and_shutdown);
    CR_ADD_TEST(s, test_check_failover_fault_applied_late);
    CR_ADD_TEST(s, test_check_failover_unknown_and_parse);
}
