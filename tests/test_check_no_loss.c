/* Tests for the no_loss checker: each class of id (lost, duplicated,
 * unexpected, indeterminate_delivered, offered_never_delivered,
 * dead-lettered, recovered), mixed id types, bad ids, and a large history
 * through the hash table. */
#include "check_fixture.h"

static void acc(fx *x, double t, const char *id)
{
    fx_ev(x, "{\"ts\": %g, \"svc\": \"api\", \"ev\": \"accepted\", \"id\": %s}",
          t, id);
}
static void del(fx *x, double t, const char *id)
{
    fx_ev(x,
          "{\"ts\": %g, \"svc\": \"sink\", \"ev\": \"delivered\", \"id\": %s}",
          t, id);
}

static void off(fx *x, double t, const char *id)
{
    fx_ev(x,
          "{\"ts\": %g, \"svc\": \"producer\", \"ev\": \"offered\", "
          "\"id\": %s}",
          t, id);
}

static void test_check_no_loss_pass(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"no_loss\"}");
    acc(&x, 1, "1");
    acc(&x, 1.1, "\"b\"");
    acc(&x, 1.2, "3");
    del(&x, 1.5, "\"1\""); /* 1 and "1" are the same id */
    del(&x, 1.6, "\"b\"");
    fx_ev(&x, "{\"ts\": 1.7, \"ev\": \"dead_lettered\", \"id\": 3.0, "
              "\"reason\": \"poison\"}");
    FX_PASSED(&x, 0);
    CU_ASSERT(fx_sum(&x, "lost 0 of 3 accepted ids"));
    CU_ASSERT_EQUAL(fx_detail(&x, "dead_lettered"), 1);
    CU_ASSERT_EQUAL(fx_detail(&x, "lost"), 0);
    fx_free(&x);
}

static void test_check_no_loss_lost(void)
{
    fx x;
    fx_init(
        &x,
        "{\"kind\": \"no_loss\"}, {\"kind\": \"no_loss\", \"max_lost\": 2}");
    for (int i = 0; i < 10; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", i);
        acc(&x, 1 + i * 0.1, id);
        if (i != 4 && i != 7)
            del(&x, 3 + i * 0.1, id);
    }
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "lost 2 of 10 accepted ids (bound <= 0)"));
    CU_ASSERT(fx_evid(&x, "id 4 accepted at t=1.400, never delivered"));
    CU_ASSERT(fx_evid(&x, "id 7 accepted"));
    CU_ASSERT_DOUBLE_EQUAL(x.res.measured, 2, 0);
    FX_PASSED(&x, 1);
    fx_free(&x);
}

static void test_check_no_loss_duplicates(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"no_loss\"}, {\"kind\": \"no_loss\", "
                "\"allow_duplicates\": true}");
    acc(&x, 1, "\"a\"");
    acc(&x, 1, "\"c\"");
    del(&x, 2, "\"a\"");
    del(&x, 2.5, "\"a\"");
    del(&x, 2.6, "\"c\"");
    fx_ev(&x,
          "{\"ts\": 2.7, \"ev\": \"dead_lettered\", \"id\": \"c\"}"); /* both */
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "2 ids delivered more than once"));
    CU_ASSERT(fx_evid(&x, "id a delivered 2 times"));
    CU_ASSERT(fx_evid(&x, "id c delivered 1 times (dead-lettered 1)"));
    FX_PASSED(&x, 1);
    fx_free(&x);
}

/* A record dead-lettered, its acknowledgement lost, resent: the queue's
 * idempotent put says it had it and the second report carries "repeat":
 * one outcome.  Without the flag it is a duplicate; a repeat alone (the
 * first report lost with a killed process) is still the outcome. */
static void test_check_no_loss_dead_letter_repeat(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"no_loss\"}");
    acc(&x, 1, "\"a\"");
    acc(&x, 1, "\"b\"");
    acc(&x, 1, "\"c\"");
    fx_ev(&x, "{\"ts\": 1.1, \"ev\": \"dead_lettered\", \"id\": \"a\"}");
    fx_ev(&x, "{\"ts\": 1.5, \"ev\": \"dead_lettered\", \"id\": \"a\", "
              "\"repeat\": true}");
    fx_ev(&x, "{\"ts\": 1.6, \"ev\": \"dead_lettered\", \"id\": \"b\", "
              "\"repeat\": true}");
    fx_ev(&x, "{\"ts\": 1.1, \"ev\": \"dead_lettered\", \"id\": \"c\"}");
    fx_ev(&x, "{\"ts\": 1.5, \"ev\": \"dead_lettered\", \"id\": \"c\"}");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "1 ids delivered more than once"));
    CU_ASSERT(fx_evid(&x, "id c delivered 0 times (dead-lettered 2)"));
    CU_ASSERT_EQUAL(fx_detail(&x, "dead_lettered"), 3);
    CU_ASSERT_EQUAL(fx_detail(&x, "lost"), 0);
    fx_free(&x);
}

/* The repeat announced first: a worker stalled past its lease puts the
 * record on the dead-letter queue, the worker that leased it next puts it
 * too (OK DUP) and announces the repeat before the stalled one announces
 * its own, plain (pipeline-worker-kill seed 17, 0.5 ms apart).  One
 * outcome, in either order; two repeats alone are one too. */
static void test_check_no_loss_dead_letter_repeat_first(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"no_loss\"}");
    acc(&x, 1, "\"a\"");
    acc(&x, 1, "\"b\"");
    acc(&x, 1, "\"c\"");
    fx_ev(&x, "{\"ts\": 2.0, \"ev\": \"dead_lettered\", \"id\": \"a\", "
              "\"repeat\": true}");
    fx_ev(&x, "{\"ts\": 2.0005, \"ev\": \"dead_lettered\", \"id\": \"a\"}");
    fx_ev(&x, "{\"ts\": 2.1, \"ev\": \"dead_lettered\", \"id\": \"b\", "
              "\"repeat\": true}");
    fx_ev(&x, "{\"ts\": 2.2, \"ev\": \"dead_lettered\", \"id\": \"b\", "
              "\"repeat\": true}");
    fx_ev(&x, "{\"ts\": 2.3, \"ev\": \"dead_lettered\", \"id\": \"c\", "
              "\"repeat\": true}");
    del(&x, 2.4, "\"c\""); /* dead-lettered and delivered: two outcomes */
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "1 ids delivered more than once"));
    CU_ASSERT(fx_evid(&x, "id c delivered 1 times (dead-lettered 1)"));
    CU_ASSERT(!fx_evid(&x, "id a delivered"));
    CU_ASSERT(!fx_evid(&x, "id b delivered"));
    CU_ASSERT_EQUAL(fx_detail(&x, "dead_lettered"), 3);
    fx_free(&x);
}

static void test_check_no_loss_unexpected(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"no_loss\"}");
    acc(&x, 1, "1");
    del(&x, 2, "1");
    del(&x, 2.1, "99");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "1 ids delivered that were never accepted"));
    CU_ASSERT(fx_evid(&x, "id 99 delivered but never accepted"));
    fx_free(&x);
}

/* A ledger killed between making record 3 durable and acknowledging it:
 * 3 was offered, never accepted, and delivered after the restart.  The
 * write took; that is no failure (Jepsen: "recovered"). */
static void test_check_no_loss_indeterminate_delivered(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"no_loss\"}");
    for (int i = 1; i <= 4; i++) {
        char id[8];
        snprintf(id, sizeof id, "%d", i);
        off(&x, i, id);
        if (i != 3)
            acc(&x, i + 0.01, id);
        del(&x, 6 + i * 0.1, id);
    }
    FX_PASSED(&x, 0);
    CU_ASSERT_EQUAL(fx_detail(&x, "indeterminate_delivered"), 1);
    CU_ASSERT_EQUAL(fx_detail(&x, "unexpected"), 0);
    CU_ASSERT_EQUAL(fx_detail(&x, "offered"), 4);
    CU_ASSERT_EQUAL(fx_detail(&x, "accepted"), 3);
    CU_ASSERT(fx_sum(&x, "lost 0 of 3 accepted ids"));
    CU_ASSERT(fx_sum(&x, "1 offered but unacknowledged ids delivered "
                         "(indeterminate)"));
    CU_ASSERT(fx_evid(&x, "id 3 offered at t=3.000, never acknowledged, "
                          "delivered at t=6.300"));
    CU_ASSERT(fx_evid(&x, "4 ids (3 accepted, 4 offered): 0 lost"));
    fx_free(&x);

    /* dead-lettered instead of delivered: the write took as well */
    fx_init(&x, "{\"kind\": \"no_loss\"}");
    acc(&x, 1, "1");
    del(&x, 2, "1");
    off(&x, 1.5, "\"x\"");
    fx_ev(&x, "{\"ts\": 3, \"ev\": \"dead_lettered\", \"id\": \"x\", "
              "\"reason\": \"poison\"}");
    FX_PASSED(&x, 0);
    CU_ASSERT_EQUAL(fx_detail(&x, "indeterminate_delivered"), 1);
    CU_ASSERT_EQUAL(fx_detail(&x, "dead_lettered"), 1);
    CU_ASSERT(fx_evid(&x, "id x offered at t=1.500, never acknowledged, "
                          "dead-lettered at t=3.000"));
    fx_free(&x);
}

/* Offered, never acknowledged, never delivered: the write did not take.
 * Counted; a failure (as lost) only with require_offered. */
static void test_check_no_loss_offered_never_delivered(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"no_loss\"},"
                "{\"kind\": \"no_loss\", \"require_offered\": true},"
                "{\"kind\": \"no_loss\", \"require_offered\": true, "
                "\"max_lost\": 1}");
    for (int i = 1; i <= 3; i++) {
        char id[8];
        snprintf(id, sizeof id, "%d", i);
        off(&x, i, id);
        acc(&x, i + 0.01, id);
        del(&x, i + 0.5, id);
    }
    off(&x, 4, "4"); /* the producer was killed before the acknowledgement */
    FX_PASSED(&x, 0);
    CU_ASSERT_EQUAL(fx_detail(&x, "offered_never_delivered"), 1);
    CU_ASSERT_EQUAL(fx_detail(&x, "lost"), 0);
    CU_ASSERT(fx_sum(&x, "1 never delivered"));
    CU_ASSERT(fx_evid(&x, "id 4 offered at t=4.000, never acknowledged nor "
                          "delivered"));
    FX_FAILED(&x, 1);
    CU_ASSERT(fx_sum(&x, "lost 0 of 3 accepted ids and 1 offered ids were "
                         "never acknowledged nor delivered (require_offered; "
                         "bound <= 0)"));
    CU_ASSERT_DOUBLE_EQUAL(x.res.measured, 1, 0);
    FX_PASSED(&x, 2); /* max_lost covers it */
    CU_ASSERT(fx_sum(&x, "(counted as lost)"));
    fx_free(&x);

    /* an offered id accepted and never delivered is simply lost */
    fx_init(&x, "{\"kind\": \"no_loss\"}");
    off(&x, 1, "1");
    acc(&x, 1.1, "1");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "lost 1 of 1 accepted ids"));
    CU_ASSERT_EQUAL(fx_detail(&x, "offered_never_delivered"), 0);
    fx_free(&x);
}

/* With offered events, unexpected means delivered but never offered nor
 * accepted: a phantom. */
static void test_check_no_loss_unexpected_with_offers(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"no_loss\"}");
    off(&x, 1, "1");
    acc(&x, 1.1, "1");
    del(&x, 2, "1");
    off(&x, 1.2, "2"); /* indeterminate, delivered: fine */
    del(&x, 2.2, "2");
    del(&x, 2.5, "77"); /* never offered nor accepted */
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "1 ids delivered that were never offered nor "
                         "accepted"));
    CU_ASSERT(fx_evid(&x, "id 77 delivered but never offered nor accepted"));
    CU_ASSERT_EQUAL(fx_detail(&x, "unexpected"), 1);
    CU_ASSERT_EQUAL(fx_detail(&x, "indeterminate_delivered"), 1);
    fx_free(&x);
}

/* Without any offered event the rule stays (delivered, never accepted:
 * unexpected), but the summary explains the other possible cause and the
 * remedy. */
static void test_check_no_loss_unexpected_explains_offered(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"no_loss\"}");
    acc(&x, 1, "1");
    del(&x, 2, "1");
    del(&x, 2.1, "2");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "1 ids delivered that were never accepted"));
    CU_ASSERT(fx_sum(&x, "the history has no `offered` events"));
    CU_ASSERT(fx_sum(&x, "crashed between commit and acknowledgement"));
    CU_ASSERT(fx_sum(&x, "emit `offered` {id} before handing a record over"));
    fx_free(&x);
}

/* Warm-up: ids never accepted are left out by the time of their offer;
 * more ids in a class than shown are counted in a last line. */
static void test_check_no_loss_offered_ignore_and_more(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"no_loss\", \"ignore_before_s\": 1, "
                "\"require_offered\": true}");
    off(&x, 0.5, "1"); /* warm-up, never delivered: ignored */
    acc(&x, 1.5, "2");
    del(&x, 1.6, "2");
    for (int i = 10; i < 17; i++) {
        char id[8];
        snprintf(id, sizeof id, "%d", i);
        off(&x, 2 + i * 0.01, id);
        del(&x, 3 + i * 0.01, id);
    }
    FX_PASSED(&x, 0);
    CU_ASSERT_EQUAL(fx_detail(&x, "offered_never_delivered"), 0);
    CU_ASSERT_EQUAL(fx_detail(&x, "indeterminate_delivered"), 7);
    CU_ASSERT(fx_evid(&x, "id 14 offered"));
    CU_ASSERT(fx_evid(&x, "... and 2 more indeterminate_delivered ids"));
    fx_free(&x);

    /* the history has offered events even when all of them are ignored */
    fx_init(&x, "{\"kind\": \"no_loss\", \"ignore_before_s\": 1}");
    off(&x, 0.5, "1");
    acc(&x, 1.5, "2");
    del(&x, 1.6, "2");
    del(&x, 2, "3");
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "1 ids delivered that were never offered nor "
                         "accepted"));
    fx_free(&x);
}

static void test_check_no_loss_recovered_and_ignore(void)
{
    fx x;
    fx_init(&x, "{\"kind\": \"no_loss\"}, {\"kind\": \"no_loss\", "
                "\"ignore_before_s\": 1}");
    fx_fault(&x, "dep", "db", 2, 5);
    acc(&x, 0.5, "10"); /* warm-up, lost: ignored by [1] */
    acc(&x, 1.5, "11");
    del(&x, 1.8, "11"); /* delivered before the fault ended */
    acc(&x, 3, "12");
    del(&x, 6, "12"); /* carried through the fault */
    FX_FAILED(&x, 0);
    FX_PASSED(&x, 1);
    CU_ASSERT_EQUAL(fx_detail(&x, "recovered"), 1);
    CU_ASSERT_EQUAL(fx_detail(&x, "accepted"), 2);
    CU_ASSERT(fx_sum(&x, "1 carried through a fault"));
    fx_free(&x);
}

static void test_check_no_loss_bad_ids_and_unknown(void)
{
    fx x;
    fx_init(
        &x,
        "{\"kind\": \"no_loss\"}, {\"kind\": \"no_loss\", \"min_samples\": 3}");
    FX_UNKNOWN(&x, 0);
    fx_ev(&x, "{\"ts\": 1, \"ev\": \"accepted\"}");
    fx_ev(&x, "{\"ts\": 1, \"ev\": \"accepted\", \"id\": [1]}");
    fx_ev(&x, "{\"ts\": 1, \"ev\": \"accepted\", \"id\": 1.5}");
    FX_UNKNOWN(&x, 0);
    CU_ASSERT_EQUAL(fx_detail(&x, "events_without_id"), 3);
    CU_ASSERT(fx_evid(&x, "event without a usable id"));
    acc(&x, 2, "5");
    del(&x, 3, "5");
    FX_PASSED(&x, 0);
    FX_UNKNOWN(&x, 1);
    CU_ASSERT(fx_sum(&x, "only 1 accepted ids (min_samples 3)"));
    fx_free(&x);
    CU_ASSERT(
        fx_invalid("{\"kind\": \"no_loss\", \"max_lost\": -1}", "max_lost"));
    CU_ASSERT(fx_invalid("{\"kind\": \"no_loss\", \"allow_duplicate\": true}",
                         "unknown key"));
    CU_ASSERT(fx_invalid("{\"kind\": \"no_loss\", \"require_offered\": 1}",
                         "require_offered"));
}

static void test_check_no_loss_large(void)
{
    /* 200k ids through the table (growth, probing), exactly 4 lost (1, 66667,
     * 133333, 199999). */
    fx x;
    fx_init(&x, "{\"kind\": \"no_loss\"}");
    char line[128];
    for (int i = 0; i < 200000; i++) {
        int n =
            snprintf(line, sizeof line,
                     "{\"ts\":%d.5,\"ev\":\"accepted\",\"id\":\"order-%d\"}",
                     1 + i / 50000, i);
        cr_history_add_line(&x.h, line, (size_t)n);
        if (i % 66666 == 1)
            continue;
        n = snprintf(line, sizeof line,
                     "{\"ts\":%d.7,\"ev\":\"delivered\",\"id\":\"order-%d\"}",
                     1 + i / 50000, i);
        cr_history_add_line(&x.h, line, (size_t)n);
    }
    FX_FAILED(&x, 0);
    CU_ASSERT(fx_sum(&x, "lost 4 of 200000 accepted ids"));
    CU_ASSERT(fx_evid(&x, "id order-1 accepted"));
    CU_ASSERT(fx_evid(&x, "id order-133333 accepted"));
    fx_free(&x);
}

void cr_test_register(void)
{
    cr_alloc_install_json();
    CU_pSuite s = CU_add_suite("check_no_loss", NULL, NULL);
    CR_ADD_TEST(s, test_check_no_loss_pass);
    CR_ADD_TEST(s, test_check_no_loss_lost);
    CR_ADD_TEST(s, test_check_no_loss_duplicates);
    CR_ADD_TEST(s, test_check_no_loss_dead_letter_repeat);
    CR_ADD_TEST(s, test_check_no_loss_dead_letter_repeat_first);
    CR_ADD_TEST(s, test_check_no_loss_unexpected);
    CR_ADD_TEST(s, test_check_no_loss_indeterminate_delivered);
    CR_ADD_TEST(s, test_check_no_loss_offered_never_delivered);
    CR_ADD_TEST(s, test_check_no_loss_unexpected_with_offers);
    CR_ADD_TEST(s, test_check_no_loss_unexpected_explains_offered);
    CR_ADD_TEST(s, test_check_no_loss_offered_ignore_and_more);
    CR_ADD_TEST(s, test_check_no_loss_recovered_and_ignore);
    CR_ADD_TEST(s, test_check_no_loss_bad_ids_and_unknown);
    CR_ADD_TEST(s, test_check_no_loss_large);
}
