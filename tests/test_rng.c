/* Tests for cr_rng: determinism, derivation independence, ranges. */
#include "base/cr_rng.h"
#include "cr_test.h"

static void test_rng_same_seed_same_stream(void)
{
    cr_rng a, b;
    cr_rng_seed(&a, 42);
    cr_rng_seed(&b, 42);
    for (int i = 0; i < 1000; i++)
        CU_ASSERT_EQUAL(cr_rng_next(&a), cr_rng_next(&b));
}

static void test_rng_derive_labels_differ(void)
{
    cr_rng a, b;
    cr_rng_derive(&a, 42, "fault:a");
    cr_rng_derive(&b, 42, "fault:b");
    CU_ASSERT_NOT_EQUAL(cr_rng_next(&a), cr_rng_next(&b));
    cr_rng_derive(&a, 42, "fault:a");
    cr_rng_derive(&b, 43, "fault:a");
    CU_ASSERT_NOT_EQUAL(cr_rng_next(&a), cr_rng_next(&b));
}

static void test_rng_ranges(void)
{
    cr_rng r;
    cr_rng_seed(&r, 7);
    int seen[10] = {0};
    for (int i = 0; i < 10000; i++) {
        double u = cr_rng_unit(&r);
        CU_ASSERT(u >= 0.0 && u < 1.0);
        double x = cr_rng_range(&r, 5.0, 10.0);
        CU_ASSERT(x >= 5.0 && x <= 10.0);
        uint64_t k = cr_rng_below(&r, 10);
        CU_ASSERT(k < 10);
        seen[k]++;
    }
    for (int i = 0; i < 10; i++)
        CU_ASSERT(seen[i] > 800 && seen[i] < 1200);
    CU_ASSERT_EQUAL(cr_rng_below(&r, 0), 0);
    CU_ASSERT_EQUAL(cr_rng_range(&r, 3.0, 3.0), 3.0);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("rng", NULL, NULL);
    CR_ADD_TEST(s, test_rng_same_seed_same_stream);
    CR_ADD_TEST(s, test_rng_derive_labels_differ);
    CR_ADD_TEST(s, test_rng_ranges);
}
