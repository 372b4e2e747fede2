/* Tests for cr_report_shrink: the report of a `chaosrun shrink` output
 * directory (original vs minimal) from a synthetic summary.json and
 * steps.jsonl. */
#include <jansson.h>
#include <sys/stat.h>

#include "reports/cr_report.h"
#include "cr_test_report.h"

/* Three faults (one triggered by an event) shrunk to one (the kill,
 * moved from 1.6 s to 0.2 s),
 * duration_s 5 -> 2; the original took 30 s for 3 runs, the last kept
 * candidate 21 s for 3 runs. */
static const char SUMMARY[] =
    "{\"name\":\"demo\",\"expect\":\"no-loss\",\"runs_per_candidate\":3,"
    "\"faults_before\":3,\"original\":["
    "{\"name\":\"stall-sink.0\",\"kind\":\"pause\",\"target\":\"sink.0\","
    "\"at_s\":0.5,\"for_s\":0.4},"
    "{\"name\":\"kill-w.0\",\"kind\":\"kill\",\"target\":\"worker.0\","
    "\"at_s\":1.6},"
    "{\"name\":\"stall-q.0\",\"kind\":\"pause\",\"target\":\"queue.0\","
    "\"on_event\":{\"ev\":\"leased\",\"svc\":\"worker.1\",\"count\":3,"
    "\"delay_s\":0.04},"
    "\"for_s\":0.4}],"
    "\"minimal\":[{\"name\":\"kill-w.0\",\"kind\":\"kill\",\"target\":"
    "\"worker.0\",\"at_s\":0.2}],"
    "\"duration_before_s\":5,\"duration_after_s\":2,\"candidates\":4,"
    "\"runs\":11,\"wall_s\":95,\"budget_spent\":false,\"reruns\":5,"
    "\"reruns_failed\":4}\n";

static const char STEPS[] =
    "{\"step\":0,\"phase\":\"original\",\"faults\":[],\"duration_s\":5,"
    "\"runs\":[{\"verdict\":\"failed\"},{\"verdict\":\"failed\"},"
    "{\"verdict\":\"failed\"}],\"still_fails\":true,\"took_s\":30}\n"
    "{\"step\":1,\"phase\":\"drop\",\"runs\":[{\"verdict\":\"passed\"}],"
    "\"still_fails\":false,\"took_s\":9}\n"
    "{\"step\":2,\"phase\":\"drop\",\"runs\":[{},{},{}],"
    "\"still_fails\":true,\"took_s\":24}\n"
    "not json\n"
    "{\"step\":3,\"phase\":\"duration\",\"runs\":[{},{},{}],"
    "\"still_fails\":true,\"took_s\":21}\n";

static void test_report_shrink_original_vs_minimal(void)
{
    char *root = cr_test_tmpdir();
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT_EQUAL_FATAL(cr_report_shrink(root, &e), CR_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "summary.json"));
    CU_ASSERT_EQUAL_FATAL(crt_write(root, "summary.json", SUMMARY), 0);
    cr_err_clear(&e);
    CU_ASSERT_EQUAL_FATAL(cr_report_shrink(root, &e), CR_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "steps.jsonl"));
    CU_ASSERT_EQUAL_FATAL(crt_write(root, "steps.jsonl", STEPS), 0);
    cr_err_clear(&e);
    CU_ASSERT_EQUAL_FATAL(cr_report_shrink(root, &e), 0);
    char *md = crt_read(root, "report.md");
    CU_ASSERT_PTR_NOT_NULL_FATAL(md);
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "| faults | 3 | 1 | 2 removed |"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(md, "| duration\\_s (timeline) | 5 s | 2 s | 3 s less a run |"));
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "saved a run (30 %)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "| 3 of 3 runs | 4 of 5 re-runs |"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(md, "| kill-w.0 | kill | worker.0 | 1.6 | 0 | kept, at\\_s "
                   "1.6 \xE2\x86\x92 0.2 |"));
    CU_ASSERT_EQUAL(crt_count(md, "| removed |"), 2);
    /* a fault triggered by the system's state: its trigger, not "nan" */
    CU_ASSERT_PTR_NOT_NULL(strstr(
        md,
        "| stall-q.0 | pause | queue.0 | on leased #3 of worker.1 +0.04 s | "
        "0.4 |"));
    CU_ASSERT_PTR_NULL(strstr(md, "nan"));
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "drop 2/1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "shorter duration 1/1"));
    free(md);
    char *html = crt_read(root, "report.html");
    CU_ASSERT_PTR_NOT_NULL_FATAL(html);
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "id=\"shrink-compare\""));
    CU_ASSERT_EQUAL(crt_count(html, "<tr class=\"removed\">"), 2);
    CU_ASSERT_EQUAL(crt_count(html, "<tr class=\"kept\">"), 1);
    free(html);
    /* summary.json that is not JSON */
    CU_ASSERT_EQUAL_FATAL(crt_write(root, "summary.json", "{"), 0);
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_report_shrink(root, &e), CR_EPROTO);
    CU_ASSERT_EQUAL(cr_test_rmtree(root), 0);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("report_shrink", NULL, NULL);
    CR_ADD_TEST(s, test_report_shrink_original_vs_minimal);
}
