/* crp_produce: the workload generator.  Sends seeded synthetic records to
 * ingest at a chosen rate: two classes in 16 dimensions, a fraction in the
 * legacy schema v1, a fraction malformed (each kind of schema violation),
 * a fraction poison (valid, but all-zero x: the worker cannot normalise
 * them).  At-least-once towards ingest: a record stays in the send window
 * until ingest answers ACK; on NACK or a lost connection it is sent again.
 * Stops after --count records or --duration-s seconds, waits for the last
 * acknowledgements, emits `workload_done`, then idles until SIGTERM (or
 * exits with --exit-when-done 1).
 *
 * `offered` {id} is written before a record is first handed to ingest
 * (the attempt; Jepsen's :invoke): the write that follows may be lost,
 * done, or done without anyone saying so (ingest killed after the queue
 * committed it and before `accepted`).  With it a checker can tell such
 * an indeterminate write, delivered but never `accepted`, from a record
 * that nobody ever offered.  The id is the one ingest derives,
 * <producer-id>-<pseq>; a record sent again keeps it and is not offered
 * again. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crp_model.h"
#include "crp_net.h"
#include "crp_stage.h"

typedef struct slot {
    long long pseq; /* -1: free */
    char *line;
    int sent;    /* sent on the current connection */
    int offered; /* `offered` written (before its first send) */
} slot;

static char *make_record(crp_rng *r, const crp_conf *c, long long i)
{
    double x[CRP_DIM];
    int label;
    crp_model_gen(r, x, &label);
    double u = crp_rng_unit(r), kind = crp_rng_unit(r);
    int v1 = crp_rng_unit(r) < c->v1;
    crp_sb b = {0};
    if (u < c->malformed) {
        switch ((int)(kind * 6)) {
        case 0:
            crp_sb_printf(&b, "{\"schema\":2,\"src\":\"gen\",\"x\":[1,2");
            break;
        case 1:
            crp_sb_printf(
                &b, "{\"schema\":2,\"src\":\"gen\",\"ts\":%lld,\"label\":1}",
                i);
            break;
        case 2:
            crp_sb_printf(&b,
                          "{\"schema\":2,\"src\":\"gen\",\"ts\":%lld,\"label\":"
                          "7,\"x\":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1]}",
                          i);
            break;
        case 3:
            crp_sb_printf(&b,
                          "{\"schema\":2,\"src\":\"gen\",\"ts\":%lld,\"label\":"
                          "1,\"x\":[1,2,3]}",
                          i);
            break;
        case 4:
            crp_sb_printf(&b, "{\"schema\":9,\"src\":\"gen\",\"ts\":%lld}", i);
            break;
        default:
            crp_sb_printf(&b,
                          "{\"schema\":2,\"src\":\"gen\",\"ts\":%lld,\"label\":"
                          "0,\"x\":[1e9,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}",
                          i);
            break;
        }
        return b.s;
    }
    if (u < c->malformed + c->poison)
        for (int k = 0; k < CRP_DIM; k++)
            x[k] = 0;
    if (v1)
        crp_sb_printf(&b,
                      "{\"schema\":1,\"source\":\"gen\",\"time\":%lld,"
                      "\"class\":\"%s\",\"features\":[",
                      i, label ? "b" : "a");
    else
        crp_sb_printf(
            &b,
            "{\"schema\":2,\"src\":\"gen\",\"ts\":%lld,\"label\":%d,\"x\":[", i,
            label);
    for (int k = 0; k < CRP_DIM; k++)
        crp_sb_printf(&b, "%s%.6f", k ? "," : "", x[k]);
    crp_sb_printf(&b, "]}");
    return b.s;
}

int crp_produce_main(crp_ctx *x)
{
    const crp_conf *c = &x->c;
    int W = c->window, rc = 0;
    slot *win = calloc((size_t)W, sizeof *win);
    crp_conn conn;
    crp_conn_init(&conn, -1);
    crp_rng gen;
    crp_rng_seed(&gen, (uint64_t)c->seed * 7919 + 17);
    if (!win)
        return 1;
    for (int i = 0; i < W; i++)
        win[i].pseq = -1;
    crp_metric *m_sent =
        crp_http_metric(x->http, "records_out_total", CRP_COUNTER,
                        "records sent (incl. resends)");
    crp_metric *m_acked = crp_http_metric(x->http, "records_in_total",
                                          CRP_COUNTER, "records acknowledged");
    crp_metric *m_resent = crp_http_metric(x->http, "records_retried_total",
                                           CRP_COUNTER, "records sent again");
    crp_ev_emit(x->ev, "ready", NULL);
    long long made = 0, acked = 0, inflight = 0;
    char pid[20]; /* this producer's identity: ids are <pid>-<sequence> */
    crp_rng idr;
    crp_rng_seed(&idr, crp_entropy());
    crp_hex_id(&idr, pid, 4);
    int64_t t_start = crp_mono_ms(), backoff = 50, next_connect = 0;
    int done_reported = 0;
    while (!crp_stop_requested) {
        int64_t now = crp_mono_ms();
        double el = (double)(now - t_start) / 1000.0;
        int more = (c->count == 0 || made < c->count) &&
                   (c->duration_s <= 0 || el < c->duration_s);
        if (!more && inflight == 0) {
            if (!done_reported) {
                crp_ev_emit(x->ev, "workload_done",
                            "\"sent\":%lld,\"acked\":%lld", made, acked);
                crp_log(x, "workload done: %lld records, all acknowledged",
                        made);
                done_reported = 1;
                if (c->exit_when_done)
                    break;
            }
            crp_sleep_ms(200);
            continue;
        }
        if (conn.fd < 0 && now >= next_connect) {
            int fd = crp_net_connect(c->ingest_addr, 1000);
            if (fd < 0) {
                next_connect = now + backoff;
                backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
            } else {
                crp_conn_init(&conn, fd);
                backoff = 50;
                char hello[64];
                int hl = snprintf(hello, sizeof hello, "HELLO %s\n", pid);
                if (crp_conn_send(&conn, hello, (size_t)hl, 1000) < 0)
                    crp_conn_close(&conn);
                for (int i = 0; i < W; i++)
                    win[i].sent = 0; /* resend everything unacknowledged */
            }
        }
        /* new records, paced by the rate */
        long long due = (long long)(el * c->rate) + 1;
        while (more && made < due && inflight < W &&
               (c->count == 0 || made < c->count)) {
            slot *s = &win[made % W];
            if (s->pseq >= 0)
                break;
            s->pseq = made;
            s->line = make_record(&gen, c, made);
            s->sent = 0;
            s->offered = 0;
            made++;
            inflight++;
        }
        if (conn.fd >= 0) {
            crp_sb b = {0};
            crp_ev_hold(x->ev, CRP_EV_EVENTS); /* released before the send */
            for (long long k = made - W < 0 ? 0 : made - W; k < made; k++) {
                slot *s = &win[k % W];
                if (s->pseq == k && !s->sent) {
                    /* the event before the bytes leave: it precedes any
                     * `accepted` of this id in the event file */
                    if (!s->offered)
                        crp_ev_emit(x->ev, "offered", "\"id\":\"%s-%lld\"", pid,
                                    s->pseq);
                    s->offered = 1;
                    crp_sb_printf(&b, "REC %lld %s\n", s->pseq, s->line);
                    if (s->sent == 0 && s->line && b.len)
                        crp_metric_add(m_sent, 1);
                    s->sent = 1;
                }
            }
            crp_ev_release(x->ev);
            if (b.len && crp_conn_send(&conn, b.s, b.len, 2000) < 0)
                crp_conn_close(&conn);
            crp_sb_free(&b);
        }
        if (conn.fd >= 0) {
            struct pollfd p = {.fd = conn.fd, .events = POLLIN};
            poll(&p, 1, 5);
            int r;
            while ((r = crp_conn_fill(&conn)) > 0)
                ;
            char *line;
            while (crp_conn_next(&conn, &line)) {
                long long q = -1;
                if (sscanf(line, "ACK %lld", &q) == 1 && q >= 0 &&
                    win[q % W].pseq == q) {
                    free(win[q % W].line);
                    win[q % W].line = NULL;
                    win[q % W].pseq = -1;
                    inflight--;
                    acked++;
                    crp_metric_add(m_acked, 1);
                } else if (sscanf(line, "NACK %lld", &q) == 1 && q >= 0 &&
                           win[q % W].pseq == q) {
                    win[q % W].sent = 0;
                    crp_metric_add(m_resent, 1);
                    crp_sleep_ms(20);
                }
            }
            if (r < 0) {
                crp_conn_close(&conn);
                next_connect = crp_mono_ms() + 50;
            }
        } else {
            crp_sleep_ms(10);
        }
    }
    crp_ev_emit(x->ev, "stopping", NULL);
    crp_conn_close(&conn);
    for (int i = 0; i < W; i++)
        free(win[i].line);
    free(win);
    crp_ev_emit(x->ev, "stopped", NULL);
    return rc;
}
