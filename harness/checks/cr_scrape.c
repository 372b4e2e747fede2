/* cr_scrape: see cr_scrape.h.  One worker thread, woken early by a
 * condition variable when stopped. */
#include "cr_scrape.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/cr_alloc.h"
#include "cr_check.h"
#include "cr_prom.h"

#define CR_SCRAPE_MAX_URLS 32

struct cr_scrape {
    const char *urls[CR_SCRAPE_MAX_URLS];
    size_t nurls;
    char *run_dir;
    double (*now)(void *);
    void *ud;
    double interval_s;
    pthread_t th;
    int running; /* a thread was started and not yet joined */
    pthread_mutex_t mu;
    pthread_cond_t cv;    /* CLOCK_MONOTONIC */
    int stop;             /* under mu */
    size_t ok, failed;    /* under mu */
    char first_err[1100]; /* under mu */
};

static void *scrape_main(void *arg)
{
    cr_scrape *s = arg;
    const double timeout = 2; /* a slow scrape only delays the next one */
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        pthread_mutex_unlock(&s->mu);
        for (size_t i = 0; i < s->nurls; i++) {
            cr_err err;
            cr_err_clear(&err);
            int rc = cr_prom_scrape(s->run_dir, s->now(s->ud), s->urls[i],
                                    timeout, &err);
            pthread_mutex_lock(&s->mu);
            if (rc == 0) {
                s->ok++;
            } else {
                if (!s->failed++)
                    snprintf(s->first_err, sizeof s->first_err, "%s", err.msg);
            }
            pthread_mutex_unlock(&s->mu);
        }
        double nsec = (double)next.tv_nsec + s->interval_s * 1e9;
        next.tv_sec += (time_t)(nsec / 1e9);
        next.tv_nsec = (long)fmod(nsec, 1e9);
        pthread_mutex_lock(&s->mu);
        while (!s->stop &&
               pthread_cond_timedwait(&s->cv, &s->mu, &next) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int cr_scrape_start(const cr_scen *sc, const char *run_dir,
                    double (*now)(void *ud), void *ud, double interval_s,
                    cr_scrape **out, cr_err *err)
{
    int rc = 0;
    pthread_condattr_t ca;
    int ca_ok = 0, mu_ok = 0, cv_ok = 0;
    *out = NULL;
    cr_scrape *s = cr_calloc(1, sizeof *s);
    if (!s)
        return cr_err_set(err, CR_ENOMEM, "scraper: out of memory");
    s->nurls = cr_check_scrape_urls(sc, s->urls, CR_SCRAPE_MAX_URLS);
    if (s->nurls > CR_SCRAPE_MAX_URLS)
        s->nurls = CR_SCRAPE_MAX_URLS;
    s->run_dir = cr_strdup(run_dir);
    s->now = now;
    s->ud = ud;
    s->interval_s = interval_s > 0.01 ? interval_s : 0.01;
    if (!s->run_dir) {
        rc = cr_err_set(err, CR_ENOMEM, "scraper: out of memory");
        goto fail;
    }
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        rc = cr_err_set(err, CR_ESYS, "scraper: pthread_mutex_init failed");
        goto fail;
    }
    mu_ok = 1;
    if (pthread_condattr_init(&ca) != 0 ||
        (ca_ok = 1, pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0) ||
        pthread_cond_init(&s->cv, &ca) != 0) {
        rc = cr_err_set(err, CR_ESYS, "scraper: pthread_cond_init failed");
        goto fail;
    }
    cv_ok = 1;
    if (s->nurls) {
        int e = pthread_create(&s->th, NULL, scrape_main, s);
        if (e) {
            rc = cr_err_sys(err, CR_ESYS, e, "scraper: pthread_create");
            goto fail;
        }
        s->running = 1;
    }
    pthread_condattr_destroy(&ca);
    *out = s;
    return 0;
fail:
    if (ca_ok)
        pthread_condattr_destroy(&ca);
    if (cv_ok)
        pthread_cond_destroy(&s->cv);
    if (mu_ok)
        pthread_mutex_destroy(&s->mu);
    cr_free(s->run_dir);
    cr_free(s);
    return rc;
}

void cr_scrape_stop(cr_scrape *s)
{
    if (!s || !s->running)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->th, NULL);
    s->running = 0;
}

void cr_scrape_stats(cr_scrape *s, size_t *ok, size_t *failed, char *msg,
                     size_t n)
{
    pthread_mutex_lock(&s->mu);
    *ok = s->ok;
    *failed = s->failed;
    if (msg && n)
        snprintf(msg, n, "%s", s->first_err);
    pthread_mutex_unlock(&s->mu);
}

void cr_scrape_destroy(cr_scrape *s)
{
    if (!s)
        return;
    cr_scrape_stop(s);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    cr_free(s->run_dir);
    cr_free(s);
}
