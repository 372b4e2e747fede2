/* Tests for the backoff checker: delay bounds for each jitter kind, the
 * attempt limit, spacing of retries, the "no jitter" defect, malformed
 * events and unknown verdicts. */
#include "check_fixture.h"

static void retry(fx *x, const char *who, double t, int attempt, double delay)
{
    fx_ev(x,
          "{\"ts\": %.6f, \"svc\": \"worker\", \"inst\": \"%s\", \"ev\": "
          "\"retry\", \"op\": \"db\", "
          "\"attempt\": %d, \"delay_ms\": %g, \"error\": \"timeout\"}",
          t, who, attempt, delay);
}

/* One sequence: attempts 1..n with the given delays, spaced by delay +
 * 5 ms of work; returns the time after it. */
static double seq(fx *x, const char *who, double t, int n, const double *delays)
{
    for (int i = 0; i < n; i++) {
        retry(x, who, t, i + 1, delays[i]);
        t += delays[i] / 1000.0 + 0.005;
    }
    return t + 0.5; /* success, then a pause */
}

#define NONE_POLICY                                                            \
    "\"kind\": \"backoff\", \"op\": \"db\", \"base_ms\": 100, \"max_ms\": "    \
    "300, \"max_attempts\": 4"

static void test_check_backoff_none_pass(void)
{
    fx x;
    fx_init(&x, "{" NONE_POLICY "}");
    static const double d[] = {100, 200, 300}; /* capped at 300 */
    double t = 1;
    t = seq(&x, "worker.0", t, 3, d);
    t = seq(&x, "worker.1", t, 2, d);
    fx_ev(&x,
          "{\"ts\": %g, \"svc\": \"worker\", \"inst\": \"worker.0\", \"ev\": "
          "\"giveup\", \"op\": \"db\", \"attempts\": 4}",
          t);
    FX_PASSED(&x, 0);
    CU_ASSERT(
        fx_sum(&x, "5 db retries followed the backoff policy, no jitter"));
    CU_ASSERT_EQUAL(fx_detail(&x, "retries"), 5);
    fx_free(&x);
}

static void test_check_backoff_none_wrong_delay(void)
{
    fx x;
    fx_init(&x, "{" NONE_POLICY "}");
    static const double d[] = {100, 400}; /* 400 > 200 + 20 + 10% */
    seq(&x, "worker.0", 1, 2, d);
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "worker.0 db attempt 2: delay 400 ms outside [160, "
                         "240] (none jitter, nominal 200 ms)"));
    CU_ASSERT(fx_evid(&x, "delay outside [160, 240] ms: t=1.105 worker.0 retry "
                          "op=db attempt=2 delay_ms=400"));
    fx_free(&x);
}

static void test_check_backoff_too_many_attempts(void)
{
    fx x;
    fx_init(&x, "{" NONE_POLICY "}");
    static const double d[] = {100, 200, 300, 300};
    double t = seq(&x, "worker.0", 1, 4,
                   d); /* attempt 4 failed and a 5th is announced */
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(
        &x, "worker.0 retried db after attempt 4 although max_attempts is 4"));
    CU_ASSERT(fx_evid(&x, "one try too many"));
    fx_free(&x);

    fx_init(&x, "{" NONE_POLICY "}");
    t = seq(&x, "worker.0", 1, 2, d);
    fx_ev(&x,
          "{\"ts\": %g, \"svc\": \"worker\", \"inst\": \"worker.0\", \"ev\": "
          "\"giveup\", \"op\": \"db\", \"attempts\": 3}",
          t);
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(
        &x, "worker.0 gave up db after 3 attempts but max_attempts is 4"));
    fx_free(&x);
}

static void test_check_backoff_retried_too_early(void)
{
    fx x;
    fx_init(&x, "{" NONE_POLICY "}");
    retry(&x, "worker.0", 1.0, 1, 100);
    retry(&x, "worker.0", 1.105, 2, 200);
    retry(&x, "worker.0", 1.155, 3, 300); /* 50 ms after announcing 200 */
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(
        &x, "worker.0 retried db after 50 ms although it announced 200 ms"));
    CU_ASSERT(fx_evid(&x, "retried too early"));
    CU_ASSERT(fx_evid(&x, "announced: t=1.105"));
    fx_free(&x);
}

#define FULL_POLICY                                                            \
    "\"kind\": \"backoff\", \"op\": \"db\", \"base_ms\": 100, \"max_ms\": "    \
    "1000, \"jitter\": \"full\""

static void test_check_backoff_full_jitter(void)
{
    fx x;
    fx_init(&x, "{" FULL_POLICY "}");
    /* deterministic "random" delays within [0, 100*2^(n-1)] */
    double t = 1;
    for (int s = 0; s < 6; s++) {
        double d[3] = {10 + 13 * s, 30 + 29 * s, 50 + 50 * s};
        t = seq(&x, "worker.0", t, 3, d);
    }
    FX_PASSED(&x, 0);
    fx_free(&x);

    /* the "no jitter" defect: always the full nominal delay */
    fx_init(&x, "{" FULL_POLICY "}");
    t = 1;
    static const double d[] = {100, 200, 400};
    for (int s = 0; s < 6; s++)
        t = seq(&x, "worker.1", t, 3, d);
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "db delays at attempt 1 are all about 100 ms"));
    CU_ASSERT(fx_sum(&x, "not jittered"));
    CU_ASSERT(fx_evid(&x, "attempt 1: 6 delays, mean 100.0 ms, cv 0.0000"));
    fx_free(&x);

    /* over the bound */
    fx_init(&x, "{" FULL_POLICY "}");
    static const double big[] = {50, 700};
    seq(&x, "worker.0", 1, 2, big);
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "delay 700 ms outside [0, 240]"));
    fx_free(&x);

    /* too few retries per attempt to judge jitter: unknown, not passed */
    fx_init(&x, "{" FULL_POLICY "}");
    static const double ok[] = {50, 120};
    seq(&x, "worker.0", 1, 2, ok);
    FX_UNKNOWN(&x, 0);
    CU_ASSERT(fx_sum(&x, "no attempt number has 5 delays"));
    fx_free(&x);
}

static void test_check_backoff_equal_and_decorrelated(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"backoff\", \"op\": \"db\", \"base_ms\": 100, "
                "\"jitter\": \"equal\"},"
                "{\"kind\": \"backoff\", \"op\": \"db\", \"base_ms\": 100, "
                "\"max_ms\": 2000, \"jitter\": \"decorrelated\"}");
    double t = 1;
    for (int s = 0; s < 5; s++) {
        double d[2] = {60 + 8 * s, 110 + 20 * s}; /* [50,100], [100,200] */
        t = seq(&x, "worker.0", t, 2, d);
    }
    FX_PASSED(&x, 0);
    /* decorrelated: [100, 3*prev]; 60 < 100 - tol */
    FX_FAILED(&x, 1);
    CU_ASSERT(fx_sum(&x, "delay 60 ms outside [70, 350]"));
    fx_free(&x);

    fx_init(&x, "{\"kind\": \"backoff\", \"op\": \"db\", \"base_ms\": 100, "
                "\"jitter\": \"equal\"},"
                "{\"kind\": \"backoff\", \"op\": \"db\", \"base_ms\": 100, "
                "\"max_ms\": 2000, \"jitter\": \"decorrelated\"}");
    t = 1;
    for (int s = 0; s < 5; s++) {
        double d[3] = {60 + 5 * s, 120 + 10 * s,
                       30}; /* 30 < t/2 for equal; < base for decorrelated */
        t = seq(&x, "worker.0", t, 3, d);
    }
    FX_FAILED(&x, 0);
    CU_ASSERT(
        fx_sum(&x, "attempt 3: delay 30 ms outside [140, 460] (equal jitter"));
    FX_FAILED(&x, 1);
    fx_free(&x);

    /* decorrelated growing past 3x the previous delay */
    fx_init(&x, "{\"kind\": \"backoff\", \"op\": \"db\", \"base_ms\": 100, "
                "\"max_ms\": 2000, \"jitter\": \"decorrelated\"}");
    static const double bad[] = {150, 1000};
    seq(&x, "worker.0", 1, 2, bad);
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "delay 1000 ms outside [70, 515]"));
    fx_free(&x);
}

/* Decorrelated jitter caps after randomising (sleep = min(cap,
 * random(base, 3 * sleep))): once the delays reach max_ms most of them are
 * exactly max_ms.  Those identical delays are the cap, not a missing
 * jitter; the delays below the cap are still judged. */
static void test_check_backoff_jitter_at_the_cap(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"backoff\", \"op\": \"db\", \"base_ms\": 100, "
                "\"max_ms\": 800, \"jitter\": \"decorrelated\"}");
    double t = 1;
    for (int s = 0; s < 6; s++) {
        double d[6] = {120 + 31 * s, 300 + 40 * s, 650 + 20 * s, 800, 800, 800};
        t = seq(&x, "worker.0", t, 6, d);
    }
    FX_PASSED(&x, 0);
    CU_ASSERT_EQUAL(fx_detail(&x, "capped_delays"), 18);
    fx_free(&x);

    /* only capped delays: the jitter cannot be judged */
    fx_init(&x, "{\"kind\": \"backoff\", \"op\": \"db\", \"base_ms\": 100, "
                "\"max_ms\": 100, \"jitter\": \"full\"}");
    t = 1;
    for (int s = 0; s < 6; s++) {
        static const double d[] = {100, 100};
        t = seq(&x, "worker.0", t, 2, d);
    }
    FX_UNKNOWN(&x, 0);
    CU_ASSERT(fx_sum(&x, "delays at max_ms are not judged"));
    fx_free(&x);

    /* the no-jitter defect below the cap is still caught */
    fx_init(&x, "{\"kind\": \"backoff\", \"op\": \"db\", \"base_ms\": 100, "
                "\"max_ms\": 800, \"jitter\": \"equal\"}");
    t = 1;
    for (int s = 0; s < 6; s++) {
        static const double d[] = {100, 200, 400, 800};
        t = seq(&x, "worker.0", t, 4, d);
    }
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "not jittered"));
    fx_free(&x);
}

static void test_check_backoff_malformed_and_unknown(void)
{
    fx x;
    fx_init(&x, "{" NONE_POLICY "}, {" NONE_POLICY
                ", \"min_samples\": 10}, {" NONE_POLICY ", \"svc\": \"db\"}");
    FX_UNKNOWN(&x, 0);
    static const double d[] = {100, 200};
    seq(&x, "worker.0", 1, 2, d);
    FX_PASSED(&x, 0);
    FX_UNKNOWN(&x, 1);
    CU_ASSERT(fx_sum(&x, "only 2 db retries (min_samples 10)"));
    FX_UNKNOWN(&x, 2); /* filtered by svc: nothing from db */
    fx_ev(&x, "{\"ts\": 9, \"svc\": \"worker\", \"ev\": \"retry\", \"op\": "
              "\"db\", \"attempt\": \"2\", \"delay_ms\": 200}");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "retry event without a valid attempt and delay_ms"));
    CU_ASSERT(fx_evid(&x, "malformed retry"));
    fx_free(&x);
    CU_ASSERT(fx_invalid("{\"kind\": \"backoff\", \"base_ms\": 100}",
                         "missing required key \"op\""));
    CU_ASSERT(fx_invalid("{\"kind\": \"backoff\", \"op\": \"db\"}",
                         "missing required key \"base_ms\""));
    CU_ASSERT(fx_invalid("{\"kind\": \"backoff\", \"op\": \"db\", \"base_ms\": "
                         "1, \"jitter\": \"ful\"}",
                         "unknown value \"ful\""));
    CU_ASSERT(fx_invalid("{\"kind\": \"backoff\", \"op\": \"db\", \"base_ms\": "
                         "1, \"factor\": 0.5}",
                         "factor"));
    CU_ASSERT(fx_invalid("{\"kind\": \"backoff\", \"op\": \"db\", \"base_ms\": "
                         "1, \"max_attempts\": 0}",
                         "max_attempts"));
}

void cr_test_register(void)
{
    cr_alloc_install_json();
    CU_pSuite s = CU_add_suite("check_backoff", NULL, NULL);
    CR_ADD_TEST(s, test_check_backoff_none_pass);
    CR_ADD_TEST(s, test_check_backoff_none_wrong_delay);
    CR_ADD_TEST(s, test_check_backoff_too_many_attempts);
    CR_ADD_TEST(s, test_check_backoff_retried_too_early);
    CR_ADD_TEST(s, test_check_backoff_full_jitter);
    CR_ADD_TEST(s, test_check_backoff_equal_and_decorrelated);
    CR_ADD_TEST(s, test_check_backoff_jitter_at_the_cap);
    CR_ADD_TEST(s, test_check_backoff_malformed_and_unknown);
}
