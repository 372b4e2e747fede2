// clang-format off
/* crp_ingest: the front door.  Producers connect over TCP and send
 *   REC <pseq> <json>
 * (after an optional HELLO <producer-id> line).  Each round, ingest takes
 * every complete line from every producer, validates it against the
 * schema (v1 records are upgraded to v2), gives it an id and a trace id,
 * and puts valid records on the `work` queue and invalid ones on the `dlq`
 * queue with the reason - all in one pipelined call that returns only
 * when the queue committed (group commit).  Only then does it emit
 * `accepted` (for every record: valid ones are on the work queue, invalid
 * ones durable in the dead-letter queue) and, for invalid ones,
 * `dead_lettered` with the reason, and answer the producer
 *   ACK <pseq> <id>        or, when the queue is unavailable,
 *   NACK <pseq>            (the producer sends the record again later).
 * The order durable commit -> `accepted` -> ACK is what makes `accepted`
 * a promise.  A kill after the queue committed a record and before its
 * `accepted` (or an answer lost with the queue) leaves a durable record
 * nobody reported: an indeterminate write.  The producer wrote `offered`
 * before it sent the record and sends it again (same id) until it gets
 * an ACK; the queue keeps one copy per id (crp_store.h).  On RabbitMQ
 * (which keeps every copy) an invalid record is also put on `results`
 * and the sink announces `dead_lettered`, once per id. */
// clang-format on
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crp_net.h"
#include "crp_qc.h"
#include "crp_schema.h"
#include "crp_stage.h"
#include "crp_wire.h"

#define MAX_PRODUCERS 16
#define MAX_BATCH     512

typedef struct pending {
    int client;
    long long pseq;
    char id[40], trace[40], span[17];
    char *payload; /* malloc'd: the record (v2) or the dead letter */
    int valid;
    char reason[200];
    double t_in;
} pending;

typedef struct ingest {
    crp_ctx *x;
    crp_conn cl[MAX_PRODUCERS];
    char producer[MAX_PRODUCERS][24]; /* HELLO <producer-id>, or "" */
    crp_qc qc;
    uint64_t epoch, next;
    pending b[MAX_BATCH];
    int nb;
    crp_metric *m_in, *m_acc, *m_dlq, *m_fail, *m_lat;
} ingest;

static void build(ingest *g, int client, char *line)
{
    pending *p = &g->b[g->nb];
    memset(p, 0, sizeof *p);
    p->client = client;
    p->t_in = crp_now();
    char *rest = NULL;
    if (strncmp(line, "HELLO ", 6) == 0) {
        crp_strlcpy(g->producer[client], line + 6, sizeof g->producer[client]);
        return;
    }
    if (strncmp(line, "REC ", 4) != 0 ||
        (p->pseq = strtoll(line + 4, &rest, 10), rest == line + 4) ||
        *rest != ' ')
        return; /* not a record line: ignored (nothing to acknowledge) */
    rest++;
    /* The id is a function of (producer, producer sequence) when the
     * producer said who it is: a record sent again after a lost answer
     * gets the same id, and the sink keeps one copy. */
    char who[sizeof g->producer[0]];
    crp_strlcpy(who, g->producer[client], sizeof who);
    if (who[0])
        snprintf(p->id, sizeof p->id, "%s-%lld", who, p->pseq);
    else
        snprintf(p->id, sizeof p->id, "%08" PRIx64 "-%" PRIu64, g->epoch,
                 g->next++);
    crp_hex_id(&g->x->rng, p->trace, 16);
    /* the root span; the worker's is its child */
    crp_hex_id(&g->x->rng, p->span, 8);
    json_error_t je;
    json_t *rec = json_loads(rest, 0, &je);
    int up = -1;
    if (!rec)
        snprintf(p->reason, sizeof p->reason, "not JSON: %s", je.text);
    else
        up = crp_schema_check(rec, p->reason, sizeof p->reason);
    p->valid = up >= 0;
    if (p->valid) {
        /* The work message: the fields the workers use, in the fixed
         * format (crp_wire.h) rather than a JSON envelope each worker
         * parses again (every number in decimal: most of its time). */
        crp_work w = {.t_in = p->t_in};
        json_t *xa = json_object_get(rec, "x");
        memcpy(w.span, p->span, sizeof w.span);
        w.label = (int)json_integer_value(json_object_get(rec, "label"));
        for (int i = 0; i < CRP_DIM; i++)
            w.x[i] = json_number_value(json_array_get(xa, i));
        json_decref(rec);
        crp_sb b = {0};
        if (crp_work_format(&b, &w) == 0) {
            p->payload = b.s;
            g->nb++;
        } else {
            crp_sb_free(&b);
        }
        return;
    }
    /* an invalid record: a dead letter with the reason and the raw text */
    json_t *out = json_pack("{s:s, s:s, s:s, s:s, s:f, s:b}", "id", p->id,
                            "stage", "ingest", "reason", p->reason, "raw", rest,
                            "t_in", p->t_in, "dead_letter", 1);
    json_decref(rec);
    p->payload = out ? json_dumps(out, JSON_COMPACT) : NULL;
    json_decref(out);
    if (!p->payload)
        return;
    g->nb++;
}

/* Commit the batch to the queue, then tell everyone: the events of the
 * batch in one write, then each producer its answers in one send. */
static void flush(ingest *g)
{
    if (g->nb == 0)
        return;
    /* RabbitMQ deduplicates nothing: a record resent after an ACK that
     * never reached its producer is a second dead letter there.  So on
     * RabbitMQ an invalid record goes to `results` too, in the same
     * confirmed put, and the sink announces it once per id (as the
     * workers' dead letters; crp_sink.c). */
    int to_sink = !strcmp(crp_qc_backend(&g->qc), "amqp");
    crp_qput puts[2 * MAX_BATCH];
    int dup[MAX_BATCH] = {0}, np = 0;
    for (int i = 0; i < g->nb; i++) {
        puts[np++] = (crp_qput){g->b[i].valid ? "work" : "dlq", g->b[i].id,
                                g->b[i].trace, g->b[i].payload, &dup[i]};
        if (!g->b[i].valid && to_sink)
            puts[np++] = (crp_qput){"results", g->b[i].id, g->b[i].trace,
                                    g->b[i].payload, NULL};
    }
    int rc = crp_qc_put(&g->qc, puts, np);
    char buf[128];
    crp_sb answers[MAX_PRODUCERS] = {{0}};
    double now = crp_now();
    crp_ev_hold(g->x->ev, CRP_EV_EVENTS | CRP_EV_SPANS);
    for (int i = 0; i < g->nb; i++) {
        pending *p = &g->b[i];
        if (rc < 0) {
            snprintf(buf, sizeof buf, "NACK %lld\n", p->pseq);
            crp_metric_add(g->m_fail, 1);
        } else {
            /* Every acknowledged record is `accepted` (durable: on the work
             * queue or, invalid, on the dead-letter queue). */
            crp_ev_emit(g->x->ev, "accepted",
                        "\"id\":\"%s\",\"trace_id\":\"%s\",\"latency_ms\":%.3f,"
                        "\"valid\":%s",
                        p->id, p->trace, (now - p->t_in) * 1000,
                        p->valid ? "true" : "false");
            if (p->valid) {
                crp_metric_add(g->m_acc, 1);
            } else if (!to_sink) {
                char esc[400];
                crp_json_esc(esc, sizeof esc, p->reason);
                /* "repeat": the dead-letter queue already had this id (a
                 * resend after an acknowledgement we never sent). */
                crp_ev_emit(g->x->ev, "dead_lettered",
                            "\"id\":\"%s\",\"trace_id\":\"%s\","
                            "\"reason\":\"%s\"%s",
                            p->id, p->trace, esc,
                            dup[i] ? ",\"repeat\":true" : "");
                crp_metric_add(g->m_dlq, 1);
            }
            crp_ev_span(g->x->ev, "ingest", p->trace, p->span, NULL, p->t_in,
                        now, !p->valid);
            crp_metric_observe(g->m_lat, (now - p->t_in) * 1000);
            snprintf(buf, sizeof buf, "ACK %lld %s\n", p->pseq, p->id);
        }
        crp_sb_printf(&answers[p->client], "%s", buf);
        free(p->payload);
    }
    /* `accepted` is written before its ACK leaves: the order that makes it
     * a promise. */
    crp_ev_release(g->x->ev);
    for (int k = 0; k < MAX_PRODUCERS; k++) {
        crp_conn *c = &g->cl[k];
        if (answers[k].len && c->fd >= 0 &&
            crp_conn_send(c, answers[k].s, answers[k].len, 2000) < 0)
            crp_conn_close(c);
        crp_sb_free(&answers[k]);
    }
    if (rc < 0)
        crp_log(g->x, "queue put failed: %s (producers told to resend)",
                crp_qc_error(&g->qc)[0] ? crp_qc_error(&g->qc) : strerror(-rc));
    g->nb = 0;
}

int crp_ingest_main(crp_ctx *x)
{
    static ingest g;
    g.x = x;
    g.epoch = crp_entropy() & 0xffffffffu;
    for (int i = 0; i < MAX_PRODUCERS; i++)
        crp_conn_init(&g.cl[i], -1);
    crp_qc_init(&g.qc, x->c.queue_addr, 3000);
    crp_qc_set_defects(&g.qc, x->c.defects);
    crp_qc_set_heartbeat(&g.qc, x->c.amqp_heartbeat_s);
    int lfd = crp_net_listen_on(x->c.bind, x->c.port);
    if (lfd < 0) {
        crp_log(x, "listen on %s:%d: %s", x->c.bind, x->c.port, strerror(-lfd));
        return 1;
    }
    g.m_in = crp_http_metric(x->http, "records_in_total", CRP_COUNTER,
                             "record lines received");
    g.m_acc = crp_http_metric(x->http, "records_out_total", CRP_COUNTER,
                              "records accepted");
    g.m_dlq = crp_http_metric(x->http, "records_dead_lettered_total",
                              CRP_COUNTER, "invalid records");
    g.m_fail = crp_http_metric(x->http, "records_failed_total", CRP_COUNTER,
                               "records refused (queue down)");
    g.m_lat = crp_http_metric(x->http, "accept_latency_seconds", CRP_HISTO,
                              "receive to durable");
    crp_log(x, "ingest on %s:%d -> queue %s", x->c.bind, x->c.port,
            x->c.queue_addr);
    crp_ev_emit(x->ev, "ready", NULL);
    while (!crp_stop_requested) {
        struct pollfd pfd[MAX_PRODUCERS + 1];
        int idx[MAX_PRODUCERS + 1], n = 0;
        pfd[n] = (struct pollfd){.fd = lfd, .events = POLLIN};
        idx[n++] = -1;
        for (int i = 0; i < MAX_PRODUCERS; i++)
            if (g.cl[i].fd >= 0) {
                pfd[n] = (struct pollfd){.fd = g.cl[i].fd, .events = POLLIN};
                idx[n++] = i;
            }
        int pr = poll(pfd, (nfds_t)n, 200);
        crp_qc_keepalive(&g.qc); /* idle between puts (RabbitMQ) */
        for (int k = 0; pr > 0 && k < n; k++) {
            if (!pfd[k].revents)
                continue;
            if (idx[k] < 0) {
                int fd;
                while ((fd = crp_net_accept(lfd)) >= 0) {
                    int slot = -1;
                    for (int i = 0; i < MAX_PRODUCERS && slot < 0; i++)
                        if (g.cl[i].fd < 0)
                            slot = i;
                    if (slot < 0)
                        close(fd);
                    else {
                        crp_conn_init(&g.cl[slot], fd);
                        g.producer[slot][0] = '\0';
                    }
                }
                continue;
            }
            int r, i = idx[k];
            while ((r = crp_conn_fill(&g.cl[i])) > 0)
                ;
            char *line;
            while (g.nb < MAX_BATCH && crp_conn_next(&g.cl[i], &line)) {
                crp_metric_add(g.m_in, 1);
                build(&g, i, line);
                if (g.nb >= x->c.batch)
                    flush(&g);
            }
            if (r < 0 && g.nb == 0)
                crp_conn_close(&g.cl[i]);
        }
        flush(&g);
    }
    /* Graceful: stop intake, commit and acknowledge what was received. */
    crp_ev_emit(x->ev, "stopping", NULL);
    close(lfd);
    for (int i = 0; i < MAX_PRODUCERS; i++) {
        char *line;
        crp_conn_fill(&g.cl[i]);
        while (g.cl[i].fd >= 0 && g.nb < MAX_BATCH &&
               crp_conn_next(&g.cl[i], &line))
            build(&g, i, line);
    }
    flush(&g);
    for (int i = 0; i < MAX_PRODUCERS; i++)
        crp_conn_close(&g.cl[i]);
    crp_qc_close(&g.qc);
    crp_ev_emit(x->ev, "stopped", NULL);
    return 0;
}
