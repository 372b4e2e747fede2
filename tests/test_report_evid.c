/* Tests for cr_evid (part of the report model): evidence rows in time
 * order with informational rows apart, and the lost-id story of a failed
 * no_loss expectation: recounted from events.jsonl and traces/, grouped by
 * the fault that hit the instance holding them, and no hint where the data
 * does not support one. */
#include <jansson.h>
#include <math.h>

#include "base/cr_alloc.h"
#include "reports/cr_evid.h"
#include "reports/cr_report.h"
#include "cr_test_report.h"

static cr_report *load(const char *dir)
{
    cr_report *r = NULL;
    cr_err e;
    cr_err_clear(&e);
    if (cr_report_load(dir, &r, &e) < 0)
        fprintf(stderr, "%s: %s\n", dir, e.msg);
    return r;
}

static const cr_rep_expect *find(const cr_report *r, const char *name)
{
    for (size_t i = 0; i < r->nex; i++)
        if (!strcmp(r->ex[i].name, name))
            return &r->ex[i];
    return NULL;
}

/* Rewrite journal.json through fn (an edit of the parsed document). */
static void edit_journal(const char *dir, void (*fn)(json_t *))
{
    char p[4300];
    snprintf(p, sizeof p, "%s/journal.json", dir);
    json_t *j = json_load_file(p, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    fn(j);
    CU_ASSERT_EQUAL(json_dump_file(j, p, JSON_INDENT(1)), 0);
    json_decref(j);
}

static void test_report_evid_lost_story(void)
{
    char *dir = crt_fixture("lost");
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    cr_report *r = load(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    const cr_rep_expect *x = find(r, "no-loss");
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    const cr_rep_lost *l = x->lost;
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    CU_ASSERT_EQUAL(l->n, 7);
    CU_ASSERT_EQUAL(l->checker_lost, 7);
    CU_ASSERT_EQUAL(l->spans, 1);
    /* In order of acceptance, with where each was last seen. */
    static const struct {
        const char *id, *seen, *what;
        double t_seen;
        int group;
    } want[] = {
        {"r0195", "worker.1", "leased", 3.91, 0},
        {"r0197", "worker.1", "leased", 3.95, 0},
        {"r0199", "worker.1", "leased", 3.99, 0},
        {"r0296", "worker.0", "worker.score", 5.95, 1},
        {"r0298", "worker.0", "worker.score", 5.99, 1},
        {"r0400", "ingest.0", "accepted", 8.0, -1},
        {"r0401", "ingest.0", "accepted", 8.02, -1},
    };
    for (size_t i = 0; i < l->n && i < 7; i++) {
        CU_ASSERT_STRING_EQUAL(l->ids[i].id, want[i].id);
        CU_ASSERT_STRING_EQUAL(l->ids[i].seen, want[i].seen);
        CU_ASSERT_STRING_EQUAL(l->ids[i].what, want[i].what);
        CU_ASSERT_DOUBLE_EQUAL(l->ids[i].t_seen, want[i].t_seen, 1e-4);
        CU_ASSERT_EQUAL(l->ids[i].group, want[i].group);
    }
    CU_ASSERT_EQUAL_FATAL(l->ngroups, 2);
    CU_ASSERT_STRING_EQUAL(l->groups[0].inst, "worker.1");
    CU_ASSERT_STRING_EQUAL(l->groups[0].fault->name, "kill-worker");
    CU_ASSERT_EQUAL(l->groups[0].n, 3);
    CU_ASSERT_DOUBLE_EQUAL(l->groups[0].gap_min, 0.01, 1e-4);
    CU_ASSERT_DOUBLE_EQUAL(l->groups[0].gap_max, 0.09, 1e-4);
    CU_ASSERT_DOUBLE_EQUAL(l->groups[0].dwell, 0.1, 1e-4);
    CU_ASSERT_STRING_EQUAL(l->groups[1].inst, "worker.0");
    CU_ASSERT_STRING_EQUAL(l->groups[1].fault->name, "stall-worker0");
    CU_ASSERT_EQUAL(l->groups[1].n, 2);
    CU_ASSERT_STRING_EQUAL(l->hint,
                           "3 of 7 lost ids were in flight at worker.1 (last "
                           "record: leased) when kill-worker killed it at "
                           "4.000 s");
    char b[512];
    cr_evid_group_text(b, sizeof b, l, &l->groups[1]);
    CU_ASSERT_STRING_EQUAL(b, "2 of 7 lost ids were in flight at worker.0 "
                              "(last record: worker.score) when "
                              "stall-worker0 paused it at 6.000 s");
    /* Only failed no_loss expectations get a story. */
    CU_ASSERT_PTR_NULL(find(r, "api-steady")->lost);
    cr_report_destroy(r);

    /* Without the spans, worker.0's ids were last seen where they were
     * accepted: no fault there, no claim about them. */
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "rm -r '%s/traces'", dir);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    r = load(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    l = find(r, "no-loss")->lost;
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    CU_ASSERT_EQUAL(l->spans, 0);
    CU_ASSERT_EQUAL(l->ngroups, 1);
    CU_ASSERT_STRING_EQUAL(l->ids[3].seen, "ingest.0");
    CU_ASSERT_EQUAL(l->ids[3].group, -1);
    CU_ASSERT_PTR_NOT_NULL(l->hint);
    cr_report_destroy(r);
    crt_cleanup(dir);
}

static void lost_eight(json_t *j)
{
    json_t *d = json_object_get(
        json_array_get(json_object_get(j, "expectations"), 0), "details");
    json_object_set_new(d, "lost", json_integer(8));
}

static void test_report_evid_no_hint_when_counts_disagree(void)
{
    char *dir = crt_fixture("lost");
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    edit_journal(dir, lost_eight);
    cr_report *r = load(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    const cr_rep_lost *l = find(r, "no-loss")->lost;
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    CU_ASSERT_EQUAL(l->n, 7);
    CU_ASSERT_EQUAL(l->checker_lost, 8);
    CU_ASSERT_PTR_NULL(l->hint);
    CU_ASSERT_EQUAL(l->ngroups, 0);
    for (size_t i = 0; i < l->n; i++)
        CU_ASSERT_EQUAL(l->ids[i].group, -1);
    cr_report_destroy(r);
    cr_err e;
    cr_err_clear(&e);
    CU_ASSERT_EQUAL_FATAL(cr_report_write_all(dir, &e), 0);
    char *html = crt_read(dir, "report.html");
    CU_ASSERT_PTR_NOT_NULL_FATAL(html);
    CU_ASSERT_PTR_NULL(strstr(html, "class=\"hint\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "the checker counted 8: no hint"));
    CU_ASSERT_PTR_NULL(strstr(html, "no fault hit the instance"));
    CU_ASSERT_PTR_NULL(strstr(html, "kill-worker at 4.000 s"));
    free(html);
    crt_cleanup(dir);
}

/* A synthetic run: ids accepted and delivered by one instance, a pause of
 * it, ids as integers and strings. */
static char *small_run(const char *expect_extra, const char *events)
{
    char *dir = cr_test_tmpdir();
    if (!dir)
        return NULL;
    char j[2048];
    snprintf(j, sizeof j,
             "{\"name\":\"small\",\"status\":\"failed\",\"t0_unix\":100,"
             "\"started_at\":99,\"ended_at\":110,\"duration_s\":5,"
             "\"scenario\":{\"expect\":[{\"name\":\"nl\",\"kind\":\"no_loss\""
             "%s}]},"
             "\"services\":[{\"instance\":\"p.0\",\"service\":\"p\","
             "\"history\":[{\"t\":-1,\"what\":\"start\"},{\"t\":0,\"what\":"
             "\"ready\"}]}],"
             "\"faults\":[{\"name\":\"freeze\",\"kind\":\"pause\",\"target\":"
             "\"p.0\",\"for_s\":1,\"applied_t\":1,\"reverted_t\":2}],"
             "\"expectations\":[{\"name\":\"nl\",\"kind\":\"no_loss\","
             "\"verdict\":\"failed\",\"summary\":\"lost\",\"details\":{"
             "\"lost\":1},\"evidence\":[{\"t\":0.5,\"text\":\"id 5 accepted "
             "at t=0.500, never delivered\"},{\"t\":0.2,\"text\":\"id 2 "
             "dead-lettered\"},{\"text\":\"a row with no time\"}]}]}\n",
             expect_extra);
    if (crt_write(dir, "journal.json", j) < 0 ||
        crt_write(dir, "events.jsonl", events) < 0) {
        cr_test_rmtree(dir);
        return NULL;
    }
    return dir;
}

static void test_report_evid_ids_and_rows(void)
{
    /* Ids 1..4 go through (42 and "42" are one id); id 5 is lost;
     * id 2 dead-lettered; 0 accepted during warm-up and lost too. */
    char *dir = small_run(
        ",\"ignore_before_s\":0.1",
        "{\"ts\":100.05,\"svc\":\"p\",\"ev\":\"accepted\",\"id\":0}\n"
        "{\"ts\":100.1,\"svc\":\"p\",\"ev\":\"accepted\",\"id\":1}\n"
        "{\"ts\":100.2,\"svc\":\"p\",\"ev\":\"accepted\",\"id\":\"2\"}\n"
        "{\"ts\":100.2,\"svc\":\"p\",\"ev\":\"dead_lettered\",\"id\":2}\n"
        "{\"ts\":100.3,\"svc\":\"p\",\"ev\":\"accepted\",\"id\":3.0}\n"
        "{\"ts\":100.3,\"svc\":\"p\",\"ev\":\"delivered\",\"id\":\"1\"}\n"
        "{\"ts\":100.4,\"svc\":\"p\",\"ev\":\"delivered\",\"id\":\"3\"}\n"
        "{\"ts\":100.5,\"svc\":\"p\",\"ev\":\"accepted\",\"id\":5}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    cr_report *r = load(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    const cr_rep_expect *x = &r->ex[0];
    CU_ASSERT_PTR_NOT_NULL_FATAL(x->lost);
    CU_ASSERT_EQUAL(x->lost->n, 1);
    CU_ASSERT_STRING_EQUAL(x->lost->ids[0].id, "5");
    /* Two moves on from p.0 only: too few to say how long ids stay
     * there, so no claim about the pause that followed. */
    CU_ASSERT_EQUAL(x->lost->ngroups, 0);
    CU_ASSERT_PTR_NULL(x->lost->hint);
    /* Rows: the failure first, then the informational one (id 2 reached
     * the dead-letter queue), the row without a time after those with. */
    CU_ASSERT_EQUAL_FATAL(x->nrows, 3);
    CU_ASSERT_EQUAL(x->nfail, 2);
    CU_ASSERT_STRING_EQUAL(x->rows[0].text,
                           "id 5 accepted at t=0.500, never delivered");
    CU_ASSERT_STRING_EQUAL(x->rows[1].text, "a row with no time");
    CU_ASSERT(isnan(x->rows[1].t));
    CU_ASSERT_STRING_EQUAL(x->rows[2].text, "id 2 dead-lettered");
    CU_ASSERT_EQUAL(x->rows[2].info, 1);
    cr_report_destroy(r);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

static void test_report_evid_roles_and_passed(void)
{
    char *dir = cr_test_tmpdir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    CU_ASSERT_EQUAL(
        crt_write(dir, "journal.json",
                  "{\"name\":\"r\",\"status\":\"failed\",\"expectations\":["
                  "{\"name\":\"a\",\"kind\":\"slo\",\"verdict\":\"failed\","
                  "\"evidence\":[{\"t\":3,\"text\":\"late\"},{\"t\":1,"
                  "\"role\":\"info\",\"text\":\"context\"},{\"t\":2,\"text\":"
                  "\"early\"},{\"t\":0,\"role\":\"failure\",\"text\":\"first\"}"
                  "],\"details\":{\"evidence_dropped\":3}},"
                  "{\"name\":\"b\",\"kind\":\"slo\",\"verdict\":\"passed\","
                  "\"evidence\":[{\"t\":1,\"text\":\"fine\"}]}]}\n"),
        0);
    cr_report *r = load(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    const cr_rep_expect *a = &r->ex[0], *b = &r->ex[1];
    CU_ASSERT_EQUAL_FATAL(a->nrows, 4);
    CU_ASSERT_EQUAL(a->nfail, 3);
    CU_ASSERT_STRING_EQUAL(a->rows[0].text, "first");
    CU_ASSERT_STRING_EQUAL(a->rows[1].text, "early");
    CU_ASSERT_STRING_EQUAL(a->rows[2].text, "late");
    CU_ASSERT_STRING_EQUAL(a->rows[3].text, "context");
    CU_ASSERT_EQUAL(a->omitted, 3);
    CU_ASSERT_PTR_NULL(a->lost);
    CU_ASSERT_EQUAL(b->nrows, 1);
    CU_ASSERT_EQUAL(b->nfail, 0);
    CU_ASSERT_EQUAL(b->rows[0].info, 1);
    cr_report_destroy(r);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

/* Fail the N-th allocation, N = 1, 2, ...: loading a run with a lost-id
 * story fails cleanly (ASan builds also catch leaks) until it succeeds. */
static void test_report_evid_allocation_failures(void)
{
    char *dir = crt_fixture("lost");
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    cr_alloc_install_json();
    int rc = -1;
    long n;
    for (n = 1; n < 200000 && rc != 0; n += n < 2000 ? 1 : 97) {
        cr_report *r = NULL;
        cr_err e;
        cr_err_clear(&e);
        cr_alloc_fail_after(n);
        rc = cr_report_load(dir, &r, &e);
        cr_alloc_fail_after(0);
        if (rc != 0 && rc != CR_ENOMEM && rc != CR_EPROTO) {
            CU_FAIL("unexpected error code under allocation failure");
            break;
        }
        CU_ASSERT(rc == 0 ? r != NULL : r == NULL);
        if (rc == 0) {
            CU_ASSERT_PTR_NOT_NULL(find(r, "no-loss")->lost);
        }
        cr_report_destroy(r);
    }
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT(n > 100);
    crt_cleanup(dir);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("report_evid", NULL, NULL);
    CR_ADD_TEST(s, test_report_evid_lost_story);
    CR_ADD_TEST(s, test_report_evid_no_hint_when_counts_disagree);
    CR_ADD_TEST(s, test_report_evid_ids_and_rows);
    CR_ADD_TEST(s, test_report_evid_roles_and_passed);
    CR_ADD_TEST(s, test_report_evid_allocation_failures);
}
