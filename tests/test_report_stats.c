/* Tests for cr_stats (Wilson interval, percentiles, histograms) and the
 * multi-seed summary (cr_report_multi) on synthetic run directories. */
#include <jansson.h>
#include <math.h>
#include <sys/stat.h>

#include "reports/cr_report.h"
#include "reports/cr_stats.h"
#include "cr_test_report.h"

#define NEAR(a, b) CU_ASSERT(fabs((a) - (b)) < 1e-4)

static void test_report_stats_wilson_known_values(void)
{
    double lo, hi;
    /* Reference values from the closed form (Wilson 1927), z = 1.96. */
    CU_ASSERT_EQUAL(cr_stats_wilson(19, 20, CR_STATS_Z95, &lo, &hi), 0);
    NEAR(lo, 0.763869);
    NEAR(hi, 0.991119);
    CU_ASSERT_EQUAL(cr_stats_wilson(5, 10, CR_STATS_Z95, &lo, &hi), 0);
    NEAR(lo, 0.236593);
    NEAR(hi, 0.763407);
    CU_ASSERT_EQUAL(cr_stats_wilson(0, 10, CR_STATS_Z95, &lo, &hi), 0);
    CU_ASSERT_EQUAL(lo, 0.0);
    NEAR(hi, 0.277533);
    CU_ASSERT_EQUAL(cr_stats_wilson(10, 10, CR_STATS_Z95, &lo, &hi), 0);
    NEAR(lo, 0.722467);
    CU_ASSERT_EQUAL(hi, 1.0); /* exactly 1, not 0.9999999 */
    CU_ASSERT_EQUAL(cr_stats_wilson(0, 0, CR_STATS_Z95, &lo, &hi), 0);
    CU_ASSERT_EQUAL(lo, 0.0);
    CU_ASSERT_EQUAL(hi, 1.0);
}

static void test_report_stats_wilson_rejects_bad_input(void)
{
    double lo = 42, hi = 42;
    CU_ASSERT_EQUAL(cr_stats_wilson(3, 2, CR_STATS_Z95, &lo, &hi), -1);
    CU_ASSERT_EQUAL(cr_stats_wilson(1, 2, 0, &lo, &hi), -1);
    CU_ASSERT_EQUAL(cr_stats_wilson(1, 2, NAN, &lo, &hi), -1);
    CU_ASSERT_EQUAL(lo, 42);
    CU_ASSERT_EQUAL(hi, 42);
}

static void test_report_stats_percentiles(void)
{
    double v[10];
    for (int i = 0; i < 10; i++)
        v[i] = 10 - i; /* unsorted on purpose */
    cr_stats_sort(v, 10);
    CU_ASSERT_EQUAL(v[0], 1);
    CU_ASSERT_EQUAL(v[9], 10);
    NEAR(cr_stats_percentile(v, 10, 50), 5.5);
    NEAR(cr_stats_percentile(v, 10, 90), 9.1);
    NEAR(cr_stats_percentile(v, 10, 0), 1);
    NEAR(cr_stats_percentile(v, 10, 100), 10);
    NEAR(cr_stats_percentile(v, 1, 37), 1);
    CU_ASSERT(isnan(cr_stats_percentile(v, 0, 50)));
}

static void test_report_stats_histogram(void)
{
    double v[] = {0, 0.5, 1, 1.5, 9.99, 10, 12, -3, NAN};
    size_t c[5];
    size_t used = cr_stats_histogram(v, 9, 0, 10, c, 5);
    CU_ASSERT_EQUAL(used, 8);
    /* bins of width 2: [0,2) gets 0, .5, 1, 1.5 and the clamped -3 */
    CU_ASSERT_EQUAL(c[0], 5);
    CU_ASSERT_EQUAL(c[1], 0);
    CU_ASSERT_EQUAL(c[4], 3); /* 9.99, 10 (last bin includes hi), 12 clamped */
    double same[] = {3, 3, 3};
    used = cr_stats_histogram(same, 3, 3, 3, c, 5);
    CU_ASSERT_EQUAL(used, 3);
    CU_ASSERT_EQUAL(c[2], 3);
}

static void test_report_stats_summary(void)
{
    double v[] = {5, 1, 3, NAN, 2, 4};
    cr_stats_summary s;
    CU_ASSERT_EQUAL(cr_stats_summarise(v, 6, &s), 0);
    CU_ASSERT_EQUAL(s.n, 5);
    CU_ASSERT_EQUAL(s.min, 1);
    CU_ASSERT_EQUAL(s.max, 5);
    NEAR(s.median, 3);
    NEAR(s.p90, 4.6);
    NEAR(s.mean, 3);
    CU_ASSERT_EQUAL(v[0], 5); /* input untouched */
    CU_ASSERT_EQUAL(cr_stats_summarise(v, 0, &s), 0);
    CU_ASSERT_EQUAL(s.n, 0);
    CU_ASSERT(isnan(s.median));
}

/* A minimal journal for run i of a synthetic multi-seed experiment. */
static int synth_run(const char *root, int i, int passed, double recovery,
                     char *dir, size_t n)
{
    snprintf(dir, n, "%s/run%02d", root, i);
    if (mkdir(dir, 0755) < 0)
        return -1;
    char j[2048];
    snprintf(
        j, sizeof j,
        "{\"name\":\"flaky-demo\",\"status\":\"%s\",\"exit_code\":%d,"
        "\"seed\":%d,\"started_at\":1000,\"t0_unix\":1001,\"ended_at\":1030,"
        "\"duration_s\":20,\"faults\":[],\"services\":[],"
        "\"expectations\":[{\"name\":\"recovers\",\"kind\":\"recovers\","
        "\"verdict\":\"%s\",\"summary\":\"recovered\","
        "\"measured\":{\"value\":%.3f,\"unit\":\"s\",\"bound\":\"<= 5\"}},"
        "{\"name\":\"no-loss\",\"kind\":\"no_loss\",\"verdict\":\"passed\"}]}"
        "\n",
        passed ? "passed" : "failed", passed ? 0 : 1, i,
        passed ? "passed" : "failed", recovery);
    return crt_write(dir, "journal.json", j);
}

static void test_report_stats_multi_flaky(void)
{
    char *root = cr_test_tmpdir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    char dirs[20][4200];
    const char *pv[20];
    /* 19 passes in 20 runs, recovery times 1.0, 1.1, ... 2.8; run 7 fails
     * with 6.5 s. */
    for (int i = 0; i < 20; i++) {
        double rec = i == 7 ? 6.5 : 1.0 + 0.1 * i;
        CU_ASSERT_EQUAL_FATAL(
            synth_run(root, i, i != 7, rec, dirs[i], sizeof dirs[i]), 0);
        pv[i] = dirs[i];
    }
    char out[4300];
    snprintf(out, sizeof out, "%s/multi", root);
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_EQUAL_FATAL(cr_report_multi(pv, 20, out, &e), 0);
    char *txt = crt_read(out, "multi.json");
    CU_ASSERT_PTR_NOT_NULL_FATAL(txt);
    json_t *j = json_loads(txt, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "runs")), 20);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "passed")), 19);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "verdict")),
                           "flaky");
    const json_t *w = json_object_get(j, "wilson95");
    NEAR(json_real_value(json_array_get(w, 0)), 0.763869);
    NEAR(json_real_value(json_array_get(w, 1)), 0.991119);
    const json_t *rec = json_array_get(json_object_get(j, "recovery"), 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(rec, "name")),
                           "recovers");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(rec, "n")), 20);
    NEAR(json_real_value(json_object_get(rec, "min")), 1.0);
    NEAR(json_real_value(json_object_get(rec, "max")), 6.5);
    /* sorted: 1.0..1.6, 1.8..2.9 (19 values) plus 6.5: median of 20 is
     * the mean of the 10th and 11th = (2.0 + 2.1) / 2 */
    NEAR(json_real_value(json_object_get(rec, "median")), 2.05);
    const json_t *ex = json_object_get(j, "expectations");
    CU_ASSERT_EQUAL(json_array_size(ex), 2);
    CU_ASSERT_EQUAL(
        json_integer_value(json_object_get(json_array_get(ex, 1), "passed")),
        20);
    json_decref(j);
    free(txt);
    char *md = crt_read(out, "multi.md");
    CU_ASSERT_PTR_NOT_NULL_FATAL(md);
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "flaky"));
    CU_ASSERT_PTR_NOT_NULL(strstr(
        md, "Passed 19 of 20 runs (95 %; 95% Wilson interval 76\xE2\x80\x93"
            "99 %)"));
    free(md);
    char *html = crt_read(out, "multi.html");
    CU_ASSERT_PTR_NOT_NULL_FATAL(html);
    CU_ASSERT_EQUAL(crt_count(html, "class=\"hbar\""), 10); /* histogram */
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "class=\"bound\""));
    free(html);
    CU_ASSERT_EQUAL(cr_test_rmtree(root), 0);
}

static void test_report_stats_multi_stable_and_errors(void)
{
    char *root = cr_test_tmpdir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    char dirs[3][4200];
    const char *pv[3];
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL_FATAL(
            synth_run(root, i, 1, 2.0, dirs[i], sizeof dirs[i]), 0);
        pv[i] = dirs[i];
    }
    char out[4300];
    snprintf(out, sizeof out, "%s/m", root);
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_report_multi(pv, 3, out, &e), 0);
    char *txt = crt_read(out, "multi.json");
    CU_ASSERT_PTR_NOT_NULL_FATAL(txt);
    CU_ASSERT_PTR_NOT_NULL(strstr(txt, "\"verdict\": \"stable\""));
    free(txt);
    /* No run, and a directory without a journal, are errors. */
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_report_multi(pv, 0, out, &e), CR_EINVAL);
    cr_err_clear(&e);
    pv[1] = root; /* no journal.json there */
    CU_ASSERT_EQUAL(cr_report_multi(pv, 3, out, &e), CR_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "journal.json"));
    CU_ASSERT_EQUAL(cr_test_rmtree(root), 0);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("report_stats", NULL, NULL);
    CR_ADD_TEST(s, test_report_stats_wilson_known_values);
    CR_ADD_TEST(s, test_report_stats_wilson_rejects_bad_input);
    CR_ADD_TEST(s, test_report_stats_percentiles);
    CR_ADD_TEST(s, test_report_stats_histogram);
    CR_ADD_TEST(s, test_report_stats_summary);
    CR_ADD_TEST(s, test_report_stats_multi_flaky);
    CR_ADD_TEST(s, test_report_stats_multi_stable_and_errors);
}
