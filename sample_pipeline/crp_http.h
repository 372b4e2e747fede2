/* crp_http: the observability endpoint of every stage: /metrics in the
 * Prometheus text format and /health, served by libmicrohttpd on loopback
 * in its own thread.  Metrics are updated lock-free (C11 atomics) by the
 * stage's main loop. */
#ifndef CRP_HTTP_H
#define CRP_HTTP_H

#include <stdatomic.h>
#include <stdint.h>

enum { CRP_COUNTER, CRP_GAUGE, CRP_HISTO };
#define CRP_HISTO_BUCKETS 12

typedef struct crp_metric {
    char name[64];
    const char *help;
    int type;
    _Atomic long long v;                         /* counter, gauge */
    _Atomic long long bucket[CRP_HISTO_BUCKETS]; /* histogram (ms bounds) */
    _Atomic long long sum_us, count;
} crp_metric;

typedef struct crp_http crp_http;

/* Start serving on 127.0.0.1:port.  stage names the metrics prefix
 * ("crp_worker_...").  Returns NULL with err set on failure. */
crp_http *crp_http_start(int port, const char *stage, char *err, int n);
void crp_http_stop(crp_http *h);
/* Register a metric (name without prefix); returns a pointer that stays
 * valid until stop, or NULL when the table is full.  h may be NULL: a
 * private dummy is returned so callers need no checks. */
crp_metric *crp_http_metric(crp_http *h, const char *name, int type,
                            const char *help);
void crp_metric_add(crp_metric *m, long long d);
void crp_metric_set(crp_metric *m, long long v);
/* Observe a latency in milliseconds. */
void crp_metric_observe(crp_metric *m, double ms);
/* /health answers 200 "ok" when healthy is 1, else 503 with the reason. */
void crp_http_health(crp_http *h, int healthy, const char *reason);

#endif
