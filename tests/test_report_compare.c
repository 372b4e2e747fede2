/* Tests for `report --compare` (cr_report_compare.c): a difference inside
 * the spread is "within noise" (a multi-seed side's range; a stated
 * threshold for two single runs), outside it better/worse by the bound's
 * direction, and both runs' charts on one axis. */
#include <jansson.h>
#include <math.h>

#include "base/cr_alloc.h"
#include "reports/cr_report.h"
#include "cr_test_report.h"

/* A run directory dir/name with one passing expectation measuring v
 * (unit, bound) and a few delivered events (latency_ms) for the charts. */
static int make_run(const char *dir, const char *name, unsigned seed, double v,
                    const char *unit, const char *bound)
{
    char sub[4200], j[2048], ev[1024];
    snprintf(sub, sizeof sub, "%s/%s", dir, name);
    if (mkdir(sub, 0755) < 0)
        return -1;
    snprintf(j, sizeof j,
             "{\"name\":\"cmp\",\"status\":\"passed\",\"seed\":%u,"
             "\"t0_unix\":100,\"started_at\":99,\"ended_at\":104,"
             "\"duration_s\":3,\"faults\":[{\"name\":\"k\",\"kind\":\"kill\","
             "\"target\":\"a.0\",\"applied_t\":1}],"
             "\"expectations\":[{\"name\":\"fig\",\"kind\":\"slo\","
             "\"verdict\":\"passed\",\"summary\":\"s\",\"measured\":{"
             "\"value\":%.17g,\"unit\":\"%s\",\"bound\":\"%s\"}}]}\n",
             seed, v, unit, bound);
    snprintf(ev, sizeof ev,
             "{\"ts\":100.2,\"svc\":\"a\",\"ev\":\"delivered\",\"id\":1,"
             "\"latency_ms\":%u}\n"
             "{\"ts\":101.5,\"svc\":\"a\",\"ev\":\"delivered\",\"id\":2,"
             "\"latency_ms\":3}\n"
             "{\"ts\":102.5,\"svc\":\"a\",\"ev\":\"retry\",\"op\":\"x\"}\n",
             seed);
    return crt_write(sub, "journal.json", j) == 0 &&
                   crt_write(sub, "events.jsonl", ev) == 0
               ? 0
               : -1;
}

/* The Markdown row of expectation "fig". */
static char *fig_row(const char *md)
{
    const char *p = strstr(md, "\n| fig |");
    if (!p)
        return NULL;
    p++;
    size_t n = strcspn(p, "\n");
    char *row = malloc(n + 1);
    if (row) {
        memcpy(row, p, n);
        row[n] = '\0';
    }
    return row;
}

static char *compare(const char *dir, const char *a, const char *b)
{
    char pa[4200], pb[4200];
    char *md = NULL;
    cr_err e;
    cr_err_clear(&e);
    snprintf(pa, sizeof pa, "%s/%s", dir, a);
    snprintf(pb, sizeof pb, "%s/%s", dir, b);
    if (cr_report_compare(pa, pb, pb, &md, &e) < 0) {
        fprintf(stderr, "compare %s %s: %s\n", a, b, e.msg);
        return NULL;
    }
    char *row = fig_row(md);
    cr_free(md);
    return row;
}

static void test_report_compare_single_runs(void)
{
    char *dir = cr_test_tmpdir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    CU_ASSERT_EQUAL_FATAL(make_run(dir, "p8", 1, 8, "ms", "<= 50"), 0);
    CU_ASSERT_EQUAL_FATAL(make_run(dir, "p4", 2, 4, "ms", "<= 50"), 0);
    CU_ASSERT_EQUAL_FATAL(make_run(dir, "p40", 3, 40, "ms", "<= 50"), 0);
    CU_ASSERT_EQUAL_FATAL(make_run(dir, "s2", 4, 2.0, "s", "<= 5"), 0);
    CU_ASSERT_EQUAL_FATAL(make_run(dir, "s23", 5, 2.3, "s", "<= 5"), 0);
    CU_ASSERT_EQUAL_FATAL(make_run(dir, "s3", 6, 3.0, "s", "<= 5"), 0);
    CU_ASSERT_EQUAL_FATAL(make_run(dir, "t100", 7, 100, "events", ">= 1"), 0);
    CU_ASSERT_EQUAL_FATAL(make_run(dir, "t60", 8, 60, "events", ">= 1"), 0);
    /* 8 ms -> 4 ms: under the 15 ms floor, not "better". */
    char *r = compare(dir, "p8", "p4");
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_STRING_EQUAL(r, "| fig | \xE2\x9C\x85 passed | \xE2\x9C\x85 "
                              "passed | same | 8 ms | 4 ms | within noise | "
                              "single runs: under 15 ms |");
    free(r);
    /* Equal figures are the same, whatever the threshold. */
    r = compare(dir, "p8", "p8");
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "| 8 ms | 8 ms | same |  |"));
    free(r);
    r = compare(dir, "p8", "p40");
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "| 8 ms | 40 ms | worse |"));
    free(r);
    /* 15 %: noise; 50 %: worse (lower is better under "<="). */
    r = compare(dir, "s2", "s23");
    CU_ASSERT_PTR_NOT_NULL(
        strstr(r, "| within noise | single runs: at most 25 % |"));
    free(r);
    r = compare(dir, "s2", "s3");
    CU_ASSERT_PTR_NOT_NULL(
        strstr(r, "| worse | single runs: more than 25 % |"));
    free(r);
    r = compare(dir, "s3", "s2");
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "| better |"));
    free(r);
    /* Higher is better under ">=": 100 -> 60 events is worse. */
    r = compare(dir, "t100", "t60");
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "| 100 events | 60 events | worse |"));
    free(r);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

/* Several seeds a side: the spread is the range of the runs. */
static void multi_side(const char *dir, const char *name, unsigned seed0,
                       const double *v, size_t n)
{
    char sub[4200], run[4300];
    const char *runs[8];
    char names[8][4300];
    snprintf(sub, sizeof sub, "%s/%s", dir, name);
    CU_ASSERT_EQUAL_FATAL(mkdir(sub, 0755), 0);
    for (size_t i = 0; i < n && i < 8; i++) {
        snprintf(run, sizeof run, "seed-%zu", seed0 + i);
        CU_ASSERT_EQUAL_FATAL(
            make_run(sub, run, (unsigned)(seed0 + i), v[i], "s", "<= 5"), 0);
        snprintf(names[i], sizeof names[i], "%s/%s", sub, run);
        runs[i] = names[i];
    }
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_EQUAL_FATAL(cr_report_multi(runs, n, sub, &e), 0);
}

static void test_report_compare_multi_seed(void)
{
    char *dir = cr_test_tmpdir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    const double old[] = {2.0, 2.4, 2.9}, same[] = {2.5, 2.6, 2.8},
                 slow[] = {3.5, 3.6, 3.9};
    multi_side(dir, "old", 1, old, 3);
    multi_side(dir, "same", 11, same, 3);
    multi_side(dir, "slow", 21, slow, 3);
    CU_ASSERT_EQUAL_FATAL(make_run(dir, "one", 30, 2.65, "s", "<= 5"), 0);
    /* 2.4 s -> 2.6 s median: inside the old runs' range 2.0-2.9 s. */
    char *r = compare(dir, "old", "same");
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_STRING_EQUAL(
        r, "| fig | \xE2\x9C\x85 passed | \xE2\x9C\x85 passed | same | "
           "2.40 s (2.00 s\xE2\x80\x93"
           "2.90 s, 3 runs) | 2.60 s (2.50 s"
           "\xE2\x80\x93"
           "2.80 s, 3 runs) | within noise | the new median "
           "lies in the old runs' range |");
    free(r);
    r = compare(dir, "old", "slow");
    CU_ASSERT_PTR_NOT_NULL(
        strstr(r, "| worse | outside the range of the runs |"));
    free(r);
    /* A single run against a multi-seed side: its figure inside their
     * range is noise. */
    r = compare(dir, "one", "same");
    CU_ASSERT_PTR_NOT_NULL(
        strstr(r, "| within noise | the old median lies in the new runs' "
                  "range |"));
    free(r);
    /* The multi-seed side's run dirs are found next to multi.json even
     * when multi.json names them by a path that no longer holds. */
    char a[4300], b[4300];
    snprintf(a, sizeof a, "%s/old", dir);
    snprintf(b, sizeof b, "mv '%s/slow' '%s/moved'", dir, dir);
    CU_ASSERT_EQUAL_FATAL(system(b), 0);
    snprintf(b, sizeof b, "%s/moved", dir);
    char *md = NULL;
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_report_compare(a, b, b, &md, &e), 0);
    CU_ASSERT_PTR_NOT_NULL(md && strstr(md, "3 runs, seeds 21..23"));
    cr_free(md);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

/* Paths starting with prefix that draw data (a line: an "L" before the
 * closing quote), not a legend sample. */
static size_t data_paths(const char *html, const char *prefix)
{
    size_t n = 0;
    for (const char *p = strstr(html, prefix); p; p = strstr(p + 1, prefix)) {
        const char *d = p + strlen(prefix);
        size_t k = strcspn(d, "\"");
        n += memchr(d, 'L', k) != NULL;
    }
    return n;
}

static void test_report_compare_charts_on_one_axis(void)
{
    char *a = crt_fixture("pass3"), *b = crt_fixture("fail");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_EQUAL_FATAL(cr_report_compare(a, b, b, NULL, &e), 0);
    char *html = crt_read(b, "compare.html");
    CU_ASSERT_PTR_NOT_NULL_FATAL(html);
    /* One chart per metric holding both runs, none per run. */
    static const char *const charts[] = {"cmp-delivered", "cmp-retries",
                                         "cmp-errors", "cmp-latency"};
    for (size_t i = 0; i < 4; i++) {
        char q[64];
        snprintf(q, sizeof q, "data-chart=\"%s\"", charts[i]);
        CU_ASSERT_EQUAL(crt_count(html, q), 1);
    }
    CU_ASSERT_EQUAL(crt_count(html, "data-chart=\"throughput\""), 0);
    CU_ASSERT_EQUAL(data_paths(html, "<path class=\"s-old\" d=\""), 4);
    CU_ASSERT_EQUAL(data_paths(html, "<path class=\"s-new\" d=\""), 4);
    /* The new run's fault windows hatched, the old run's outlined. */
    CU_ASSERT(crt_count(html, "class=\"fault-bg old\"") >= 4);
    CU_ASSERT(crt_count(html, "class=\"fault-bg\"") >= 4);
    free(html);
    crt_cleanup(a);
    crt_cleanup(b);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("report_compare", NULL, NULL);
    CR_ADD_TEST(s, test_report_compare_single_runs);
    CR_ADD_TEST(s, test_report_compare_multi_seed);
    CR_ADD_TEST(s, test_report_compare_charts_on_one_axis);
}
