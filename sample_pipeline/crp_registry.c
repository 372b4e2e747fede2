/* crp_registry: service discovery for the model servers.  Instances
 * register (service, instance, address, priority, region) and heartbeat;
 * a probe thread also checks each one actively (connect + PING -> PONG
 * within --probe-timeout-ms, every --probe-ms); an instance is healthy
 * when both hold (crp_regtab.h).  `LIST <service>` answers the healthy
 * ones in preference order.  Protocol: crp_regc.h.
 *
 * Why the table lives in memory and not in SQLite: every row is soft
 * state that its owner refreshes several times a second.  After a
 * registry restart the instances re-register on their next heartbeat
 * (HB -> UNKNOWN -> REG), so persisting would only resurrect instances
 * that died while the registry was down, with heartbeat times that mean
 * nothing to the new process.  What a restarted registry lacks is a
 * complete view, and that is handled in time, not on disk: for
 * --warmup-ms after a start LIST answers WARMING and clients keep their
 * last known set.  The same holds after a stall (the loop did not run
 * for longer than --hb-timeout-ms: SIGSTOP, a frozen VM): every heartbeat
 * then looks stale through no fault of the instances, so the registry
 * warms up again instead of declaring them all dead.
 *
 * Every time of the table (registration, heartbeat, their age: health and
 * expiry) and the warm-up are read from CLOCK_MONOTONIC: a lease measures
 * elapsed time, and the wall clock steps (NTP, an operator, a VM resumed)
 * and drifts.  With the defect registry_wall_clock the lease times come
 * from CLOCK_REALTIME instead (the loop's own stall check stays
 * monotonic): a step of the registry's wall clock then ages every
 * heartbeat at once.
 *
 * Events: `ready`, `instance_healthy` / `instance_unhealthy` {service,
 * instance, addr, reason} on every health transition, `warming` {reason:
 * start | stall, gap_ms}, `stopping`, `stopped`. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crp_net.h"
#include "crp_regtab.h"
#include "crp_stage.h"

typedef struct reg {
    crp_ctx *x;
    pthread_mutex_t lock; /* guards t */
    crp_regtab t;
    int64_t warm_until;
    volatile int stop;
    int wall_leases; /* defect registry_wall_clock */
    crp_metric *m_reg, *m_hb, *m_list, *m_probe_fail, *m_healthy;
} reg;

/* One active check: connect, PING, PONG.  1 healthy, 0 not. */
static int probe(const char *addr, int timeout_ms)
{
    crp_conn c;
    char *line = NULL;
    int fd = crp_net_connect(addr, timeout_ms), ok = 0;
    if (fd < 0)
        return 0;
    crp_conn_init(&c, fd);
    if (crp_conn_send(&c, "PING\n", 5, timeout_ms) == 0 &&
        crp_conn_readline(&c, &line, timeout_ms) == 1 && !strcmp(line, "PONG"))
        ok = 1;
    crp_conn_close(&c);
    return ok;
}

static void *probe_main(void *arg)
{
    /* SIGTERM/SIGINT go to the main thread, whose loop must see them */
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    reg *g = arg;
    const crp_conf *c = &g->x->c;
    while (!g->stop) {
        crp_reg_ent snap[CRP_REG_MAX];
        pthread_mutex_lock(&g->lock);
        int n = g->t.n;
        memcpy(snap, g->t.e, sizeof snap[0] * (size_t)n);
        pthread_mutex_unlock(&g->lock);
        int64_t t0 = crp_mono_ms();
        for (int i = 0; i < n && !g->stop; i++) {
            int ok = probe(snap[i].addr, c->probe_timeout_ms);
            if (!ok)
                crp_metric_add(g->m_probe_fail, 1);
            pthread_mutex_lock(&g->lock);
            crp_regtab_probe_result(&g->t, snap[i].svc, snap[i].inst,
                                    snap[i].addr, ok);
            pthread_mutex_unlock(&g->lock);
        }
        int64_t left = c->probe_ms - (crp_mono_ms() - t0);
        if (left > 0)
            crp_sleep_ms(left);
    }
    return NULL;
}

static void on_change(void *arg, const crp_reg_ent *e, int healthy,
                      const char *why)
{
    reg *g = arg;
    crp_ev_emit(g->x->ev, healthy ? "instance_healthy" : "instance_unhealthy",
                "\"service\":\"%s\",\"instance\":\"%s\",\"addr\":\"%s\","
                "\"reason\":\"%s\"",
                e->svc, e->inst, e->addr, healthy ? "ok" : why);
    crp_log(g->x, "%s %s at %s: %s", e->svc, e->inst, e->addr,
            healthy ? "healthy" : why);
}

/* The clock of the leases, in ms: monotonic; the wall clock with the
 * defect registry_wall_clock. */
static int64_t lease_now(const reg *g)
{
    return g->wall_leases ? (int64_t)(crp_now() * 1000) : crp_mono_ms();
}

/* Answer one command line into b.  Called with the lock held.  mono: the
 * monotonic clock (warm-up); now: the leases' clock. */
static void command(reg *g, char *line, int64_t mono, int64_t now, crp_sb *b)
{
    char a[5][CRP_REG_ADDR];
    int prio = 0;
    if (!strcmp(line, "PING")) {
        crp_sb_printf(b, "PONG\n");
    } else if (sscanf(line, "REG %127s %127s %127s %d %127s", a[0], a[1], a[2],
                      &prio, a[3]) == 5) {
        int rc = crp_regtab_register(&g->t, a[0], a[1], a[2], prio,
                                     strcmp(a[3], "-") ? a[3] : "-", now);
        crp_metric_add(g->m_reg, 1);
        if (rc == 0)
            crp_sb_printf(b, "OK\n");
        else
            crp_sb_printf(b, "ERR %s\n",
                          rc == -ENOSPC ? "table full" : "bad registration");
    } else if (sscanf(line, "HB %127s %127s", a[0], a[1]) == 2) {
        crp_metric_add(g->m_hb, 1);
        crp_sb_printf(b, "%s\n",
                      crp_regtab_heartbeat(&g->t, a[0], a[1], now) == 0
                          ? "OK"
                          : "UNKNOWN");
    } else if (sscanf(line, "DEREG %127s %127s", a[0], a[1]) == 2) {
        crp_sb_printf(b, "%s\n",
                      crp_regtab_remove(&g->t, a[0], a[1]) == 0 ? "OK"
                                                                : "UNKNOWN");
    } else if (sscanf(line, "LIST %127s", a[0]) == 1) {
        crp_metric_add(g->m_list, 1);
        if (mono < g->warm_until) {
            crp_sb_printf(b, "WARMING\n");
            return;
        }
        int idx[CRP_REG_MAX];
        int k = crp_regtab_list(&g->t, a[0], now, idx, CRP_REG_MAX);
        crp_sb_printf(b, "LIST %d\n", k);
        for (int i = 0; i < k; i++) {
            const crp_reg_ent *e = &g->t.e[idx[i]];
            crp_sb_printf(b, "I %s %s %d %s\n", e->inst, e->addr, e->prio,
                          e->region);
        }
    } else {
        crp_sb_printf(b, "ERR unknown command\n");
    }
}

/* Answers are gathered under the table's lock and sent after it. */
static int on_client(void *ctx, crp_conn *c)
{
    reg *g = ctx;
    char *line;
    crp_sb b = {0};
    int rc = 0;
    int64_t mono = crp_mono_ms(), now = lease_now(g);
    pthread_mutex_lock(&g->lock);
    while (c->fd >= 0 && crp_conn_next(c, &line))
        command(g, line, mono, now, &b);
    pthread_mutex_unlock(&g->lock);
    if (b.len && crp_conn_send(c, b.s, b.len, 1000) < 0)
        rc = -EPIPE;
    crp_sb_free(&b);
    return rc;
}

int crp_registry_main(crp_ctx *x)
{
    static reg g;
    static crp_lsrv srv;
    const crp_conf *c = &x->c;
    pthread_t th;
    int rc = 1, th_ok = 0;
    g.x = x;
    g.wall_leases = !!(c->defects & CRP_DEFECT_REGISTRY_WALL_CLOCK);
    pthread_mutex_init(&g.lock, NULL);
    crp_regtab_init(&g.t, c->hb_timeout_ms, c->probe_failures,
                    30000 > 10LL * c->hb_timeout_ms ? 30000
                                                    : 10LL * c->hb_timeout_ms);
    int lfd = crp_net_listen_on(c->bind, c->port);
    if (lfd < 0) {
        crp_log(x, "listen on %s:%d: %s", c->bind, c->port, strerror(-lfd));
        pthread_mutex_destroy(&g.lock);
        return 1;
    }
    crp_lsrv_init(&srv, lfd);
    g.m_reg = crp_http_metric(x->http, "registrations_total", CRP_COUNTER,
                              "REG commands");
    g.m_hb = crp_http_metric(x->http, "heartbeats_total", CRP_COUNTER,
                             "HB commands");
    g.m_list =
        crp_http_metric(x->http, "lists_total", CRP_COUNTER, "LIST commands");
    g.m_probe_fail = crp_http_metric(x->http, "probe_failures_total",
                                     CRP_COUNTER, "failed health checks");
    g.m_healthy = crp_http_metric(x->http, "instances_healthy", CRP_GAUGE,
                                  "healthy instances (all services)");
    int e = pthread_create(&th, NULL, probe_main, &g);
    if (e != 0) {
        crp_log(x, "probe thread: %s", strerror(e));
        goto out;
    }
    th_ok = 1;
    int64_t last = crp_mono_ms();
    g.warm_until = last + c->warmup_ms;
    crp_ev_emit(x->ev, "warming", "\"reason\":\"start\",\"ms\":%d",
                c->warmup_ms);
    crp_log(x, "registry on %s:%d", c->bind, c->port);
    crp_ev_emit(x->ev, "ready", NULL);
    while (!crp_stop_requested) {
        int pr = crp_lsrv_wait(&srv, 50);
        int64_t mono = crp_mono_ms(), now = lease_now(&g);
        pthread_mutex_lock(&g.lock);
        if (mono - last > c->hb_timeout_ms) {
            /* we did not run for a while: every heartbeat looks stale */
            g.warm_until = mono + c->warmup_ms;
            for (int i = 0; i < g.t.n; i++)
                g.t.e[i].hb_ms = now;
            crp_ev_emit(x->ev, "warming",
                        "\"reason\":\"stall\",\"gap_ms\":%" PRId64 ",\"ms\":%d",
                        mono - last, c->warmup_ms);
            crp_log(x, "loop stalled %" PRId64 " ms: warming up again",
                    mono - last);
        }
        last = mono;
        crp_regtab_expire(&g.t, now);
        crp_regtab_changes(&g.t, now, on_change, &g);
        int healthy = 0;
        for (int i = 0; i < g.t.n; i++)
            healthy += crp_regtab_healthy(&g.t, &g.t.e[i], now, NULL);
        crp_metric_set(g.m_healthy, healthy);
        pthread_mutex_unlock(&g.lock);
        if (pr > 0)
            crp_lsrv_serve(&srv, on_client, &g);
    }
    rc = 0;
    crp_ev_emit(x->ev, "stopping", NULL);
out:
    g.stop = 1;
    if (th_ok)
        pthread_join(th, NULL);
    crp_lsrv_close(&srv);
    pthread_mutex_destroy(&g.lock);
    if (rc == 0)
        crp_ev_emit(x->ev, "stopped", NULL);
    return rc;
}
