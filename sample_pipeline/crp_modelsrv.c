// clang-format off
/* crp_modelsrv: the model server.  Scoring moved out of the worker: a
 * worker with --scoring remote sends each record's normalised features
 * here and gets the score back.
 *   S <reqid> <x0,...,x15> <e0,...,e3 | ->  ->  OK <reqid> <score> <label>
 *                                             | ERR <reqid> <why>
 *   PING  ->  PONG                             (the registry's health check)
 * It loads the model exactly as the worker does (crp_modelsel: built-in,
 * --model, or --store following the current model).  A heartbeat thread
 * registers it in the registry (service --reg-service, this instance,
 * the --advertise address, --priority, --region) and heartbeats every
 * --heartbeat-ms, registering again when the registry forgot it (it
 * restarted); a graceful stop deregisters it first, so workers leave it
 * before it goes.  Several run side by side (a primary and a standby, or
 * N replicas, possibly in different regions).
 *
 * Events: `served` {n, reqid}: the first request after 100 ms without
 * any is announced at once (so a checker sees the first success of a
 * standby to the millisecond), the following ones are counted and
 * announced at most every 100 ms — a few events per second, not one per
 * request.  `registered` {registry, addr} on each (re)registration. */
// clang-format on
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crp_model.h"
#include "crp_modelsel.h"
#include "crp_net.h"
#include "crp_regc.h"
#include "crp_stage.h"

#define SERVED_MS 100

typedef struct msrv {
    crp_ctx *x;
    crp_msel ms;
    char addr[CRP_STR]; /* advertised */
    crp_metric *m_req, *m_err, *m_lat, *m_reg;
    /* served events */
    int64_t last_emit;
    long long pending;
    /* heartbeat thread */
    pthread_t hb;
    volatile int hb_stop;
    int registered;
} msrv;

/* The address workers reach this instance at: --advertise, else the host
 * of $CHAOSRUN_ADDR_<SERVICE> (the harness's address of this service: its
 * host's on a chaosrun host), else the bind address (127.0.0.1 for
 * 0.0.0.0), with this replica's port. */
static void advertise(const crp_conf *c, char *out, size_t n)
{
    char key[128], host[128] = "";
    if (c->advertise[0]) {
        crp_strlcpy(out, c->advertise, n);
        return;
    }
    int k = snprintf(key, sizeof key, "CHAOSRUN_ADDR_");
    for (const char *p = c->svc; *p && k < (int)sizeof key - 1; p++)
        key[k++] = (*p == '-' || *p == '.')   ? '_'
                   : (*p >= 'a' && *p <= 'z') ? (char)(*p - 32)
                                              : *p;
    key[k] = '\0';
    const char *v = getenv(key);
    const char *colon = v ? strrchr(v, ':') : NULL;
    if (colon && (size_t)(colon - v) < sizeof host) {
        memcpy(host, v, (size_t)(colon - v));
        host[colon - v] = '\0';
    } else {
        crp_strlcpy(host, strcmp(c->bind, "0.0.0.0") ? c->bind : "127.0.0.1",
                    sizeof host);
    }
    snprintf(out, n, "%.127s:%d", host, c->port);
}

static void *heartbeat_main(void *arg)
{
    /* SIGTERM/SIGINT go to the main thread, whose loop must see them */
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    msrv *m = arg;
    const crp_conf *c = &m->x->c;
    crp_regc rc;
    int failing = 0;
    crp_regc_init(&rc, c->registry_addr, c->heartbeat_ms > 500 ? 500 : 300);
    while (!m->hb_stop) {
        int r = m->registered ? crp_regc_heartbeat(&rc, c->reg_service, c->inst)
                              : -ENOENT;
        if (r == -ENOENT) {
            r = crp_regc_register(&rc, c->reg_service, c->inst, m->addr,
                                  c->priority, c->region);
            if (r == 0) {
                m->registered = 1;
                crp_metric_add(m->m_reg, 1);
                crp_ev_emit(m->x->ev, "registered",
                            "\"registry\":\"%s\",\"addr\":\"%s\","
                            "\"service\":\"%s\"",
                            c->registry_addr, m->addr, c->reg_service);
                crp_log(m->x, "registered as %s %s at %s", c->reg_service,
                        c->inst, m->addr);
            }
        }
        if (r < 0 && !failing)
            crp_log(m->x, "registry %s: %s (will keep trying)",
                    c->registry_addr,
                    r == -EPROTO ? "registration refused" : strerror(-r));
        failing = r < 0;
        crp_sleep_ms(c->heartbeat_ms);
    }
    if (m->registered)
        crp_regc_deregister(&rc, c->reg_service, c->inst);
    crp_regc_close(&rc);
    return NULL;
}

/* Parse "a,b,c" into n doubles.  0 or -1. */
static int parse_vec(const char *s, double *v, int n)
{
    char *end;
    for (int i = 0; i < n; i++) {
        v[i] = strtod(s, &end);
        if (end == s || (i + 1 < n && *end != ','))
            return -1;
        s = end + 1;
    }
    return *end == '\0' ? 0 : -1;
}

static void served(msrv *m, const char *reqid)
{
    int64_t now = crp_mono_ms();
    if (m->pending == 0 && now - m->last_emit >= SERVED_MS) {
        crp_ev_emit(m->x->ev, "served", "\"n\":1,\"reqid\":\"%s\"", reqid);
        m->last_emit = now;
    } else {
        m->pending++;
    }
}

static void flush_served(msrv *m)
{
    int64_t now = crp_mono_ms();
    if (m->pending > 0 && now - m->last_emit >= SERVED_MS) {
        crp_ev_emit(m->x->ev, "served", "\"n\":%lld", m->pending);
        m->pending = 0;
        m->last_emit = now;
    }
}

static void answer(msrv *m, crp_conn *c, char *line)
{
    char out[256], reqid[96] = "-";
    double t0 = crp_now();
    if (strcmp(line, "PING") == 0) {
        snprintf(out, sizeof out, "PONG\n");
    } else {
        char xs[900], es[300];
        double x[CRP_DIM], e[CRP_EXTRA];
        int ok = sscanf(line, "S %95s %899s %299s", reqid, xs, es) == 3 &&
                 parse_vec(xs, x, CRP_DIM) == 0 &&
                 (strcmp(es, "-") == 0 || parse_vec(es, e, CRP_EXTRA) == 0);
        if (!ok) {
            crp_metric_add(m->m_err, 1);
            snprintf(out, sizeof out, "ERR %s bad request\n", reqid);
        } else {
            double p =
                crp_model_score(&m->ms.model, x, strcmp(es, "-") ? e : NULL);
            snprintf(out, sizeof out, "OK %s %.17g %d\n", reqid, p, p >= 0.5);
            crp_metric_add(m->m_req, 1);
            crp_metric_observe(m->m_lat, (crp_now() - t0) * 1000);
            served(m, reqid);
        }
    }
    if (crp_conn_send(c, out, strlen(out), 1000) < 0)
        crp_conn_close(c);
}

static int on_client(void *ctx, crp_conn *c)
{
    char *line;
    while (c->fd >= 0 && crp_conn_next(c, &line))
        answer(ctx, c, line);
    return 0;
}

int crp_modelsrv_main(crp_ctx *x)
{
    static msrv m;
    static crp_lsrv srv;
    const crp_conf *c = &x->c;
    int rc = 1;
    m.x = x;
    int lfd = crp_net_listen_on(c->bind, c->port);
    if (lfd < 0) {
        crp_log(x, "listen on %s:%d: %s", c->bind, c->port, strerror(-lfd));
        return 1;
    }
    crp_lsrv_init(&srv, lfd);
    crp_msel_init(&m.ms, x);
    advertise(c, m.addr, sizeof m.addr);
    m.m_req = crp_http_metric(x->http, "requests_total", CRP_COUNTER,
                              "scoring requests answered");
    m.m_err = crp_http_metric(x->http, "errors_total", CRP_COUNTER,
                              "malformed requests");
    m.m_lat = crp_http_metric(x->http, "score_latency_seconds", CRP_HISTO,
                              "per-request scoring");
    m.m_reg = crp_http_metric(x->http, "registrations_total", CRP_COUNTER,
                              "(re)registrations in the registry");
    m.last_emit = crp_mono_ms() - SERVED_MS;
    int e = pthread_create(&m.hb, NULL, heartbeat_main, &m);
    if (e != 0) {
        crp_log(x, "heartbeat thread: %s", strerror(e));
        goto out;
    }
    crp_log(x, "model server on %s:%d (advertised %s, priority %d, region %s)",
            c->bind, c->port, m.addr, c->priority,
            c->region[0] ? c->region : "-");
    crp_ev_emit(x->ev, "ready", "\"addr\":\"%s\"", m.addr);
    while (!crp_stop_requested) {
        int pr = crp_lsrv_wait(&srv, SERVED_MS / 2);
        flush_served(&m);
        crp_msel_poll(&m.ms, x);
        if (pr > 0)
            crp_lsrv_serve(&srv, on_client, &m);
    }
    rc = 0;
    crp_ev_emit(x->ev, "stopping", NULL);
    /* deregister first: workers leave before the connections close */
    m.hb_stop = 1;
    pthread_join(m.hb, NULL);
    m.last_emit = 0;
    flush_served(&m);
out:
    crp_lsrv_close(&srv);
    crp_msel_close(&m.ms);
    if (rc == 0)
        crp_ev_emit(x->ev, "stopped", NULL);
    return rc;
}
