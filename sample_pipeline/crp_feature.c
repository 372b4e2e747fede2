// clang-format off
/* crp_feature: the feature service, the pipeline's flaky dependency.
 *   FX <id> <x0>,<x1>,...,<x15>  ->  OK <e0> <e1> <e2> <e3>  |  ERR <reason>
 *     (each number the 16 hex digits of its IEEE-754 bits, crp_wire.h:
 *     exact and without a conversion; what the worker sends)
 *   F <id> <x0,x1,...,x15>       ->  OK <e0> <e1> <e2> <e3>  |  ERR <reason>
 *     (numbers as strtod reads them, answered as C99 hex floats, %a)
 * --feature-delay-us adds service time per call, --feature-fail answers a
 * fraction of calls with an error.  Outages are made by the harness
 * (pause = SIGSTOP: calls time out; kill: connections refused). */
// clang-format on
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crp_model.h"
#include "crp_net.h"
#include "crp_stage.h"
#include "crp_wire.h"

/* Append the answer to one request line to out. */
static void answer(crp_ctx *x, crp_conn *c, crp_sb *out, char *line,
                   crp_metric *m_fail)
{
    double v[CRP_DIM], e[CRP_EXTRA];
    char *p = strchr(line, ' ');
    p = p ? strchr(p + 1, ' ') : NULL;
    int n = 0, bits = strncmp(line, "FX ", 3) == 0;
    if (bits && p) {
        const char *s = p + 1;
        while (n < CRP_DIM && crp_wire_get_f64(&s, &v[n]) == 0 &&
               *s == (n + 1 < CRP_DIM ? ',' : '\0')) {
            n++;
            s++;
        }
    } else if (strncmp(line, "F ", 2) == 0 && p) {
        char *s = p + 1, *end;
        while (n < CRP_DIM) {
            v[n] = strtod(s, &end);
            if (end == s)
                break;
            n++;
            s = *end == ',' ? end + 1 : end;
        }
    }
    if (x->c.feat_delay_us > 0) {
        /* the answers already made leave before this one's service time:
         * a slow service is slow per call, not per batch of calls */
        if (out->len && crp_conn_send(c, out->s, out->len, 1000) < 0)
            crp_conn_close(c);
        crp_sb_reset(out);
        usleep((useconds_t)x->c.feat_delay_us);
    }
    if (n != CRP_DIM) {
        crp_sb_printf(out, "ERR bad request\n");
    } else if (x->c.feat_fail > 0 && crp_rng_unit(&x->rng) < x->c.feat_fail) {
        crp_sb_printf(out, "ERR internal error\n");
        crp_metric_add(m_fail, 1);
    } else {
        crp_model_extra(v, e);
        if (bits) {
            char a[3 + 17 * CRP_EXTRA + 1] = "OK", *q = a + 2;
            for (int i = 0; i < CRP_EXTRA; i++) {
                *q++ = ' ';
                q = crp_wire_put_f64(q, e[i]);
            }
            *q++ = '\n';
            crp_sb_append(out, a, (size_t)(q - a));
        } else {
            crp_sb_printf(out, "OK %a %a %a %a\n", e[0], e[1], e[2], e[3]);
        }
    }
}

typedef struct feat {
    crp_ctx *x;
    crp_metric *m_in, *m_fail;
} feat;

static int on_client(void *ctx, crp_conn *c)
{
    feat *f = ctx;
    char *line;
    crp_sb out = {0};
    /* every request read in this round, answered in one send */
    while (c->fd >= 0 && crp_conn_next(c, &line)) {
        crp_metric_add(f->m_in, 1);
        answer(f->x, c, &out, line, f->m_fail);
    }
    if (c->fd >= 0 && out.len && crp_conn_send(c, out.s, out.len, 1000) < 0)
        crp_conn_close(c);
    crp_sb_free(&out);
    return 0;
}

int crp_feature_main(crp_ctx *x)
{
    crp_lsrv srv;
    int lfd = crp_net_listen_on(x->c.bind, x->c.port);
    if (lfd < 0) {
        crp_log(x, "listen on %s:%d: %s", x->c.bind, x->c.port, strerror(-lfd));
        return 1;
    }
    crp_lsrv_init(&srv, lfd);
    feat f = {x, NULL, NULL};
    f.m_in = crp_http_metric(x->http, "records_in_total", CRP_COUNTER,
                             "feature requests");
    f.m_fail = crp_http_metric(x->http, "records_failed_total", CRP_COUNTER,
                               "errors answered");
    crp_log(x, "feature service on %s:%d", x->c.bind, x->c.port);
    crp_ev_emit(x->ev, "ready", NULL);
    while (!crp_stop_requested)
        if (crp_lsrv_wait(&srv, 200) > 0)
            crp_lsrv_serve(&srv, on_client, &f);
    crp_ev_emit(x->ev, "stopping", NULL);
    crp_lsrv_close(&srv);
    crp_ev_emit(x->ev, "stopped", NULL);
    return 0;
}
