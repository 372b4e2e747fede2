/* Unit tests of crp_breaker: every transition of the state x event table. */
#include "cr_test.h"

#include "crp_breaker.h"

static int changes;
static crp_brk_state last_from, last_to;

static void on_change(void *arg, crp_brk_state from, crp_brk_state to)
{
    (void)arg;
    changes++;
    last_from = from;
    last_to = to;
}

static void setup(crp_breaker *b, int threshold, int open_ms, int probes)
{
    crp_breaker_init(b, threshold, open_ms, probes);
    b->on_change = on_change;
    changes = 0;
}

static void test_crp_breaker_opens_at_threshold(void)
{
    crp_breaker b;
    setup(&b, 3, 1000, 1);
    for (int i = 0; i < 2; i++) {
        CU_ASSERT_TRUE(crp_breaker_allow(&b, 0));
        crp_breaker_record(&b, 0, 0);
    }
    CU_ASSERT_EQUAL(b.state, CRP_BRK_CLOSED);
    CU_ASSERT_TRUE(crp_breaker_allow(&b, 0));
    crp_breaker_record(&b, 0, 10);
    CU_ASSERT_EQUAL(b.state, CRP_BRK_OPEN);
    CU_ASSERT_EQUAL(changes, 1);
    CU_ASSERT_EQUAL(last_from, CRP_BRK_CLOSED);
    CU_ASSERT_EQUAL(last_to, CRP_BRK_OPEN);
    CU_ASSERT_FALSE(crp_breaker_allow(&b, 500)); /* rejected while open */
}

static void test_crp_breaker_success_resets_count(void)
{
    crp_breaker b;
    setup(&b, 3, 1000, 1);
    crp_breaker_record(&b, 0, 0);
    crp_breaker_record(&b, 0, 0);
    crp_breaker_record(&b, 1, 0); /* not consecutive any more */
    crp_breaker_record(&b, 0, 0);
    crp_breaker_record(&b, 0, 0);
    CU_ASSERT_EQUAL(b.state, CRP_BRK_CLOSED);
    CU_ASSERT_EQUAL(changes, 0);
}

static void test_crp_breaker_half_open_probe_closes(void)
{
    crp_breaker b;
    setup(&b, 1, 1000, 1);
    crp_breaker_record(&b, 0, 100);
    CU_ASSERT_EQUAL(b.state, CRP_BRK_OPEN);
    CU_ASSERT_FALSE(crp_breaker_allow(&b, 1099));
    CU_ASSERT_TRUE(crp_breaker_allow(&b, 1100)); /* the probe */
    CU_ASSERT_EQUAL(b.state, CRP_BRK_HALF_OPEN);
    CU_ASSERT_FALSE(crp_breaker_allow(&b, 1100)); /* one probe at a time */
    crp_breaker_record(&b, 1, 1101);
    CU_ASSERT_EQUAL(b.state, CRP_BRK_CLOSED);
    CU_ASSERT_EQUAL(changes, 3);
}

static void test_crp_breaker_half_open_failure_reopens(void)
{
    crp_breaker b;
    setup(&b, 5, 200, 2);
    for (int i = 0; i < 5; i++)
        crp_breaker_record(&b, 0, 0);
    CU_ASSERT_TRUE(crp_breaker_allow(&b, 300));
    crp_breaker_record(&b, 1, 300); /* 1 of 2 probes */
    CU_ASSERT_EQUAL(b.state, CRP_BRK_HALF_OPEN);
    CU_ASSERT_TRUE(crp_breaker_allow(&b, 301));
    crp_breaker_record(&b, 0, 301); /* a single failure re-opens */
    CU_ASSERT_EQUAL(b.state, CRP_BRK_OPEN);
    CU_ASSERT_EQUAL(b.opened_at, 301);
    CU_ASSERT_FALSE(crp_breaker_allow(&b, 400));
}

static void test_crp_breaker_defect_never_opens(void)
{
    crp_breaker b;
    setup(&b, 2, 100, 1);
    b.never_opens = 1;
    for (int i = 0; i < 50; i++)
        crp_breaker_record(&b, 0, i);
    CU_ASSERT_EQUAL(b.state, CRP_BRK_CLOSED);
    CU_ASSERT_EQUAL(changes, 0);
    CU_ASSERT_STRING_EQUAL(crp_breaker_name(CRP_BRK_HALF_OPEN), "half_open");
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("crp_breaker", NULL, NULL);
    CR_ADD_TEST(s, test_crp_breaker_opens_at_threshold);
    CR_ADD_TEST(s, test_crp_breaker_success_resets_count);
    CR_ADD_TEST(s, test_crp_breaker_half_open_probe_closes);
    CR_ADD_TEST(s, test_crp_breaker_half_open_failure_reopens);
    CR_ADD_TEST(s, test_crp_breaker_defect_never_opens);
}
