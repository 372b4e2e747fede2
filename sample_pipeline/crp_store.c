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
    S_LEASE,
    S_ACK,
    S_NACK,
    S_REL,
    S_RELALL,
    S_EXPIRE,
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
    [S_SEL] = "SELECT seq, deliveries, id, trace, payload FROM msg "
              "WHERE q = ?1 AND owner = 0 ORDER BY seq LIMIT ?2",
    [S_LEASE] = "UPDATE msg SET owner = ?2, lease_until = ?3, "
                "deliveries = deliveries + 1 WHERE seq = ?1",
    [S_ACK] = "DELETE FROM msg WHERE seq = ?1 AND owner = ?2",
    [S_NACK] = "UPDATE msg SET owner = 0 WHERE seq = ?1 AND owner = ?2",
    [S_REL] = "UPDATE msg SET owner = 0 WHERE owner = ?1",
    [S_RELALL] = "UPDATE msg SET owner = 0 WHERE owner != 0",
    [S_EXPIRE] =
        "UPDATE msg SET owner = 0 WHERE owner != 0 AND lease_until < ?1",
    [S_DEPTH] = "SELECT SUM(owner = 0), SUM(owner != 0) FROM msg WHERE q = ?1",
    [S_READY] = "SELECT count(*) FROM (SELECT 1 FROM msg WHERE q = ?1 AND "
                "owner = 0 LIMIT ?2)",
    [S_SEEN] = "INSERT OR IGNORE INTO seen(q, id, t) VALUES (?1, ?2, ?3)",
    [S_FORGET] = "DELETE FROM seen WHERE t < ?1",
    [S_SYNC_FULL] = "PRAGMA synchronous=FULL",
    [S_SYNC_NORMAL] = "PRAGMA synchronous=NORMAL",
};

struct crp_store {
    sqlite3 *db;
    sqlite3_stmt *st[S_N];
    int sync; /* synchronous=FULL in force (else NORMAL: a lazy commit) */
};

static int step_done(crp_store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    (void)s;
    return rc == SQLITE_DONE ? 0 : -1;
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
    s->sync = 1;
    *out = s;
    return 0;
fail:
    snprintf(err, n, "queue store %s: %s", path,
             s->db ? sqlite3_errmsg(s->db) : "cannot open");
    crp_store_close(s);
    return rc;
}

void crp_store_close(crp_store *s)
{
    if (!s)
        return;
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
    if (step_done(s, s->st[S_COMMIT]) == 0)
        return 0;
    crp_store_rollback(s);
    return -1;
}

void crp_store_rollback(crp_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        step_done(s, s->st[S_ROLLBACK]);
}

int64_t crp_store_append(crp_store *s, const char *q, const char *id,
                         const char *trace, const char *payload)
{
    sqlite3_stmt *st = s->st[S_PUT];
    sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, trace, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, payload, -1, SQLITE_STATIC);
    if (!s->sync) {
        /* a put in a lazy transaction would be acknowledged before it is
         * on disk: refused; outside a transaction it is made durable */
        if (!sqlite3_get_autocommit(s->db) ||
            step_done(s, s->st[S_SYNC_FULL]) < 0)
            return -1;
        s->sync = 1;
    }
    if (step_done(s, st) < 0)
        return -1;
    return sqlite3_last_insert_rowid(s->db);
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

int crp_store_lease(crp_store *s, const char *q, int max, int64_t owner,
                    int64_t lease_until,
                    void (*cb)(void *arg, const crp_msg *m), void *arg)
{
    sqlite3_stmt *sel = s->st[S_SEL], *up = s->st[S_LEASE];
    int n = 0, rc;
    sqlite3_bind_text(sel, 1, q, -1, SQLITE_STATIC);
    sqlite3_bind_int(sel, 2, max);
    while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
        crp_msg m = {
            .seq = sqlite3_column_int64(sel, 0),
            .deliveries = sqlite3_column_int(sel, 1) + 1,
            .id = (const char *)sqlite3_column_text(sel, 2),
            .trace = (const char *)sqlite3_column_text(sel, 3),
            .payload = (const char *)sqlite3_column_text(sel, 4),
        };
        sqlite3_bind_int64(up, 1, m.seq);
        sqlite3_bind_int64(up, 2, owner);
        sqlite3_bind_int64(up, 3, lease_until);
        if (step_done(s, up) < 0) {
            sqlite3_reset(sel);
            return -1;
        }
        cb(arg, &m);
        n++;
    }
    sqlite3_reset(sel);
    return rc == SQLITE_DONE ? n : -1;
}

static int seq_owner(crp_store *s, int which, int64_t seq, int64_t owner)
{
    sqlite3_stmt *st = s->st[which];
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, owner);
    if (step_done(s, st) < 0)
        return -1;
    return sqlite3_changes(s->db) > 0;
}

int crp_store_ack(crp_store *s, int64_t seq, int64_t owner)
{
    return seq_owner(s, S_ACK, seq, owner);
}

int crp_store_nack(crp_store *s, int64_t seq, int64_t owner)
{
    return seq_owner(s, S_NACK, seq, owner);
}

int crp_store_release(crp_store *s, int64_t owner)
{
    sqlite3_stmt *st = owner ? s->st[S_REL] : s->st[S_RELALL];
    if (owner)
        sqlite3_bind_int64(st, 1, owner);
    if (step_done(s, st) < 0)
        return -1;
    return sqlite3_changes(s->db);
}

int crp_store_expire(crp_store *s, int64_t now_ms)
{
    sqlite3_stmt *st = s->st[S_EXPIRE];
    sqlite3_bind_int64(st, 1, now_ms);
    if (step_done(s, st) < 0)
        return -1;
    return sqlite3_changes(s->db);
}

int crp_store_forget(crp_store *s, int64_t before_s)
{
    sqlite3_stmt *st = s->st[S_FORGET];
    sqlite3_bind_int64(st, 1, before_s);
    if (step_done(s, st) < 0)
        return -1;
    return sqlite3_changes(s->db);
}

int crp_store_depth(crp_store *s, const char *q, int64_t *ready,
                    int64_t *leased)
{
    sqlite3_stmt *st = s->st[S_DEPTH];
    sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *ready = sqlite3_column_int64(st, 0);
        *leased = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

int64_t crp_store_ready(crp_store *s, const char *q, int64_t limit)
{
    sqlite3_stmt *st = s->st[S_READY];
    int64_t n = -1;
    sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, limit);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return n;
}
