/* crp_store: see crp_store.h. */
#include "crp_store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_PUT,
    S_SEL,
    S_DELIV,
    S_ACK,
    S_RELALL,
    S_DEPTH,
    S_READY,
    S_SEEN,
    S_FORGET,
    S_SYNC_FULL,
    S_SYNC_NORMAL,
    S_N
};

static const char *const sql[S_N] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_PUT] = "INSERT INTO msg(q, id, trace, payload) VALUES (?1, ?2, ?3, ?4)",
    /* owner stays 0 on disk (leases are in memory, see struct lease);
     * the msg_ready index (q, owner, seq) serves the scan */
    [S_SEL] = "SELECT seq, deliveries, id, trace, payload FROM msg "
              "WHERE q = ?1 AND owner = 0 AND seq >= ?2 ORDER BY seq",
    [S_DELIV] = "UPDATE msg SET deliveries = ?2 WHERE seq = ?1",
    [S_ACK] = "DELETE FROM msg WHERE seq = ?1",
    [S_RELALL] = "UPDATE msg SET owner = 0 WHERE owner != 0",
    [S_DEPTH] = "SELECT count(*) FROM msg WHERE q = ?1",
    [S_READY] = "SELECT count(*) FROM (SELECT 1 FROM msg WHERE q = ?1 AND "
                "owner = 0 LIMIT ?2)",
    [S_SEEN] = "INSERT OR IGNORE INTO seen(q, id, t) VALUES (?1, ?2, ?3)",
    [S_FORGET] = "DELETE FROM seen WHERE t < ?1",
    [S_SYNC_FULL] = "PRAGMA synchronous=FULL",
    [S_SYNC_NORMAL] = "PRAGMA synchronous=NORMAL",
};

static int step_done(crp_store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    (void)s;
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Leases live in memory, not in the msg rows: a lease, an ack and a
 * nack cost no UPDATE (the row is only deleted at its ack).  A lease ends
 * anyway when the service stops (every lease is returned at open), so
 * persisting it bought nothing but the delivery count.  That count is
 * written to the row when a lease ends without an ack (nack, release,
 * expiry, close): exactly when the record will be delivered again.  A
 * killed service loses the count of the deliveries in flight at that
 * moment (at most one per record per kill), never an ended one, so a
 * poison record, which is nacked, still reaches max-deliveries.
 *
 * The memory follows the transaction: every change to the table inside
 * one is logged (struct undo) and undone by its rollback, so a rolled-back
 * round leaves the leases as they were before it -- a lease it made is
 * gone (its delivery never happened: no reply was sent), an ack, nack or
 * expiry it made is not (the record is leased again, and its count is
 * written when that lease ends, e.g. at the owner's disconnection). */
typedef struct lease {
    int64_t seq; /* 0: free slot */
    int64_t owner, until;
    int deliveries; /* including the current one */
    int qi;         /* index in crp_store.qs */
} lease;

/* The table never gets smaller than this (slots), and is halved while
 * less than 1/8 full, at the end of a transaction (settle): a burst of
 * leases does not keep its memory. */
#define LEASE_MIN 1024
/* Queue states kept without leases (their scan floor) before settle
 * frees the idle ones: a client naming ever new queues costs nothing
 * that stays. */
#define QUEUES_KEEP 16

typedef struct qstate {
    char *name;     /* NULL: a free slot */
    int64_t lo;     /* every row of the queue below lo is leased */
    int64_t leased; /* its leases in the table */
} qstate;

typedef struct undo {
    lease l;   /* the lease as it was added or removed */
    int added; /* 1: added in the transaction (undo: remove) */
} undo;

struct crp_store {
    sqlite3 *db;
    sqlite3_stmt *st[S_N];
    int sync;   /* synchronous=FULL in force (else NORMAL: a lazy commit) */
    lease *tab; /* open addressing, linear probing, power-of-two size */
    size_t cap, used;
    qstate *qs; /* no slot is freed while a transaction is open (undo) */
    int nq, qcap;
    undo *log; /* the table's changes in the open transaction */
    size_t nlog, logcap;
    /* only the rows up to visible_hi are leased; INT64_MAX (all) until
     * crp_store_defer_sync, which also allows the puts of lazy
     * transactions */
    int64_t visible_hi;
    int64_t put_hi; /* the highest seq of a committed put */
    int64_t txn_hi; /* ... of a put in the open transaction */
};

static size_t slot_of(const crp_store *s, int64_t seq)
{
    uint64_t h = (uint64_t)seq * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 20) & (s->cap - 1);
}

static lease *lease_find(crp_store *s, int64_t seq)
{
    if (!s->cap)
        return NULL;
    for (size_t i = slot_of(s, seq);; i = (i + 1) & (s->cap - 1)) {
        if (s->tab[i].seq == seq)
            return &s->tab[i];
        if (s->tab[i].seq == 0)
            return NULL;
    }
}

/* Rehash into ncap slots (a power of two > used).  0 or -1 (unchanged). */
static int lease_resize(crp_store *s, size_t ncap)
{
    size_t oldcap = s->cap;
    lease *old = s->tab, *t = calloc(ncap, sizeof *t);
    if (!t)
        return -1;
    s->tab = t;
    s->cap = ncap;
    for (size_t i = 0; i < oldcap; i++) {
        if (!old[i].seq)
            continue;
        size_t j = slot_of(s, old[i].seq);
        while (t[j].seq)
            j = (j + 1) & (ncap - 1);
        t[j] = old[i];
    }
    free(old);
    return 0;
}

static int lease_add(crp_store *s, const lease *l)
{
    if ((s->used + 1) * 2 > s->cap &&
        lease_resize(s, s->cap ? s->cap * 2 : LEASE_MIN) < 0)
        return -1;
    size_t i = slot_of(s, l->seq);
    while (s->tab[i].seq)
        i = (i + 1) & (s->cap - 1);
    s->tab[i] = *l;
    s->used++;
    s->qs[l->qi].leased++;
    return 0;
}

/* Remove a lease (backward-shift deletion keeps probe chains whole). */
static void lease_del(crp_store *s, lease *l)
{
    size_t i = (size_t)(l - s->tab), m = s->cap - 1;
    s->qs[l->qi].leased--;
    s->used--;
    for (size_t j = (i + 1) & m;; j = (j + 1) & m) {
        if (!s->tab[j].seq)
            break;
        size_t k = slot_of(s, s->tab[j].seq);
        /* move j into the hole at i unless its home lies in (i, j] */
        if (((j - k) & m) >= ((j - i) & m)) {
            s->tab[i] = s->tab[j];
            i = j;
        }
    }
    s->tab[i].seq = 0;
}

/* Log a change to the table when a transaction is open (outside one
 * every statement commits at once: nothing to undo).  0, or -1 when out
 * of memory (make no change then). */
static int undo_push(crp_store *s, const lease *l, int added)
{
    if (sqlite3_get_autocommit(s->db))
        return 0;
    if (s->nlog == s->logcap) {
        size_t ncap = s->logcap ? s->logcap * 2 : 64;
        undo *n = realloc(s->log, ncap * sizeof *n);
        if (!n)
            return -1;
        s->log = n;
        s->logcap = ncap;
    }
    s->log[s->nlog++] = (undo){.l = *l, .added = added};
    return 0;
}

/* Undo the logged changes, newest first.  Re-adding a removed lease
 * cannot fail: the table only shrinks in settle, outside transactions,
 * so it has room for every lease it held during this one. */
static void undo_all(crp_store *s)
{
    while (s->nlog > 0) {
        const undo *u = &s->log[--s->nlog];
        lease *l = lease_find(s, u->l.seq);
        if (u->added && l)
            lease_del(s, l);
        else if (!u->added && !l)
            lease_add(s, &u->l);
    }
}

/* Free the queue states that hold no lease, past QUEUES_KEEP of them
 * (the last ones first, so that the array can shrink). */
static void queues_reclaim(crp_store *s)
{
    int live = 0;
    for (int i = 0; i < s->nq; i++)
        live += s->qs[i].name != NULL;
    for (int i = s->nq - 1; i >= 0 && live > QUEUES_KEEP; i--)
        if (s->qs[i].name && !s->qs[i].leased) {
            free(s->qs[i].name);
            s->qs[i] = (qstate){0};
            live--;
        }
    while (s->nq > 0 && !s->qs[s->nq - 1].name)
        s->nq--;
    int ncap = s->qcap;
    while (ncap > 2 * QUEUES_KEEP && s->nq * 2 < ncap)
        ncap /= 2;
    if (ncap != s->qcap) {
        qstate *n = realloc(s->qs, (size_t)ncap * sizeof *n);
        if (n) {
            s->qs = n;
            s->qcap = ncap;
        }
    }
}

/* Between transactions: forget the log, give back the memory of a past
 * burst (lease table, log, queue states).  A failed shrink keeps the
 * bigger table. */
static void settle(crp_store *s)
{
    s->nlog = 0;
    if (s->logcap > 4096) {
        free(s->log);
        s->log = NULL;
        s->logcap = 0;
    }
    size_t ncap = s->cap;
    while (ncap > LEASE_MIN && s->used * 8 < ncap)
        ncap /= 2;
    if (ncap != s->cap)
        lease_resize(s, ncap);
    queues_reclaim(s);
}

/* The queue's state slot, or -1 when it has none. */
static int queue_find(const crp_store *s, const char *q)
{
    for (int i = 0; i < s->nq; i++)
        if (s->qs[i].name && !strcmp(s->qs[i].name, q))
            return i;
    return -1;
}

/* The queue's state slot (created on first use, any name), or -1 when
 * out of memory. */
static int queue_index(crp_store *s, const char *q)
{
    int found = queue_find(s, q), free_at = -1;
    if (found >= 0)
        return found;
    for (int i = 0; i < s->nq && free_at < 0; i++)
        if (!s->qs[i].name)
            free_at = i;
    if (free_at < 0 && s->nq == s->qcap) {
        int ncap = s->qcap ? s->qcap * 2 : QUEUES_KEEP;
        qstate *n = realloc(s->qs, (size_t)ncap * sizeof *n);
        if (!n)
            return -1;
        s->qs = n;
        s->qcap = ncap;
    }
    int i = free_at >= 0 ? free_at : s->nq;
    char *name = strdup(q);
    if (!name)
        return -1;
    s->qs[i] = (qstate){.name = name};
    if (i == s->nq)
        s->nq++;
    return i;
}

/* End a lease without an ack: the record is ready again, its delivery
 * count written to the row (see struct lease) unless write is 0. */
static int lease_end(crp_store *s, lease *l, int write)
{
    sqlite3_stmt *st = s->st[S_DELIV];
    qstate *qs = &s->qs[l->qi];
    if (undo_push(s, l, 0) < 0)
        return -1;
    if (l->seq < qs->lo)
        qs->lo = l->seq;
    sqlite3_bind_int64(st, 1, l->seq);
    sqlite3_bind_int(st, 2, l->deliveries);
    lease_del(s, l);
    return write ? step_done(s, st) : 0;
}

/* End the leases that match (owner 0: any owner; until 0: any time). */
static int lease_end_all(crp_store *s, int64_t owner, int64_t before, int write)
{
    int n = 0;
    for (size_t i = 0; i < s->cap;) {
        lease *l = &s->tab[i];
        if (l->seq && (!owner || l->owner == owner) &&
            (!before || l->until < before)) {
            if (lease_end(s, l, write) < 0)
                return -1;
            n++;
            continue; /* a lease may have shifted into slot i */
        }
        i++;
    }
    return n;
}

int crp_store_open(const char *path, crp_store **out, char *err, int n)
{
    crp_store *s = calloc(1, sizeof *s);
    int rc = -1;
    *out = NULL;
    if (!s) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    /* One thread uses a store (the queue service's loop): no mutex per
     * connection, and no allocation statistics, which take a global mutex
     * on every malloc (a no-op once SQLite is initialised). */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        goto fail;
    sqlite3_busy_timeout(s->db, 5000);
    if (sqlite3_exec(
            s->db,
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
            "CREATE TABLE IF NOT EXISTS msg(seq INTEGER PRIMARY KEY "
            "AUTOINCREMENT,"
            " q TEXT NOT NULL, id TEXT NOT NULL, trace TEXT NOT NULL,"
            " payload TEXT NOT NULL, deliveries INTEGER NOT NULL DEFAULT 0,"
            " owner INTEGER NOT NULL DEFAULT 0, lease_until INTEGER NOT NULL "
            "DEFAULT 0);"
            "CREATE INDEX IF NOT EXISTS msg_ready ON msg(q, owner, seq);"
            "CREATE TABLE IF NOT EXISTS seen(q TEXT NOT NULL, id TEXT NOT NULL,"
            " t INTEGER NOT NULL, PRIMARY KEY(q, id)) WITHOUT ROWID;"
            "CREATE INDEX IF NOT EXISTS seen_t ON seen(t);",
            NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    for (int i = 0; i < S_N; i++)
        if (sqlite3_prepare_v2(s->db, sql[i], -1, &s->st[i], NULL) != SQLITE_OK)
            goto fail;
    if (step_done(s, s->st[S_RELALL]) < 0)
        goto fail;
    sqlite3_stmt *hi;
    if (sqlite3_prepare_v2(s->db, "SELECT coalesce(max(seq), 0) FROM msg", -1,
                           &hi, NULL) != SQLITE_OK)
        goto fail;
    if (sqlite3_step(hi) == SQLITE_ROW)
        s->put_hi = sqlite3_column_int64(hi, 0);
    sqlite3_finalize(hi);
    s->visible_hi = INT64_MAX;
    s->sync = 1;
    *out = s;
    return 0;
fail:
    snprintf(err, n, "queue store %s: %s", path,
             s->db ? sqlite3_errmsg(s->db) : "cannot open");
    crp_store_close(s);
    return rc;
}

static int end_leases(crp_store *s, int64_t owner, int64_t before);

void crp_store_close(crp_store *s)
{
    if (!s)
        return;
    /* the leases end with the service: their delivery counts are kept
     * (a stop, unlike a kill, loses none); an open transaction is rolled
     * back by the close, and what it would have written with it */
    if (s->db && s->used && sqlite3_get_autocommit(s->db))
        end_leases(s, 0, 0);
    free(s->tab);
    free(s->log);
    for (int i = 0; i < s->nq; i++)
        free(s->qs[i].name);
    free(s->qs);
    for (int i = 0; i < S_N; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    free(s);
}

const char *crp_store_errmsg(crp_store *s)
{
    return sqlite3_errmsg(s->db);
}

/* Start a transaction, with the WAL fsynced at its commit (sync) or not.
 * SQLite refuses to change the setting inside a transaction. */
static int begin(crp_store *s, int sync)
{
    if (sync != s->sync) {
        if (step_done(s, s->st[sync ? S_SYNC_FULL : S_SYNC_NORMAL]) < 0)
            return -1;
        s->sync = sync;
    }
    return step_done(s, s->st[S_BEGIN]);
}

int crp_store_begin(crp_store *s)
{
    return begin(s, 1);
}

/* synchronous=NORMAL in WAL mode: the commit is written to the WAL but
 * not fsynced; it is on disk with the next fsync (the next durable
 * commit, a checkpoint), and WAL frames are replayed in order, so what a
 * power loss leaves is a prefix of the commits.  A killed process loses
 * nothing (the WAL is in the page cache). */
int crp_store_begin_lazy(crp_store *s)
{
    return begin(s, 0);
}

int crp_store_commit(crp_store *s)
{
    if (step_done(s, s->st[S_COMMIT]) == 0) {
        if (s->txn_hi > s->put_hi)
            s->put_hi = s->txn_hi;
        s->txn_hi = 0;
        /* a durable commit fsynced the WAL: every put before it is on
         * disk */
        if (s->sync && s->put_hi > s->visible_hi)
            s->visible_hi = s->put_hi;
        settle(s);
        return 0;
    }
    crp_store_rollback(s);
    return -1;
}

void crp_store_rollback(crp_store *s)
{
    /* (SQLite may have rolled back already, after an I/O error: the
     * log is undone all the same) */
    if (!sqlite3_get_autocommit(s->db))
        step_done(s, s->st[S_ROLLBACK]);
    s->txn_hi = 0;
    undo_all(s);
    /* the leases this transaction made are gone again, below a queue's
     * lo perhaps: scan every queue from its start again */
    for (int i = 0; i < s->nq; i++)
        s->qs[i].lo = 0;
    settle(s);
}

int64_t crp_store_append(crp_store *s, const char *q, const char *id,
                         const char *trace, const char *payload)
{
    sqlite3_stmt *st = s->st[S_PUT];
    sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, trace, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, payload, -1, SQLITE_STATIC);
    if (!s->sync && s->visible_hi == INT64_MAX) { /* not deferred */
        /* a put in a lazy transaction would be acknowledged before it is
         * on disk: refused; outside a transaction it is made durable */
        if (!sqlite3_get_autocommit(s->db) ||
            step_done(s, s->st[S_SYNC_FULL]) < 0)
            return -1;
        s->sync = 1;
    }
    if (step_done(s, st) < 0)
        return -1;
    int64_t seq = sqlite3_last_insert_rowid(s->db);
    if (sqlite3_get_autocommit(s->db)) { /* committed by itself */
        if (seq > s->put_hi)
            s->put_hi = seq;
        if (s->sync && seq > s->visible_hi)
            s->visible_hi = seq;
    } else if (seq > s->txn_hi) {
        s->txn_hi = seq;
    }
    return seq;
}

int64_t crp_store_put(crp_store *s, const char *q, const char *id,
                      const char *trace, const char *payload)
{
    sqlite3_stmt *st = s->st[S_SEEN];
    sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (int64_t)time(NULL));
    if (step_done(s, st) < 0)
        return -1;
    if (sqlite3_changes(s->db) == 0)
        return 0; /* this queue has had this id: a resend, nothing added */
    return crp_store_append(s, q, id, trace, payload);
}

/* Lease the row under sel to owner; call cb.  0 or -1. */
static int lease_row(crp_store *s, sqlite3_stmt *sel, int qi, int64_t owner,
                     int64_t until, void (*cb)(void *, const crp_msg *),
                     void *arg)
{
    lease l = {.seq = sqlite3_column_int64(sel, 0),
               .owner = owner,
               .until = until,
               .deliveries = sqlite3_column_int(sel, 1) + 1,
               .qi = qi};
    if (undo_push(s, &l, 1) < 0)
        return -1;
    if (lease_add(s, &l) < 0) {
        if (!sqlite3_get_autocommit(s->db))
            s->nlog--;
        return -1;
    }
    crp_msg m = {
        .seq = l.seq,
        .deliveries = l.deliveries,
        .id = (const char *)sqlite3_column_text(sel, 2),
        .trace = (const char *)sqlite3_column_text(sel, 3),
        .payload = (const char *)sqlite3_column_text(sel, 4),
    };
    cb(arg, &m);
    return 0;
}

int crp_store_lease(crp_store *s, const char *q, int max, int64_t owner,
                    int64_t lease_until,
                    void (*cb)(void *arg, const crp_msg *m), void *arg)
{
    sqlite3_stmt *sel = s->st[S_SEL];
    int qi = queue_index(s, q), n = 0, rc = SQLITE_DONE;
    if (qi < 0)
        return -1;
    qstate *qs = &s->qs[qi];
    sqlite3_bind_text(sel, 1, q, -1, SQLITE_STATIC);
    sqlite3_bind_int64(sel, 2, qs->lo);
    /* the rows from lo on, in seq order, skipping the leased ones: each
     * row seen is leased (before or now), so lo moves past it */
    while (n < max && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(sel, 0);
        if (seq > s->visible_hi)
            break; /* not known to be on disk yet (nor is any later row) */
        if (!lease_find(s, seq)) {
            if (lease_row(s, sel, qi, owner, lease_until, cb, arg) < 0) {
                rc = SQLITE_NOMEM;
                break;
            }
            n++;
        }
        qs->lo = seq + 1;
    }
    sqlite3_reset(sel);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? n : -1;
}

/* The lease of seq if owner holds it, else NULL. */
static lease *owned(crp_store *s, int64_t seq, int64_t owner)
{
    lease *l = lease_find(s, seq);
    return l && l->owner == owner ? l : NULL;
}

int crp_store_ack(crp_store *s, int64_t seq, int64_t owner)
{
    lease *l = owned(s, seq, owner);
    if (!l)
        return 0;
    sqlite3_stmt *st = s->st[S_ACK];
    if (undo_push(s, l, 0) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, seq);
    lease_del(s, l);
    /* in a transaction, a failed delete is rolled back with the lease
     * restored (outside one the record is delivered again, uncounted) */
    int rc = step_done(s, st) < 0 ? -1 : 1;
    if (sqlite3_get_autocommit(s->db))
        settle(s);
    return rc;
}

int crp_store_nack(crp_store *s, int64_t seq, int64_t owner)
{
    lease *l = owned(s, seq, owner);
    if (!l)
        return 0;
    int rc = lease_end(s, l, 1) < 0 ? -1 : 1;
    if (sqlite3_get_autocommit(s->db))
        settle(s);
    return rc;
}

/* lease_end_all in the caller's transaction, or else in one lazy
 * transaction of its own (not one fsynced commit per lease). */
static int end_leases(crp_store *s, int64_t owner, int64_t before)
{
    if (!sqlite3_get_autocommit(s->db))
        return lease_end_all(s, owner, before, 1);
    if (crp_store_begin_lazy(s) < 0)
        return -1;
    int n = lease_end_all(s, owner, before, 1);
    if (n < 0 || crp_store_commit(s) < 0) {
        crp_store_rollback(s);
        return -1;
    }
    return n;
}

int crp_store_release(crp_store *s, int64_t owner)
{
    int n = end_leases(s, owner, 0);
    if (n < 0 && owner && sqlite3_get_autocommit(s->db)) {
        /* The counts could not be written (rolled back, leases restored).
         * The owner is gone for good: its leases end anyway, their counts
         * lost as in a kill, rather than hold the records until expiry. */
        lease_end_all(s, owner, 0, 0);
        settle(s);
    }
    return n;
}

int crp_store_expire(crp_store *s, int64_t now_ms)
{
    return end_leases(s, 0, now_ms);
}

int crp_store_forget(crp_store *s, int64_t before_s)
{
    sqlite3_stmt *st = s->st[S_FORGET];
    sqlite3_bind_int64(st, 1, before_s);
    if (step_done(s, st) < 0)
        return -1;
    return sqlite3_changes(s->db);
}

/* The leases of queue q (0 for a queue never leased from). */
static int64_t leased_of(const crp_store *s, const char *q)
{
    int i = queue_find(s, q);
    return i < 0 ? 0 : s->qs[i].leased;
}

int crp_store_depth(crp_store *s, const char *q, int64_t *ready,
                    int64_t *leased)
{
    sqlite3_stmt *st = s->st[S_DEPTH];
    sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *leased = leased_of(s, q);
        *ready = sqlite3_column_int64(st, 0) - *leased;
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

/* Counting limit + leased rows tells min(ready, limit): the leased rows
 * are among them whenever the count stops short. */
int64_t crp_store_ready(crp_store *s, const char *q, int64_t limit)
{
    sqlite3_stmt *st = s->st[S_READY];
    int64_t n = -1, leased = leased_of(s, q);
    sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, limit + leased);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (n < 0)
        return -1;
    if (n >= limit + leased)
        return limit;
    return n > leased ? n - leased : 0;
}

void crp_store_mem_usage(const crp_store *s, crp_store_mem *m)
{
    m->leases = s->used;
    m->lease_slots = s->cap;
    m->queue_slots = (size_t)s->qcap;
}

void crp_store_defer_sync(crp_store *s)
{
    if (s->visible_hi == INT64_MAX)
        s->visible_hi = s->put_hi;
}

int64_t crp_store_put_hi(const crp_store *s)
{
    return s->put_hi;
}

void crp_store_set_visible(crp_store *s, int64_t hi)
{
    if (hi > s->visible_hi)
        s->visible_hi = hi;
}
