/* crp_feature: the feature service, the pipeline's flaky dependency.
 *   F <id> <x0,x1,...,x15>  ->  OK <e0> <e1> <e2> <e3>  |  ERR <reason>
 * --feature-delay-us adds service time per call, --feature-fail answers a
 * fraction of calls with an error.  Outages are made by the harness
 * (pause = SIGSTOP: calls time out; kill: connections refused). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crp_model.h"
#include "crp_net.h"
#include "crp_stage.h"

#define MAX_CL 64

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

int crp_feature_main(crp_ctx *x)
{
    crp_conn cl[MAX_CL];
    for (int i = 0; i < MAX_CL; i++)
        crp_conn_init(&cl[i], -1);
    int lfd = crp_net_listen(x->c.port);
    if (lfd < 0) {
        crp_log(x, "listen on port %d: %s", x->c.port, strerror(-lfd));
        return 1;
    }
    crp_metric *m_in = crp_http_metric(x->http, "records_in_total", CRP_COUNTER,
                                       "feature requests");
    crp_metric *m_fail = crp_http_metric(x->http, "records_failed_total",
                                         CRP_COUNTER, "errors answered");
    crp_log(x, "feature service on 127.0.0.1:%d", x->c.port);
    crp_ev_emit(x->ev, "ready", NULL);
    while (!crp_stop_requested) {
        struct pollfd pfd[MAX_CL + 1];
        int idx[MAX_CL + 1], n = 0;
        pfd[n] = (struct pollfd){.fd = lfd, .events = POLLIN};
        idx[n++] = -1;
        for (int i = 0; i < MAX_CL; i++)
            if (cl[i].fd >= 0) {
                pfd[n] = (struct pollfd){.fd = cl[i].fd, .events = POLLIN};
                idx[n++] = i;
            }
        if (poll(pfd, (nfds_t)n, 200) <= 0)
            continue;
        for (int k = 0; k < n; k++) {
            if (!pfd[k].revents)
                continue;
            if (idx[k] < 0) {
                int fd;
                while ((fd = crp_net_accept(lfd)) >= 0) {
                    int slot = -1;
                    for (int i = 0; i < MAX_CL && slot < 0; i++)
                        if (cl[i].fd < 0)
                            slot = i;
                    if (slot < 0)
                        close(fd);
                    else
                        crp_conn_init(&cl[slot], fd);
                }
                continue;
            }
            crp_conn *c = &cl[idx[k]];
            int r;
            while ((r = crp_conn_fill(c)) > 0)
                ;
            char *line;
            while (c->fd >= 0 && crp_conn_next(c, &line)) {
                crp_metric_add(m_in, 1);
                answer(x, c, line, m_fail);
            }
            if (r < 0)
                crp_conn_close(c);
        }
    }
    crp_ev_emit(x->ev, "stopping", NULL);
    for (int i = 0; i < MAX_CL; i++)
        crp_conn_close(&cl[i]);
    close(lfd);
    crp_ev_emit(x->ev, "stopped", NULL);
    return 0;
}
