/* crp_worker: takes records from the `work` queue, preprocesses them
 * (normalisation), asks the feature service for extra features (timeout,
 * retries with exponential backoff and full jitter, a circuit breaker),
 * scores them, puts the results on the `results` queue and only then
 * acknowledges the work records (ack after the downstream commit).
 *
 * Degradation: while the breaker is open or retries are exhausted, a
 * record is scored with the base features only and marked degraded
 * (`degraded`/`restored` events on the transitions).  Poison: a record
 * that fails processing is handed back (NACK); at its max-deliveries-th
 * delivery it goes to the `dlq` queue with the reason instead.
 * Shutdown (SIGTERM): finish the record in hand, hand back the rest of
 * the batch, commit, acknowledge, exit.
 *
 * Model: with --store the worker follows the artifact store's current
 * model (polled every 500 ms): a new version is loaded, its SHA-256
 * verified, then used (`model_loaded`, and `result` canary_scores: a hash
 * of its scores on a fixed canary set); a missing or corrupt blob never
 * replaces the model in use (`model_load_failed`).  Without --store,
 * --model FILE|DIR as before (crp_modelsel.c).
 *
 * Remote scoring (--scoring remote): the model lives in the model
 * servers (crp_modelsrv.c) and each record is scored by the one
 * crp_scorer routes it to, with failover; when none can answer the record
 * is handed back (not its fault: never dead-lettered for it) and the
 * worker leases nothing until a server is available again. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crp_breaker.h"
#include "crp_model.h"
#include "crp_modelsel.h"
#include "crp_net.h"
#include "crp_qc.h"
#include "crp_retry.h"
#include "crp_scorer.h"
#include "crp_stage.h"
#include "crp_wire.h"

#define MAX_BATCH 512

typedef struct worker {
    crp_ctx *x;
    crp_qc qc;
    crp_conn feat;
    crp_retry rp;
    crp_breaker brk;
    crp_msel ms;        /* local scoring: the model (crp_modelsel.h) */
    crp_scorer *scorer; /* --scoring remote: the model servers */
    unsigned defects;   /* CRP_DEFECT_*: only the hooks below read it */
    int degraded;
    crp_metric *m_in, *m_out, *m_fail, *m_retry, *m_dlq, *m_degraded, *m_brk,
        *m_lat, *m_feat_lat, *m_rejected, *m_giveup, *m_feat_ok, *m_feat_fail,
        *m_gets, *m_empty, *m_idle;
    /* Feature requests sent ahead for a batch (prefetch()): the ids (the
     * batch's own pointers), in the order their answers will come on
     * feat; pre_head: the next answer due. */
    const char *pre_id[MAX_BATCH];
    int pre_n, pre_head;
} worker;

/* A leased record, parsed: its features (normalised), label, ingest's
 * span and time, or why it cannot be processed. */
typedef struct parsed {
    double x[CRP_DIM];
    double t_in;
    int label;
    char parent[17]; /* ingest's span: the parent of this worker's; or "" */
    const char *err;
} parsed;

static void on_breaker(void *arg, crp_brk_state from, crp_brk_state to)
{
    worker *w = arg;
    (void)from;
    crp_ev_emit(w->x->ev, "breaker", "\"name\":\"features\",\"state\":\"%s\"",
                crp_breaker_name(to));
    crp_metric_set(w->m_brk, to);
    crp_log(w->x, "breaker features -> %s", crp_breaker_name(to));
}

/* The connection to the feature service is closed: the answers still due
 * to requests sent ahead are gone with it. */
static void feat_close(worker *w)
{
    crp_conn_close(&w->feat);
    w->pre_n = w->pre_head = 0;
}

/* Append the request line for one record. */
static int feat_request(crp_sb *b, const char *id, const double *x)
{
    /* FX: the numbers as their bits (crp_wire.h), exact and without a
     * conversion either way; %.17g, and later %a read back by strtod,
     * cost more than the call's syscalls */
    char line[128 + 17 * CRP_DIM], *p = line;
    p += snprintf(p, 96, "FX %.63s ", id);
    for (int i = 0; i < CRP_DIM; i++) {
        if (i)
            *p++ = ',';
        p = crp_wire_put_f64(p, x[i]);
    }
    *p++ = '\n';
    return crp_sb_append(b, line, (size_t)(p - line));
}

/* An answer to FX, "OK <e0> <e1> <e2> <e3>" (bits): 0 and extra filled,
 * or -1. */
static int feat_answer(const char *line, double *extra)
{
    if (strncmp(line, "OK", 2) != 0)
        return -1;
    const char *p = line + 2;
    for (int i = 0; i < CRP_EXTRA; i++)
        if (*p++ != ' ' || crp_wire_get_f64(&p, &extra[i]) < 0)
            return -1;
    return *p ? -1 : 0;
}

/* Send the feature requests of a whole batch at once, so that the
 * service reads them in one go and its answers come back together, rather
 * than a round trip (and two context switches) per record.  Only on an
 * open connection with the breaker closed; each answer is then taken by
 * feature_call() in order, with the usual timeout, and anything out of
 * step (a retry, a record that made no call) closes the connection and
 * falls back to one call at a time. */
static void prefetch(worker *w, const crp_qmsg *msgs, const parsed *pr, int n)
{
    w->pre_n = w->pre_head = 0;
    if (w->feat.fd < 0 || w->brk.state != CRP_BRK_CLOSED || n < 2)
        return;
    crp_sb b = {0};
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (pr[i].err)
            continue;
        if (feat_request(&b, msgs[i].id, pr[i].x) < 0) {
            crp_sb_free(&b);
            return; /* out of memory: one call at a time */
        }
        w->pre_id[k++] = msgs[i].id;
    }
    if (k > 0 &&
        crp_conn_send(&w->feat, b.s, b.len, w->x->c.feat_timeout_ms) < 0)
        feat_close(w); /* the calls will reconnect and report */
    else
        w->pre_n = k;
    crp_sb_free(&b);
}

/* One call to the feature service.  0 and extra filled, or -errno /
 * -EPROTO (error answer) with a short text in why. */
static int feature_call(worker *w, const char *id, const double *x,
                        double *extra, char *why, size_t n)
{
    int sent = 0;
    if (w->pre_head < w->pre_n) {
        if (w->pre_id[w->pre_head] == id) {
            w->pre_head++;
            sent = 1; /* its request went with the batch's */
        } else {
            feat_close(w); /* out of step: answers due to other calls */
        }
    }
    if (w->feat.fd < 0) {
        int fd = crp_net_connect(w->x->c.feature_addr, w->x->c.feat_timeout_ms);
        if (fd < 0) {
            snprintf(why, n, "connect: %s", strerror(-fd));
            return fd;
        }
        crp_conn_init(&w->feat, fd);
    }
    int rc = 0;
    if (!sent) {
        crp_sb req = {0};
        rc = feat_request(&req, id, x);
        if (rc == 0)
            rc = crp_conn_send(&w->feat, req.s, req.len,
                               w->x->c.feat_timeout_ms);
        crp_sb_free(&req);
    }
    char *line = NULL;
    if (rc == 0) {
        rc = crp_conn_readline(&w->feat, &line, w->x->c.feat_timeout_ms);
        rc = rc == 0 ? -ETIMEDOUT : rc < 0 ? rc : 0;
    }
    if (rc < 0) {
        /* A late answer would be read as the next call's: start over. */
        feat_close(w);
        snprintf(why, n, "%s", rc == -ETIMEDOUT ? "timeout" : strerror(-rc));
        return rc;
    }
    if (feat_answer(line, extra) < 0) {
        snprintf(why, n, "error answer: %.60s", line);
        return -EPROTO;
    }
    return 0;
}

static void set_degraded(worker *w, int on, const char *reason)
{
    if (on == w->degraded)
        return;
    w->degraded = on;
    crp_metric_set(w->m_degraded, on);
    if (on)
        crp_ev_emit(w->x->ev, "degraded",
                    "\"feature\":\"features\",\"reason\":\"%s\"", reason);
    else
        crp_ev_emit(w->x->ev, "restored", "\"feature\":\"features\"");
}

/* What became of one leased record. */
typedef enum outcome_kind {
    OUT_RESULT,      /* scored: the result goes to `results`, then ack */
    OUT_DEAD_LETTER, /* poison at its max-deliveries-th delivery: to `dlq`
                        with the reason, then ack */
    OUT_HAND_BACK,   /* not done this time (failed, no model server, out of
                        memory, shutting down): NACK, delivered again */
    OUT_DROPPED,     /* DEFECT only: acknowledged with nothing committed */
} outcome_kind;

typedef struct outcome {
    outcome_kind kind;
    char *payload; /* OUT_RESULT, OUT_DEAD_LETTER: the message to put */
    char reason[200];
} outcome;

/* ---- defect switches (tests only; README, "Defect switches") ----
 * Each hook answers one question of the correct path and gives the
 * correct answer unless its switch is on, so that the path above reads
 * as the mechanism and every deliberate fault is in this block. */

/* May a failed feature call be retried while the breaker is open?  No:
 * the breaker is there to stop calling; the record is degraded instead.
 * DEFECT no_retry_limit: retried forever, through the breaker too. */
static int retries_through_open_breaker(const worker *w)
{
    return w->rp.unlimited;
}

/* Does a record whose scoring request failed over to another model
 * server count as done without a result?  No.  DEFECT failover_drop:
 * yes, it is acknowledged and lost. */
static int drops_failed_over_request(const worker *w, int moved)
{
    return moved && (w->defects & CRP_DEFECT_FAILOVER_DROP);
}

/* A leased record left unprocessed by a shutdown is handed back.
 * DEFECT drop_inflight: acknowledged instead (lost). */
static outcome_kind unprocessed_on_shutdown(const worker *w)
{
    return (w->defects & CRP_DEFECT_DROP_INFLIGHT) ? OUT_DROPPED
                                                   : OUT_HAND_BACK;
}

/* The work is acknowledged after its results are committed.  DEFECT
 * ack_before_commit: acknowledged as soon as it is leased; returns 1
 * then, and the acknowledgement after the commit is skipped. */
static int acks_on_lease(worker *w, const crp_qmsg *m, int n)
{
    if (!(w->defects & CRP_DEFECT_ACK_BEFORE_COMMIT))
        return 0;
    int64_t seqs[MAX_BATCH];
    for (int i = 0; i < n; i++)
        seqs[i] = m[i].seq;
    crp_qc_ack(&w->qc, "work", seqs, n, 1, NULL);
    return 1;
}

/* The retry policy and the breaker carry their own switches (tested in
 * test_crp_retry.c, test_crp_breaker.c): no_backoff retries at once,
 * no_retry_limit never gives up, breaker_never_opens loses the trip. */
static void break_policies(worker *w)
{
    w->rp.no_backoff = !!(w->defects & CRP_DEFECT_NO_BACKOFF);
    w->rp.unlimited = !!(w->defects & CRP_DEFECT_NO_RETRY_LIMIT);
    w->brk.never_opens = !!(w->defects & CRP_DEFECT_BREAKER_NEVER_OPENS);
}

/* ---- the correct path ---- */

/* One feature call through the breaker, measured.  0 and extra filled,
 * or < 0 with why. */
static int guarded_call(worker *w, const char *id, const double *x,
                        double *extra, char *why, size_t n)
{
    double t0 = crp_now();
    int rc = feature_call(w, id, x, extra, why, n);
    crp_metric_observe(w->m_feat_lat, (crp_now() - t0) * 1000);
    crp_metric_add(rc == 0 ? w->m_feat_ok : w->m_feat_fail, 1);
    crp_breaker_record(&w->brk, rc == 0, crp_mono_ms());
    return rc;
}

/* Extra features with retries and the breaker.  1: got them, 0: degrade. */
static int features(worker *w, const char *id, const char *trace,
                    const double *x, double *extra)
{
    /* why may hold the feature service's own reply text: escaped before
     * it goes into an event */
    char why[160] = "", esc[400];
    for (int attempt = 1;; attempt++) {
        if (!crp_breaker_allow(&w->brk, crp_mono_ms())) {
            crp_ev_emit(w->x->ev, "rejected",
                        "\"name\":\"features\",\"trace_id\":\"%s\"", trace);
            crp_metric_add(w->m_rejected, 1);
            snprintf(why, sizeof why, "breaker open");
            if (!retries_through_open_breaker(w)) {
                set_degraded(w, 1, "breaker open");
                return 0;
            }
        } else if (guarded_call(w, id, x, extra, why, sizeof why) == 0) {
            set_degraded(w, 0, NULL);
            return 1;
        } else if (w->brk.state == CRP_BRK_OPEN &&
                   crp_retry_again(&w->rp, attempt) &&
                   !retries_through_open_breaker(w)) {
            /* this failure opened the breaker: the next attempt would be
             * refused, so degrade now instead of retrying */
            set_degraded(w, 1, "breaker open");
            return 0;
        }
        if (crp_stop_requested) {
            /* shutting down: no more attempts (not a policy giveup) */
            set_degraded(w, 1, "shutting down");
            return 0;
        }
        crp_json_esc(esc, sizeof esc, why);
        if (!crp_retry_again(&w->rp, attempt)) {
            crp_ev_emit(w->x->ev, "giveup",
                        "\"op\":\"features\",\"attempts\":%d,\"error\":\"%s\","
                        "\"trace_id\":\"%s\"",
                        attempt, esc, trace);
            crp_metric_add(w->m_giveup, 1);
            set_degraded(w, 1, "retries exhausted");
            return 0;
        }
        int delay = crp_retry_delay_ms(&w->rp, attempt, &w->x->rng);
        crp_ev_emit(w->x->ev, "retry",
                    "\"op\":\"features\",\"attempt\":%d,\"delay_ms\":%d,"
                    "\"error\":\"%s\",\"trace_id\":\"%s\"",
                    attempt, delay, esc, trace);
        crp_metric_add(w->m_retry, 1);
        crp_sleep_ms(delay);
    }
}

/* A record that cannot be processed: handed back, or at its
 * max-deliveries-th delivery a dead letter with the reason. */
static void failed(worker *w, const crp_qmsg *m, const char *err, outcome *o)
{
    crp_metric_add(w->m_fail, 1);
    if (m->deliveries < w->x->c.max_deliveries) {
        o->kind = OUT_HAND_BACK;
        snprintf(o->reason, sizeof o->reason, "%s", err);
        return;
    }
    o->kind = OUT_DEAD_LETTER;
    snprintf(o->reason, sizeof o->reason, "poison: %s (failed %d deliveries)",
             err, m->deliveries);
    /* "dead_letter": the sink tells it from a result (RabbitMQ: the copy
     * put on `results`, see batch) */
    json_t *dl =
        json_pack("{s:s, s:s, s:s, s:s, s:i, s:b}", "id", m->id, "stage",
                  "worker", "reason", o->reason, "raw", m->payload,
                  "deliveries", m->deliveries, "dead_letter", 1);
    o->payload = dl ? json_dumps(dl, JSON_COMPACT) : NULL;
    json_decref(dl);
}

/* A work message of an older build: the JSON envelope with the record
 * (`rec`) inside.  0, or -1 when it is not one. */
static int parse_json(const char *payload, parsed *p)
{
    json_error_t je;
    json_t *env = json_loads(payload, 0, &je);
    json_t *rec = json_object_get(env, "rec");
    json_t *xa = json_object_get(rec, "x");
    int rc = -1;
    if (env && json_array_size(xa) == CRP_DIM) {
        for (int i = 0; i < CRP_DIM; i++)
            p->x[i] = json_number_value(json_array_get(xa, i));
        p->t_in = json_number_value(json_object_get(env, "t_in"));
        p->label = (int)json_integer_value(json_object_get(rec, "label"));
        const char *span = json_string_value(json_object_get(env, "span"));
        crp_strlcpy(p->parent, span ? span : "", sizeof p->parent);
        rc = 0;
    }
    json_decref(env);
    return rc;
}

/* Parse and preprocess a leased record (before its feature call, which
 * may be sent ahead with the batch's).  The work message is ingest's
 * fixed format (crp_wire.h); JSON only from an older ingest. */
static void parse(const crp_qmsg *m, parsed *p)
{
    crp_work wm;
    int r = crp_work_parse(m->payload, &wm);
    memset(p, 0, sizeof *p);
    if (r > 0) {
        memcpy(p->x, wm.x, sizeof p->x);
        p->t_in = wm.t_in;
        p->label = wm.label;
        memcpy(p->parent, wm.span, sizeof p->parent);
    } else if (r < 0 || parse_json(m->payload, p) < 0) {
        p->err = "unreadable work record";
        return;
    }
    if (crp_model_normalise(p->x) < 0)
        p->err = "preprocess: zero norm, cannot normalise";
}

/* Process a parsed record. */
static void process(worker *w, const crp_qmsg *m, const parsed *p, outcome *o)
{
    const double *x = p->x;
    double extra[CRP_EXTRA];
    double t_in = p->t_in;
    double t0 = crp_now();
    if (p->err) {
        failed(w, m, p->err, o);
        return;
    }
    int full = features(w, m->id, m->trace, x, extra);
    if (w->x->c.process_delay_us > 0)
        crp_sleep_ms((w->x->c.process_delay_us + 999) / 1000);
    double score;
    if (w->scorer) {
        int moved = 0;
        if (crp_scorer_score(w->scorer, x, full ? extra : NULL, &score,
                             &moved) < 0) {
            /* no model server: hand back (not the record's fault) */
            o->kind = OUT_HAND_BACK;
            snprintf(o->reason, sizeof o->reason, "no model server answered");
            return;
        }
        if (drops_failed_over_request(w, moved)) {
            o->kind = OUT_DROPPED;
            return;
        }
    } else {
        score = crp_model_score(&w->ms.model, x, full ? extra : NULL);
    }
    crp_result r = {.score = score,
                    .t_in = t_in,
                    .label = p->label,
                    .degraded = !full,
                    .deliveries = m->deliveries};
    crp_hex_id(&w->x->rng, r.span, 8);
    crp_strlcpy(r.worker, w->x->c.inst, sizeof r.worker);
    crp_sb b = {0};
    o->kind = OUT_RESULT;
    o->payload = crp_result_format(&b, &r) == 0 ? b.s : NULL;
    if (!o->payload)
        crp_sb_free(&b);
    double t1 = crp_now();
    crp_ev_span(w->x->ev, full ? "worker.score" : "worker.score.degraded",
                m->trace, r.span, p->parent[0] ? p->parent : NULL, t0, t1, 0);
    crp_metric_observe(w->m_lat, (t1 - t0) * 1000);
}

/* RabbitMQ (`--broker`): its puts are not idempotent by id. */
static int on_broker(const worker *w)
{
    return !strcmp(crp_qc_backend(&w->qc), "amqp");
}

/* Announce the dead letters, whose puts are committed, then acknowledge
 * them.  Announced before the ack: a worker killed between its ack (which
 * the queue commits) and its announcement left a record on `dlq` that no
 * event reported -- a durable outcome the history called lost (seen beside
 * stress-ng: "lost 1 of 2250", the id on dlq).  Killed between the
 * announcement and the ack instead, the record is delivered again and the
 * next worker's put finds it on `dlq` (the queue answers OK DUP): that
 * worker announces it with "repeat": true, one outcome, not a duplicate.
 * A stalled worker whose lease expired announces too; the worker that has
 * the record now gets OK DUP and announces the repeat.  On RabbitMQ the
 * worker does not announce them: the sink does, once per id (see batch). */
static void ack_dead_letters(worker *w, const crp_qmsg *msgs,
                             const outcome *out, const int *dup, int n)
{
    int64_t seq[MAX_BATCH];
    int nd = 0;
    for (int i = 0; i < n; i++) {
        if (out[i].kind != OUT_DEAD_LETTER)
            continue;
        const crp_qmsg *m = &msgs[i];
        char esc[400];
        crp_json_esc(esc, sizeof esc, out[i].reason);
        if (!on_broker(w))
            crp_ev_emit(w->x->ev, "dead_lettered",
                        "\"id\":\"%s\",\"trace_id\":\"%s\",\"reason\":\"%s\"%s",
                        m->id, m->trace, esc, dup[i] ? ",\"repeat\":true" : "");
        crp_metric_add(w->m_dlq, 1);
        seq[nd++] = m->seq;
    }
    if (nd > 0)
        crp_qc_ack(&w->qc, "work", seq, nd, 1, NULL);
}

/* The seqs of the records whose outcome is kind. */
static int seqs_of(const crp_qmsg *msgs, const outcome *out, int n,
                   outcome_kind kind, int64_t *seq)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        if (out[i].kind == kind)
            seq[k++] = msgs[i].seq;
    return k;
}

/* One batch: lease, process, commit downstream, then acknowledge.
 * Returns the number of records leased, or -errno. */
static int batch(worker *w)
{
    static crp_qmsg msgs[MAX_BATCH];
    static outcome out[MAX_BATCH];
    static parsed pr[MAX_BATCH];
    const crp_conf *c = &w->x->c;
    int n = crp_qc_get(&w->qc, "work", c->batch, msgs);
    if (n >= 0)
        crp_metric_add(n > 0 ? w->m_gets : w->m_empty, 1);
    if (n <= 0)
        return n;
    crp_metric_add(w->m_in, n);
    /* (before the hold: the harness may stall this worker on it, while it
     * holds these records) */
    if (c->lease_events)
        crp_ev_emit(w->x->ev, "leased", "\"n\":%d", n);
    /* the batch's spans in one write (its events stay immediate: the
     * harness may act on a retry or a breaker event at once) */
    crp_ev_hold(w->x->ev, CRP_EV_SPANS);
    int acked = acks_on_lease(w, msgs, n);
    for (int i = 0; i < n; i++)
        parse(&msgs[i], &pr[i]);
    prefetch(w, msgs, pr, n);
    for (int i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof out[i]);
        if (crp_stop_requested) /* graceful: finish the one in hand only */
            out[i].kind = unprocessed_on_shutdown(w);
        else
            process(w, &msgs[i], &pr[i], &out[i]);
        crp_qc_keepalive(&w->qc); /* a long batch (RabbitMQ heartbeats) */
        /* no message to put (out of memory): again later */
        if ((out[i].kind == OUT_RESULT || out[i].kind == OUT_DEAD_LETTER) &&
            !out[i].payload)
            out[i].kind = OUT_HAND_BACK;
    }
    /* RabbitMQ deduplicates nothing: a record ingest put again after an
     * indeterminate publish (the broker killed before its confirm) is a
     * second message on `work`, and each copy of a poison record would be
     * dead-lettered -- two `dead_lettered` for one id (no-loss
     * "duplicated", pipeline-rabbitmq seeds 8 and 12 beside stress-ng).
     * So there a dead letter also goes to `results`, in the same confirmed
     * put, and the sink commits it keyed by id (one outcome per id, like a
     * result) and announces it once. */
    int to_sink = on_broker(w);
    crp_qput puts[2 * MAX_BATCH];
    int np = 0, dup[MAX_BATCH] = {0};
    for (int i = 0; i < n; i++) {
        if (out[i].kind == OUT_RESULT || out[i].kind == OUT_DEAD_LETTER)
            puts[np++] =
                (crp_qput){out[i].kind == OUT_RESULT ? "results" : "dlq",
                           msgs[i].id, msgs[i].trace, out[i].payload,
                           out[i].kind == OUT_DEAD_LETTER ? &dup[i] : NULL};
        if (out[i].kind == OUT_DEAD_LETTER && to_sink)
            puts[np++] = (crp_qput){"results", msgs[i].id, msgs[i].trace,
                                    out[i].payload, NULL};
    }
    int rc = crp_qc_put(&w->qc, puts, np);
    if (rc < 0) {
        /* Not committed: acknowledge nothing; the closed connection gives
         * the leases back and the batch is delivered again. */
        crp_log(w->x, "results put failed: %s",
                crp_qc_error(&w->qc)[0] ? crp_qc_error(&w->qc) : strerror(-rc));
        goto out;
    }
    int64_t seq[MAX_BATCH];
    int k = seqs_of(msgs, out, n, OUT_RESULT, seq);
    crp_metric_add(w->m_out, k);
    ack_dead_letters(w, msgs, out, dup, n);
    /* dropped records (defects only) are acknowledged with the results */
    k += seqs_of(msgs, out, n, OUT_DROPPED, seq + k);
    if (!acked && crp_qc_ack(&w->qc, "work", seq, k, 1, NULL) < 0)
        crp_log(
            w->x,
            "ack failed (records will be redelivered; the sink deduplicates)");
    k = seqs_of(msgs, out, n, OUT_HAND_BACK, seq);
    if (crp_qc_ack(&w->qc, "work", seq, k, 0, NULL) < 0)
        crp_log(w->x, "nack failed (the closed connection hands them back)");
out:
    crp_ev_release(w->x->ev);
    if (w->pre_head < w->pre_n)
        feat_close(w); /* answers still due would be read as later calls' */
    for (int i = 0; i < n; i++) {
        free(out[i].payload);
    }
    crp_qc_free_msgs(msgs, n);
    return rc < 0 ? rc : n;
}

int crp_worker_main(crp_ctx *x)
{
    static worker w;
    const crp_conf *c = &x->c;
    w.x = x;
    w.defects = c->defects;
    crp_qc_init(&w.qc, c->queue_addr, 3000);
    crp_qc_set_defects(&w.qc, c->defects);
    crp_qc_set_heartbeat(&w.qc, c->amqp_heartbeat_s);
    crp_conn_init(&w.feat, -1);
    w.rp = (crp_retry){.base_ms = c->retry_base_ms,
                       .max_ms = c->retry_max_ms,
                       .attempts = c->retry_attempts,
                       .factor = c->retry_factor,
                       .full_jitter = strcmp(c->jitter, "full") == 0};
    crp_breaker_init(&w.brk, c->brk_failures, c->brk_open_ms, c->brk_probes);
    break_policies(&w);
    w.brk.on_change = on_breaker;
    w.brk.arg = &w;
    if (strcmp(c->scoring, "remote") == 0) {
        char err[256] = "";
        w.scorer = crp_scorer_create(c, x->ev, err, sizeof err);
        if (!w.scorer) {
            crp_log(x, "remote scoring: %s", err);
            return 1;
        }
    } else {
        crp_msel_init(&w.ms, x);
    }
    crp_http *h = x->http;
    w.m_in =
        crp_http_metric(h, "records_in_total", CRP_COUNTER, "records leased");
    w.m_out = crp_http_metric(h, "records_out_total", CRP_COUNTER,
                              "results committed");
    w.m_fail = crp_http_metric(h, "records_failed_total", CRP_COUNTER,
                               "records that failed processing");
    w.m_retry = crp_http_metric(h, "records_retried_total", CRP_COUNTER,
                                "feature call retries");
    w.m_giveup = crp_http_metric(h, "giveups_total", CRP_COUNTER,
                                 "feature calls given up");
    w.m_rejected = crp_http_metric(h, "rejected_total", CRP_COUNTER,
                                   "calls refused by the breaker");
    w.m_dlq = crp_http_metric(h, "records_dead_lettered_total", CRP_COUNTER,
                              "poison records");
    w.m_degraded = crp_http_metric(h, "degraded", CRP_GAUGE,
                                   "1 while scoring without features");
    w.m_brk = crp_http_metric(h, "breaker_state", CRP_GAUGE,
                              "0 closed, 1 open, 2 half-open");
    w.m_feat_ok = crp_http_metric(h, "feature_ok_total", CRP_COUNTER,
                                  "feature calls answered");
    w.m_feat_fail = crp_http_metric(h, "feature_failed_total", CRP_COUNTER,
                                    "feature calls failed (error, timeout)");
    w.m_lat = crp_http_metric(h, "process_latency_seconds", CRP_HISTO,
                              "per-record processing");
    w.m_feat_lat = crp_http_metric(h, "feature_latency_seconds", CRP_HISTO,
                                   "feature calls");
    w.m_gets = crp_http_metric(h, "gets_total", CRP_COUNTER,
                               "GETs that leased at least one record");
    w.m_empty = crp_http_metric(h, "gets_empty_total", CRP_COUNTER,
                                "GETs that found the queue empty");
    w.m_idle = crp_http_metric(h, "idle_ms_total", CRP_COUNTER,
                               "ms slept after an empty GET");
    crp_log(x, "worker: queue %s, features %s, scoring %s%s%s", c->queue_addr,
            c->feature_addr, c->scoring, w.scorer ? " via registry " : "",
            w.scorer ? c->registry_addr : "");
    crp_ev_emit(x->ev, "ready", NULL);
    int64_t backoff = 50;
    int waiting = 0;
    while (!crp_stop_requested) {
        crp_qc_keepalive(&w.qc);
        if (!w.scorer) {
            crp_msel_poll(&w.ms, x);
        } else if (!crp_scorer_ready(w.scorer)) {
            /* no model server: lease nothing rather than hand it back */
            if (!waiting)
                crp_ev_emit(x->ev, "scoring_unavailable", NULL);
            waiting = 1;
            crp_http_health(h, 0, "no model server");
            crp_sleep_ms(c->idle_ms);
            continue;
        } else if (waiting) {
            waiting = 0;
            crp_ev_emit(x->ev, "scoring_available", NULL);
        }
        int n = batch(&w);
        if (n < 0) {
            if (backoff == 50) /* the first failure of a series */
                crp_log(x, "queue unavailable: %s", crp_qc_error(&w.qc));
            crp_http_health(h, 0, "queue unavailable");
            crp_sleep_ms(backoff);
            backoff = backoff * 2 > 1000 ? 1000 : backoff * 2;
            continue;
        }
        crp_http_health(h, 1, NULL);
        backoff = 50;
        if (n == 0) {
            crp_sleep_ms(c->idle_ms);
            crp_metric_add(w.m_idle, c->idle_ms);
        }
    }
    crp_ev_emit(x->ev, "stopping", NULL);
    crp_qc_close(&w.qc);
    crp_conn_close(&w.feat);
    crp_msel_close(&w.ms);
    crp_scorer_destroy(w.scorer);
    crp_ev_emit(x->ev, "stopped", NULL);
    return 0;
}
