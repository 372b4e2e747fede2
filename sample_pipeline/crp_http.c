/* crp_http: see crp_http.h. */
#include "crp_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crp_net.h"
#include "crp_util.h"

#define MAX_METRICS 40

static const double bounds_ms[CRP_HISTO_BUCKETS] = {
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000};

struct crp_http {
    struct MHD_Daemon *d;
    char stage[32];
    crp_metric m[MAX_METRICS];
    _Atomic int n;
    _Atomic int healthy;
    pthread_mutex_t lock; /* guards reason */
    char reason[128];
};

static crp_metric dummy;

static void render(crp_http *h, crp_sb *b)
{
    int n = atomic_load(&h->n);
    for (int i = 0; i < n; i++) {
        crp_metric *m = &h->m[i];
        const char *t = m->type == CRP_COUNTER ? "counter"
                        : m->type == CRP_GAUGE ? "gauge"
                                               : "histogram";
        crp_sb_printf(b, "# HELP crp_%s_%s %s\n# TYPE crp_%s_%s %s\n", h->stage,
                      m->name, m->help, h->stage, m->name, t);
        if (m->type != CRP_HISTO) {
            crp_sb_printf(b, "crp_%s_%s %lld\n", h->stage, m->name,
                          atomic_load(&m->v));
            continue;
        }
        long long cum = 0;
        for (int j = 0; j < CRP_HISTO_BUCKETS; j++) {
            cum += atomic_load(&m->bucket[j]);
            crp_sb_printf(b, "crp_%s_%s_bucket{le=\"%g\"} %lld\n", h->stage,
                          m->name, bounds_ms[j] / 1000.0, cum);
        }
        crp_sb_printf(b, "crp_%s_%s_bucket{le=\"+Inf\"} %lld\n", h->stage,
                      m->name, atomic_load(&m->count));
        crp_sb_printf(b, "crp_%s_%s_sum %.6f\ncrp_%s_%s_count %lld\n", h->stage,
                      m->name, (double)atomic_load(&m->sum_us) / 1e6, h->stage,
                      m->name, atomic_load(&m->count));
    }
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn,
                               const char *url, const char *method,
                               const char *version, const char *upload,
                               size_t *upload_size, void **ptr)
{
    crp_http *h = cls;
    crp_sb b = {0};
    unsigned status = 200;
    const char *ctype = "text/plain; version=0.0.4";
    if (strcmp(method, "GET") != 0) {
        status = 405;
        crp_sb_printf(&b, "method not allowed\n");
    } else if (strcmp(url, "/metrics") == 0) {
        render(h, &b);
    } else if (strcmp(url, "/health") == 0) {
        if (atomic_load(&h->healthy)) {
            crp_sb_printf(&b, "ok\n");
        } else {
            status = 503;
            pthread_mutex_lock(&h->lock);
            crp_sb_printf(&b, "unhealthy: %s\n", h->reason);
            pthread_mutex_unlock(&h->lock);
        }
    } else {
        status = 404;
        crp_sb_printf(&b, "not found\n");
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(
        b.len, b.s ? b.s : (char *)"", MHD_RESPMEM_MUST_COPY);
    crp_sb_free(&b);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", ctype);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

crp_http *crp_http_start(int port, const char *stage, char *err, int n)
{
    crp_http *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    crp_strlcpy(h->stage, stage, sizeof h->stage);
    pthread_mutex_init(&h->lock, NULL);
    atomic_store(&h->healthy, 1);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((unsigned short)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL,
                            (unsigned short)port, NULL, NULL, handler, h,
                            MHD_OPTION_SOCK_ADDR, &sa,
                            MHD_OPTION_CONNECTION_TIMEOUT, 5u, MHD_OPTION_END);
    if (!h->d) {
        snprintf(err, n, "http: cannot listen on 127.0.0.1:%d", port);
        pthread_mutex_destroy(&h->lock);
        free(h);
        return NULL;
    }
    return h;
}

void crp_http_stop(crp_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->d);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

crp_metric *crp_http_metric(crp_http *h, const char *name, int type,
                            const char *help)
{
    if (!h || atomic_load(&h->n) >= MAX_METRICS)
        return &dummy;
    crp_metric *m = &h->m[atomic_load(&h->n)];
    crp_strlcpy(m->name, name, sizeof m->name);
    m->help = help;
    m->type = type;
    atomic_fetch_add(&h->n, 1); /* publish after the fields are set */
    return m;
}

void crp_metric_add(crp_metric *m, long long d)
{
    atomic_fetch_add(&m->v, d);
}
void crp_metric_set(crp_metric *m, long long v)
{
    atomic_store(&m->v, v);
}

void crp_metric_observe(crp_metric *m, double ms)
{
    for (int j = 0; j < CRP_HISTO_BUCKETS; j++)
        if (ms <= bounds_ms[j]) {
            atomic_fetch_add(&m->bucket[j], 1);
            break;
        }
    atomic_fetch_add(&m->sum_us, (long long)(ms * 1000.0));
    atomic_fetch_add(&m->count, 1);
}

void crp_http_health(crp_http *h, int healthy, const char *reason)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    crp_strlcpy(h->reason, reason ? reason : "", sizeof h->reason);
    pthread_mutex_unlock(&h->lock);
    atomic_store(&h->healthy, healthy);
}
