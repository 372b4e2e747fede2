/* crp_sink: the end of the pipeline.  Takes results from the `results`
 * queue and commits them to its own SQLite database, deduplicated by
 * record id (PRIMARY KEY, INSERT OR IGNORE), in one transaction per batch.
 * A failed commit (disk full, I/O error) is rolled back and retried with
 * backoff (`retry` op=commit) on a reopened database until it succeeds;
 * only then are the records acknowledged to the queue.
 *
 * `delivered` is emitted once per record id: a row is stored with
 * announced = 0, the event is written after the commit, and the row is
 * marked announced in the next transaction.  A duplicate of a row whose
 * event was never written (crash, failed write) announces it then; rows
 * left unannounced by a crash are announced at start.
 *
 * On RabbitMQ (`--broker`) the workers also put their dead letters on
 * `results` ("dead_letter": true, with the reason): the broker does not
 * deduplicate, so a record ingest published again after an indeterminate
 * put reaches the workers twice, and a poison one is dead-lettered twice.
 * The sink commits a dead letter like a result -- one row per id, its
 * `reason` set -- and announces `dead_lettered` once, as for `delivered`. */
#include <errno.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crp_qc.h"
#include "crp_retry.h"
#include "crp_stage.h"
#include "crp_wire.h"

#define MAX_BATCH 512
#define MAX_PEND  8192

typedef struct ann {
    char id[64], trace[40], parent[17]; /* parent: the worker's span */
    double t_in;
    char reason[200]; /* a dead letter's reason; "" for a result */
} ann;

typedef struct sink {
    crp_ctx *x;
    char path[600];
    sqlite3 *db;
    sqlite3_stmt *ins, *get, *mark;
    crp_qc qc;
    ann todo[MAX_PEND]; /* committed, event not yet written */
    int ntodo;
    ann done[MAX_PEND]; /* event written, not yet marked announced */
    int ndone;
    crp_metric *m_in, *m_out, *m_dup, *m_fail, *m_retry, *m_lat, *m_dlq;
} sink;

static void db_close(sink *s)
{
    sqlite3_finalize(s->ins);
    sqlite3_finalize(s->get);
    sqlite3_finalize(s->mark);
    sqlite3_close(s->db);
    s->ins = s->get = s->mark = NULL;
    s->db = NULL;
}

static int db_open(sink *s)
{
    int nodedup = s->x->c.defects & CRP_DEFECT_NO_DEDUP;
    /* only this thread uses the database: no mutexes (see crp_store.c) */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (sqlite3_open_v2(s->path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        goto fail;
    sqlite3_busy_timeout(s->db, 2000);
    /* DEFECT no_dedup (tests only): no key on id, every copy is new. */
    const char *schema =
        nodedup ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                  "CREATE TABLE IF NOT EXISTS delivered(id TEXT NOT NULL, "
                  "trace TEXT, score REAL,"
                  " degraded INTEGER, worker TEXT, t_in REAL, announced "
                  "INTEGER NOT NULL DEFAULT 0, reason TEXT);"
                : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                  "CREATE TABLE IF NOT EXISTS delivered(id TEXT PRIMARY KEY, "
                  "trace TEXT, score REAL,"
                  " degraded INTEGER, worker TEXT, t_in REAL, announced "
                  "INTEGER NOT NULL DEFAULT 0, reason TEXT);";
    if (sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    /* a database of a sink without the column (fails harmlessly when the
     * column is there: "duplicate column name") */
    sqlite3_exec(s->db, "ALTER TABLE delivered ADD COLUMN reason TEXT", NULL,
                 NULL, NULL);
    if (sqlite3_prepare_v2(
            s->db,
            nodedup ? "INSERT INTO "
                      "delivered(id,trace,score,degraded,worker,t_in,reason) "
                      "VALUES(?1,?2,?3,?4,?5,?6,?7)"
                    : "INSERT OR IGNORE INTO "
                      "delivered(id,trace,score,degraded,worker,t_in,reason) "
                      "VALUES(?1,?2,?3,?4,?5,?6,?7)",
            -1, &s->ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(
            s->db, "SELECT announced, reason FROM delivered WHERE id = ?1", -1,
            &s->get, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db,
                           "UPDATE delivered SET announced = 1 WHERE id = ?1",
                           -1, &s->mark, NULL) != SQLITE_OK)
        goto fail;
    return 0;
fail:
    crp_log(s->x, "sink db %s: %s", s->path,
            s->db ? sqlite3_errmsg(s->db) : "cannot open");
    db_close(s);
    return -1;
}

static int exec(sink *s, const char *sql)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int add_todo(sink *s, const char *id, const char *trace,
                    const char *parent, double t_in, const char *reason)
{
    if (s->ntodo >= MAX_PEND)
        return -1;
    ann *a = &s->todo[s->ntodo++];
    crp_strlcpy(a->id, id, sizeof a->id);
    crp_strlcpy(a->trace, trace ? trace : "", sizeof a->trace);
    crp_strlcpy(a->parent, parent ? parent : "", sizeof a->parent);
    a->t_in = t_in;
    crp_strlcpy(a->reason, reason ? reason : "", sizeof a->reason);
    return 0;
}

/* What the sink keeps of a message on `results`. */
typedef struct item {
    double score, t_in;
    int degraded;
    const char *span, *worker; /* NULL: not given */
    const char *reason;        /* a dead letter's; NULL for a result */
    crp_result r;              /* the fixed-format result (crp_wire.h) */
    json_t *json; /* a JSON message (dead letters, older workers): owned */
} item;

/* Read a result: the workers' fixed format, or JSON (a dead letter on
 * RabbitMQ, "dead_letter": true with the reason; a result of an older
 * worker).  The pointers stay valid until json_decref(it->json) and as
 * long as payload. */
static void read_item(const char *payload, item *it)
{
    memset(it, 0, sizeof *it);
    if (crp_result_parse(payload, &it->r) > 0) {
        it->score = it->r.score;
        it->t_in = it->r.t_in;
        it->degraded = it->r.degraded != 0;
        it->span = it->r.span;
        it->worker = it->r.worker;
        return;
    }
    json_t *r = it->json = json_loads(payload, 0, NULL);
    it->t_in = json_number_value(json_object_get(r, "t_in"));
    it->score = json_number_value(json_object_get(r, "score"));
    it->degraded = json_is_true(json_object_get(r, "degraded"));
    it->span = json_string_value(json_object_get(r, "span"));
    it->worker = json_string_value(json_object_get(r, "worker"));
    if (json_is_true(json_object_get(r, "dead_letter"))) {
        it->reason = json_string_value(json_object_get(r, "reason"));
        if (!it->reason || !it->reason[0])
            it->reason = "dead-lettered"; /* "" would read as a result */
    }
}

/* The transaction: insert the batch, mark what was announced.  Fills
 * s->todo with new rows.  0 committed, -1 rolled back. */
static int commit_batch(sink *s, const crp_qmsg *m, int n, int *ntodo_before)
{
    *ntodo_before = s->ntodo;
    if (!s->db && db_open(s) < 0)
        return -1;
    if (exec(s, "BEGIN IMMEDIATE") < 0)
        goto fail;
    for (int i = 0; i < s->ndone; i++) {
        sqlite3_bind_text(s->mark, 1, s->done[i].id, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s->mark);
        sqlite3_reset(s->mark);
        if (rc != SQLITE_DONE)
            goto fail;
    }
    for (int i = 0; i < n; i++) {
        item it;
        read_item(m[i].payload, &it);
        sqlite3_bind_text(s->ins, 1, m[i].id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s->ins, 2, m[i].trace, -1, SQLITE_TRANSIENT);
        if (it.reason)
            sqlite3_bind_null(s->ins, 3);
        else
            sqlite3_bind_double(s->ins, 3, it.score);
        sqlite3_bind_int(s->ins, 4, it.degraded);
        if (it.worker)
            sqlite3_bind_text(s->ins, 5, it.worker, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(s->ins, 5);
        sqlite3_bind_double(s->ins, 6, it.t_in);
        if (it.reason)
            sqlite3_bind_text(s->ins, 7, it.reason, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(s->ins, 7);
        int rc = sqlite3_step(s->ins);
        sqlite3_reset(s->ins);
        if (rc != SQLITE_DONE) {
            json_decref(it.json);
            goto fail;
        }
        if (sqlite3_changes(s->db) > 0) {
            add_todo(s, m[i].id, m[i].trace, it.span, it.t_in, it.reason);
            json_decref(it.json);
            continue;
        }
        crp_metric_add(s->m_dup, 1);
        /* a duplicate: announce it if its event was never written (as
         * what the row holds: the first outcome committed is the one) */
        sqlite3_bind_text(s->get, 1, m[i].id, -1, SQLITE_STATIC);
        rc = sqlite3_step(s->get);
        int announced = rc == SQLITE_ROW ? sqlite3_column_int(s->get, 0) : 1;
        char held_reason[200] = "";
        if (rc == SQLITE_ROW && sqlite3_column_text(s->get, 1))
            crp_strlcpy(held_reason,
                        (const char *)sqlite3_column_text(s->get, 1),
                        sizeof held_reason);
        sqlite3_reset(s->get);
        int pending = 0;
        for (int k = 0; k < s->ntodo; k++)
            pending |= !strcmp(s->todo[k].id, m[i].id);
        for (int k = 0; k < s->ndone; k++)
            pending |= !strcmp(s->done[k].id, m[i].id);
        if (!announced && !pending)
            add_todo(s, m[i].id, m[i].trace, it.span, it.t_in, held_reason);
        json_decref(it.json);
    }
    if (exec(s, "COMMIT") < 0)
        goto fail;
    s->ndone = 0;
    return 0;
fail:
    crp_log(s->x, "sink commit failed: %s",
            s->db ? sqlite3_errmsg(s->db) : "no database");
    if (s->db)
        exec(s, "ROLLBACK");
    s->ntodo = *ntodo_before;
    /* reopen: after an I/O error the connection may be unusable */
    db_close(s);
    return -1;
}

/* Write the delivered (or dead_lettered) events of committed rows, all in
 * one write. */
static void announce(sink *s)
{
    double now = crp_now();
    static char held[MAX_PEND]; /* its event line is held */
    crp_ev_hold(s->x->ev, CRP_EV_EVENTS | CRP_EV_SPANS);
    for (int i = 0; i < s->ntodo; i++) {
        ann *a = &s->todo[i];
        if (a->reason[0]) {
            char esc[400];
            crp_json_esc(esc, sizeof esc, a->reason);
            held[i] = crp_ev_emit(s->x->ev, "dead_lettered",
                                  "\"id\":\"%s\",\"trace_id\":\"%s\","
                                  "\"reason\":\"%s\"",
                                  a->id, a->trace, esc) == 0;
        } else {
            held[i] = crp_ev_emit(s->x->ev, "delivered",
                                  "\"id\":\"%s\",\"trace_id\":\"%s\","
                                  "\"latency_ms\":%.3f",
                                  a->id, a->trace, (now - a->t_in) * 1000) == 0;
        }
        if (held[i]) {
            char span[17];
            crp_hex_id(&s->x->rng, span, 8);
            crp_ev_span(s->x->ev, "sink.commit", a->trace, span,
                        a->parent[0] ? a->parent : NULL, a->t_in, now, 0);
        }
    }
    /* the first `written` held lines are in the file; the others (a
     * failed or short write) are announced again next round */
    int written = crp_ev_release(s->x->ev), keep = 0;
    for (int i = 0; i < s->ntodo; i++) {
        ann *a = &s->todo[i];
        if (held[i] && written > 0) {
            written--;
            if (s->ndone < MAX_PEND) {
                s->done[s->ndone++] = *a;
                if (a->reason[0]) {
                    crp_metric_add(s->m_dlq, 1);
                } else {
                    crp_metric_add(s->m_out, 1);
                    crp_metric_observe(s->m_lat, (now - a->t_in) * 1000);
                }
                continue;
            }
        }
        s->todo[keep++] = *a; /* try again next round */
    }
    s->ntodo = keep;
}

static void recover(sink *s)
{
    /* Rows committed before a crash whose event may never have been written. */
    sqlite3_stmt *st = NULL;
    if (!s->db ||
        sqlite3_prepare_v2(
            s->db,
            "SELECT id, trace, t_in, reason FROM delivered WHERE announced = 0",
            -1, &st, NULL) != SQLITE_OK)
        return;
    while (sqlite3_step(st) == SQLITE_ROW)
        add_todo(s, (const char *)sqlite3_column_text(st, 0),
                 (const char *)sqlite3_column_text(st, 1), NULL,
                 sqlite3_column_double(st, 2),
                 (const char *)sqlite3_column_text(st, 3));
    sqlite3_finalize(st);
    if (s->ntodo)
        crp_log(s->x, "announcing %d rows committed before a restart",
                s->ntodo);
    announce(s);
}

int crp_sink_main(crp_ctx *x)
{
    static sink s;
    static crp_qmsg msgs[MAX_BATCH];
    const crp_conf *c = &x->c;
    s.x = x;
    snprintf(s.path, sizeof s.path, "%s/sink.db", c->data_dir);
    crp_qc_init(&s.qc, c->queue_addr, 3000);
    crp_qc_set_defects(&s.qc, c->defects);
    crp_qc_set_heartbeat(&s.qc, c->amqp_heartbeat_s);
    crp_http *h = x->http;
    s.m_in =
        crp_http_metric(h, "records_in_total", CRP_COUNTER, "results received");
    s.m_out = crp_http_metric(h, "records_out_total", CRP_COUNTER,
                              "records delivered");
    s.m_dup = crp_http_metric(h, "duplicates_total", CRP_COUNTER,
                              "duplicates ignored");
    s.m_fail = crp_http_metric(h, "records_failed_total", CRP_COUNTER,
                               "failed commits");
    s.m_retry = crp_http_metric(h, "records_retried_total", CRP_COUNTER,
                                "commit retries");
    s.m_dlq = crp_http_metric(h, "records_dead_lettered_total", CRP_COUNTER,
                              "dead letters announced (RabbitMQ)");
    s.m_lat = crp_http_metric(h, "end_to_end_latency_seconds", CRP_HISTO,
                              "accepted to delivered");
    crp_retry rp = {.base_ms = c->commit_base_ms,
                    .max_ms = c->commit_max_ms,
                    .attempts = 1,
                    .factor = 2,
                    .full_jitter = 1,
                    .unlimited = 1};
    while (db_open(&s) < 0 && !crp_stop_requested)
        crp_sleep_ms(200);
    recover(&s);
    crp_log(x, "sink: queue %s, db %s", c->queue_addr, s.path);
    crp_ev_emit(x->ev, "ready", NULL);
    int64_t backoff = 50;
    while (!crp_stop_requested) {
        int n = crp_qc_get(&s.qc, "results", c->batch, msgs);
        if (n < 0) {
            if (backoff == 50) /* the first failure of a series */
                crp_log(x, "queue unavailable: %s", crp_qc_error(&s.qc));
            crp_http_health(h, 0, "queue unavailable");
            crp_sleep_ms(backoff);
            backoff = backoff * 2 > 1000 ? 1000 : backoff * 2;
            announce(&s);
            continue;
        }
        backoff = 50;
        crp_http_health(h, 1, NULL);
        if (n == 0) {
            announce(&s);
            crp_sleep_ms(c->idle_ms);
            continue;
        }
        crp_metric_add(s.m_in, n);
        int before;
        for (int attempt = 1; commit_batch(&s, msgs, n, &before) < 0;
             attempt++) {
            crp_metric_add(s.m_fail, 1);
            int delay = crp_retry_delay_ms(&rp, attempt, &x->rng);
            crp_ev_emit(x->ev, "retry",
                        "\"op\":\"commit\",\"attempt\":%d,\"delay_ms\":%d,"
                        "\"error\":\"commit failed\"",
                        attempt, delay);
            crp_metric_add(s.m_retry, 1);
            crp_sleep_ms(delay);
            crp_qc_keepalive(&s.qc); /* still holding the batch */
            if (crp_stop_requested && attempt >= 3) {
                /* not committed, not acknowledged: the queue keeps them */
                crp_qc_free_msgs(msgs, n);
                n = 0;
                break;
            }
        }
        if (n == 0)
            break;
        announce(&s);
        int64_t seqs[MAX_BATCH];
        for (int i = 0; i < n; i++)
            seqs[i] = msgs[i].seq;
        if (crp_qc_ack(&s.qc, "results", seqs, n, 1, NULL) < 0)
            crp_log(x, "ack failed (results will come again; deduplicated)");
        crp_qc_free_msgs(msgs, n);
    }
    crp_ev_emit(x->ev, "stopping", NULL);
    announce(&s);
    if (s.ndone && s.db) { /* mark what was announced */
        int before;
        commit_batch(&s, msgs, 0, &before);
    }
    crp_qc_close(&s.qc);
    db_close(&s);
    crp_ev_emit(x->ev, "stopped", NULL);
    return 0;
}
