/* Tests for live judging (checks/cr_live.h): each streaming checker's
 * states (pending, holding, violated since t, final or not), fed through
 * cr_live_set in arrival order, and their agreement with the checker's
 * verdict at the end on the same history -- also when lines of different
 * sources arrive out of time order, and when a source breaks its own
 * order.  The rule under test: a violation called final is a failed
 * verdict at the end. */
#include "check_fixture.h"
#include "checks/cr_live.h"

typedef struct lv {
    fx x;
    cr_live_set *ls;
    cr_live st[8];
} lv;

static void lv_init(lv *l, const char *expects)
{
    cr_err err;
    cr_err_clear(&err);
    fx_init(&l->x, expects);
    CU_ASSERT_FATAL(cr_live_set_new(l->x.sc, 1.0, &l->ls, &err) == 0);
}

static void lv_free(lv *l)
{
    cr_live_set_free(l->ls);
    fx_free(&l->x);
}

/* Feed what came so far, as the engine does at run time `now` (flush: the
 * end of the run); returns the state of expectation i. */
static const cr_live *lv_at(lv *l, double now, int flush, size_t i)
{
    cr_err err;
    cr_err_clear(&err);
    l->x.f.t_end = now;
    CU_ASSERT_FATAL(cr_live_set_feed(l->ls, &l->x.h, now, flush, &err) == 0);
    cr_live_set_status(l->ls, &l->x.f, l->st);
    return &l->st[i];
}

/* 1 when the state is s (and, for violated, final is fin), else prints. */
static int lv_is(const cr_live *o, cr_live_state s, int fin)
{
    if (o->state == s && (s != CR_LIVE_VIOLATED || o->final == fin))
        return 1;
    fprintf(stderr, "live state %s final %d, expected %s final %d: %s\n",
            cr_live_state_name(o->state), o->final, cr_live_state_name(s), fin,
            o->summary);
    return 0;
}

/* A final violation must be a failed verdict at the end. */
static int lv_agrees(lv *l, size_t i)
{
    const cr_live *o = lv_at(l, 1e9, 1, i);
    cr_live copy = *o;
    int v = fx_eval(&l->x, i);
    if (copy.state == CR_LIVE_VIOLATED && copy.final &&
        v != CR_VERDICT_FAILED) {
        fprintf(stderr, "live: violated for good (%s); end: %s (%s)\n",
                copy.summary, cr_verdict_name(v), l->x.res.summary);
        return 0;
    }
    return 1;
}

/* ---- no_loss ------------------------------------------------------------ */

static void ev_id(lv *l, double t, const char *svc, const char *ev, int id,
                  const char *extra)
{
    fx_ev(&l->x, "{\"ts\": %g, \"svc\": \"%s\", \"ev\": \"%s\", \"id\": %d%s}",
          t, svc, ev, id, extra ? extra : "");
}

static void test_live_no_loss_states(void)
{
    lv l;
    lv_init(&l, "{\"kind\": \"no_loss\", \"min_samples\": 3}");
    CU_ASSERT(lv_is(lv_at(&l, 1, 0, 0), CR_LIVE_PENDING, 0));
    for (int id = 1; id <= 3; id++) {
        ev_id(&l, 1 + id * 0.1, "worker", "accepted", id, NULL);
        ev_id(&l, 1.5 + id * 0.1, "db", "delivered", id, NULL);
    }
    /* Held back: within the last second nothing is judged yet. */
    CU_ASSERT(lv_is(lv_at(&l, 2, 0, 0), CR_LIVE_PENDING, 0));
    CU_ASSERT(cr_live_set_held(l.ls) == 6);
    CU_ASSERT(lv_is(lv_at(&l, 3, 0, 0), CR_LIVE_HOLDING, 0));
    /* An id accepted and not delivered yet is in flight, not a violation. */
    ev_id(&l, 3.5, "worker", "accepted", 4, NULL);
    CU_ASSERT(lv_is(lv_at(&l, 5, 0, 0), CR_LIVE_HOLDING, 0));
    CU_ASSERT(strstr(l.st[0].summary, "1 in flight") != NULL);
    /* A second delivery cannot be taken back. */
    ev_id(&l, 4, "db", "delivered", 2, NULL);
    const cr_live *o = lv_at(&l, 6, 0, 0);
    CU_ASSERT(lv_is(o, CR_LIVE_VIOLATED, 1));
    CU_ASSERT_DOUBLE_EQUAL(o->since, 4, 1e-9);
    CU_ASSERT(strstr(o->summary, "id 2 delivered 2 times") != NULL);
    CU_ASSERT(lv_agrees(&l, 0));
    CU_ASSERT(l.x.res.verdict == CR_VERDICT_FAILED);
    lv_free(&l);

    /* allow_duplicates: never violated. */
    lv_init(&l, "{\"kind\": \"no_loss\", \"allow_duplicates\": true}");
    ev_id(&l, 1, "worker", "accepted", 1, NULL);
    ev_id(&l, 2, "db", "delivered", 1, NULL);
    ev_id(&l, 3, "db", "delivered", 1, NULL);
    CU_ASSERT(lv_is(lv_at(&l, 9, 0, 0), CR_LIVE_HOLDING, 0));
    lv_free(&l);
}

/* A dead-lettering reported again with "repeat": true is one outcome with
 * the plain one: when the repeat's line comes first (another worker, the
 * first one's line late), in time order it is still the second. */
static void test_live_no_loss_repeat_out_of_order(void)
{
    lv l;
    lv_init(&l, "{\"kind\": \"no_loss\"}");
    ev_id(&l, 1, "ingest", "accepted", 5, NULL);
    ev_id(&l, 3, "worker", "dead_lettered", 5, ", \"repeat\": true");
    CU_ASSERT(lv_is(lv_at(&l, 9, 0, 0), CR_LIVE_HOLDING, 0));
    ev_id(&l, 2, "worker", "dead_lettered", 5, NULL); /* late: plain */
    CU_ASSERT(lv_is(lv_at(&l, 10, 0, 0), CR_LIVE_HOLDING, 0));
    CU_ASSERT(cr_live_set_late(l.ls) == 1);
    CU_ASSERT(lv_agrees(&l, 0));
    CU_ASSERT(l.x.res.verdict == CR_VERDICT_PASSED);
    lv_free(&l);

    /* Two plain ones are two outcomes, whatever came first. */
    lv_init(&l, "{\"kind\": \"no_loss\"}");
    ev_id(&l, 1, "ingest", "accepted", 5, NULL);
    ev_id(&l, 3, "worker", "dead_lettered", 5, ", \"repeat\": true");
    ev_id(&l, 4, "worker", "dead_lettered", 5, NULL);
    ev_id(&l, 2, "worker", "dead_lettered", 5, NULL);
    CU_ASSERT(lv_is(lv_at(&l, 9, 0, 0), CR_LIVE_VIOLATED, 1));
    CU_ASSERT(lv_agrees(&l, 0));
    lv_free(&l);
}

/* With a warm-up, a line that comes late can show a duplicated id accepted
 * during it (the end leaves the id out): violated, never final. */
static void test_live_no_loss_warmup_late_acceptance(void)
{
    lv l;
    lv_init(&l, "{\"kind\": \"no_loss\", \"ignore_before_s\": 1}");
    ev_id(&l, 0.2, "ingest", "accepted", 1, NULL);
    ev_id(&l, 1.2, "ingest", "accepted", 2, NULL);
    ev_id(&l, 1.3, "sink", "delivered", 2, NULL);
    ev_id(&l, 1.5, "ingest", "accepted", 7, NULL); /* a resend */
    ev_id(&l, 2, "sink", "delivered", 7, NULL);
    ev_id(&l, 2.1, "sink", "delivered", 7, NULL);
    ev_id(&l, 2.2, "sink", "delivered", 1, NULL);
    CU_ASSERT(lv_is(lv_at(&l, 5, 0, 0), CR_LIVE_VIOLATED, 0));
    CU_ASSERT(cr_live_set_status(l.ls, &l.x.f, l.st) == -1);
    ev_id(&l, 0.5, "producer", "accepted", 7, NULL); /* stamped, late */
    CU_ASSERT(lv_is(lv_at(&l, 6, 0, 0), CR_LIVE_HOLDING, 0));
    CU_ASSERT(lv_agrees(&l, 0));
    CU_ASSERT(l.x.res.verdict == CR_VERDICT_PASSED);
    lv_free(&l);

    /* An id whose acceptance was seen in the warm-up is not shown. */
    lv_init(&l, "{\"kind\": \"no_loss\", \"ignore_before_s\": 1}");
    ev_id(&l, 0.5, "ingest", "accepted", 3, NULL);
    ev_id(&l, 1.5, "ingest", "accepted", 4, NULL);
    ev_id(&l, 2, "sink", "delivered", 3, NULL);
    ev_id(&l, 2.5, "sink", "delivered", 3, NULL);
    CU_ASSERT(lv_is(lv_at(&l, 9, 0, 0), CR_LIVE_HOLDING, 0));
    lv_free(&l);
}

/* ---- breaker --------------------------------------------------------------
 */

#define BREAKER                                                                \
    "{\"kind\": \"breaker\", \"breaker\": \"db\", \"dependency_fault\": "      \
    "\"dep\"}"

static void br_st(lv *l, const char *inst, double t, const char *state)
{
    fx_ev(&l->x,
          "{\"ts\": %g, \"svc\": \"worker\", \"inst\": \"%s\", \"ev\": "
          "\"breaker\", \"name\": \"db\", \"state\": \"%s\"}",
          t, inst, state);
}

static void br_call(lv *l, const char *inst, double t)
{
    fx_ev(&l->x,
          "{\"ts\": %g, \"svc\": \"worker\", \"inst\": \"%s\", \"ev\": "
          "\"call\", \"name\": \"db\"}",
          t, inst);
}

static void test_live_breaker_states(void)
{
    lv l;
    lv_init(&l, BREAKER);
    CU_ASSERT(lv_is(lv_at(&l, 1, 0, 0), CR_LIVE_PENDING, 0));
    br_call(&l, "worker.0", 1);
    br_call(&l, "worker.0", 2.1);
    br_st(&l, "worker.0", 2.3, "open");
    CU_ASSERT(lv_is(lv_at(&l, 4, 0, 0), CR_LIVE_HOLDING, 0));
    /* open -> closed skips half_open: illegal, but before the dependency
     * fault applied the end says unknown, so not final yet. */
    br_st(&l, "worker.0", 3, "closed");
    const cr_live *o = lv_at(&l, 5, 0, 0);
    CU_ASSERT(lv_is(o, CR_LIVE_VIOLATED, 0));
    CU_ASSERT_DOUBLE_EQUAL(o->since, 3, 1e-9);
    CU_ASSERT(strstr(o->summary, "illegal transition") != NULL);
    fx_fault(&l.x, "dep", "db", 2, 5);
    CU_ASSERT(lv_is(lv_at(&l, 5, 0, 0), CR_LIVE_VIOLATED, 1));
    CU_ASSERT(cr_live_set_status(l.ls, &l.x.f, l.st) == 0);
    CU_ASSERT(lv_agrees(&l, 0));
    CU_ASSERT(l.x.res.verdict == CR_VERDICT_FAILED);
    lv_free(&l);
}

/* Two workers whose lines come interleaved out of time order (each one's
 * own in order): a correct story stays holding and passes at the end. */
static void test_live_breaker_sources_out_of_order(void)
{
    lv l;
    lv_init(&l, BREAKER);
    fx_fault(&l.x, "dep", "db", 2, 5);
    /* worker.1's lines come 3 s late, after all of worker.0's. */
    const char *w[] = {"worker.0", "worker.1"};
    for (int k = 0; k < 2; k++) {
        br_call(&l, w[k], 1);
        br_call(&l, w[k], 2.1);
        br_st(&l, w[k], 2.3, "open");
        br_st(&l, w[k], 3.4, "half_open");
        br_call(&l, w[k], 3.41);
        br_st(&l, w[k], 3.5, "open");
        br_st(&l, w[k], 5.5, "half_open");
        br_call(&l, w[k], 5.51);
        br_st(&l, w[k], 5.6, "closed");
        br_call(&l, w[k], 6);
        CU_ASSERT(lv_is(lv_at(&l, 7 + 3 * k, 0, 0), CR_LIVE_HOLDING, 0));
    }
    CU_ASSERT(cr_live_set_late(l.ls) > 0);
    CU_ASSERT(cr_live_set_disordered(l.ls) == 0);
    CU_ASSERT(lv_agrees(&l, 0));
    CU_ASSERT(l.x.res.verdict == CR_VERDICT_PASSED);
    lv_free(&l);
}

/* A source whose own lines come out of order (beyond the hold-back): its
 * sequence as fed shows open -> closed, but the late half_open mends it.
 * Counted as disordered; from then on no order-dependent violation is
 * final. */
static void test_live_breaker_source_disorder(void)
{
    lv l;
    lv_init(&l, BREAKER);
    fx_fault(&l.x, "dep", "db", 2, 5);
    br_call(&l, "worker.0", 1);
    br_st(&l, "worker.0", 2.3, "open");
    br_st(&l, "worker.0", 3.4, "half_open");
    CU_ASSERT(lv_is(lv_at(&l, 5, 0, 0), CR_LIVE_HOLDING, 0));
    br_st(&l, "worker.0", 3.6, "closed");
    br_st(&l, "worker.0", 3.5, "open"); /* stamped before, written after */
    br_st(&l, "worker.0", 4.6, "half_open");
    br_st(&l, "worker.0", 4.7, "closed");
    const cr_live *o = lv_at(&l, 3.55 + 1, 0, 0);
    /* 3.5 came in time here: sorted within the hold-back, no violation. */
    CU_ASSERT(lv_is(o, CR_LIVE_HOLDING, 0) || lv_is(o, CR_LIVE_PENDING, 0));
    lv_free(&l);

    /* Beyond the hold-back the source's own order is what live judging
     * relies on (the event contract): as fed, open -> closed is illegal
     * and final; once the half_open stamped before it comes 5 s late, the
     * source is counted as disordered and nothing order-dependent stays
     * final (the end, on the sorted history, passes). */
    lv_init(&l, BREAKER);
    fx_fault(&l.x, "dep", "db", 2, 5);
    br_call(&l, "worker.0", 1);
    br_st(&l, "worker.0", 2.3, "open");
    br_st(&l, "worker.0", 3.6, "closed");
    CU_ASSERT(lv_is(lv_at(&l, 9, 0, 0), CR_LIVE_VIOLATED, 1));
    br_st(&l, "worker.0", 3.5, "half_open");
    const cr_live *p = lv_at(&l, 10, 0, 0);
    CU_ASSERT(cr_live_set_disordered(l.ls) == 1);
    CU_ASSERT(lv_is(p, CR_LIVE_VIOLATED, 0));
    CU_ASSERT(strstr(p->summary, "not final") != NULL);
    CU_ASSERT(cr_live_set_status(l.ls, &l.x.f, l.st) == -1);
    CU_ASSERT(lv_agrees(&l, 0));
    CU_ASSERT(l.x.res.verdict == CR_VERDICT_PASSED);
    lv_free(&l);
}

/* ---- backoff --------------------------------------------------------------
 */

#define BACKOFF                                                                \
    "{\"kind\": \"backoff\", \"op\": \"db\", \"base_ms\": 100, \"factor\": "   \
    "2, \"max_attempts\": 4, \"min_samples\": 2}"

static void bo_retry(lv *l, const char *inst, double t, int attempt,
                     double delay)
{
    fx_ev(&l->x,
          "{\"ts\": %g, \"svc\": \"worker\", \"inst\": \"%s\", \"ev\": "
          "\"retry\", \"op\": \"db\", \"attempt\": %d, \"delay_ms\": %g}",
          t, inst, attempt, delay);
}

static void test_live_backoff_states(void)
{
    lv l;
    lv_init(&l, BACKOFF);
    bo_retry(&l, "worker.0", 1, 1, 100);
    CU_ASSERT(lv_is(lv_at(&l, 3, 0, 0), CR_LIVE_PENDING, 0));
    bo_retry(&l, "worker.0", 1.1, 2, 200);
    bo_retry(&l, "worker.1", 1, 1, 100); /* another source, in parallel */
    bo_retry(&l, "worker.1", 1.1, 2, 200);
    CU_ASSERT(lv_is(lv_at(&l, 3, 0, 0), CR_LIVE_HOLDING, 0));
    /* worker.0 retries attempt 3 after 50 ms although it announced 200. */
    bo_retry(&l, "worker.0", 1.15, 3, 400);
    const cr_live *o = lv_at(&l, 4, 0, 0);
    CU_ASSERT(lv_is(o, CR_LIVE_VIOLATED, 1));
    CU_ASSERT_DOUBLE_EQUAL(o->since, 1.15, 1e-9);
    CU_ASSERT(lv_agrees(&l, 0));
    CU_ASSERT(l.x.res.verdict == CR_VERDICT_FAILED);
    lv_free(&l);
}

/* ---- agreement over many arrival orders ---------------------------------- */

/* Per-source streams merged in a random arrival order (each source's lines
 * in its own order), fed at random moments: a correct history is never
 * called violated for good and passes; one with a duplicate delivery is
 * called violated for good at the latest at the end, and fails. */
static void agree_run(unsigned seed, int dup)
{
    lv l;
    lv_init(&l, "{\"kind\": \"no_loss\", \"min_samples\": 5}, " BREAKER
                ", " BACKOFF);
    fx_fault(&l.x, "dep", "db", 2, 5);
    /* Three sources' lines, each in time order. */
    char lines[3][64][200];
    size_t n[3] = {0, 0, 0};
    for (int id = 1; id <= 30; id++) {
        snprintf(lines[0][n[0]++], 200,
                 "{\"ts\": %g, \"svc\": \"ingest\", \"ev\": \"accepted\", "
                 "\"id\": %d}",
                 id * 0.2, id);
        snprintf(lines[1][n[1]++], 200,
                 "{\"ts\": %g, \"svc\": \"sink\", \"ev\": \"delivered\", "
                 "\"id\": %d}",
                 id * 0.2 + 0.15, id);
        if (dup && id == 12)
            snprintf(lines[1][n[1]++], 200,
                     "{\"ts\": %g, \"svc\": \"sink\", \"ev\": \"delivered\", "
                     "\"id\": %d}",
                     id * 0.2 + 0.16, id);
    }
    const char *w0 = "{\"ts\": %g, \"svc\": \"worker\", \"inst\": "
                     "\"worker.0\", \"ev\": \"%s\", \"name\": \"db\"%s}";
    const struct {
        double t;
        const char *ev, *extra;
    } br[] = {{1, "call", ""},
              {1.95, "retry",
               ", \"op\": \"db\", \"attempt\": 1, "
               "\"delay_ms\": 100"},
              {2.1, "call", ""},
              {2.12, "retry",
               ", \"op\": \"db\", \"attempt\": 2, "
               "\"delay_ms\": 200"},
              {2.3, "breaker", ", \"state\": \"open\""},
              {3.4, "breaker", ", \"state\": \"half_open\""},
              {3.41, "call", ""},
              {3.5, "breaker", ", \"state\": \"open\""},
              {5.5, "breaker", ", \"state\": \"half_open\""},
              {5.51, "call", ""},
              {5.6, "breaker", ", \"state\": \"closed\""},
              {6, "call", ""}};
    for (size_t k = 0; k < sizeof br / sizeof br[0]; k++)
        snprintf(lines[2][n[2]++], 200, w0, br[k].t, br[k].ev, br[k].extra);
    size_t pos[3] = {0, 0, 0};
    unsigned s = seed * 2654435761u + 1;
    double now = 0;
    for (;;) {
        size_t left = 0;
        for (int k = 0; k < 3; k++)
            left += n[k] - pos[k];
        if (!left)
            break;
        s = s * 1103515245u + 12345u;
        int k = (int)((s >> 16) % 3);
        if (pos[k] == n[k])
            continue;
        const char *line = lines[k][pos[k]++];
        CU_ASSERT_FATAL(cr_history_add_line(&l.x.h, line, strlen(line)) == 1);
        if ((s >> 8) % 4 == 0) {
            now += 0.3 + (double)((s >> 4) % 10) / 10;
            lv_at(&l, now, 0, 0);
            for (size_t i = 0; i < 3; i++)
                if (!dup || i != 0)
                    CU_ASSERT(l.st[i].state != CR_LIVE_VIOLATED);
        }
    }
    const cr_live *o = lv_at(&l, 1e9, 1, 0);
    CU_ASSERT(lv_is(o, dup ? CR_LIVE_VIOLATED : CR_LIVE_HOLDING, 1));
    for (size_t i = 0; i < 3; i++)
        CU_ASSERT(lv_agrees(&l, i));
    CU_ASSERT(fx_verdict(&l.x, 0, dup ? CR_VERDICT_FAILED : CR_VERDICT_PASSED));
    CU_ASSERT(fx_verdict(&l.x, 1, CR_VERDICT_PASSED));
    lv_free(&l);
}

static void test_live_agrees_with_end(void)
{
    for (unsigned seed = 1; seed <= 40; seed++) {
        agree_run(seed, 0);
        agree_run(seed, 1);
    }
}

static void test_live_json(void)
{
    lv l;
    lv_init(&l, "{\"kind\": \"no_loss\"}, {\"kind\": \"slo\", \"p99_ms_max\": "
                "10}");
    ev_id(&l, 1, "ingest", "accepted", 1, NULL);
    ev_id(&l, 2, "sink", "delivered", 1, NULL);
    ev_id(&l, 3, "sink", "delivered", 1, NULL);
    lv_at(&l, 9, 0, 0);
    json_t *j = cr_live_json(l.x.sc, l.st);
    CU_ASSERT_FATAL(json_array_size(j) == 2);
    json_t *a = json_array_get(j, 0), *b = json_array_get(j, 1);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(a, "state")),
                           "violated");
    CU_ASSERT(json_is_true(json_object_get(a, "final")));
    CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(a, "since")), 3,
                           1e-9);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(b, "state")),
                           "at_end");
    CU_ASSERT(json_is_null(json_object_get(b, "since")));
    json_decref(j);
    lv_free(&l);
}

void cr_test_register(void)
{
    cr_alloc_install_json();
    CU_pSuite s = CU_add_suite("live", NULL, NULL);
    CR_ADD_TEST(s, test_live_no_loss_states);
    CR_ADD_TEST(s, test_live_no_loss_repeat_out_of_order);
    CR_ADD_TEST(s, test_live_no_loss_warmup_late_acceptance);
    CR_ADD_TEST(s, test_live_breaker_states);
    CR_ADD_TEST(s, test_live_breaker_sources_out_of_order);
    CR_ADD_TEST(s, test_live_breaker_source_disorder);
    CR_ADD_TEST(s, test_live_backoff_states);
    CR_ADD_TEST(s, test_live_agrees_with_end);
    CR_ADD_TEST(s, test_live_json);
}
