/* crp_scorer: see crp_scorer.h. */
#include "crp_scorer.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crp_model.h"
#include "crp_net.h"
#include "crp_regc.h"
#include "crp_route.h"
#include "crp_util.h"

struct crp_scorer {
    crp_ev *ev;
    char svc[CRP_STR], registry[CRP_STR], inst[64];
    int timeout_ms, refresh_ms, forgets;
    pthread_mutex_t lock; /* guards route, unreachable */
    crp_route route;
    int unreachable;
    int64_t down_since;
    pthread_t th;
    int th_started;
    volatile int stop;
    /* main thread only */
    crp_conn conn;
    char conn_inst[64], conn_addr[128];
    uint64_t seq;
};

static void refresh(crp_scorer *s)
{
    crp_rinst v[CRP_ROUTE_MAX];
    crp_regc rc;
    crp_regc_init(&rc, s->registry, s->timeout_ms);
    while (!s->stop) {
        int n = crp_regc_list(&rc, s->svc, v, CRP_ROUTE_MAX);
        int64_t now = crp_mono_ms();
        pthread_mutex_lock(&s->lock);
        if (n >= 0 || n == -EAGAIN) {
            /* WARMING (-EAGAIN): the registry is up but its view is not
             * yet complete: keep the set we have */
            if (n >= 0)
                crp_route_set(&s->route, v, n);
            if (s->unreachable) {
                s->unreachable = 0;
                crp_ev_emit(s->ev, "registry_restored",
                            "\"registry\":\"%s\",\"down_ms\":%" PRId64,
                            s->registry, now - s->down_since);
            }
        } else if (!s->unreachable) {
            s->unreachable = 1;
            s->down_since = now;
            crp_ev_emit(s->ev, "registry_unreachable",
                        "\"registry\":\"%s\",\"error\":\"%s\",\"kept\":%d",
                        s->registry, strerror(-n), s->forgets ? 0 : s->route.n);
            if (s->forgets) /* DEFECT (tests only) */
                crp_route_forget(&s->route);
        }
        pthread_mutex_unlock(&s->lock);
        crp_sleep_ms(s->refresh_ms);
    }
    crp_regc_close(&rc);
}

static void *refresh_main(void *arg)
{
    /* SIGTERM/SIGINT go to the main thread, whose loop must see them */
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    refresh(arg);
    return NULL;
}

crp_scorer *crp_scorer_create(const crp_conf *c, crp_ev *ev, char *err,
                              size_t n)
{
    crp_scorer *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    s->ev = ev;
    crp_strlcpy(s->svc, c->reg_service, sizeof s->svc);
    crp_strlcpy(s->registry, c->registry_addr, sizeof s->registry);
    crp_strlcpy(s->inst, c->inst, sizeof s->inst);
    s->timeout_ms = c->score_timeout_ms;
    s->refresh_ms = c->refresh_ms;
    s->forgets = !!(c->defects & CRP_DEFECT_REGISTRY_FORGETS);
    crp_route_init(&s->route, c->region, c->failback, c->down_ms,
                   !!(c->defects & CRP_DEFECT_NO_FAILOVER));
    crp_conn_init(&s->conn, -1);
    pthread_mutex_init(&s->lock, NULL);
    int rc = pthread_create(&s->th, NULL, refresh_main, s);
    if (rc != 0) {
        snprintf(err, n, "registry refresh thread: %s", strerror(rc));
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
    }
    s->th_started = 1;
    return s;
}

void crp_scorer_destroy(crp_scorer *s)
{
    if (!s)
        return;
    s->stop = 1;
    if (s->th_started)
        pthread_join(s->th, NULL);
    crp_conn_close(&s->conn);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

int crp_scorer_ready(crp_scorer *s)
{
    pthread_mutex_lock(&s->lock);
    int ok = crp_route_available(&s->route, crp_mono_ms());
    pthread_mutex_unlock(&s->lock);
    return ok;
}

/* One attempt on instance to.  0 with *score, or -errno with a reason. */
static int attempt(crp_scorer *s, const crp_rinst *to, const char *req,
                   size_t len, const char *reqid, double *score,
                   const char **why)
{
    int rc;
    char *line = NULL;
    if (s->conn.fd >= 0 && (strcmp(s->conn_inst, to->inst) != 0 ||
                            strcmp(s->conn_addr, to->addr) != 0))
        crp_conn_close(&s->conn); /* never read the old server again */
    if (s->conn.fd < 0) {
        int fd = crp_net_connect(to->addr, s->timeout_ms);
        if (fd < 0) {
            *why = fd == -ETIMEDOUT      ? "timeout"
                   : fd == -ECONNREFUSED ? "refused"
                                         : "error";
            return fd;
        }
        crp_conn_init(&s->conn, fd);
        crp_strlcpy(s->conn_inst, to->inst, sizeof s->conn_inst);
        crp_strlcpy(s->conn_addr, to->addr, sizeof s->conn_addr);
    }
    int64_t deadline = crp_mono_ms() + s->timeout_ms;
    rc = crp_conn_send(&s->conn, req, len, s->timeout_ms);
    size_t idlen = strlen(reqid);
    while (rc == 0) {
        int64_t left = deadline - crp_mono_ms();
        rc = left > 0 ? crp_conn_readline(&s->conn, &line, (int)left) : 0;
        if (rc == 0) {
            rc = -ETIMEDOUT;
            break;
        }
        if (rc < 0)
            break;
        rc = 0;
        /* answers are matched by reqid; anything else is not ours */
        if (strncmp(line, "OK ", 3) == 0 &&
            strncmp(line + 3, reqid, idlen) == 0 && line[3 + idlen] == ' ') {
            if (sscanf(line + 4 + idlen, "%lf", score) == 1)
                return 0;
            rc = -EPROTO;
        } else if (strncmp(line, "ERR ", 4) == 0 &&
                   strncmp(line + 4, reqid, idlen) == 0) {
            rc = -EPROTO;
        }
    }
    *why = rc == -ETIMEDOUT                    ? "timeout"
           : rc == -ECONNRESET || rc == -EPIPE ? "closed"
                                               : "error";
    /* a reset, not a FIN: the request must not reach the server later */
    crp_conn_abort(&s->conn);
    return rc;
}

int crp_scorer_score(crp_scorer *s, const double *x, const double *extra,
                     double *score, int *failed_over)
{
    char req[1024], reqid[96];
    snprintf(reqid, sizeof reqid, "%.60s-%" PRIu64, s->inst, ++s->seq);
    int len = snprintf(req, sizeof req, "S %s ", reqid);
    for (int i = 0; i < CRP_DIM; i++)
        len += snprintf(req + len, sizeof req - (size_t)len, "%s%.17g",
                        i ? "," : "", x[i]);
    if (extra)
        for (int i = 0; i < CRP_EXTRA; i++)
            len += snprintf(req + len, sizeof req - (size_t)len, "%c%.17g",
                            i ? ',' : ' ', extra[i]);
    else
        len += snprintf(req + len, sizeof req - (size_t)len, " -");
    req[len++] = '\n';
    if (failed_over)
        *failed_over = 0;
    /* each instance of the set at most once per request, plus one */
    for (int tries = 0; tries <= CRP_ROUTE_MAX; tries++) {
        crp_rpick p;
        pthread_mutex_lock(&s->lock);
        int ok = crp_route_pick(&s->route, crp_mono_ms(), &p);
        int nset = s->route.n;
        pthread_mutex_unlock(&s->lock);
        if (!ok || tries > nset)
            return -EAGAIN;
        if (p.switched && p.from[0]) {
            crp_ev_emit(s->ev, "failover",
                        "\"from\":\"%s\",\"to\":\"%s\",\"reason\":\"%s\","
                        "\"reqid\":\"%s\",\"resent\":%s",
                        p.from, p.to.inst, p.reason, reqid,
                        tries > 0 ? "true" : "false");
            if (tries > 0 && failed_over)
                *failed_over = 1;
        }
        const char *why = "error";
        if (attempt(s, &p.to, req, (size_t)len, reqid, score, &why) == 0)
            return 0;
        pthread_mutex_lock(&s->lock);
        crp_route_failed(&s->route, p.to.inst, crp_mono_ms(), why);
        pthread_mutex_unlock(&s->lock);
    }
    return -EAGAIN;
}
