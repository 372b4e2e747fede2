/* Unit tests of crp_store: at-least-once lease/ack semantics, hand back,
 * release on disconnect, expiry, stale acks, persistence across reopen. */
#include "cr_test.h"

#include <sqlite3.h>
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

/* crp_store_defer_sync: a put in a lazy transaction is allowed, and not
 * leased until crp_store_set_visible says it is on disk (nor anything
 * after it); a durable commit makes every put before it visible. */
static void test_crp_store_deferred_puts_wait_for_sync(void)
{
    reset();
    crp_store *s = open_store();
    put3(s); /* before the switch: visible */
    crp_store_defer_sync(s);
    CU_ASSERT_EQUAL(crp_store_put_hi(s), 3);
    CU_ASSERT_EQUAL(crp_store_begin_lazy(s), 0);
    int64_t d = crp_store_put(s, "work", "d", "t", "{}");
    int64_t e = crp_store_append(s, "work", "e", "t", "{}");
    CU_ASSERT_TRUE(d > 0 && e == d + 1);
    CU_ASSERT_EQUAL(crp_store_put_hi(s), 3); /* not committed yet */
    CU_ASSERT_EQUAL(crp_store_commit(s), 0);
    CU_ASSERT_EQUAL(crp_store_put_hi(s), e);
    got g = {0};
    CU_ASSERT_EQUAL(crp_store_lease(s, "work", 10, 7, 1 << 30, collect, &g), 2);
    CU_ASSERT_STRING_EQUAL(g.id[0], "a");
    CU_ASSERT_STRING_EQUAL(g.id[1], "b");
    crp_store_set_visible(s, d); /* d on disk, e not yet */
    got g2 = {0};
    CU_ASSERT_EQUAL(crp_store_lease(s, "work", 10, 7, 1 << 30, collect, &g2),
                    1);
    CU_ASSERT_STRING_EQUAL(g2.id[0], "d");
    crp_store_set_visible(s, 1); /* never backwards */
    crp_store_set_visible(s, e);
    got g3 = {0};
    CU_ASSERT_EQUAL(crp_store_lease(s, "work", 10, 7, 1 << 30, collect, &g3),
                    1);
    CU_ASSERT_STRING_EQUAL(g3.id[0], "e");
    /* a rolled-back put leaves put_hi alone */
    CU_ASSERT_EQUAL(crp_store_begin_lazy(s), 0);
    CU_ASSERT_TRUE(crp_store_append(s, "work", "f", "t", "{}") > e);
    crp_store_rollback(s);
    CU_ASSERT_EQUAL(crp_store_put_hi(s), e);
    /* a durable commit (fsynced WAL) makes its puts visible at once */
    CU_ASSERT_EQUAL(crp_store_begin(s), 0);
    int64_t h = crp_store_append(s, "work", "h", "t", "{}");
    CU_ASSERT_EQUAL(crp_store_commit(s), 0);
    got g4 = {0};
    CU_ASSERT_EQUAL(crp_store_lease(s, "work", 10, 7, 1 << 30, collect, &g4),
                    1);
    CU_ASSERT_EQUAL(g4.seq[0], h);
    crp_store_close(s);
    /* reopened: what is in the file is on disk, all of it leasable */
    s = open_store();
    crp_store_defer_sync(s);
    CU_ASSERT_EQUAL(crp_store_put_hi(s), h);
    got g5 = {0};
    CU_ASSERT_EQUAL(crp_store_lease(s, "work", 10, 1, 1000, collect, &g5), 5);
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

/* A rolled-back ack (or nack) leaves the record there, leased to its
 * owner as before the transaction; when that owner goes (the queue drops
 * the clients of a failed round) the record is delivered again, that
 * delivery counted. */
static void test_crp_store_rollback_ack_redelivers(void)
{
    reset();
    crp_store *s = open_store();
    put3(s);
    got g = {0}, g2 = {0}, g3 = {0};
    crp_store_lease(s, "work", 2, 7, 1000, collect, &g);
    CU_ASSERT_EQUAL(crp_store_begin_lazy(s), 0);
    CU_ASSERT_EQUAL(crp_store_ack(s, g.seq[0], 7), 1);
    CU_ASSERT_EQUAL(crp_store_nack(s, g.seq[1], 7), 1);
    crp_store_rollback(s);
    CU_ASSERT_EQUAL(crp_store_lease(s, "work", 10, 8, 1000, collect, &g2), 0);
    CU_ASSERT_EQUAL(crp_store_release(s, 7), 2);
    CU_ASSERT_EQUAL(crp_store_lease(s, "work", 10, 8, 1000, collect, &g3), 2);
    CU_ASSERT_EQUAL(g3.seq[0], g.seq[0]);
    CU_ASSERT_EQUAL(g3.deliveries[0], 2);
    CU_ASSERT_EQUAL(g3.deliveries[1], 2);
    crp_store_close(s);
}

/* The leases of a rolled-back transaction are gone with it (their
 * replies were never sent): not counted as deliveries, not left in the
 * leased count, not held on a rolled-back put's seq. */
static void test_crp_store_rollback_forgets_leases(void)
{
    reset();
    crp_store *s = open_store();
    put3(s);
    got g = {0}, g2 = {0};
    CU_ASSERT_EQUAL(crp_store_begin(s), 0);
    CU_ASSERT_TRUE(crp_store_put(s, "work", "x", "t", "{}") > 0);
    CU_ASSERT_EQUAL(crp_store_lease(s, "work", 10, 7, 1000, collect, &g), 3);
    crp_store_rollback(s);
    int64_t ready, leased;
    CU_ASSERT_EQUAL(crp_store_depth(s, "work", &ready, &leased), 0);
    CU_ASSERT_EQUAL(ready, 2);
    CU_ASSERT_EQUAL(leased, 0);
    CU_ASSERT_EQUAL(crp_store_release(s, 7), 0);
    /* the seq of the rolled-back put is taken again, and not leased */
    CU_ASSERT_TRUE(crp_store_put(s, "work", "y", "t", "{}") > 0);
    CU_ASSERT_EQUAL(crp_store_lease(s, "work", 10, 8, 1000, collect, &g2), 3);
    CU_ASSERT_EQUAL(g2.deliveries[0], 1);
    CU_ASSERT_EQUAL(g2.deliveries[1], 1);
    CU_ASSERT_STRING_EQUAL(g2.id[2], "y");
    crp_store_close(s);
}

/* Many queues, some with long names, leased from in one group commit:
 * every lease works (no fixed table of queue names), and the per-queue
 * states of queues without leases are freed again. */
static void test_crp_store_many_queues(void)
{
    reset();
    crp_store *s = open_store();
    enum { NQ = 200 };
    char name[NQ][80];
    CU_ASSERT_EQUAL(crp_store_begin(s), 0);
    for (int i = 0; i < NQ; i++) {
        if (i % 3 == 2) /* longer than any fixed name buffer */
            snprintf(name[i], sizeof name[i],
                     "queue-with-a-rather-long-name-"
                     "for-the-test-of-the-store-%d",
                     i);
        else
            snprintf(name[i], sizeof name[i], "q%d", i);
        CU_ASSERT_TRUE(crp_store_append(s, name[i], "m", "t", "{}") > 0);
    }
    CU_ASSERT_EQUAL(crp_store_commit(s), 0);
    static got g[NQ];
    memset(g, 0, sizeof g);
    int ok = 0; /* (one assertion, not one per queue) */
    CU_ASSERT_EQUAL(crp_store_begin_lazy(s), 0);
    for (int i = 0; i < NQ; i++)
        ok += crp_store_lease(s, name[i], 10, 7, 1000, collect, &g[i]) == 1;
    CU_ASSERT_EQUAL(ok, NQ);
    CU_ASSERT_EQUAL(crp_store_commit(s), 0);
    int64_t ready, leased;
    CU_ASSERT_EQUAL(crp_store_depth(s, name[NQ - 1], &ready, &leased), 0);
    CU_ASSERT_EQUAL(ready, 0);
    CU_ASSERT_EQUAL(leased, 1);
    CU_ASSERT_EQUAL(crp_store_begin_lazy(s), 0);
    ok = 0;
    for (int i = 0; i < NQ; i++)
        ok += crp_store_ack(s, g[i].seq[0], 7) == 1;
    CU_ASSERT_EQUAL(ok, NQ);
    CU_ASSERT_EQUAL(crp_store_commit(s), 0);
    crp_store_mem m;
    crp_store_mem_usage(s, &m);
    CU_ASSERT_EQUAL(m.leases, 0);
    CU_ASSERT_TRUE(m.queue_slots <= 32);
    CU_ASSERT_EQUAL(crp_store_ready(s, name[5], 10), 0);
    crp_store_close(s);
}

static int64_t big_seqs[20000];
static int big_n;

static void collect_seq(void *arg, const crp_msg *m)
{
    (void)arg;
    big_seqs[big_n++] = m->seq;
}

/* After a burst of leases ends (acks, a release, expiry), the lease
 * table gives its memory back: a soak run holds memory for the live
 * leases, not for the peak. */
static void test_crp_store_lease_table_shrinks(void)
{
    reset();
    crp_store *s = open_store();
    enum { N = 20000 };
    CU_ASSERT_EQUAL(crp_store_begin(s), 0);
    for (int i = 0; i < N; i++) {
        char id[16];
        snprintf(id, sizeof id, "m%d", i);
        CU_ASSERT_TRUE(crp_store_append(s, "work", id, "t", "{}") > 0);
    }
    CU_ASSERT_EQUAL(crp_store_commit(s), 0);
    crp_store_mem m;
    for (int round = 0; round < 3; round++) {
        big_n = 0;
        CU_ASSERT_EQUAL(crp_store_begin_lazy(s), 0);
        for (int k = 0; k < N / 500; k++)
            crp_store_lease(s, "work", 500, 1, 1000, collect_seq, NULL);
        CU_ASSERT_EQUAL(crp_store_commit(s), 0);
        CU_ASSERT_EQUAL_FATAL(big_n, N);
        crp_store_mem_usage(s, &m);
        CU_ASSERT_EQUAL(m.leases, N);
        CU_ASSERT_TRUE(m.lease_slots >= 2 * N);
        /* round 0: acks of the newer half in one commit (half the
         * leases live: no shrink yet), then a release of the rest;
         * round 1: expiry; round 2: acks, one by one */
        if (round == 0) {
            CU_ASSERT_EQUAL(crp_store_begin_lazy(s), 0);
            for (int i = N / 2; i < N; i++)
                CU_ASSERT_EQUAL(crp_store_ack(s, big_seqs[i], 1), 1);
            CU_ASSERT_EQUAL(crp_store_commit(s), 0);
            crp_store_mem_usage(s, &m);
            CU_ASSERT_EQUAL(m.leases, N / 2);
            CU_ASSERT_EQUAL(crp_store_release(s, 1), N / 2);
        } else if (round == 1) {
            CU_ASSERT_EQUAL(crp_store_expire(s, 2000), N);
        } else {
            for (int i = 0; i < N; i++)
                CU_ASSERT_EQUAL(crp_store_ack(s, big_seqs[i], 1), 1);
        }
        crp_store_mem_usage(s, &m);
        CU_ASSERT_EQUAL(m.leases, 0);
        CU_ASSERT_TRUE(m.lease_slots <= 1024);
        if (round == 0) /* the other half: leased again next round */
            for (int i = 0; i < N / 2; i++)
                CU_ASSERT_TRUE(crp_store_append(s, "work", "n", "t", "{}") > 0);
    }
    crp_store_close(s);
}

/* A client that disconnects while the store cannot write (another
 * process holds the write lock): its leases end all the same (their
 * counts lost, as in a kill) instead of holding the records until they
 * expire.  Takes the store's busy timeout (5 s). */
static void test_crp_store_release_when_store_busy(void)
{
    reset();
    crp_store *s = open_store();
    put3(s);
    got g = {0}, g2 = {0};
    CU_ASSERT_EQUAL(crp_store_lease(s, "work", 10, 7, 1 << 30, collect, &g), 2);
    char path[512];
    snprintf(path, sizeof path, "%s/q.db", dir);
    sqlite3 *other = NULL;
    CU_ASSERT_EQUAL_FATAL(sqlite3_open(path, &other), SQLITE_OK);
    CU_ASSERT_EQUAL(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL),
                    SQLITE_OK);
    CU_ASSERT_EQUAL(crp_store_release(s, 7), -1);
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);
    int64_t ready, leased;
    CU_ASSERT_EQUAL(crp_store_depth(s, "work", &ready, &leased), 0);
    CU_ASSERT_EQUAL(ready, 2);
    CU_ASSERT_EQUAL(leased, 0);
    CU_ASSERT_EQUAL(crp_store_lease(s, "work", 10, 8, 1000, collect, &g2), 2);
    CU_ASSERT_EQUAL(g2.deliveries[0], 1);
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
    CR_ADD_TEST(s, test_crp_store_deferred_puts_wait_for_sync);
    CR_ADD_TEST(s, test_crp_store_expiry_counts_delivery);
    CR_ADD_TEST(s, test_crp_store_disconnect_releases_owner);
    CR_ADD_TEST(s, test_crp_store_deliveries_persist);
    CR_ADD_TEST(s, test_crp_store_rollback_ack_redelivers);
    CR_ADD_TEST(s, test_crp_store_rollback_forgets_leases);
    CR_ADD_TEST(s, test_crp_store_many_queues);
    CR_ADD_TEST(s, test_crp_store_lease_table_shrinks);
    CR_ADD_TEST(s, test_crp_store_release_when_store_busy);
    CR_ADD_TEST(s, test_crp_store_many_leases);
    CR_ADD_TEST(s, test_crp_store_open_error);
}
