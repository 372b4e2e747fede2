/* Tests for the breaker checker: one passing story and one history per
 * rule (illegal transition, call while open, rejected while closed, early
 * half_open, never opened, opened late, never closed). */
#include "check_fixture.h"

#define POLICY                                                                 \
    "\"kind\": \"breaker\", \"breaker\": \"db\", \"dependency_fault\": "       \
    "\"dep\""

static void st(fx *x, double t, const char *state)
{
    fx_ev(x,
          "{\"ts\": %g, \"svc\": \"worker\", \"inst\": \"worker.0\", \"ev\": "
          "\"breaker\", \"name\": \"db\", \"state\": \"%s\"}",
          t, state);
}

static void call(fx *x, double t)
{
    fx_ev(x,
          "{\"ts\": %g, \"svc\": \"worker\", \"inst\": \"worker.0\", \"ev\": "
          "\"call\", \"name\": \"db\"}",
          t);
}

static void rej(fx *x, double t)
{
    fx_ev(x,
          "{\"ts\": %g, \"svc\": \"worker\", \"inst\": \"worker.0\", \"ev\": "
          "\"rejected\", \"name\": \"db\"}",
          t);
}

/* Dependency fails in [2, 5].  A correct breaker: calls fail, opens at
 * 2.3, rejects, half_open at 3.3, trial fails, opens, half_open at 4.4,
 * still failing, open, half_open at 5.5, trial succeeds, closes. */
static void good_story(fx *x)
{
    fx_fault(x, "dep", "db", 2, 5);
    call(x, 1);
    call(x, 2.1);
    fx_ev(x,
          "{\"ts\": 2.2, \"svc\": \"worker\", \"inst\": \"worker.0\", \"ev\": "
          "\"retry\", \"op\": \"db\", \"attempt\": 1, \"delay_ms\": 50}");
    st(x, 2.3, "open");
    rej(x, 2.5);
    st(x, 3.3, "half_open");
    call(x, 3.31);
    st(x, 3.4, "open");
    rej(x, 3.9);
    st(x, 4.4, "half_open");
    call(x, 4.41);
    st(x, 4.5, "open");
    st(x, 5.5, "half_open");
    call(x, 5.51);
    st(x, 5.6, "closed");
    call(x, 6);
}

static void test_check_breaker_pass(void)
{
    fx x;
    fx_init(
        &x,
        "{" POLICY
        ", \"opens_within_s\": 1, \"closes_within_s\": 2, \"min_open_s\": 1}");
    good_story(&x);
    FX_PASSED(&x, 0);
    CU_ASSERT(fx_sum(&x, "breaker db opened 3 times"));
    CU_ASSERT_DOUBLE_EQUAL(x.res.measured, 0.3, 1e-9);
    fx_free(&x);
}

static void test_check_breaker_rules(void)
{
    fx x;
    /* illegal transition closed -> half_open */
    fx_init(&x, "{" POLICY "}");
    good_story(&x);
    st(&x, 7, "half_open");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(
        &x,
        "worker.0 breaker db went closed -> half_open (illegal transition)"));
    CU_ASSERT(fx_evid(&x, "illegal transition closed -> half_open"));
    fx_free(&x);

    /* a call while open */
    fx_init(&x, "{" POLICY "}");
    good_story(&x);
    call(&x, 2.6);
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(
        &x, "worker.0 called db while its breaker was open (since t=2.300)"));
    CU_ASSERT(fx_evid(&x, "call while open: t=2.600 worker.0 call name=db"));
    fx_free(&x);

    /* a retry of op db while open counts as a call too */
    fx_init(&x, "{" POLICY "}");
    good_story(&x);
    fx_ev(&x,
          "{\"ts\": 2.7, \"svc\": \"worker\", \"inst\": \"worker.0\", \"ev\": "
          "\"retry\", \"op\": \"db\", \"attempt\": 2, \"delay_ms\": 50}");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "called db while its breaker was open"));
    fx_free(&x);

    /* rejected while closed */
    fx_init(&x, "{" POLICY "}");
    good_story(&x);
    rej(&x, 1.5);
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(
        &x, "worker.0 rejected a call to db while the breaker was closed"));
    fx_free(&x);

    /* half_open too soon */
    fx_init(&x, "{" POLICY ", \"min_open_s\": 2}");
    good_story(&x);
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "worker.0 breaker db went half_open 1.000 s after "
                         "opening (min_open_s 2)"));
    fx_free(&x);

    /* opened too late */
    fx_init(&x, "{" POLICY ", \"opens_within_s\": 0.2}");
    good_story(&x);
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "breaker db of worker.0 opened 0.300 s after fault "
                         "dep began (bound 0.2 s)"));
    fx_free(&x);

    /* closes too late */
    fx_init(&x, "{" POLICY ", \"closes_within_s\": 0.5}");
    good_story(&x);
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "breaker db of worker.0 closed 0.600 s after fault "
                         "dep ended (bound 0.5 s)"));
    fx_free(&x);
}

static void test_check_breaker_never_opens(void)
{
    fx x;
    fx_init(&x, "{" POLICY "}, {" POLICY ", \"closes_within_s\": 1}");
    fx_fault(&x, "dep", "db", 2, 5);
    for (double t = 1; t < 8; t += 0.5)
        call(&x, t);
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "breaker db of worker.0 never opened during fault dep "
                         "(2.000..5.000 s)"));
    CU_ASSERT(fx_evid(&x, "fault dep began; worker.0 breaker stayed closed"));
    fx_free(&x);

    /* opens but never closes */
    fx_init(&x, "{" POLICY ", \"closes_within_s\": 1}");
    fx_fault(&x, "dep", "db", 2, 5);
    call(&x, 2.1);
    st(&x, 2.2, "open");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "never closed after fault dep ended at 5.000 s"));
    fx_free(&x);
}

/* Legitimate concurrency around a breaker.  Half-open lets a limited
 * number of trial calls through and refuses the rest; a call admitted just
 * before the breaker opened is reported just after it; a call refused just
 * before it closed likewise. */
static void test_check_breaker_races(void)
{
    fx x;
    fx_init(&x, "{" POLICY ", \"closes_within_s\": 2}");
    good_story(&x);
    rej(&x, 3.32); /* a second caller refused while the trial runs */
    rej(&x, 5.52);
    call(&x, 2.32); /* admitted at 2.29, reported after the open at 2.3 */
    rej(&x, 5.62);  /* refused at 5.59, reported after the close at 5.6 */
    FX_PASSED(&x, 0);
    CU_ASSERT_EQUAL(fx_detail(&x, "rejected"), 5);
    fx_free(&x);

    /* but calls and refusals well past a transition are violations */
    fx_init(&x, "{" POLICY "}");
    good_story(&x);
    call(&x, 2.45);
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "called db while its breaker was open"));
    fx_free(&x);
    fx_init(&x, "{" POLICY "}");
    good_story(&x);
    rej(&x, 5.7);
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "rejected a call to db while the breaker was closed"));
    fx_free(&x);
}

/* A replica that made no call during the dependency failure (no traffic
 * came its way) has nothing to open for; when no source called at all,
 * nothing is known about opening. */
static void test_check_breaker_idle_source(void)
{
    fx x;
    fx_init(&x, "{" POLICY ", \"closes_within_s\": 2}");
    good_story(&x); /* worker.0 */
    fx_ev(&x, "{\"ts\": 1.5, \"svc\": \"worker\", \"inst\": \"worker.1\", "
              "\"ev\": \"call\", \"name\": \"db\"}");
    fx_ev(&x, "{\"ts\": 7, \"svc\": \"worker\", \"inst\": \"worker.1\", "
              "\"ev\": \"call\", \"name\": \"db\"}");
    FX_PASSED(&x, 0);
    CU_ASSERT_EQUAL(fx_detail(&x, "sources"), 2);
    CU_ASSERT_EQUAL(fx_detail(&x, "sources_idle"), 1);
    fx_free(&x);

    fx_init(&x, "{" POLICY "}");
    fx_fault(&x, "dep", "db", 2, 5);
    call(&x, 1);
    call(&x, 6);
    FX_UNKNOWN(&x, 0);
    CU_ASSERT(fx_sum(&x, "no source called db during fault dep"));
    fx_free(&x);
}

static void test_check_breaker_unknown_and_parse(void)
{
    fx x;
    fx_init(&x, "{" POLICY "}, {\"kind\": \"breaker\", \"breaker\": \"db\"}");
    call(&x, 1);
    FX_UNKNOWN(&x, 0); /* dependency fault never applied */
    CU_ASSERT(fx_sum(&x, "fault dep was never applied"));
    FX_UNKNOWN(&x, 1); /* no fault at all */
    fx_free(&x);
    fx_init(&x, "{" POLICY "}");
    fx_fault(&x, "dep", "db", 2, 5);
    FX_UNKNOWN(&x, 0); /* no calls at all: nothing to judge */
    fx_ev(&x, "{\"ts\": 3, \"svc\": \"worker\", \"ev\": \"breaker\", \"name\": "
              "\"db\", \"state\": \"ajar\"}");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_evid(&x, "unknown state"));
    fx_free(&x);
    CU_ASSERT(fx_invalid("{\"kind\": \"breaker\"}",
                         "missing required key \"breaker\""));
    CU_ASSERT(fx_invalid("{\"kind\": \"breaker\", \"breaker\": \"x\", "
                         "\"dependency_fault\": \"nope\"}",
                         "unknown fault \"nope\""));
    CU_ASSERT(fx_invalid(
        "{\"kind\": \"breaker\", \"breaker\": \"x\", \"min_open_s\": \"1\"}",
        "min_open_s"));
}

void cr_test_register(void)
{
    cr_alloc_install_json();
    CU_pSuite s = CU_add_suite("check_breaker", NULL, NULL);
    CR_ADD_TEST(s, test_check_breaker_pass);
    CR_ADD_TEST(s, test_check_breaker_rules);
    CR_ADD_TEST(s, test_check_breaker_never_opens);
    CR_ADD_TEST(s, test_check_breaker_races);
    CR_ADD_TEST(s, test_check_breaker_idle_source);
    CR_ADD_TEST(s, test_check_breaker_unknown_and_parse);
}
