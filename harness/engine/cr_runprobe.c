/* cr_runprobe: the engine's probe thread.
 *
 * Probes and readiness checks may block for their whole timeout, so they
 * never run on the event loop: the loop submits jobs, this thread runs them
 * one at a time and hands results back through an eventfd that wakes the
 * loop.  Jobs only read immutable scenario data and the history through
 * the count_events callback (which takes the history lock). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "base/cr_alloc.h"
#include "net/cr_net.h"
#include "probes/cr_probe_util.h"
#include "cr_run_internal.h"

static size_t count_events(void *eng, const cr_match *m, double since_t)
{
    cr_run *r = eng;
    size_t c = 0;
    pthread_mutex_lock(&r->hist_lock);
    for (size_t i = 0; i < r->hist.n; i++)
        if (r->hist.v[i].t >= since_t && cr_match_event(m, &r->hist.v[i]))
            c++;
    pthread_mutex_unlock(&r->hist_lock);
    return c;
}

static void ready_check(cr_probe_job *j);

static void *ready_in_ns(void *arg)
{
    ready_check(arg);
    return NULL;
}

/* A service placed on a host is checked from inside that host's network
 * namespace (its loopback and addresses are only reachable there). */
static void run_ready(cr_run *r, cr_probe_job *j)
{
    const char *host = j->inst->svc->spec->host;
    if (!host) {
        ready_check(j);
        return;
    }
    cr_err err;
    void *ret = NULL;
    cr_err_clear(&err);
    if (cr_run_host_call(r, host, ready_in_ns, j, &ret, &err) != 0) {
        j->ok = -1;
        snprintf(j->detail, sizeof j->detail, "%s", err.msg);
    }
}

static void ready_check(cr_probe_job *j)
{
    const cr_ready *rd = &j->inst->svc->spec->ready;
    const cr_svc_spec *sp = j->inst->svc->spec;
    double to = rd->interval_s > 0.5 ? rd->interval_s : 0.5;
    switch (rd->kind) {
    case CR_READY_TCP: {
        int port = rd->port ? rd->port : sp->port;
        if (!rd->port && sp->port)
            port = sp->port + j->inst->idx;
        j->ok = cr_probe_tcp_once(rd->host ? rd->host : "127.0.0.1", port, to,
                                  j->detail, sizeof j->detail);
        break;
    }
    case CR_READY_HTTP:
        j->ok = cr_probe_http_once(rd->url, rd->status ? rd->status : 200, to,
                                   NULL, j->detail, sizeof j->detail);
        break;
    case CR_READY_EXEC:
        j->ok = cr_probe_exec_once(rd->argv, to, j->detail, sizeof j->detail);
        break;
    default:
        j->ok = 1;
        snprintf(j->detail, sizeof j->detail, "no readiness check");
    }
}

typedef struct probe_call {
    cr_probe_job *job;
    const cr_probe_ctx *cx;
} probe_call;

static void *probe_in_ns(void *arg)
{
    probe_call *pc = arg;
    pc->job->ok = pc->job->probe->ops->run(
        pc->job->probe, pc->cx, pc->job->detail, sizeof pc->job->detail);
    return NULL;
}

static void run_probe(cr_run *r, cr_probe_job *j, const cr_probe_ctx *cx)
{
    if (!j->probe->host) {
        j->ok = j->probe->ops->run(j->probe, cx, j->detail, sizeof j->detail);
        return;
    }
    probe_call pc = {.job = j, .cx = cx};
    void *ret = NULL;
    cr_err err;
    cr_err_clear(&err);
    if (cr_run_host_call(r, j->probe->host, probe_in_ns, &pc, &ret, &err)) {
        j->ok = 0;
        snprintf(j->detail, sizeof j->detail, "%s", err.msg);
    }
}

static void *probe_main(void *arg)
{
    cr_run *r = arg;
    pthread_mutex_lock(&r->pq_lock);
    for (;;) {
        while (!r->pq_in && !r->pq_quit)
            pthread_cond_wait(&r->pq_cond, &r->pq_lock);
        if (r->pq_quit)
            break;
        cr_probe_job *j = r->pq_in;
        r->pq_in = j->next;
        pthread_mutex_unlock(&r->pq_lock);

        if (j->kind == 1) {
            run_ready(r, j);
        } else {
            cr_probe_ctx cx = {
                .run_dir = r->dir,
                .count_events = count_events,
                .eng = r,
                .now_t = j->t,
            };
            j->detail[0] = '\0';
            run_probe(r, j, &cx);
        }

        pthread_mutex_lock(&r->pq_lock);
        j->next = r->pq_out;
        r->pq_out = j;
        uint64_t one = 1;
        ssize_t w = write(r->evfd, &one, sizeof one);
        (void)w; /* an eventfd write only fails on overflow */
    }
    pthread_mutex_unlock(&r->pq_lock);
    return NULL;
}

int cr_runprobe_start(cr_run *r, cr_err *err)
{
    int rc = pthread_create(&r->probe_thread, NULL, probe_main, r);
    if (rc != 0)
        return cr_err_sys(err, CR_ESYS, rc, "probe thread");
    r->probe_thread_up = 1;
    return CR_OK;
}

static void free_jobs(cr_probe_job *j)
{
    while (j) {
        cr_probe_job *n = j->next;
        cr_free(j);
        j = n;
    }
}

void cr_runprobe_stop(cr_run *r)
{
    if (!r->probe_thread_up)
        return;
    pthread_mutex_lock(&r->pq_lock);
    r->pq_quit = 1;
    pthread_cond_signal(&r->pq_cond);
    pthread_mutex_unlock(&r->pq_lock);
    pthread_join(r->probe_thread, NULL);
    r->probe_thread_up = 0;
    free_jobs(r->pq_in);
    free_jobs(r->pq_out);
    r->pq_in = r->pq_out = NULL;
}

void cr_runprobe_submit(cr_run *r, cr_probe_job *job)
{
    pthread_mutex_lock(&r->pq_lock);
    /* FIFO order: append at the tail. */
    job->next = NULL;
    cr_probe_job **pp = &r->pq_in;
    while (*pp)
        pp = &(*pp)->next;
    *pp = job;
    r->probes_outstanding++;
    pthread_cond_signal(&r->pq_cond);
    pthread_mutex_unlock(&r->pq_lock);
}

cr_probe_job *cr_runprobe_take(cr_run *r)
{
    pthread_mutex_lock(&r->pq_lock);
    cr_probe_job *j = r->pq_out;
    r->pq_out = NULL;
    for (cr_probe_job *k = j; k; k = k->next)
        r->probes_outstanding--;
    pthread_mutex_unlock(&r->pq_lock);
    /* Reverse into submission order. */
    cr_probe_job *rev = NULL;
    while (j) {
        cr_probe_job *n = j->next;
        j->next = rev;
        rev = j;
        j = n;
    }
    return rev;
}
