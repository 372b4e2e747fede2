/* Unit tests of crp_scale: the autoscaling decision as a pure function of
 * depth samples and time (thresholds, hold time, cool-down, bounds,
 * unknown samples, the scale_no_cooldown defect, option parsing). */
#include "cr_test.h"

#include <string.h>

#include "crp_scale.h"

static crp_scale_policy pol(void)
{
    return (crp_scale_policy){.min = 1,
                              .max = 3,
                              .up_depth = 100,
                              .down_depth = 10,
                              .for_ms = 1000,
                              .cooldown_ms = 3000};
}

/* Feed depth every 100 ms from t0 to t1 (inclusive start, exclusive end)
 * with *cur workers, applying changes; returns how many changes. */
static int feed(crp_scale *s, int64_t t0, int64_t t1, int64_t depth, int *cur,
                int64_t *at)
{
    int changes = 0;
    for (int64_t t = t0; t < t1; t += 100) {
        int to = crp_scale_decide(s, t, depth, *cur, NULL, 0);
        if (to != *cur) {
            if (at)
                at[changes] = t;
            changes++;
            *cur = to;
        }
    }
    return changes;
}

static void test_crp_scale_up_after_hold(void)
{
    crp_scale s;
    crp_scale_policy p = pol();
    crp_scale_init(&s, &p);
    char why[128] = "";
    /* above the threshold but not yet for_ms */
    CU_ASSERT_EQUAL(crp_scale_decide(&s, 0, 500, 1, why, sizeof why), 1);
    CU_ASSERT_EQUAL(crp_scale_decide(&s, 999, 500, 1, why, sizeof why), 1);
    CU_ASSERT_EQUAL(crp_scale_decide(&s, 1000, 500, 1, why, sizeof why), 2);
    CU_ASSERT_STRING_EQUAL(why, "depth 500 > 100 for 1000 ms");
}

static void test_crp_scale_threshold_is_strict(void)
{
    crp_scale s;
    crp_scale_policy p = pol();
    crp_scale_init(&s, &p);
    int cur = 2;
    /* exactly at a threshold is neither high nor low */
    CU_ASSERT_EQUAL(feed(&s, 0, 5000, 100, &cur, NULL), 0);
    CU_ASSERT_EQUAL(feed(&s, 5000, 10000, 10, &cur, NULL), 0);
    CU_ASSERT_EQUAL(cur, 2);
}

static void test_crp_scale_blip_resets_hold(void)
{
    crp_scale s;
    crp_scale_policy p = pol();
    crp_scale_init(&s, &p);
    CU_ASSERT_EQUAL(crp_scale_decide(&s, 0, 500, 1, NULL, 0), 1);
    CU_ASSERT_EQUAL(crp_scale_decide(&s, 900, 500, 1, NULL, 0), 1);
    CU_ASSERT_EQUAL(crp_scale_decide(&s, 950, 50, 1, NULL, 0), 1); /* dip */
    CU_ASSERT_EQUAL(crp_scale_decide(&s, 1000, 500, 1, NULL, 0), 1);
    CU_ASSERT_EQUAL(crp_scale_decide(&s, 1999, 500, 1, NULL, 0), 1);
    CU_ASSERT_EQUAL(crp_scale_decide(&s, 2000, 500, 1, NULL, 0), 2);
}

static void test_crp_scale_unknown_sample_resets_hold(void)
{
    crp_scale s;
    crp_scale_policy p = pol();
    crp_scale_init(&s, &p);
    CU_ASSERT_EQUAL(crp_scale_decide(&s, 0, 500, 1, NULL, 0), 1);
    CU_ASSERT_EQUAL(crp_scale_decide(&s, 500, -1, 1, NULL, 0), 1);
    CU_ASSERT_EQUAL(crp_scale_decide(&s, 1000, 500, 1, NULL, 0), 1);
    CU_ASSERT_EQUAL(crp_scale_decide(&s, 1500, 500, 1, NULL, 0), 1);
    CU_ASSERT_EQUAL(crp_scale_decide(&s, 2000, 500, 1, NULL, 0), 2);
}

static void test_crp_scale_cooldown_spacing_and_max(void)
{
    crp_scale s;
    crp_scale_policy p = pol();
    crp_scale_init(&s, &p);
    int cur = 1;
    int64_t at[8];
    int k = feed(&s, 0, 20000, 1000, &cur, at);
    CU_ASSERT_EQUAL(k, 2); /* 1 -> 2 -> 3 = max, never beyond */
    CU_ASSERT_EQUAL(cur, 3);
    CU_ASSERT_EQUAL(at[0], 1000);
    /* the condition held through the cool-down: the next change comes as
     * soon as the cool-down is over, not sooner */
    CU_ASSERT_EQUAL(at[1], 4000);
}

static void test_crp_scale_down_and_min(void)
{
    crp_scale s;
    crp_scale_policy p = pol();
    crp_scale_init(&s, &p);
    int cur = 3;
    int64_t at[8];
    int k = feed(&s, 0, 20000, 0, &cur, at);
    CU_ASSERT_EQUAL(k, 2);
    CU_ASSERT_EQUAL(cur, 1);
    CU_ASSERT_EQUAL(at[0], 1000);
    CU_ASSERT_EQUAL(at[1], 4000);
    char why[128];
    CU_ASSERT_EQUAL(crp_scale_decide(&s, 30000, 0, 1, why, sizeof why), 1);
}

static void test_crp_scale_down_message(void)
{
    crp_scale s;
    crp_scale_policy p = pol();
    crp_scale_init(&s, &p);
    char why[128] = "";
    crp_scale_decide(&s, 0, 3, 2, why, sizeof why);
    CU_ASSERT_EQUAL(crp_scale_decide(&s, 1000, 4, 2, why, sizeof why), 1);
    CU_ASSERT_STRING_EQUAL(why, "depth 4 < 10 for 1000 ms");
}

static void test_crp_scale_cooldown_blocks_reverse(void)
{
    crp_scale s;
    crp_scale_policy p = pol();
    crp_scale_init(&s, &p);
    int cur = 1;
    CU_ASSERT_EQUAL(feed(&s, 0, 1100, 1000, &cur, NULL), 1);
    /* the backlog vanishes at once: no scale-down inside the cool-down */
    int64_t at[4];
    CU_ASSERT_EQUAL(feed(&s, 1100, 3900, 0, &cur, at), 0);
    CU_ASSERT_EQUAL(feed(&s, 3900, 4200, 0, &cur, at), 1);
    CU_ASSERT_EQUAL(at[0], 4000);
    CU_ASSERT_EQUAL(cur, 1);
}

static void test_crp_scale_out_of_bounds_corrected(void)
{
    crp_scale s;
    crp_scale_policy p = pol();
    crp_scale_init(&s, &p);
    char why[128] = "";
    CU_ASSERT_EQUAL(crp_scale_decide(&s, 0, 50, 0, why, sizeof why), 1);
    CU_ASSERT_STRING_EQUAL(why, "below the minimum 1");
    CU_ASSERT_EQUAL(crp_scale_decide(&s, 0, 50, 7, why, sizeof why), 3);
    CU_ASSERT_STRING_EQUAL(why, "above the maximum 3");
    /* with max = min the count never moves */
    p.min = p.max = 2;
    crp_scale_init(&s, &p);
    int cur = 2;
    CU_ASSERT_EQUAL(feed(&s, 0, 10000, 5000, &cur, NULL), 0);
    CU_ASSERT_EQUAL(feed(&s, 10000, 20000, 0, &cur, NULL), 0);
}

static void test_crp_scale_zero_hold_zero_cooldown(void)
{
    crp_scale s;
    crp_scale_policy p = pol();
    p.for_ms = 0;
    p.cooldown_ms = 0;
    crp_scale_init(&s, &p);
    CU_ASSERT_EQUAL(crp_scale_decide(&s, 0, 500, 1, NULL, 0), 2);
    CU_ASSERT_EQUAL(crp_scale_decide(&s, 0, 500, 2, NULL, 0), 3);
    CU_ASSERT_EQUAL(crp_scale_decide(&s, 0, 500, 3, NULL, 0), 3);
}

static void test_crp_scale_defect_no_cooldown_flaps(void)
{
    crp_scale s;
    crp_scale_policy p = pol();
    p.no_cooldown = 1;
    crp_scale_init(&s, &p);
    int cur = 1;
    int64_t at[8];
    CU_ASSERT_EQUAL(feed(&s, 0, 3000, 1000, &cur, at), 2);
    CU_ASSERT_TRUE(at[1] - at[0] < p.cooldown_ms);
}

static void test_crp_scale_parse_and_check(void)
{
    crp_scale_policy p = pol();
    char err[200];
    CU_ASSERT_EQUAL(crp_scale_parse_range("2:5", &p, err, sizeof err), 0);
    CU_ASSERT_EQUAL(p.min, 2);
    CU_ASSERT_EQUAL(p.max, 5);
    CU_ASSERT_EQUAL(crp_scale_parse_range("4", &p, err, sizeof err), 0);
    CU_ASSERT_EQUAL(p.min, 4);
    CU_ASSERT_EQUAL(p.max, 4);
    const char *bad[] = {"",    ":",    "0:2", "3:2", "1:17",
                         "a:b", "1:2x", "1:",  "-1:2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        CU_ASSERT_EQUAL(crp_scale_parse_range(bad[i], &p, err, sizeof err), -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "--autoscale"));
        CU_ASSERT_EQUAL(p.min, 4); /* untouched */
    }
    p = pol();
    CU_ASSERT_EQUAL(crp_scale_check(&p, err, sizeof err), 0);
    p.down_depth = 200;
    CU_ASSERT_EQUAL(crp_scale_check(&p, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "--scale-down-depth"));
    p = pol();
    p.cooldown_ms = -1;
    CU_ASSERT_EQUAL(crp_scale_check(&p, err, sizeof err), -1);
    p = pol();
    p.min = 0;
    CU_ASSERT_EQUAL(crp_scale_check(&p, err, sizeof err), -1);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("crp_scale", NULL, NULL);
    CR_ADD_TEST(s, test_crp_scale_up_after_hold);
    CR_ADD_TEST(s, test_crp_scale_threshold_is_strict);
    CR_ADD_TEST(s, test_crp_scale_blip_resets_hold);
    CR_ADD_TEST(s, test_crp_scale_unknown_sample_resets_hold);
    CR_ADD_TEST(s, test_crp_scale_cooldown_spacing_and_max);
    CR_ADD_TEST(s, test_crp_scale_down_and_min);
    CR_ADD_TEST(s, test_crp_scale_down_message);
    CR_ADD_TEST(s, test_crp_scale_cooldown_blocks_reverse);
    CR_ADD_TEST(s, test_crp_scale_out_of_bounds_corrected);
    CR_ADD_TEST(s, test_crp_scale_zero_hold_zero_cooldown);
    CR_ADD_TEST(s, test_crp_scale_defect_no_cooldown_flaps);
    CR_ADD_TEST(s, test_crp_scale_parse_and_check);
}
