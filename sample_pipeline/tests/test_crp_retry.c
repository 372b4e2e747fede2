/* Unit tests of crp_retry: caps, full jitter bounds and spread, limits,
 * and the two retry defect switches. */
#include "cr_test.h"

#include "crp_retry.h"

static crp_retry pol(void)
{
    return (crp_retry){.base_ms = 50,
                       .max_ms = 2000,
                       .attempts = 5,
                       .factor = 2,
                       .full_jitter = 1};
}

static void test_crp_retry_cap_grows_and_saturates(void)
{
    crp_retry p = pol();
    CU_ASSERT_EQUAL(crp_retry_cap_ms(&p, 1), 50);
    CU_ASSERT_EQUAL(crp_retry_cap_ms(&p, 2), 100);
    CU_ASSERT_EQUAL(crp_retry_cap_ms(&p, 4), 400);
    CU_ASSERT_EQUAL(crp_retry_cap_ms(&p, 6), 1600);
    CU_ASSERT_EQUAL(crp_retry_cap_ms(&p, 7), 2000);
    CU_ASSERT_EQUAL(crp_retry_cap_ms(&p, 30), 2000);
}

static void test_crp_retry_full_jitter_within_cap_and_spread(void)
{
    crp_retry p = pol();
    crp_rng r;
    crp_rng_seed(&r, 1);
    int lo = 1 << 30, hi = -1;
    for (int i = 0; i < 2000; i++) {
        int d = crp_retry_delay_ms(&p, 3, &r);
        CU_ASSERT_TRUE(d >= 0 && d <= 200);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    CU_ASSERT_TRUE(lo < 20);
    CU_ASSERT_TRUE(hi > 180);
    p.full_jitter = 0;
    CU_ASSERT_EQUAL(crp_retry_delay_ms(&p, 3, &r), 200);
}

static void test_crp_retry_limit(void)
{
    crp_retry p = pol();
    CU_ASSERT_TRUE(crp_retry_again(&p, 1));
    CU_ASSERT_TRUE(crp_retry_again(&p, 4));
    CU_ASSERT_FALSE(crp_retry_again(&p, 5));
    p.attempts = 1;
    CU_ASSERT_FALSE(crp_retry_again(&p, 1));
}

static void test_crp_retry_defects(void)
{
    crp_retry p = pol();
    crp_rng r;
    crp_rng_seed(&r, 2);
    p.no_backoff = 1;
    for (int a = 1; a < 10; a++)
        CU_ASSERT_EQUAL(crp_retry_delay_ms(&p, a, &r), 0);
    p.unlimited = 1;
    CU_ASSERT_TRUE(crp_retry_again(&p, 1000));
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("crp_retry", NULL, NULL);
    CR_ADD_TEST(s, test_crp_retry_cap_grows_and_saturates);
    CR_ADD_TEST(s, test_crp_retry_full_jitter_within_cap_and_spread);
    CR_ADD_TEST(s, test_crp_retry_limit);
    CR_ADD_TEST(s, test_crp_retry_defects);
}
