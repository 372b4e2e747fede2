/* Unit tests of crp_wire: the fixed-format work and result messages read
 * back exactly what was written, JSON (an older build's message) is told
 * apart, and malformed lines are refused. */
#include "cr_test.h"

#include <stdio.h>
#include <string.h>

#include "crp_wire.h"

static void test_crp_wire_work_round_trip(void)
{
    crp_work w = {
        .span = "0123456789abcdef", .t_in = 1796557700.264095, .label = 1};
    for (int i = 0; i < CRP_DIM; i++)
        w.x[i] = (i - 7) * 0.1234567 + 1e-9 * i; /* not exact in decimal */
    crp_sb b = {0};
    CU_ASSERT_EQUAL_FATAL(crp_work_format(&b, &w), 0);
    CU_ASSERT_EQUAL(strncmp(b.s, "W1 0123456789abcdef ", 20), 0);
    CU_ASSERT_PTR_NULL(strchr(b.s, '\n'));
    crp_work r;
    memset(&r, 0, sizeof r);
    CU_ASSERT_EQUAL(crp_work_parse(b.s, &r), 1);
    CU_ASSERT_STRING_EQUAL(r.span, w.span);
    CU_ASSERT_EQUAL(r.label, 1);
    CU_ASSERT_EQUAL(memcmp(&r.t_in, &w.t_in, sizeof r.t_in), 0);
    CU_ASSERT_EQUAL(memcmp(r.x, w.x, sizeof r.x), 0); /* bit for bit */
    crp_sb_free(&b);
}

static void test_crp_wire_result_round_trip(void)
{
    crp_result w = {.span = "fedcba9876543210",
                    .score = 0.7310585786300049,
                    .t_in = 1796557700.5,
                    .label = 0,
                    .degraded = 1,
                    .deliveries = 2,
                    .worker = "worker 1"};
    crp_sb b = {0};
    CU_ASSERT_EQUAL_FATAL(crp_result_format(&b, &w), 0);
    crp_result r;
    memset(&r, 0, sizeof r);
    CU_ASSERT_EQUAL(crp_result_parse(b.s, &r), 1);
    CU_ASSERT_STRING_EQUAL(r.span, w.span);
    CU_ASSERT_EQUAL(memcmp(&r.score, &w.score, sizeof r.score), 0);
    CU_ASSERT_EQUAL(memcmp(&r.t_in, &w.t_in, sizeof r.t_in), 0);
    CU_ASSERT_EQUAL(r.label, 0);
    CU_ASSERT_EQUAL(r.degraded, 1);
    CU_ASSERT_EQUAL(r.deliveries, 2);
    CU_ASSERT_STRING_EQUAL(r.worker, "worker 1"); /* the rest of the line */
    crp_sb_free(&b);
}

static void test_crp_wire_json_is_not_this_format(void)
{
    crp_work w;
    crp_result r;
    CU_ASSERT_EQUAL(crp_work_parse("{\"id\":\"a\",\"rec\":{}}", &w), 0);
    CU_ASSERT_EQUAL(crp_result_parse("{\"dead_letter\":true}", &r), 0);
    CU_ASSERT_EQUAL(crp_work_parse("R1 0123456789abcdef 0x1p+0", &w), 0);
}

static void test_crp_wire_refuses_malformed(void)
{
    char one[17] = "", good[400], line[400];
    crp_wire_put_f64(one, 1.0);
    good[0] = '\0';
    for (int i = 0; i < CRP_DIM; i++)
        snprintf(good + strlen(good), sizeof good - strlen(good), "%s%s",
                 i ? "," : "", one);
    crp_work w;
    snprintf(line, sizeof line, "W1 0123456789abcdef %s 1 %s", one, good);
    CU_ASSERT_EQUAL(crp_work_parse(line, &w), 1);
    CU_ASSERT_EQUAL(w.x[15], 1.0);
    static const char *const bad_work[] = {
        "W1 ",
        "W1 0123456789abcdeg 3ff0000000000000 1 ", /* span not hex */
        "W1 0123456789abcdef 3ff0000000000000 1 "
        "3ff0000000000000,3ff0000000000000", /* 2 of 16 values */
        "W1 0123456789abcdef 1 0 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16",
        "W1 0123456789abcdef 3ff00000000000 1 " /* 14 digits */,
    };
    for (size_t i = 0; i < sizeof bad_work / sizeof bad_work[0]; i++)
        CU_ASSERT_EQUAL(crp_work_parse(bad_work[i], &w), -1);
    snprintf(line, sizeof line, "W1 0123456789abcdef %s 1 %s,%s", one, good,
             one); /* 17 values */
    CU_ASSERT_EQUAL(crp_work_parse(line, &w), -1);
    snprintf(line, sizeof line, "W1 0123456789abcdef %s x %s", one, good);
    CU_ASSERT_EQUAL(crp_work_parse(line, &w), -1); /* label */
    snprintf(line, sizeof line, "W1 0123456789abcdef %s 1 %s", one, good);
    line[strlen(line) - 1] = 'G'; /* not a hex digit */
    CU_ASSERT_EQUAL(crp_work_parse(line, &w), -1);
    crp_result r;
    snprintf(line, sizeof line, "R1 0123456789abcdef %s 1 0 %s 1", one, one);
    CU_ASSERT_EQUAL(crp_result_parse(line, &r), -1); /* no worker */
    snprintf(line, sizeof line, "R1 0123456789abcdef %s 1 0 %s x w", one, one);
    CU_ASSERT_EQUAL(crp_result_parse(line, &r), -1);
    snprintf(line, sizeof line, "R1 0123456789abcdef %s 1 0 %s 1 w", one, one);
    CU_ASSERT_EQUAL(crp_result_parse(line, &r), 1);
}

/* Every double, NaN and the infinities included, comes back bit for bit. */
static void test_crp_wire_f64_exact(void)
{
    const double v[] = {0.0,    -0.0,
                        1.0,    -1.5,
                        1e-310, 1.7976931348623157e308,
                        0.1,    1796557700.264095};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char b[17] = "";
        crp_wire_put_f64(b, v[i]);
        CU_ASSERT_EQUAL(strlen(b), 16);
        const char *p = b;
        double r = 0;
        CU_ASSERT_EQUAL(crp_wire_get_f64(&p, &r), 0);
        CU_ASSERT_EQUAL(memcmp(&r, &v[i], sizeof r), 0);
        CU_ASSERT_PTR_EQUAL(p, b + 16);
    }
    const char *p = "3FF0000000000000"; /* lowercase only */
    double r;
    CU_ASSERT_EQUAL(crp_wire_get_f64(&p, &r), -1);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("crp_wire", NULL, NULL);
    CR_ADD_TEST(s, test_crp_wire_work_round_trip);
    CR_ADD_TEST(s, test_crp_wire_result_round_trip);
    CR_ADD_TEST(s, test_crp_wire_json_is_not_this_format);
    CR_ADD_TEST(s, test_crp_wire_refuses_malformed);
    CR_ADD_TEST(s, test_crp_wire_f64_exact);
}
