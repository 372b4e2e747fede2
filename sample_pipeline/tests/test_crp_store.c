/* Unit tests of crp_store: at-least-once lease/ack semantics, hand back,
 * release on disconnect, expiry, stale acks, persistence across reopen. */
#include "cr_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crp_store.h"

typedef struct got {
    int n;
    int64_t seq[16];
    int deliveries[16];
    char id[16][32];
} got;

static void collect(void *arg, const crp_msg *m)
{
    got *g = arg;
    g->seq[g->n] = m->seq;
    g->deliveries[g->n] = m->deliveries;
    snprintf(g->id[g->n], sizeof g->id[0], "%s", m->id);
    g->n++;
}

static char *dir;

static crp_store *open_store(void)
{
    char path[512], err[256];
    crp_store *s = NULL;
    snprintf(path, sizeof path, "%s/q.db", dir);
    CU_ASSERT_EQUAL_FATAL(crp_store_open(path, &s, err, sizeof err), 0);
    return s;
}

/* Two messages on work (ids a, b + suffix) and one on other (c). */
static void put3_ids(crp_store *s, const char *suffix)
{
    char id[3][16];
    for (int i = 0; i < 3; i++)
        snprintf(id[i], sizeof id[i], "%c%s", 'a' + i, suffix);
    CU_ASSERT_EQUAL(crp_store_begin(s), 0);
    CU_ASSERT_TRUE(crp_store_put(s, "work", id[0], "t", "{}") > 0);
    CU_ASSERT_TRUE(crp_store_put(s, "work", id[1], "t", "{}") > 0);
    CU_ASSERT_TRUE(crp_store_put(s, "other", id[2], "t", "{}") > 0);
    CU_ASSERT_EQUAL(crp_store_commit(s), 0);
}

static void put3(crp_store *s)
{
    put3_ids(s, "");
}

static int setup(void)
{
    dir = cr_test_tmpdir();
    return dir ? 0 : 1;
}

static int teardown(void)
{
    return cr_test_rmtree(dir) == 0 ? 0 : 1;
}

static void reset(void)
{
    char p[600];
    for (const char *suf = "";; suf = suf[0] ? NULL : "-wal") {
        if (!suf)
            break;
        snprintf(p, sizeof p, "%s/q.db%s", dir, suf);
        remove(p);
    }
    snprintf(p, sizeof p, "%s/q.db-shm", dir);
    remove(p);
}

static void test_crp_store_lease_ack(void)
{
    reset();
    crp_store *s = open_store();
    put3(s);
    got g = {0};
    CU_ASSERT_EQUAL(crp_store_lease(s, "work", 10, 7, 1000, collect, &g), 2);
    CU_ASSERT_STRING_EQUAL(g.id[0], "a"); /* oldest first */
    CU_ASSERT_EQUAL(g.deliveries[0], 1);
    got g2 = {0};
    /* all leased */
    CU_ASSERT_EQUAL(crp_store_lease(s, "work", 10, 8, 1000, collect, &g2), 0);
    /* not the owner: stale */
    CU_ASSERT_EQUAL(crp_store_ack(s, g.seq[0], 8), 0);
    CU_ASSERT_EQUAL(crp_store_ack(s, g.seq[0], 7), 1);
    CU_ASSERT_EQUAL(crp_store_ack(s, g.seq[0], 7), 0); /* already gone */
    int64_t ready, leased;
    CU_ASSERT_EQUAL(crp_store_depth(s, "work", &ready, &leased), 0);
    CU_ASSERT_EQUAL(ready, 0);
    CU_ASSERT_EQUAL(leased, 1);
    crp_store_close(s);
}

/* The bounded ready count of --fair-lease: min(ready, limit), leased
 * records and other queues not counted. */
static void test_crp_store_ready_bounded(void)
{
    reset();
    crp_store *s = open_store();
    put3(s);
    put3_ids(s, "2");
    CU_ASSERT_EQUAL(crp_store_ready(s, "work", 100), 4);
    CU_ASSERT_EQUAL(crp_store_ready(s, "work", 3), 3);
    CU_ASSERT_EQUAL(crp_store_ready(s, "other", 100), 2);
    CU_ASSERT_EQUAL(crp_store_ready(s, "none", 100), 0);
    got g = {0};
    CU_ASSERT_EQUAL(crp_store_lease(s, "work", 3, 7, 1000, collect, &g), 3);
    CU_ASSERT_EQUAL(crp_store_ready(s, "work", 100), 1);
    CU_ASSERT_EQUAL(crp_store_ready(s, "work", 0), 0);
    crp_store_close(s);
}

static void test_crp_store_nack_and_release_redeliver(void)
{
    reset();
    crp_store *s = open_store();
    put3(s);
    got g = {0};
    crp_store_lease(s, "work", 10, 7, 1000, collect, &g);
    CU_ASSERT_EQUAL(crp_store_nack(s, g.seq[0], 7), 1);
    CU_ASSERT_EQUAL(crp_store_release(s, 7), 1); /* connection closed: b back */
    got g2 = {0};
    CU_ASSERT_EQUAL(crp_store_lease(s, "work", 10, 9, 1000, collect, &g2), 2);
    CU_ASSERT_EQUAL(g2.deliveries[0], 2);
    CU_ASSERT_EQUAL(g2.deliveries[1], 2);
    crp_store_close(s);
}

static void test_crp_store_expiry(void)
{
    reset();
    crp_store *s = open_store();
    put3(s);
    got g = {0};
    crp_store_lease(s, "work", 1, 7, 1000, collect, &g);
    CU_ASSERT_EQUAL(crp_store_expire(s, 999), 0);
    CU_ASSERT_EQUAL(crp_store_expire(s, 1001), 1);
    CU_ASSERT_EQUAL(crp_store_ack(s, g.seq[0], 7), 0); /* late ack is stale */
    crp_store_close(s);
}

static void test_crp_store_durable_and_leases_reset_on_open(void)
{
    reset();
    crp_store *s = open_store();
    put3(s);
    got g = {0};
    crp_store_lease(s, "work", 10, 7, 1 << 30, collect, &g);
    /* a rolled-back put is not there after reopening */
    CU_ASSERT_EQUAL(crp_store_begin(s), 0);
    crp_store_put(s, "work", "z", "t", "{}");
    crp_store_rollback(s);
    crp_store_close(s);
    s = open_store(); /* the old owner is gone: its leases are ready again */
    got g2 = {0};
    CU_ASSERT_EQUAL(crp_store_lease(s, "work", 10, 1, 1000, collect, &g2), 2);
    CU_ASSERT_STRING_EQUAL(g2.id[0], "a");
    CU_ASSERT_STRING_EQUAL(g2.id[1], "b");
    crp_store_close(s);
}

/* A put is idempotent per (queue, id): a record sent again after a lost
 * answer (same id) is one message, even after the first was consumed; a
 * rolled-back put leaves nothing remembered; forgotten ids are new. */
static void test_crp_store_put_idempotent(void)
{
    reset();
    crp_store *s = open_store();
    CU_ASSERT_EQUAL(crp_store_begin(s), 0);
    CU_ASSERT_TRUE(crp_store_put(s, "work", "p-1", "t", "{}") > 0);
    CU_ASSERT_EQUAL(crp_store_put(s, "work", "p-1", "t2", "{\"again\":1}"), 0);
    /* the same id on another queue is another message (a result) */
    CU_ASSERT_TRUE(crp_store_put(s, "results", "p-1", "t", "{}") > 0);
    /* append does not deduplicate: two copies (the sink's job) */
    CU_ASSERT_TRUE(crp_store_append(s, "dlq", "p-1", "t", "{}") > 0);
    CU_ASSERT_TRUE(crp_store_append(s, "dlq", "p-1", "t", "{}") > 0);
    CU_ASSERT_EQUAL(crp_store_ready(s, "dlq", 10), 2);
    CU_ASSERT_EQUAL(crp_store_commit(s), 0);
    got g = {0};
    CU_ASSERT_EQUAL(crp_store_lease(s, "work", 10, 3, 1 << 30, collect, &g), 1);
    CU_ASSERT_EQUAL(crp_store_ack(s, g.seq[0], 3), 1);
    /* consumed and acknowledged: a late resend still adds nothing */
    CU_ASSERT_EQUAL(crp_store_put(s, "work", "p-1", "t", "{}"), 0);
    got g2 = {0};
    CU_ASSERT_EQUAL(crp_store_lease(s, "work", 10, 3, 1 << 30, collect, &g2),
                    0);
    /* a rolled-back put is not remembered */
    CU_ASSERT_EQUAL(crp_store_begin(s), 0);
    CU_ASSERT_TRUE(crp_store_put(s, "work", "p-2", "t", "{}") > 0);
    crp_store_rollback(s);
    CU_ASSERT_TRUE(crp_store_put(s, "work", "p-2", "t", "{}") > 0);
    /* remembered across a restart of the queue */
    crp_store_close(s);
    s = open_store();
    CU_ASSERT_EQUAL(crp_store_put(s, "work", "p-2", "t", "{}"), 0);
    crp_store_close(s);
}

/* Ids are remembered for a window only: forgotten ones are new again. */
static void test_crp_store_forget(void)
{
    reset();
    crp_store *s = open_store();
    CU_ASSERT_TRUE(crp_store_put(s, "work", "p-1", "t", "{}") > 0);
    CU_ASSERT_TRUE(crp_store_put(s, "work", "p-2", "t", "{}") > 0);
    CU_ASSERT_TRUE(crp_store_put(s, "dlq", "p-1", "t", "{}") > 0);
    CU_ASSERT_EQUAL(crp_store_forget(s, 0), 0); /* all younger */
    CU_ASSERT_TRUE(crp_store_forget(s, (int64_t)1 << 40) >= 3);
    CU_ASSERT_TRUE(crp_store_put(s, "work", "p-1", "t", "{}") > 0);
    crp_store_close(s);
}

/* A lazy transaction (leases, acks: its commit does not wait for the
 * disk) refuses a put, which must be durable before its answer; what it
 * committed is there after reopening; the next durable transaction and a
 * put outside any transaction work as before. */
static void test_crp_store_lazy_commit(void)
{
    reset();
    crp_store *s = open_store();
    put3(s);
    got g = {0};
    CU_ASSERT_EQUAL(crp_store_begin_lazy(s), 0);
    CU_ASSERT_EQUAL(crp_store_lease(s, "work", 10, 7, 1 << 30, collect, &g), 2);
    CU_ASSERT_EQUAL(crp_store_ack(s, g.seq[0], 7), 1);
    CU_ASSERT_EQUAL(crp_store_put(s, "work", "lazy", "t", "{}"), -1);
    CU_ASSERT_EQUAL(crp_store_append(s, "results", "lazy", "t", "{}"), -1);
    CU_ASSERT_EQUAL(crp_store_commit(s), 0);
    CU_ASSERT_TRUE(crp_store_put(s, "work", "d", "t", "{}") > 0);
    CU_ASSERT_EQUAL(crp_store_begin(s), 0);
    CU_ASSERT_TRUE(crp_store_append(s, "results", "e", "t", "{}") > 0);
    CU_ASSERT_EQUAL(crp_store_commit(s), 0);
    crp_store_close(s);
    s = open_store();
    got g2 = {0}; /* a acknowledged; b's lease reset; d new */
    CU_ASSERT_EQUAL(crp_store_lease(s, "work", 10, 1, 1000, collect, &g2), 2);
    CU_ASSERT_STRING_EQUAL(g2.id[0], "b");
    CU_ASSERT_EQUAL(g2.deliveries[0], 2); /* the lazy lease counted */
    CU_ASSERT_STRING_EQUAL(g2.id[1], "d");
    CU_ASSERT_EQUAL(crp_store_ready(s, "results", 10), 1);
    crp_store_close(s);
}

/* Expiry hands back only the leases that ended, with their delivery
 * counted; the others stay leased and ackable. */
static void test_crp_store_expiry_counts_delivery(void)
{
    reset();
    crp_store *s = open_store();
    put3(s);
    got g = {0}, g2 = {0}, g3 = {0};
    CU_ASSERT_EQUAL(crp_store_lease(s, "work", 1, 7, 1000, collect, &g), 1);
    CU_ASSERT_EQUAL(crp_store_lease(s, "work", 1, 8, 5000, collect, &g2), 1);
    CU_ASSERT_EQUAL(crp_store_expire(s, 2000), 1);
    CU_ASSERT_EQUAL(crp_store_lease(s, "work", 10, 9, 9000, collect, &g3), 1);
    CU_ASSERT_EQUAL(g3.seq[0], g.seq[0]);
    CU_ASSERT_EQUAL(g3.deliveries[0], 2);
    CU_ASSERT_EQUAL(crp_store_ack(s, g2.seq[0], 8), 1);
    int64_t ready, leased;
    CU_ASSERT_EQUAL(crp_store_depth(s, "work", &ready, &leased), 0);
    CU_ASSERT_EQUAL(ready, 0);
    CU_ASSERT_EQUAL(leased, 1);
    crp_store_close(s);
}

/* A client that disconnects: only its leases come back, the lowest seq
 * first, before newer records; another client's ack still works. */
static void test_crp_store_disconnect_releases_owner(void)
{
    reset();
    crp_store *s = open_store();
    put3(s);
    got g = {0}, g2 = {0}, g3 = {0};
    crp_store_lease(s, "work", 1, 7, 1000, collect, &g);
    crp_store_lease(s, "work", 1, 8, 1000, collect, &g2);
    CU_ASSERT_EQUAL(crp_store_begin(s), 0);
    CU_ASSERT_TRUE(crp_store_put(s, "work", "new", "t", "{}") > 0);
    CU_ASSERT_EQUAL(crp_store_commit(s), 0);
    CU_ASSERT_EQUAL(crp_store_release(s, 7), 1);
    CU_ASSERT_EQUAL(crp_store_ack(s, g.seq[0], 7), 0); /* gone with it */
    CU_ASSERT_EQUAL(crp_store_lease(s, "work", 10, 9, 1000, collect, &g3), 2);
    CU_ASSERT_STRING_EQUAL(g3.id[0], "a");
    CU_ASSERT_EQUAL(g3.deliveries[0], 2);
    CU_ASSERT_STRING_EQUAL(g3.id[1], "new");
    CU_ASSERT_EQUAL(g3.deliveries[1], 1);
    CU_ASSERT_EQUAL(crp_store_ack(s, g2.seq[0], 8), 1);
    crp_store_close(s);
}

/* The delivery count of a nacked record survives a restart (poison is
 * still dead-lettered); so does that of a lease open at a clean close. */
static void test_crp_store_deliveries_persist(void)
{
    reset();
    crp_store *s = open_store();
    put3(s);
    got g = {0}, g2 = {0};
    crp_store_lease(s, "work", 1, 7, 1000, collect, &g);
    CU_ASSERT_EQUAL(crp_store_nack(s, g.seq[0], 7), 1);
    crp_store_lease(s, "work", 2, 7, 1000, collect, &g2);
    CU_ASSERT_EQUAL(g2.deliveries[0], 2);
    CU_ASSERT_EQUAL(g2.deliveries[1], 1);
    crp_store_close(s);
    s = open_store();
    got g3 = {0};
    CU_ASSERT_EQUAL(crp_store_lease(s, "work", 10, 1, 1000, collect, &g3), 2);
    CU_ASSERT_EQUAL(g3.deliveries[0], 3);
    CU_ASSERT_EQUAL(g3.deliveries[1], 2);
    crp_store_close(s);
}

/* A rolled-back ack leaves the record there and ready again. */
static void test_crp_store_rollback_ack_redelivers(void)
{
    reset();
    crp_store *s = open_store();
    put3(s);
    got g = {0}, g2 = {0};
    crp_store_lease(s, "work", 2, 7, 1000, collect, &g);
    CU_ASSERT_EQUAL(crp_store_begin_lazy(s), 0);
    CU_ASSERT_EQUAL(crp_store_ack(s, g.seq[0], 7), 1);
    crp_store_rollback(s);
    CU_ASSERT_EQUAL(crp_store_lease(s, "work", 10, 8, 1000, collect, &g2), 1);
    CU_ASSERT_EQUAL(g2.seq[0], g.seq[0]);
    crp_store_close(s);
}

/* Many leases (the table grows) and acks in random order. */
static void test_crp_store_many_leases(void)
{
    reset();
    crp_store *s = open_store();
    enum { N = 3000 };
    static int64_t seqs[N];
    CU_ASSERT_EQUAL(crp_store_begin(s), 0);
    for (int i = 0; i < N; i++) {
        char id[16];
        snprintf(id, sizeof id, "m%d", i);
        CU_ASSERT_TRUE(crp_store_append(s, "work", id, "t", "{}") > 0);
    }
    CU_ASSERT_EQUAL(crp_store_commit(s), 0);
    int n = 0;
    for (int k = 0; k < N / 10; k++) {
        got g = {0};
        n += crp_store_lease(s, "work", 10, 1 + k % 3, 1000, collect, &g);
        for (int j = 0; j < g.n; j++)
            seqs[k * 10 + j] = g.seq[j];
    }
    CU_ASSERT_EQUAL(n, N);
    for (int i = 0; i < N; i += 2) /* every other one, then the rest */
        CU_ASSERT_EQUAL(crp_store_ack(s, seqs[i], 1 + (i / 10) % 3), 1);
    CU_ASSERT_EQUAL(crp_store_release(s, 2), N / 6);
    int64_t ready, leased;
    CU_ASSERT_EQUAL(crp_store_depth(s, "work", &ready, &leased), 0);
    CU_ASSERT_EQUAL(ready, N / 6);
    CU_ASSERT_EQUAL(leased, N / 2 - N / 6);
    crp_store_close(s);
}

static void test_crp_store_open_error(void)
{
    crp_store *s = (crp_store *)1;
    char err[256] = "";
    CU_ASSERT_EQUAL(
        crp_store_open("/nonexistent-dir/x/q.db", &s, err, sizeof err), -1);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent-dir/x/q.db"));
    crp_store_close(NULL);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("crp_store", setup, teardown);
    CR_ADD_TEST(s, test_crp_store_lease_ack);
    CR_ADD_TEST(s, test_crp_store_ready_bounded);
    CR_ADD_TEST(s, test_crp_store_nack_and_release_redeliver);
    CR_ADD_TEST(s, test_crp_store_expiry);
    CR_ADD_TEST(s, test_crp_store_durable_and_leases_reset_on_open);
    CR_ADD_TEST(s, test_crp_store_put_idempotent);
    CR_ADD_TEST(s, test_crp_store_forget);
    CR_ADD_TEST(s, test_crp_store_lazy_commit);
    CR_ADD_TEST(s, test_crp_store_expiry_counts_delivery);
    CR_ADD_TEST(s, test_crp_store_disconnect_releases_owner);
    CR_ADD_TEST(s, test_crp_store_deliveries_persist);
    CR_ADD_TEST(s, test_crp_store_rollback_ack_redelivers);
    CR_ADD_TEST(s, test_crp_store_many_leases);
    CR_ADD_TEST(s, test_crp_store_open_error);
}
