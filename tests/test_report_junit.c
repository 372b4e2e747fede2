/* Tests for cr_junit: the JUnit XML of recorded runs validates against the
 * common JUnit schema (tests/data/junit.xsd, checked with libxml2's
 * xmlSchemaValidateDoc) and maps verdicts as documented: failed and
 * unknown expectations are <failure>s, unrunnable and interrupted runs carry
 * an <error>. */
#include "reports/cr_report.h"
#include "cr_test_report.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* ---- merging the suites of shards ---------------------------------------- */

/* A suite of the fixtures names[0..n-1] (fresh copies; their dirs go to
 * runs[], for crt_cleanup) written as shard k/count (count 0: whole) into
 * a new temporary directory, returned. */
static char *make_suite(const char *const *names, size_t n, unsigned k,
                        unsigned count, char **runs)
{
    const char *pv[8];
    cr_err e;
    cr_err_clear(&e);
    for (size_t i = 0; i < n; i++) {
        runs[i] = crt_fixture(names[i]);
        if (!runs[i])
            return NULL;
        pv[i] = runs[i];
    }
    char *out = cr_test_tmpdir();
    cr_suite_shard sh = {k, count};
    if (!out || cr_report_suite_shard(pv, n, &sh, out, &e) != 0) {
        fprintf(stderr, "suite: %s\n", e.msg);
        return NULL;
    }
    return out;
}

/* Merge suites into a new temporary directory (returned in *out). */
static int merge(const char *const *suites, size_t n, char **out, size_t *nruns,
                 int *status, cr_err *e)
{
    cr_err_clear(e);
    *out = cr_test_tmpdir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(*out);
    int dfd = open(*out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CU_ASSERT_FATAL(dfd >= 0);
    int rc = cr_report_merge(suites, n, dfd, nruns, status, e);
    close(dfd);
    return rc;
}

/* Set journal.json's "chaosrun" of a run directory. */
static void set_version(const char *run, const char *version)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/journal.json", run);
    json_t *j = json_load_file(path, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    json_object_set_new(j, "chaosrun", json_string(version));
    CU_ASSERT_EQUAL(json_dump_file(j, path, 0), 0);
    json_decref(j);
}

/* junit.xml text without the run_dir properties (a merged suite names
 * each run directory through the shard's directory). */
static char *junit_sans_dirs(const char *dir)
{
    char *s = crt_read(dir, "junit.xml");
    for (char *p = s; p && (p = strstr(p, "<property name=\"run_dir\""));) {
        char *e = strstr(p, "/>");
        if (!e)
            break;
        memmove(p, e + 2, strlen(e + 2) + 1);
    }
    return s;
}

/* Two shards merged are the suite of all their runs: the same junit.xml
 * but for where the runs are (one <testsuites>, totals the sums of the
 * shards'), every
 * run in index.html and index.md, the merged verdict's exit status. */
static void test_report_junit_merge_shards(void)
{
    const char *a[] = {"pass3", "unrunnable"}, *b[] = {"lost"};
    const char *all[] = {"pass3", "unrunnable", "lost"};
    char *ra[2], *rb[1], *rall[3];
    char *s1 = make_suite(a, 2, 1, 2, ra), *s2 = make_suite(b, 1, 2, 2, rb);
    char *whole = make_suite(all, 3, 0, 0, rall);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(whole);
    const char *suites[] = {s2, s1}; /* any order */
    char *m;
    size_t nruns = 0;
    int status = -1;
    cr_err e;
    CU_ASSERT_EQUAL_FATAL(merge(suites, 2, &m, &nruns, &status, &e), 0);
    CU_ASSERT_EQUAL(nruns, 3);
    CU_ASSERT_EQUAL(status, 3); /* passed 0, failed 1, unrunnable 3 */
    char path[4300];
    double sums[3] = {0};
    const char *attr[] = {"/testsuites/@tests", "/testsuites/@failures",
                          "/testsuites/@errors"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/junit.xml", i ? s2 : s1);
        xmlDocPtr d = valid_doc(path);
        CU_ASSERT_PTR_NOT_NULL_FATAL(d);
        for (int k = 0; k < 3; k++)
            sums[k] += xnum(d, attr[k]);
        xmlFreeDoc(d);
    }
    snprintf(path, sizeof path, "%s/junit.xml", m);
    xmlDocPtr doc = valid_doc(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_EQUAL(xnum(doc, "count(/testsuites)"), 1);
    CU_ASSERT_EQUAL(xnum(doc, "count(/testsuites/testsuite)"), 3);
    for (int k = 0; k < 3; k++)
        CU_ASSERT_EQUAL(xnum(doc, attr[k]), sums[k]);
    xmlFreeDoc(doc);
    char *mj = junit_sans_dirs(m), *wj = junit_sans_dirs(whole);
    CU_ASSERT_PTR_NOT_NULL_FATAL(mj);
    CU_ASSERT_PTR_NOT_NULL_FATAL(wj);
    CU_ASSERT_STRING_EQUAL(mj, wj);
    free(mj);
    free(wj);
    char *idx = crt_read(m, "index.html"), *md = crt_read(m, "index.md");
    CU_ASSERT_PTR_NOT_NULL_FATAL(idx);
    CU_ASSERT_PTR_NOT_NULL_FATAL(md);
    CU_ASSERT_EQUAL(crt_count(idx, "/report.html\">"), 6);
    CU_ASSERT_PTR_NOT_NULL(strstr(idx, "merged from 2 suites"));
    for (size_t i = 0; i < 3; i++) {
        const char *nm = i == 0   ? "pipeline-three-faults"
                         : i == 1 ? "netem-partition"
                                  : "pipeline-lost-records";
        CU_ASSERT_PTR_NOT_NULL(strstr(idx, nm));
        CU_ASSERT_PTR_NOT_NULL(strstr(md, nm));
    }
    free(idx);
    free(md);
    snprintf(path, sizeof path, "%s/suite.json", m);
    json_t *man = json_load_file(path, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(man);
    CU_ASSERT(json_is_null(json_object_get(man, "shard")));
    CU_ASSERT_EQUAL(json_array_size(json_object_get(man, "runs")), 3);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(man, "merged_from")), 2);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(man, "exit_code")), 3);
    json_decref(man);
    /* A merge of merges: the merged suite is a suite. */
    char *m2;
    const char *again[] = {m};
    CU_ASSERT_EQUAL(merge(again, 1, &m2, &nruns, &status, &e), 0);
    CU_ASSERT_EQUAL(nruns, 3);
    mj = junit_sans_dirs(m2);
    wj = junit_sans_dirs(whole);
    CU_ASSERT_PTR_NOT_NULL(mj);
    CU_ASSERT(mj && wj && !strcmp(mj, wj));
    free(mj);
    free(wj);
    for (char **p = (char *[]){m, m2, s1, s2, whole}, **end = p + 5; p < end;
         p++)
        CU_ASSERT_EQUAL(cr_test_rmtree(*p), 0);
    crt_cleanup(ra[0]);
    crt_cleanup(ra[1]);
    crt_cleanup(rb[0]);
    for (int i = 0; i < 3; i++)
        crt_cleanup(rall[i]);
}

/* What a merge refuses, with a message naming the cause, writing nothing;
 * and that it writes through a link planted in OUT never. */
static void test_report_junit_merge_refusals(void)
{
    const char *p3[] = {"pass3"}, *f[] = {"fail"}, *l[] = {"lost"};
    char *r1[1], *r2[1], *r3[1], *r4[1];
    char *s1 = make_suite(p3, 1, 1, 2, r1), *s2 = make_suite(f, 1, 2, 2, r2);
    char *s3 = make_suite(l, 1, 2, 2, r3), *w = make_suite(l, 1, 0, 0, r4);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s1 && s2 && s3 && w);
    char *m;
    size_t nruns;
    int status;
    cr_err e;
    struct {
        const char *suites[2];
        size_t n;
        int code;
        const char *says;
    } cases[] = {
        /* pass3 and fail are both pipeline-three-faults */
        {{s1, s2}, 2, CR_EINVAL, "each scenario must be in one suite only"},
        {{s1, NULL}, 1, CR_EINVAL, "shard 2/2 is missing"},
        {{s3, s3}, 2, CR_EINVAL, "shard 2/2 given twice"},
        {{s1, w}, 2, CR_EINVAL, "is a whole suite and"},
        {{r1[0], NULL}, 1, CR_ENOTFOUND, "no suite manifest"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CU_ASSERT_EQUAL(
            merge(cases[i].suites, cases[i].n, &m, &nruns, &status, &e),
            cases[i].code);
        if (!strstr(e.msg, cases[i].says))
            fprintf(stderr, "case %zu: %s\n", i, e.msg);
        CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, cases[i].says));
        char *j = crt_read(m, "junit.xml");
        CU_ASSERT_PTR_NULL(j); /* nothing written */
        free(j);
        CU_ASSERT_EQUAL(cr_test_rmtree(m), 0);
    }
    /* Versions: a suite of another chaosrun, then a run that disagrees
     * with its own suite. */
    const char *sv[] = {s1, s3};
    set_version(r3[0], "9.9.9");
    CU_ASSERT_EQUAL(merge(sv, 2, &m, &nruns, &status, &e), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "was made by chaosrun 9.9.9"));
    CU_ASSERT_EQUAL(cr_test_rmtree(m), 0);
    {
        const char *pv[] = {r3[0]};
        cr_suite_shard sh = {2, 2};
        cr_err_clear(&e);
        CU_ASSERT_EQUAL(cr_report_suite_shard(pv, 1, &sh, s3, &e), 0);
    }
    CU_ASSERT_EQUAL(merge(sv, 2, &m, &nruns, &status, &e), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "by chaosrun 9.9.9"));
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "merge suites of one version"));
    CU_ASSERT_EQUAL(cr_test_rmtree(m), 0);
    set_version(r3[0], "0.1.0");
    {
        const char *pv[] = {r3[0]};
        cr_suite_shard sh = {2, 2};
        cr_err_clear(&e);
        CU_ASSERT_EQUAL(cr_report_suite_shard(pv, 1, &sh, s3, &e), 0);
    }
    /* A link planted as junit.xml in OUT is replaced, never followed. */
    char *t = cr_test_tmpdir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(crt_write(t, "victim", "keep"), 0);
    m = cr_test_tmpdir();
    char lp[4300], vp[4300];
    snprintf(lp, sizeof lp, "%s/junit.xml", m);
    snprintf(vp, sizeof vp, "%s/victim", t);
    CU_ASSERT_EQUAL_FATAL(symlink(vp, lp), 0);
    int dfd = open(m, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cr_err_clear(&e);
    const char *ok[] = {s1, s3};
    CU_ASSERT_EQUAL(cr_report_merge(ok, 2, dfd, &nruns, &status, &e), 0);
    close(dfd);
    CU_ASSERT_EQUAL(status, 1);
    char *v = crt_read(t, "victim");
    CU_ASSERT_STRING_EQUAL(v ? v : "", "keep");
    free(v);
    struct stat st;
    CU_ASSERT(lstat(lp, &st) == 0 && S_ISREG(st.st_mode));
    for (char **p = (char *[]){m, t, s1, s2, s3, w}, **end = p + 6; p < end;
         p++)
        CU_ASSERT_EQUAL(cr_test_rmtree(*p), 0);
    crt_cleanup(r1[0]);
    crt_cleanup(r2[0]);
    crt_cleanup(r3[0]);
    crt_cleanup(r4[0]);
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
    CR_ADD_TEST(s, test_report_junit_merge_shards);
    CR_ADD_TEST(s, test_report_junit_merge_refusals);
}

#else

void cr_test_register(void)
{
    cr_test_skip("libxml2 (libxml2-dev) was not found at build time: "
                 "cannot validate JUnit XML");
}

#endif
