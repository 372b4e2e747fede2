/* Tests of report.html on long runs (cr_html_limits): the page of a
 * synthetic ten-hour run stays under a size that does not grow with the
 * number of events (10^4 and 10^6 event lines: the same bound), its lanes
 * are drawn per column with counts in the tooltips, its lists are cut with
 * "… and N more"; and the page of a small run is the page without limits,
 * byte for byte. */
#include "reports/cr_html.h"
#include "reports/cr_report.h"
#include "cr_test_longrun.h"
#include "cr_test_report.h"

#include <stdlib.h>
#include <string.h>

/* The bound: what the limits allow, whatever the event count (a dozen
 * lanes of at most 2000 column rectangles, 50 evidence rows, 200 fault
 * rows, 50 fault excerpts, 500 log lines) -- measured 0.16 MB at 10^4
 * and 0.13 MB at 10^6 events, at most 0.37 MB in between; without limits
 * the 10^5-event page is 3 MB. */
#define HTML_BOUND (1024 * 1024)

/* report.html of a synthetic long run of nev events under lim. */
static char *long_page(size_t nev, const cr_html_limits *lim, size_t *len)
{
    char *dir = cr_test_tmpdir();
    cr_report *r = NULL;
    cr_err e;
    cr_out o;
    cr_out_init(&o);
    cr_err_clear(&e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    CU_ASSERT_EQUAL_FATAL(crt_longrun_write(dir, nev), 0);
    CU_ASSERT_EQUAL_FATAL(cr_report_load(dir, &r, &e), 0);
    CU_ASSERT_EQUAL(r->nev, nev);
    CU_ASSERT_EQUAL(r->nfaults, nev / 100);
    CU_ASSERT_EQUAL(cr_html_write_limited(r, &o, lim, &e), 0);
    char *s = malloc(o.n + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    memcpy(s, cr_out_str(&o), o.n + 1);
    *len = o.n;
    cr_out_free(&o);
    cr_report_destroy(r);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
    return s;
}

static void test_report_long_size_bounded(void)
{
    size_t n4, n6, n5;
    char *p4 = long_page(10000, &cr_html_limits_default, &n4);
    char *p6 = long_page(1000000, &cr_html_limits_default, &n6);
    fprintf(stderr, "report.html: 10^4 events %zu bytes, 10^6 events %zu\n", n4,
            n6);
    CU_ASSERT(n4 < HTML_BOUND);
    CU_ASSERT(n6 < HTML_BOUND);
    /* Per column: at most `columns` rectangles a lane, whatever the
     * count, each with its count and time range. */
    CU_ASSERT_PTR_NOT_NULL(strstr(p6, "occurrences from "));
    CU_ASSERT_PTR_NOT_NULL(strstr(p6, "state segments from "));
    CU_ASSERT_PTR_NOT_NULL(strstr(p6, "state windows from "));
    CU_ASSERT_PTR_NOT_NULL(strstr(p6, "results from "));
    CU_ASSERT_PTR_NOT_NULL(strstr(p6, "windows from "));
    CU_ASSERT(crt_count(p6, " agg\"") <= 7 * 2000);
    /* A failed probe result always shows in its column. */
    CU_ASSERT(crt_count(p6, "probe-fail agg\"") > 0);
    /* The lists: the first 50 evidence rows, then the count. */
    CU_ASSERT_PTR_NOT_NULL(strstr(p6, "show the first 50 of 10000 failure "
                                      "rows"));
    CU_ASSERT_PTR_NOT_NULL(strstr(p6, "and 9950 more failure rows"));
    CU_ASSERT_PTR_NOT_NULL(strstr(p6, "and 9800 more fault occurrences"));
    CU_ASSERT_PTR_NOT_NULL(strstr(p6, "and 9500 more lines"));
    CU_ASSERT_EQUAL(crt_count(p6, "<td>probe up failed: HTTP 503 (#"), 50);
    free(p4);
    free(p6);
    /* The bound means something: without limits the page grows with the
     * run (10^5 events). */
    char *p5 = long_page(100000, NULL, &n5);
    fprintf(stderr, "report.html without limits: 10^5 events %zu bytes\n", n5);
    CU_ASSERT(n5 > 2 * HTML_BOUND);
    free(p5);
}

/* A small run: the page with the default limits is the page without any
 * (every recorded fixture), and a long run within every limit too. */
static void test_report_long_small_runs_unchanged(void)
{
    const char *names[] = {"pass3", "fail", "interrupted", "lost",
                           "unrunnable"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *dir = crt_fixture(names[i]);
        cr_report *r = NULL;
        cr_err e;
        cr_err_clear(&e);
        CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
        CU_ASSERT_EQUAL_FATAL(cr_report_load(dir, &r, &e), 0);
        cr_out a, b;
        cr_out_init(&a);
        cr_out_init(&b);
        CU_ASSERT_EQUAL(cr_html_write(r, &a, &e), 0);
        CU_ASSERT_EQUAL(cr_html_write_limited(r, &b, NULL, &e), 0);
        CU_ASSERT_EQUAL(a.n, b.n);
        CU_ASSERT(a.n == b.n && !memcmp(cr_out_str(&a), cr_out_str(&b), a.n));
        CU_ASSERT_EQUAL(crt_count(cr_out_str(&a), " agg\""), 0);
        cr_out_free(&a);
        cr_out_free(&b);
        cr_report_destroy(r);
        crt_cleanup(dir);
    }
    size_t na, nb;
    char *a = long_page(3000, &cr_html_limits_default, &na);
    char *b = long_page(3000, NULL, &nb);
    CU_ASSERT_EQUAL(na, nb);
    CU_ASSERT(na == nb && !memcmp(a, b, na));
    free(a);
    free(b);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("report_long", NULL, NULL);
    if (!s)
        return;
    CR_ADD_TEST(s, test_report_long_size_bounded);
    CR_ADD_TEST(s, test_report_long_small_runs_unchanged);
}
