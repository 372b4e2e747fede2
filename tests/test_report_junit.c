/* Tests for cr_junit: the JUnit XML of recorded runs validates against the
 * common JUnit schema (tests/data/junit.xsd, checked with libxml2's
 * xmlSchemaValidateDoc) and maps verdicts as documented: failed and
 * unknown expectations are <failure>s, unrunnable and interrupted runs carry
 * an <error>. */
#include "reports/cr_report.h"
#include "cr_test_report.h"

#ifdef CR_HAVE_LIBXML2
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>

#include "cr_test_xpath.h"

static xmlSchemaPtr schema;

static int suite_init(void)
{
    xmlSchemaParserCtxtPtr pc =
        xmlSchemaNewParserCtxt(cr_test_src("tests/data/junit.xsd"));
    if (!pc)
        return 1;
    schema = xmlSchemaParse(pc);
    xmlSchemaFreeParserCtxt(pc);
    return schema ? 0 : 1;
}

static int suite_clean(void)
{
    xmlSchemaFree(schema);
    xmlCleanupParser();
    return 0;
}

/* Parse and validate a junit.xml; returns the document (caller frees) or
 * NULL when it is not well-formed or not valid. */
static xmlDocPtr valid_doc(const char *path)
{
    xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    if (!doc)
        return NULL;
    xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
    int rc = vc ? xmlSchemaValidateDoc(vc, doc) : -1;
    xmlSchemaFreeValidCtxt(vc);
    if (rc != 0) {
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

static xmlDocPtr run_fixture(const char *name, char **dir)
{
    cr_err e;
    cr_err_clear(&e);
    *dir = crt_fixture(name);
    if (!*dir)
        return NULL;
    if (cr_report_write_all(*dir, &e) != 0) {
        fprintf(stderr, "write_all %s: %s\n", name, e.msg);
        return NULL;
    }
    char path[4300];
    snprintf(path, sizeof path, "%s/junit.xml", *dir);
    return valid_doc(path);
}

static void test_report_junit_schema_rejects_bad_documents(void)
{
    /* The validator must be able to fail: a testcase without a name and a
     * failure without a type are invalid. */
    char *dir = cr_test_tmpdir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    CU_ASSERT_EQUAL(
        crt_write(dir, "a.xml",
                  "<testsuites><testsuite name=\"s\" tests=\"1\" "
                  "failures=\"0\" errors=\"0\" "
                  "time=\"0\" timestamp=\"2026-01-01T00:00:00\"><testcase "
                  "classname=\"c\" "
                  "time=\"0\"/></testsuite></testsuites>"),
        0);
    CU_ASSERT_EQUAL(
        crt_write(
            dir, "b.xml",
            "<testsuites><testsuite name=\"s\" tests=\"1\" failures=\"1\" "
            "errors=\"0\" "
            "time=\"0\" timestamp=\"2026-01-01T00:00:00\"><testcase name=\"x\" "
            "classname=\"c\" time=\"0\"><failure message=\"m\">t</failure>"
            "</testcase></testsuite></testsuites>"),
        0);
    CU_ASSERT_EQUAL(
        crt_write(
            dir, "c.xml",
            "<testsuites><testsuite name=\"s\" tests=\"1\" failures=\"0\" "
            "errors=\"0\" "
            "time=\"0\" timestamp=\"2026-01-01T00:00:00\"><testcase name=\"x\" "
            "classname=\"c\" time=\"0\"/></testsuite></testsuites>"),
        0);
    char p[4300];
    snprintf(p, sizeof p, "%s/a.xml", dir);
    CU_ASSERT_PTR_NULL(valid_doc(p));
    snprintf(p, sizeof p, "%s/b.xml", dir);
    CU_ASSERT_PTR_NULL(valid_doc(p));
    snprintf(p, sizeof p, "%s/c.xml", dir);
    xmlDocPtr ok = valid_doc(p);
    CU_ASSERT_PTR_NOT_NULL(ok);
    xmlFreeDoc(ok);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

static void test_report_junit_passing_run(void)
{
    char *dir = NULL;
    xmlDocPtr doc = run_fixture("pass3", &dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_EQUAL(xnum(doc, "count(/testsuites/testsuite)"), 1);
    CU_ASSERT_EQUAL(xnum(doc, "count(//testcase)"), 6);
    CU_ASSERT_EQUAL(xnum(doc, "/testsuites/testsuite/@tests"), 6);
    CU_ASSERT_EQUAL(xnum(doc, "/testsuites/testsuite/@failures"), 0);
    CU_ASSERT_EQUAL(xnum(doc, "/testsuites/testsuite/@errors"), 0);
    CU_ASSERT_EQUAL(xnum(doc, "count(//failure) + count(//error)"), 0);
    char *s = xstr(doc, "//testcase[1]/@classname");
    CU_ASSERT_STRING_EQUAL(s, "chaosrun.pipeline-three-faults");
    free(s);
    s = xstr(doc, "//property[@name='seed']/@value");
    CU_ASSERT_STRING_EQUAL(s, "42");
    free(s);
    s = xstr(doc, "//property[@name='reproduce']/@value");
    CU_ASSERT_STRING_EQUAL(
        s, "chaosrun --seed 42 scenarios/pipeline-three-faults.json");
    free(s);
    s = xstr(doc, "/testsuites/testsuite/system-out");
    CU_ASSERT_PTR_NOT_NULL(
        strstr(s, "kill-worker (kill) on worker.1: applied"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(s, "pause-store (pause) on store.0: applied for 4.01 s"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "fsync-eio (syscall)"));
    free(s);
    xmlFreeDoc(doc);
    crt_cleanup(dir);
}

static void test_report_junit_failed_and_unknown_are_failures(void)
{
    char *dir = NULL;
    xmlDocPtr doc = run_fixture("fail", &dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_EQUAL(xnum(doc, "/testsuites/testsuite/@failures"), 3);
    CU_ASSERT_EQUAL(xnum(doc, "count(//testcase[failure])"), 3);
    CU_ASSERT_EQUAL(xnum(doc, "count(//failure[@type='unknown'])"), 1);
    CU_ASSERT_EQUAL(xnum(doc, "count(//testcase[@name='checkpoint-resume']/"
                              "failure[@type='unknown'])"),
                    1);
    CU_ASSERT_EQUAL(xnum(doc, "count(//skipped)"), 0);
    char *s = xstr(doc, "//testcase[@name='recovers']/failure/@message");
    CU_ASSERT_STRING_EQUAL(s, "probes passed again only 7.40 s after the last "
                              "fault ended (bound 5 s)");
    free(s);
    s = xstr(doc, "//testcase[@name='recovers']/failure/@type");
    CU_ASSERT_STRING_EQUAL(s, "recovers");
    free(s);
    /* The evidence story, with the markup inside it kept as text. */
    s = xstr(doc, "//testcase[@name='recovers']/failure");
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "measured: 7.40 s, bound <= 5"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "t=26.000 probe api-up failed: HTTP 503 "
                                     "<html>Service Unavailable</html>"));
    free(s);
    s = xstr(doc, "//testcase[@name='no-data-loss']/failure");
    CU_ASSERT_EQUAL(crt_count(s, "accepted id="), 3);
    free(s);
    xmlFreeDoc(doc);
    crt_cleanup(dir);
}

/* The evidence of a failure in time order, informational rows apart, the
 * lost-id hint, and the rows the checker left out counted (its
 * details.evidence_omitted). */
static void test_report_junit_evidence_in_order(void)
{
    char *dir = NULL;
    xmlDocPtr doc = run_fixture("lost", &dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    char *s = xstr(doc, "//testcase[@name='no-loss']/failure");
    const char *h = strstr(s, "hint: 3 of 7 lost ids were in flight at "
                              "worker.1 (last record: leased) when "
                              "kill-worker killed it at 4.000 s\n");
    const char *a = strstr(s, "  t=3.900 id r0195");
    const char *b = strstr(s, "  t=5.960 id r0298");
    const char *i = strstr(s, "informational (not reasons for the verdict):\n"
                              "  t=2.461 id r0123 dead-lettered\n"
                              "  t=7.130 id r0300");
    CU_ASSERT(h && a && b && i && h < a && a < b && b < i);
    free(s);
    s = xstr(doc, "//testcase[@name='api-steady']/failure");
    CU_ASSERT_EQUAL(crt_count(s, "probe api failed: HTTP 503"), 14);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "  ... and 7 more\n"));
    free(s);
    xmlFreeDoc(doc);
    crt_cleanup(dir);
}

static void test_report_junit_interrupted_and_unrunnable_are_errors(void)
{
    char *dir = NULL;
    xmlDocPtr doc = run_fixture("interrupted", &dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_EQUAL(xnum(doc, "/testsuites/testsuite/@errors"), 1);
    CU_ASSERT_EQUAL(
        xnum(doc, "count(//testcase[@name='run']/error[@type='interrupted'])"),
        1);
    CU_ASSERT_EQUAL(xnum(doc, "/testsuites/testsuite/@tests"), 3);
    CU_ASSERT_EQUAL(xnum(doc, "count(//failure[@type='unknown'])"), 1);
    char *s = xstr(doc, "/testsuites/testsuite/system-out");
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "(never reverted)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "fsync-eio (syscall) on worker: skipped"));
    free(s);
    xmlFreeDoc(doc);
    crt_cleanup(dir);

    doc = run_fixture("unrunnable", &dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_EQUAL(xnum(doc, "count(//testcase)"), 1);
    CU_ASSERT_EQUAL(xnum(doc, "/testsuites/testsuite/@errors"), 1);
    s = xstr(doc, "//testcase/error/@message");
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "unrunnable: netem on veth-h2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "sch_netem"));
    free(s);
    xmlFreeDoc(doc);
    crt_cleanup(dir);
}

static void test_report_junit_escapes_hostile_text(void)
{
    /* Names and evidence from the system under test may hold markup,
     * quotes, CDATA terminators and control characters XML 1.0 forbids. */
    char *dir = cr_test_tmpdir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    CU_ASSERT_EQUAL(
        crt_write(
            dir, "journal.json",
            "{\"name\":\"a<b>&\\\"c'\\u0001\",\"status\":\"failed\",\"started_"
            "at\":1,"
            "\"ended_at\":2,\"t0_unix\":1,\"seed\":5,"
            "\"reproduce\":\"chaosrun --seed 5 'x&y'.json\","
            "\"faults\":[{\"name\":\"f]]>\",\"kind\":\"k\\u0007\",\"applied_"
            "t\":0.5}],"
            "\"expectations\":[{\"name\":\"e\\u001b[31m\",\"kind\":\"x\","
            "\"verdict\":\"failed\","
            "\"summary\":\"bad <script>alert(1)</script> ]]> \\u007f end\","
            "\"evidence\":[{\"t\":1,\"text\":\"\\u0002\\u00e9\\ud83d\\ude00 "
            "\\\"q\\\"\"}]}]}\n"),
        0);
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_EQUAL_FATAL(cr_report_write_all(dir, &e), 0);
    char path[4300];
    snprintf(path, sizeof path, "%s/junit.xml", dir);
    xmlDocPtr doc = valid_doc(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    char *s = xstr(doc, "/testsuites/testsuite/@name");
    CU_ASSERT_STRING_EQUAL(s, "a<b>&\"c'\xEF\xBF\xBD");
    free(s);
    s = xstr(doc, "//failure");
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "bad <script>alert(1)</script> ]]>"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(s, "\xC3\xA9\xF0\x9F\x98\x80 \"q\"")); /* é😀 kept */
    free(s);
    xmlFreeDoc(doc);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

static void test_report_junit_suite_combines_runs(void)
{
    const char *names[] = {"pass3", "fail", "interrupted", "unrunnable"};
    char *dirs[4];
    const char *pv[4];
    cr_err e;
    for (int i = 0; i < 4; i++) {
        dirs[i] = crt_fixture(names[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(dirs[i]);
        pv[i] = dirs[i];
    }
    char *out = cr_test_tmpdir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    cr_err_clear(&e);
    CU_ASSERT_EQUAL_FATAL(cr_report_suite(pv, 4, out, &e), 0);
    char path[4300];
    snprintf(path, sizeof path, "%s/junit.xml", out);
    xmlDocPtr doc = valid_doc(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_EQUAL(xnum(doc, "count(/testsuites/testsuite)"), 4);
    CU_ASSERT_EQUAL(xnum(doc, "/testsuites/@tests"), 6 + 6 + 3 + 1);
    CU_ASSERT_EQUAL(xnum(doc, "/testsuites/@failures"), 0 + 3 + 1 + 0);
    CU_ASSERT_EQUAL(xnum(doc, "/testsuites/@errors"), 2);
    /* Worst first: unrunnable, interrupted, failed, passed. */
    char *s = xstr(
        doc,
        "/testsuites/testsuite[1]/properties/property[@name='status']/@value");
    CU_ASSERT_STRING_EQUAL(s, "unrunnable");
    free(s);
    s = xstr(
        doc,
        "/testsuites/testsuite[4]/properties/property[@name='status']/@value");
    CU_ASSERT_STRING_EQUAL(s, "passed");
    free(s);
    xmlFreeDoc(doc);
    char *idx = crt_read(out, "index.html");
    CU_ASSERT_PTR_NOT_NULL_FATAL(idx);
    CU_ASSERT_EQUAL(crt_count(idx, "/report.html\">"),
                    8); /* name + html link per run */
    free(idx);
    CU_ASSERT_EQUAL(cr_test_rmtree(out), 0);
    for (int i = 0; i < 4; i++)
        crt_cleanup(dirs[i]);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("report_junit", suite_init, suite_clean);
    CR_ADD_TEST(s, test_report_junit_schema_rejects_bad_documents);
    CR_ADD_TEST(s, test_report_junit_passing_run);
    CR_ADD_TEST(s, test_report_junit_failed_and_unknown_are_failures);
    CR_ADD_TEST(s, test_report_junit_evidence_in_order);
    CR_ADD_TEST(s, test_report_junit_interrupted_and_unrunnable_are_errors);
    CR_ADD_TEST(s, test_report_junit_escapes_hostile_text);
    CR_ADD_TEST(s, test_report_junit_suite_combines_runs);
}

#else

void cr_test_register(void)
{
    cr_test_skip("libxml2 (libxml2-dev) was not found at build time: "
                 "cannot validate JUnit XML");
}

#endif
