/* Tests for cr_md (report.md) and the compare view: the Markdown tables
 * match the journal row for row, cells are escaped, compare classifies
 * verdict changes, and writing survives allocation failures. */
#include <jansson.h>
#include <math.h>

#include "cli/cr_cli.h"
#include "base/cr_alloc.h"
#include "reports/cr_report.h"
#include "cr_test_report.h"

/* Split a Markdown table row "| a | b \| c |" into cells (unescaping
 * nothing: cells are compared as written).  Returns the cell count. */
static size_t md_cells(const char *line, char cells[][256], size_t max)
{
    size_t n = 0;
    const char *p = line;
    if (*p != '|')
        return 0;
    p++;
    while (*p && *p != '\n' && n < max) {
        size_t k = 0;
        while (*p && *p != '\n' && !(*p == '|' && p[-1] != '\\')) {
            if (k < 255)
                cells[n][k++] = *p;
            p++;
        }
        while (k && cells[n][k - 1] == ' ')
            k--;
        cells[n][k] = '\0';
        char *c = cells[n];
        size_t lead = strspn(c, " ");
        memmove(c, c + lead, strlen(c + lead) + 1);
        n++;
        if (*p == '|')
            p++;
        if (*p == '\n' || !*p)
            break;
    }
    return n;
}

/* The rows of the table that follows the heading, header and rule
 * skipped.  rows[i] points into md. */
static size_t md_table(const char *md, const char *heading, const char **rows,
                       size_t max)
{
    const char *p = strstr(md, heading);
    size_t n = 0;
    if (!p)
        return 0;
    p = strstr(p, "\n|");
    if (!p)
        return 0;
    p++;                     /* header */
    p = strchr(p, '\n') + 1; /* rule */
    p = strchr(p, '\n') + 1;
    while (*p == '|' && n < max) {
        rows[n++] = p;
        p = strchr(p, '\n');
        if (!p)
            break;
        p++;
    }
    return n;
}

static void check_md_matches_journal(const char *fixture)
{
    char *dir = crt_fixture(fixture);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_EQUAL_FATAL(cr_report_write_all(dir, &e), 0);
    char *md = crt_read(dir, "report.md");
    char path[4300];
    snprintf(path, sizeof path, "%s/journal.json", dir);
    json_t *j = json_load_file(path, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(md);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    const json_t *ex = json_object_get(j, "expectations");
    const char *rows[64];
    char cells[8][256];
    size_t n = md_table(md, "### Expectations", rows, 64);
    CU_ASSERT_EQUAL(n, json_array_size(ex));
    for (size_t i = 0; i < n && i < json_array_size(ex); i++) {
        const json_t *x = json_array_get(ex, i);
        CU_ASSERT_EQUAL_FATAL(md_cells(rows[i], cells, 8), 6);
        /* verdict word (after the icon), name, kind, measured, bound */
        CU_ASSERT_PTR_NOT_NULL(
            strstr(cells[0], json_string_value(json_object_get(x, "verdict"))));
        CU_ASSERT_STRING_EQUAL(cells[1],
                               json_string_value(json_object_get(x, "name")));
        const json_t *m = json_object_get(x, "measured");
        if (m) {
            const char *b = json_string_value(json_object_get(m, "bound"));
            char want[80];
            snprintf(want, sizeof want, "`%s`", b);
            CU_ASSERT_STRING_EQUAL(cells[4], want);
            CU_ASSERT(cells[3][0] != '\0');
        } else {
            CU_ASSERT_STRING_EQUAL(cells[3], "");
        }
    }
    const json_t *fa = json_object_get(j, "faults");
    n = md_table(md, "### Faults", rows, 64);
    CU_ASSERT_EQUAL(n, json_array_size(fa));
    for (size_t i = 0; i < n; i++) {
        const json_t *f = json_array_get(fa, i);
        CU_ASSERT_EQUAL_FATAL(md_cells(rows[i], cells, 8), 6);
        CU_ASSERT_STRING_EQUAL(cells[0],
                               json_string_value(json_object_get(f, "name")));
        CU_ASSERT_STRING_EQUAL(cells[2],
                               json_string_value(json_object_get(f, "target")));
        CU_ASSERT_PTR_NOT_NULL(
            strstr(cells[5], json_string_value(json_object_get(f, "outcome"))));
    }
    char want[200];
    snprintf(want, sizeof want, "Reproduce: `%s`",
             json_string_value(json_object_get(j, "reproduce")));
    CU_ASSERT_PTR_NOT_NULL(strstr(md, want));
    json_decref(j);
    free(md);
    crt_cleanup(dir);
}

static void test_report_md_tables_match_journal(void)
{
    check_md_matches_journal("pass3");
    check_md_matches_journal("fail");
    check_md_matches_journal("interrupted");
    check_md_matches_journal("unrunnable");
    check_md_matches_journal("lost");
}

static void test_report_md_key_figures(void)
{
    char *dir = crt_fixture("fail");
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_EQUAL_FATAL(cr_report_write_all(dir, &e), 0);
    char *md = crt_read(dir, "report.md");
    CU_ASSERT_PTR_NOT_NULL_FATAL(md);
    CU_ASSERT_PTR_NOT_NULL(strstr(
        md,
        "## chaosrun: pipeline-three-faults \xE2\x80\x94 \xE2\x9D\x8C failed"));
    CU_ASSERT_PTR_NOT_NULL(strstr(
        md, "**3/6 expectations held** \xC2\xB7 2 failed \xC2\xB7 1 unknown"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(md, "- recovers: recovered in **7.40 s** (bound `<= 5`)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(
        md, "| kill-worker | kill | worker.1 | 6.21 s | instant | applied |"));
    CU_ASSERT_PTR_NOT_NULL(strstr(
        md, "| pause-store | pause | store.0 | 12.00 s | 4.01 s | applied |"));
    CU_ASSERT_PTR_NOT_NULL(strstr(
        md, "<details><summary>Evidence: no-data-loss (3 failure rows, 0 "
            "informational)</summary>"));
    /* The failure first: right under the heading, each failed or unknown
     * expectation with its kind and reason. */
    const char *what = strstr(md, "**What failed:**");
    CU_ASSERT_PTR_NOT_NULL_FATAL(what);
    CU_ASSERT(what < strstr(md, "expectations held"));
    CU_ASSERT_PTR_NOT_NULL(strstr(
        what, "- \xE2\x9D\x8C failed **no-data-loss** (`no_loss`): 3 of "));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(what, "- \xE2\x9D\x94 unknown **checkpoint-resume** "
                     "(`resumes`): no checkpoint\\_restored event"));
    /* Markup in evidence is escaped so it renders as text. */
    CU_ASSERT_PTR_NOT_NULL(
        strstr(md, "HTTP 503 &lt;html&gt;Service Unavailable&lt;/html&gt;"));
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "_2 malformed event lines ignored._"));
    /* Throughput under fault is lower than outside in this run. */
    const char *tp = strstr(md, "- delivered: **");
    CU_ASSERT_PTR_NOT_NULL_FATAL(tp);
    double out = 0, in = 0;
    CU_ASSERT_EQUAL(
        sscanf(tp,
               "- delivered: **%lf/s** outside faults, **%lf/s** during faults",
               &out, &in),
        2);
    CU_ASSERT(in < out);
    free(md);
    crt_cleanup(dir);
}

static void test_report_md_escapes_cells(void)
{
    char *dir = cr_test_tmpdir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    CU_ASSERT_EQUAL(crt_write(dir, "journal.json",
                              "{\"name\":\"x\",\"status\":\"failed\","
                              "\"reproduce\":\"run `a` | b\","
                              "\"expectations\":[{\"name\":\"a|b *c* "
                              "_d_\",\"kind\":\"k\\nl\",\"verdict\":\"weird\","
                              "\"summary\":\"1 | 2 [link](http://x) <i>\","
                              "\"measured\":{\"value\":2.5,\"unit\":\"s\","
                              "\"bound\":\"<= 1|2\"}}]}\n"),
                    0);
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_EQUAL_FATAL(cr_report_write_all(dir, &e), 0);
    char *md = crt_read(dir, "report.md");
    CU_ASSERT_PTR_NOT_NULL_FATAL(md);
    const char *rows[4];
    char cells[8][256];
    CU_ASSERT_EQUAL_FATAL(md_table(md, "### Expectations", rows, 4), 1);
    /* Still six cells: the pipes inside are escaped. */
    CU_ASSERT_EQUAL(md_cells(rows[0], cells, 8), 6);
    /* An unexpected verdict word is reported as unknown, never passed. */
    CU_ASSERT_PTR_NOT_NULL(strstr(cells[0], "unknown"));
    CU_ASSERT_STRING_EQUAL(cells[1], "a\\|b \\*c\\* \\_d\\_");
    CU_ASSERT_STRING_EQUAL(cells[2], "k l");
    CU_ASSERT_STRING_EQUAL(cells[4], "`<= 1\\|2`");
    CU_ASSERT_STRING_EQUAL(cells[5], "1 \\| 2 \\[link\\](http://x) &lt;i&gt;");
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "Reproduce: `` run `a` \\| b ``"));
    free(md);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

static void test_report_md_compare(void)
{
    char *a = crt_fixture("pass3"), *b = crt_fixture("fail");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    char *md = NULL;
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_EQUAL_FATAL(cr_report_compare(a, b, b, &md, &e), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(md);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(md, "**Less resilient:** 3 expectations regressed"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(md, "| recovers | \xE2\x9C\x85 passed | \xE2\x9D\x8C failed | "
                   "regressed | 1.84 s | 7.40 s | worse |"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(md, "| no-data-loss | \xE2\x9C\x85 passed | \xE2\x9D\x8C failed "
                   "| regressed | 0 records | 3 records | worse |"));
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "| breaker-opens | \xE2\x9C\x85 passed | "
                                      "\xE2\x9C\x85 passed | same |"));
    char *file = crt_read(b, "compare.md");
    CU_ASSERT_PTR_NOT_NULL(file);
    if (file)
        CU_ASSERT_STRING_EQUAL(file, md);
    free(file);
    char *html = crt_read(b, "compare.html");
    CU_ASSERT_PTR_NOT_NULL_FATAL(html);
    CU_ASSERT_EQUAL(crt_count(html, "data-change=\"regressed\""), 3);
    free(html);
    cr_free(md);
    /* The other way round the same changes are fixes. */
    md = NULL;
    cr_err_clear(&e);
    CU_ASSERT_EQUAL_FATAL(cr_report_compare(b, a, a, &md, &e), 0);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(md, "**More resilient:** 3 expectations fixed"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(md, "| recovers | \xE2\x9D\x8C failed | \xE2\x9C\x85 passed | "
                   "fixed | 7.40 s | 1.84 s | better |"));
    cr_free(md);
    cr_err_clear(&e);
    CU_ASSERT_EQUAL(cr_report_compare(a, "/nonexistent-run", a, NULL, &e),
                    CR_ENOTFOUND);
    crt_cleanup(a);
    crt_cleanup(b);
}

static void test_report_md_cli_usage(void)
{
    char *none[] = {"report", NULL};
    CU_ASSERT_EQUAL(cr_cli_report(1, none), 2);
    char *bad[] = {"report", "--frobnicate", NULL};
    CU_ASSERT_EQUAL(cr_cli_report(2, bad), 2);
    char *cmp1[] = {"report", "--compare", "only-one", NULL};
    CU_ASSERT_EQUAL(cr_cli_report(3, cmp1), 2);
    char *out[] = {"report", "--compare", "a", "b", "--out", NULL};
    CU_ASSERT_EQUAL(cr_cli_report(5, out), 2);
    char *two[] = {"report", "a", "b", NULL};
    CU_ASSERT_EQUAL(cr_cli_report(3, two), 2);
    char *missing[] = {"report", "/nonexistent-run-dir", NULL};
    CU_ASSERT_EQUAL(cr_cli_report(2, missing), 2);
    char *help[] = {"report", "--help", NULL};
    CU_ASSERT_EQUAL(cr_cli_report(2, help), 0);
    char *dir = crt_fixture("pass3");
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char *ok[] = {"report", dir, NULL};
    CU_ASSERT_EQUAL(cr_cli_report(2, ok), 0);
    char *html = crt_read(dir, "report.html");
    CU_ASSERT_PTR_NOT_NULL(html);
    free(html);
    crt_cleanup(dir);
}

/* Fail the N-th allocation, N = 1, 2, ... until writing succeeds: every
 * failure must be a clean CR_ENOMEM (or a journal parse error when jansson
 * itself ran out), never a crash; ASan builds also catch leaks here. */
static void test_report_md_allocation_failures(void)
{
    char *dir = cr_test_tmpdir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    CU_ASSERT_EQUAL(
        crt_write(
            dir, "journal.json",
            "{\"name\":\"oom\",\"status\":\"failed\",\"t0_unix\":100,\"started_"
            "at\":99,"
            "\"ended_at\":110,\"duration_s\":5,\"seed\":1,\"reproduce\":\"r\","
            "\"services\":[{\"instance\":\"a.0\",\"service\":\"a\",\"log\":"
            "\"logs/a.0.log\","
            "\"history\":[{\"t\":-1,\"what\":\"start\"},{\"t\":0,\"what\":"
            "\"ready\"},"
            "{\"t\":2,\"what\":\"exit\",\"signal\":\"SIGKILL\"}]}],"
            "\"faults\":[{\"name\":\"p\",\"kind\":\"pause\",\"target\":\"a.0\","
            "\"for_s\":1,"
            "\"applied_t\":1,\"reverted_t\":2}],"
            "\"probes\":[{\"probe\":\"up\",\"t\":1,\"ok\":false}],"
            "\"expectations\":[{\"name\":\"r\",\"kind\":\"recovers\","
            "\"verdict\":\"failed\","
            "\"summary\":\"s\",\"measured\":{\"value\":3,\"unit\":\"s\","
            "\"bound\":\"<= 1\"},"
            "\"evidence\":[{\"t\":1,\"text\":\"x\"}],\"details\":{\"a\":1}}]}"
            "\n"),
        0);
    CU_ASSERT_EQUAL(
        crt_write(
            dir, "events.jsonl",
            "{\"ts\":100.5,\"svc\":\"a\",\"ev\":\"accepted\",\"latency_ms\":3}"
            "\n"
            "{\"ts\":101.5,\"svc\":\"a\",\"ev\":\"retry\",\"error\":\"x\"}\n"
            "{\"ts\":101.6,\"svc\":\"a\",\"ev\":\"breaker\",\"name\":\"b\","
            "\"state\":\"open\"}\n"
            "{\"ts\":101.7,\"svc\":\"a\",\"ev\":\"alert\",\"name\":\"b\","
            "\"state\":\"firing\"}\n"
            "{\"ts\":101.8,\"svc\":\"a\",\"ev\":\"checkpoint_saved\",\"name\":"
            "\"c\",\"step\":1}\n"
            "{\"ts\":101.9,\"svc\":\"a\",\"ev\":\"delivered\",\"latency_ms\":9}"
            "\n"
            "garbage\n"),
        0);
    char logs[4300];
    snprintf(logs, sizeof logs, "%s/logs", dir);
    CU_ASSERT_EQUAL(mkdir(logs, 0755), 0);
    CU_ASSERT_EQUAL(
        crt_write(logs, "a.0.log", "[   0.500] hello\n[   1.500] paused?\n"),
        0);
    cr_alloc_install_json();
    int rc = -1;
    long n;
    for (n = 1; n < 100000 && rc != 0; n++) {
        cr_err e;
        cr_err_clear(&e);
        cr_alloc_fail_after(n);
        rc = cr_report_write_all(dir, &e);
        cr_alloc_fail_after(0);
        if (rc != 0 && rc != CR_ENOMEM && rc != CR_EPROTO) {
            CU_FAIL("unexpected error code under allocation failure");
            fprintf(stderr, "n=%ld rc=%d %s\n", n, rc, e.msg);
            break;
        }
        if (rc != 0)
            CU_ASSERT(e.code != 0 && e.msg[0] != '\0');
    }
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT(n > 10); /* the loop did exercise failures */
    char *md = crt_read(dir, "report.md");
    CU_ASSERT_PTR_NOT_NULL(md);
    if (md)
        CU_ASSERT_PTR_NOT_NULL(strstr(md, "## chaosrun: oom"));
    free(md);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("report_md", NULL, NULL);
    CR_ADD_TEST(s, test_report_md_tables_match_journal);
    CR_ADD_TEST(s, test_report_md_key_figures);
    CR_ADD_TEST(s, test_report_md_escapes_cells);
    CR_ADD_TEST(s, test_report_md_compare);
    CR_ADD_TEST(s, test_report_md_cli_usage);
    CR_ADD_TEST(s, test_report_md_allocation_failures);
}
