/* Tests for cr_coverage (resilience coverage over several runs) on
 * synthetic run directories: the attribution of mechanism events to
 * fault windows plus the settle time, never-faulted services, never-
 * reacting mechanisms, coverage.json, and the sections the suite and the
 * multi-seed pages carry. */
#include <jansson.h>
#include <math.h>
#include <sys/stat.h>

#include "reports/cr_coverage.h"
#include "reports/cr_report.h"
#include "cr_test_report.h"

/* Run A: queue, two workers, a sink.  kill worker.1 at 2 s (applied),
 * pause queue 5..6 s, a failed disk fault on the sink.  Reactions: retry
 * at 2.5 (the kill), a restart of worker.1 at 2.3 (the kill), breaker
 * open at 5.5 and closed at 8.5 (the pause, 2.5 s after its end), a
 * retry at 15 (no fault), checkpoint_restored at -0.5 (start-up). */
static const char RUN_A[] =
    "{\"name\":\"cov-a\",\"status\":\"passed\",\"exit_code\":0,\"seed\":1,"
    "\"started_at\":999,\"t0_unix\":1000,\"ended_at\":1020,\"duration_s\":"
    "18,\"services\":["
    "{\"instance\":\"queue.0\",\"service\":\"queue\",\"history\":[]},"
    "{\"instance\":\"worker.0\",\"service\":\"worker\",\"history\":[]},"
    "{\"instance\":\"worker.1\",\"service\":\"worker\",\"history\":["
    "{\"t\":-1,\"what\":\"start\"},{\"t\":2,\"what\":\"exit\"},"
    "{\"t\":2.3,\"what\":\"start\",\"cause\":\"restart-policy\"}]},"
    "{\"instance\":\"sink.0\",\"service\":\"sink\",\"history\":[]}],"
    "\"faults\":["
    "{\"name\":\"k\",\"kind\":\"kill\",\"target\":\"worker.1\","
    "\"applied_t\":2,\"outcome\":\"applied\"},"
    "{\"name\":\"p\",\"kind\":\"pause\",\"target\":\"queue.0\","
    "\"applied_t\":5,\"reverted_t\":6,\"for_s\":1,\"outcome\":\"applied\"},"
    "{\"name\":\"d\",\"kind\":\"disk_full\",\"target\":\"sink.0\","
    "\"scheduled_t\":3,\"for_s\":1,\"outcome\":\"failed\","
    "\"error\":\"no libfiu\"}],"
    "\"expectations\":[]}\n";

static const char EVENTS_A[] =
    "{\"ts\":999.5,\"svc\":\"worker\",\"ev\":\"checkpoint_restored\","
    "\"name\":\"m\",\"step\":1}\n"
    "{\"ts\":1002.5,\"svc\":\"worker\",\"ev\":\"retry\",\"op\":\"x\","
    "\"attempt\":1,\"delay_ms\":10,\"error\":\"e\"}\n"
    "{\"ts\":1005.5,\"svc\":\"worker\",\"ev\":\"breaker\",\"name\":\"b\","
    "\"state\":\"open\"}\n"
    "{\"ts\":1008.5,\"svc\":\"worker\",\"ev\":\"breaker\",\"name\":\"b\","
    "\"state\":\"closed\"}\n"
    "{\"ts\":1015,\"svc\":\"worker\",\"ev\":\"retry\",\"op\":\"x\","
    "\"attempt\":1,\"delay_ms\":10,\"error\":\"e\"}\n"
    "{\"ts\":1016,\"svc\":\"sink\",\"ev\":\"delivered\",\"id\":1}\n";

/* Run B: the same services; a kill of worker.0 at 1 s, a proxy fault on
 * a link and a network partition, none of which provoked anything. */
static const char RUN_B[] =
    "{\"name\":\"cov-b\",\"status\":\"failed\",\"exit_code\":1,\"seed\":2,"
    "\"started_at\":1999,\"t0_unix\":2000,\"ended_at\":2010,\"duration_s\":"
    "8,\"services\":["
    "{\"instance\":\"queue.0\",\"service\":\"queue\",\"history\":[]},"
    "{\"instance\":\"worker.0\",\"service\":\"worker\",\"history\":[]},"
    "{\"instance\":\"sink.0\",\"service\":\"sink\",\"history\":[]}],"
    "\"faults\":[{\"name\":\"k\",\"kind\":\"kill\",\"target\":\"worker.0\","
    "\"applied_t\":1,\"outcome\":\"applied\"},"
    "{\"name\":\"l\",\"kind\":\"proxy\",\"target\":\"link db\","
    "\"applied_t\":2,\"reverted_t\":3,\"for_s\":1,\"outcome\":\"applied\"},"
    "{\"name\":\"n\",\"kind\":\"partition\",\"target\":\"-\","
    "\"applied_t\":4,\"reverted_t\":5,\"for_s\":1,\"outcome\":\"applied\","
    "\"details\":{\"hosts\":\"h1,h2\"}}],"
    "\"expectations\":[{\"name\":\"x\",\"kind\":\"no_loss\","
    "\"verdict\":\"failed\"}]}\n";

static int make_run(const char *root, const char *name, const char *journal,
                    const char *events, char *dir, size_t n)
{
    snprintf(dir, n, "%s/%s", root, name);
    if (mkdir(dir, 0755) < 0 || crt_write(dir, "journal.json", journal))
        return -1;
    return events ? crt_write(dir, "events.jsonl", events) : 0;
}

/* The two runs loaded; root and dirs filled. */
static int load_two(char **root, char dirs[2][4200], cr_report *r[2])
{
    cr_err e;
    cr_err_clear(&e);
    *root = cr_test_tmpdir();
    if (!*root ||
        make_run(*root, "a", RUN_A, EVENTS_A, dirs[0], sizeof dirs[0]) ||
        make_run(*root, "b", RUN_B, NULL, dirs[1], sizeof dirs[1]))
        return -1;
    if (cr_report_load(dirs[0], &r[0], &e) ||
        cr_report_load(dirs[1], &r[1], &e))
        return -1;
    return 0;
}

static const json_t *row(const json_t *j, const char *kind, const char *target)
{
    size_t i;
    json_t *w;
    json_array_foreach (json_object_get(j, "rows"), i, w)
        if (!strcmp(json_string_value(json_object_get(w, "kind")), kind) &&
            !strcmp(json_string_value(json_object_get(w, "target")), target))
            return w;
    return NULL;
}

static long long react(const json_t *w, const char *mech, const char *what)
{
    const json_t *m = json_object_get(json_object_get(w, "reactions"), mech);
    return m ? json_integer_value(json_object_get(m, what)) : 0;
}

static int has_str(const json_t *a, const char *s)
{
    size_t i;
    json_t *x;
    json_array_foreach (a, i, x)
        if (!strcmp(json_string_value(x), s))
            return 1;
    return 0;
}

static void test_report_coverage_mechanism_of_event(void)
{
    json_t *o = json_pack("{s:s,s:s}", "ev", "breaker", "state", "half_open");
    cr_rep_event e = {.ev = "breaker", .obj = o};
    CU_ASSERT_STRING_EQUAL(cr_cov_mech_name((size_t)cr_cov_mech_of(&e)),
                           "breaker_half_open");
    json_object_set_new(o, "state", json_string("sideways"));
    CU_ASSERT_EQUAL(cr_cov_mech_of(&e), -1);
    e.ev = "alert";
    json_object_set_new(o, "state", json_string("resolved"));
    CU_ASSERT_EQUAL(cr_cov_mech_of(&e), -1);
    json_object_set_new(o, "state", json_string("firing"));
    CU_ASSERT_STRING_EQUAL(cr_cov_mech_name((size_t)cr_cov_mech_of(&e)),
                           "alert_firing");
    e.ev = "dead_lettered";
    CU_ASSERT_STRING_EQUAL(cr_cov_mech_name((size_t)cr_cov_mech_of(&e)),
                           "dead_lettered");
    e.ev = "delivered";
    CU_ASSERT_EQUAL(cr_cov_mech_of(&e), -1);
    e.ev = "breaker_open"; /* a column name, not an event */
    CU_ASSERT_EQUAL(cr_cov_mech_of(&e), -1);
    CU_ASSERT_PTR_NULL(cr_cov_mech_name(cr_cov_nmech()));
    json_decref(o);
}

static void test_report_coverage_attribution(void)
{
    char *root = NULL, dirs[2][4200];
    cr_report *r[2] = {NULL, NULL};
    cr_cov *c = NULL;
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_EQUAL_FATAL(load_two(&root, dirs, r), 0);
    CU_ASSERT_EQUAL_FATAL(
        cr_cov_build((const cr_report *const *)r, 2, 3.0, &c, &e), 0);
    json_t *j = cr_cov_json(c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "runs")), 2);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "faults_applied")),
                    5);
    CU_ASSERT_EQUAL(
        json_integer_value(json_object_get(j, "faults_not_applied")), 1);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "rows")), 4);
    /* A link stays whole; a network fault is named by its hosts. */
    CU_ASSERT_PTR_NOT_NULL(row(j, "proxy", "link db"));
    CU_ASSERT_PTR_NOT_NULL(row(j, "partition", "hosts h1,h2"));
    CU_ASSERT(!has_str(json_object_get(j, "never_faulted"), "link"));
    const json_t *kw = row(j, "kill", "worker");
    CU_ASSERT_PTR_NOT_NULL_FATAL(kw);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(kw, "occurrences")), 2);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(kw, "runs")), 2);
    CU_ASSERT_EQUAL(react(kw, "retry", "faults"), 1);
    CU_ASSERT_EQUAL(react(kw, "retry", "events"), 1);
    CU_ASSERT_EQUAL(react(kw, "restarted", "faults"), 1);
    CU_ASSERT_EQUAL(react(kw, "breaker_open", "faults"), 0);
    const json_t *pq = row(j, "pause", "queue");
    CU_ASSERT_PTR_NOT_NULL_FATAL(pq);
    CU_ASSERT_EQUAL(react(pq, "breaker_open", "faults"), 1);
    CU_ASSERT_EQUAL(react(pq, "breaker_closed", "faults"), 1); /* settle */
    CU_ASSERT_EQUAL(react(pq, "retry", "events"), 0);
    /* The sink's only fault failed: never faulted. */
    CU_ASSERT(has_str(json_object_get(j, "never_faulted"), "sink"));
    CU_ASSERT(!has_str(json_object_get(j, "never_faulted"), "worker"));
    CU_ASSERT_PTR_NULL(row(j, "disk_full", "sink"));
    CU_ASSERT(has_str(json_object_get(j, "never_reacted"), "failover"));
    CU_ASSERT(has_str(json_object_get(j, "never_reacted"), "dead_lettered"));
    /* start-up only: not a reaction */
    CU_ASSERT(
        has_str(json_object_get(j, "never_reacted"), "checkpoint_restored"));
    CU_ASSERT(!has_str(json_object_get(j, "never_reacted"), "retry"));
    size_t i;
    json_t *t;
    json_array_foreach (json_object_get(j, "mechanism_totals"), i, t) {
        if (strcmp(json_string_value(json_object_get(t, "name")), "retry"))
            continue;
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(t, "seen")), 2);
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(t, "attributed")),
                        1);
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(t, "unattributed")),
                        1);
    }
    json_decref(j);
    cr_cov_destroy(c);
    c = NULL;
    /* Without a settle time the breaker closing 2.5 s after the pause is
     * no longer the pause's. */
    CU_ASSERT_EQUAL_FATAL(
        cr_cov_build((const cr_report *const *)r, 2, 0, &c, &e), 0);
    j = cr_cov_json(c);
    CU_ASSERT_EQUAL(react(row(j, "pause", "queue"), "breaker_closed", "faults"),
                    0);
    CU_ASSERT_EQUAL(react(row(j, "pause", "queue"), "breaker_open", "faults"),
                    1);
    CU_ASSERT(has_str(json_object_get(j, "never_reacted"), "breaker_closed"));
    json_decref(j);
    cr_cov_destroy(c);
    CU_ASSERT_EQUAL(cr_cov_build((const cr_report *const *)r, 2, -1, &c, &e),
                    CR_EINVAL);
    CU_ASSERT_PTR_NULL(c);
    cr_report_destroy(r[0]);
    cr_report_destroy(r[1]);
    CU_ASSERT_EQUAL(cr_test_rmtree(root), 0);
}

/* The suite index and the multi-seed pages carry the section, and
 * coverage.json / coverage.md are written beside them. */
static void test_report_coverage_in_suite_and_multi(void)
{
    char *root = NULL, dirs[2][4200], out[4300];
    cr_report *r[2] = {NULL, NULL};
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_EQUAL_FATAL(load_two(&root, dirs, r), 0);
    cr_report_destroy(r[0]);
    cr_report_destroy(r[1]);
    const char *pv[2] = {dirs[0], dirs[1]};
    snprintf(out, sizeof out, "%s/suite", root);
    CU_ASSERT_EQUAL_FATAL(cr_report_suite(pv, 2, out, &e), 0);
    char *html = crt_read(out, "index.html");
    CU_ASSERT_PTR_NOT_NULL_FATAL(html);
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<section class=\"card\" "
                                        "id=\"coverage\">"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "id=\"never-faulted\">"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<b>sink</b>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<code>failover</code>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "title=\"1 event\"><b>1/2</b></td>"));
    free(html);
    char *js = crt_read(out, "coverage.json");
    CU_ASSERT_PTR_NOT_NULL_FATAL(js);
    json_t *j = json_loads(js, 0, NULL);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "format")), 1);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "runs")), 2);
    json_decref(j);
    free(js);
    char *md = crt_read(out, "coverage.md");
    CU_ASSERT_PTR_NOT_NULL_FATAL(md);
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "**Never faulted:** sink"));
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "| kill | worker | 2 |"));
    free(md);
    snprintf(out, sizeof out, "%s/multi", root);
    CU_ASSERT_EQUAL_FATAL(cr_report_multi(pv, 2, out, &e), 0);
    md = crt_read(out, "multi.md");
    CU_ASSERT_PTR_NOT_NULL_FATAL(md);
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "## Resilience coverage"));
    free(md);
    html = crt_read(out, "multi.html");
    CU_ASSERT_PTR_NOT_NULL(html && strstr(html, "id=\"coverage\""));
    free(html);
    CU_ASSERT_EQUAL(cr_test_rmtree(root), 0);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("report_coverage", NULL, NULL);
    CR_ADD_TEST(s, test_report_coverage_mechanism_of_event);
    CR_ADD_TEST(s, test_report_coverage_attribution);
    CR_ADD_TEST(s, test_report_coverage_in_suite_and_multi);
}
