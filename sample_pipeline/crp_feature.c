// clang-format off
/* crp_feature: the feature service, the pipeline's flaky dependency.
 *   F <id> <x0,x1,...,x15>  ->  OK <e0> <e1> <e2> <e3>  |  ERR <reason>
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

static void answer(crp_ctx *x, crp_conn *c, char *line, crp_metric *m_fail)
{
    char out[256];
    double v[CRP_DIM], e[CRP_EXTRA];
    char *p = strchr(line, ' ');
    p = p ? strchr(p + 1, ' ') : NULL;
    int n = 0;
    if (strncmp(line, "F ", 2) == 0 && p) {
        char *s = p + 1, *end;
        while (n < CRP_DIM) {
            v[n] = strtod(s, &end);
            if (end == s)
                break;
            n++;
            s = *end == ',' ? end + 1 : end;
        }
    }
    if (x->c.feat_delay_us > 0)
        usleep((useconds_t)x->c.feat_delay_us);
    if (n != CRP_DIM) {
        snprintf(out, sizeof out, "ERR bad request\n");
    } else if (x->c.feat_fail > 0 && crp_rng_unit(&x->rng) < x->c.feat_fail) {
        snprintf(out, sizeof out, "ERR internal error\n");
        crp_metric_add(m_fail, 1);
    } else {
        crp_model_extra(v, e);
        snprintf(out, sizeof out, "OK %.17g %.17g %.17g %.17g\n", e[0], e[1],
                 e[2], e[3]);
    }
    if (crp_conn_send(c, out, strlen(out), 1000) < 0)
        crp_conn_close(c);
}

typedef struct feat {
    crp_ctx *x;
    crp_metric *m_in, *m_fail;
} feat;

static int on_client(void *ctx, crp_conn *c)
{
    feat *f = ctx;
    char *line;
    while (c->fd >= 0 && crp_conn_next(c, &line)) {
        crp_metric_add(f->m_in, 1);
        answer(f->x, c, line, f->m_fail);
    }
    return 0;
}

int crp_feature_main(crp_ctx *x)
{
    crp_lsrv srv;
    int lfd = crp_net_listen(x->c.port);
    if (lfd < 0) {
        crp_log(x, "listen on port %d: %s", x->c.port, strerror(-lfd));
        return 1;
    }
    crp_lsrv_init(&srv, lfd);
    feat f = {x, NULL, NULL};
    f.m_in = crp_http_metric(x->http, "records_in_total", CRP_COUNTER,
                             "feature requests");
    f.m_fail = crp_http_metric(x->http, "records_failed_total", CRP_COUNTER,
                               "errors answered");
    crp_log(x, "feature service on 127.0.0.1:%d", x->c.port);
    crp_ev_emit(x->ev, "ready", NULL);
    while (!crp_stop_requested)
        if (crp_lsrv_wait(&srv, 200) > 0)
            crp_lsrv_serve(&srv, on_client, &f);
    crp_ev_emit(x->ev, "stopping", NULL);
    crp_lsrv_close(&srv);
    crp_ev_emit(x->ev, "stopped", NULL);
    return 0;
}
