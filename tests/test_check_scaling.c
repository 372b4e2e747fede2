/* Tests for the scaling checker: a correct up-then-down story passes, and
 * one history per rule fails naming it (out of bounds, broken continuity,
 * cool-down violated, never scaled down, down before up, a scaled-down
 * worker that never stopped, a drain reported not graceful), plus unknown
 * on an empty run and parse errors. */
#include "check_fixture.h"

#define SUP "\"svc\": \"db\""

static void scaled(fx *x, double t, int from, int to, const char *inst)
{
    fx_ev(x,
          "{\"ts\": %g, \"svc\": \"db\", \"ev\": \"scaled\", \"from\": %d, "
          "\"to\": %d, \"reason\": \"depth\", \"depth\": 300, \"instance\": "
          "\"%s\"}",
          t, from, to, inst);
}

static void stopped(fx *x, double t, const char *inst)
{
    fx_ev(x,
          "{\"ts\": %g, \"svc\": \"worker\", \"inst\": \"%s\", \"ev\": "
          "\"stopped\"}",
          t, inst);
}

/* 1 -> 2 -> 3 -> 2 -> 1, 3 s apart; each drained worker stops. */
static void good_story(fx *x)
{
    fx_ev(x, "{\"ts\": 0.5, \"svc\": \"db\", \"ev\": \"ready\"}");
    scaled(x, 2, 1, 2, "worker.1");
    scaled(x, 5, 2, 3, "worker.2");
    scaled(x, 8, 3, 2, "worker.2");
    stopped(x, 8.2, "worker.2");
    fx_ev(x,
          "{\"ts\": 8.3, \"svc\": \"db\", \"ev\": \"drained\", \"instance\": "
          "\"worker.2\", \"ms\": 300, \"graceful\": true}");
    scaled(x, 11, 2, 1, "worker.1");
    stopped(x, 11.1, "worker.1");
}

static void test_check_scaling_pass(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"scaling\", \"name\": \"s\", " SUP
                ", \"min\": 1, \"max\": 3, \"cooldown_s\": 3}");
    good_story(&x);
    FX_PASSED(&x, 0);
    CU_ASSERT(fx_sum(&x, "4 scaling changes (2 up, 2 down) within [1, 3]"));
    CU_ASSERT_DOUBLE_EQUAL(x.res.measured, 3, 1e-9);
    CU_ASSERT_EQUAL(fx_detail(&x, "ups"), 2);
    CU_ASSERT_EQUAL(fx_detail(&x, "downs"), 2);
    fx_free(&x);
}

static void test_check_scaling_bounds(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"scaling\", \"name\": \"s\", \"min\": 1, "
                "\"max\": 2}");
    good_story(&x);
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_evid(&x, "scaled 2 -> 3: outside [1, 2]"));
    CU_ASSERT(fx_evid(&x, "scaled 3 -> 2: outside [1, 2]"));
    fx_free(&x);
}

static void test_check_scaling_cooldown(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"scaling\", \"name\": \"s\", \"min\": 1, "
                "\"max\": 3, \"cooldown_s\": 3.5}");
    good_story(&x);
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_evid(&x, "only 3.00 s after the previous change (cool-down "
                          "3.5 s)"));
    CU_ASSERT(fx_sum(&x, "3 scaling rule violations"));
    fx_free(&x);
    /* the tolerance absorbs a small early change */
    fx_init(&x, "{\"kind\": \"scaling\", \"name\": \"s\", \"min\": 1, "
                "\"max\": 3, \"cooldown_s\": 3.04}");
    good_story(&x);
    FX_PASSED(&x, 0);
    fx_free(&x);
}

static void test_check_scaling_continuity(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"scaling\", \"name\": \"s\", \"min\": 1, "
                "\"max\": 3}");
    good_story(&x);
    scaled(&x, 14, 3, 2, "worker.2"); /* the last change left 1 */
    stopped(&x, 14.1, "worker.2");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_evid(&x, "scaled from 3 but the previous change left 1"));
    fx_free(&x);
}

static void test_check_scaling_up_then_down(void)
{
    fx x;
    /* only ups */
    fx_init(&x, "{\"kind\": \"scaling\", \"name\": \"s\", \"min\": 1, "
                "\"max\": 3}");
    fx_ev(&x, "{\"ts\": 0.5, \"svc\": \"db\", \"ev\": \"ready\"}");
    scaled(&x, 2, 1, 2, "worker.1");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "scaled up 1 and down 0 times"));
    fx_free(&x);
    /* never scaled at all */
    fx_init(&x, "{\"kind\": \"scaling\", \"name\": \"s\", \"min\": 1, "
                "\"max\": 3}");
    fx_ev(&x, "{\"ts\": 0.5, \"svc\": \"db\", \"ev\": \"ready\"}");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "scaled up 0 and down 0 times"));
    fx_free(&x);
    /* down first, then up: no down after the first up */
    fx_init(&x, "{\"kind\": \"scaling\", \"name\": \"s\", \"min\": 1, "
                "\"max\": 3}");
    scaled(&x, 2, 2, 1, "worker.1");
    stopped(&x, 2.5, "worker.1");
    scaled(&x, 6, 1, 2, "worker.1");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "never scaled down after scaling up"));
    fx_free(&x);
    /* min_downs 0: a run that only had to scale up */
    fx_init(&x, "{\"kind\": \"scaling\", \"name\": \"s\", \"min\": 1, "
                "\"max\": 3, \"min_downs\": 0}");
    scaled(&x, 2, 1, 2, "worker.1");
    FX_PASSED(&x, 0);
    fx_free(&x);
}

static void test_check_scaling_graceful(void)
{
    fx x;
    /* worker.1 scaled down at 11 but never stopped (SIGKILLed) */
    fx_init(&x, "{\"kind\": \"scaling\", \"name\": \"s\", \"min\": 1, "
                "\"max\": 3}");
    fx_ev(&x, "{\"ts\": 0.5, \"svc\": \"db\", \"ev\": \"ready\"}");
    scaled(&x, 2, 1, 2, "worker.1");
    scaled(&x, 11, 2, 1, "worker.1");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_evid(&x, "worker.1 scaled down but wrote no `stopped`"));
    fx_free(&x);
    /* a stop long after drain_s does not count */
    fx_init(&x, "{\"kind\": \"scaling\", \"name\": \"s\", \"min\": 1, "
                "\"max\": 3, \"drain_s\": 2}");
    scaled(&x, 2, 1, 2, "worker.1");
    scaled(&x, 11, 2, 1, "worker.1");
    stopped(&x, 14, "worker.1");
    FX_FAILED(&x, 0);
    fx_free(&x);
    /* the supervisor reports a drain that timed out */
    fx_init(&x, "{\"kind\": \"scaling\", \"name\": \"s\", \"min\": 1, "
                "\"max\": 3}");
    good_story(&x);
    fx_ev(&x,
          "{\"ts\": 11.2, \"svc\": \"db\", \"ev\": \"drained\", \"instance\": "
          "\"worker.1\", \"ms\": 10000, \"graceful\": false}");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_evid(&x, "drain was not graceful"));
    fx_free(&x);
    /* graceful false: not judged */
    fx_init(&x, "{\"kind\": \"scaling\", \"name\": \"s\", \"min\": 1, "
                "\"max\": 3, \"graceful\": false}");
    fx_ev(&x, "{\"ts\": 0.5, \"svc\": \"db\", \"ev\": \"ready\"}");
    scaled(&x, 2, 1, 2, "worker.1");
    scaled(&x, 11, 2, 1, "worker.1");
    FX_PASSED(&x, 0);
    fx_free(&x);
}

static void test_check_scaling_svc_filter_and_unknown(void)
{
    fx x;
    /* events from another service are not the autoscaler's */
    fx_init(&x, "{\"kind\": \"scaling\", \"name\": \"s\", \"svc\": "
                "\"worker\", \"min\": 1, \"max\": 3}");
    good_story(&x);
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "scaled up 0 and down 0 times"));
    fx_free(&x);
    fx_init(&x, "{\"kind\": \"scaling\", \"name\": \"s\", \"min\": 1, "
                "\"max\": 3}");
    FX_UNKNOWN(&x, 0);
    fx_free(&x);
    /* a scaled event without numbers is a violation */
    fx_init(&x, "{\"kind\": \"scaling\", \"name\": \"s\", \"min\": 1, "
                "\"max\": 3}");
    fx_ev(&x, "{\"ts\": 1, \"svc\": \"db\", \"ev\": \"scaled\", \"from\": "
              "\"one\", \"to\": 2}");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_evid(&x, "scaled without numeric from/to"));
    fx_free(&x);
}

static void test_check_scaling_parse_errors(void)
{
    CU_ASSERT(fx_invalid("{\"kind\": \"scaling\", \"name\": \"s\", \"max\": 3}",
                         "min"));
    CU_ASSERT(fx_invalid("{\"kind\": \"scaling\", \"name\": \"s\", \"min\": 4, "
                         "\"max\": 3}",
                         "min (4) is greater than max (3)"));
    CU_ASSERT(fx_invalid("{\"kind\": \"scaling\", \"name\": \"s\", \"min\": 1, "
                         "\"max\": 3, \"svc\": \"nope\"}",
                         "unknown service \"nope\""));
    CU_ASSERT(fx_invalid("{\"kind\": \"scaling\", \"name\": \"s\", \"min\": 1, "
                         "\"max\": 3, \"cooldown_s\": -1}",
                         "cooldown_s"));
    CU_ASSERT(fx_invalid("{\"kind\": \"scaling\", \"name\": \"s\", \"min\": 1, "
                         "\"max\": 3, \"cooldwn_s\": 1}",
                         "cooldwn_s"));
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("check_scaling", NULL, NULL);
    CR_ADD_TEST(s, test_check_scaling_pass);
    CR_ADD_TEST(s, test_check_scaling_bounds);
    CR_ADD_TEST(s, test_check_scaling_cooldown);
    CR_ADD_TEST(s, test_check_scaling_continuity);
    CR_ADD_TEST(s, test_check_scaling_up_then_down);
    CR_ADD_TEST(s, test_check_scaling_graceful);
    CR_ADD_TEST(s, test_check_scaling_svc_filter_and_unknown);
    CR_ADD_TEST(s, test_check_scaling_parse_errors);
}
