/* cr_check_slo: service-level objectives over a phase of the run, from the
 * events (error ratio, p99 latency, throughput) and from scraped
 * Prometheus metrics.
 *
 * Phases (seconds after t0; events before t0 are start-up and never
 * count): before = [0, start of the first applied fault) (the whole
 * workload when no fault applied); during = the union of the applied fault
 * windows; after = [end of the last fault window, t_end] (empty without
 * faults); all = [0, t_end].
 * - error_ratio = errors / (successes + errors), successes = events named
 *   `ev` (default "delivered"), errors = events named in error_ev (default
 *   ["giveup", "dead_lettered"]);
 * - p99 = the nearest-rank 99th percentile of latency_field over the
 *   success events that carry it;
 * - throughput = successes / length of the phase, events per second.
 * - prometheus {url, metric, max|min}: reads <run_dir>/metrics.jsonl (one
 *   line per scrape: {"t", "url", "samples"}); every scraped sample whose
 *   key is `metric` or `metric{...}` at a t in the phase must be <= max /
 *   >= min.  No such sample: unknown.
 * Fewer than min_samples success+error events: unknown (for the event
 * bounds; prometheus alone needs min_samples scraped values). */
#include "cr_check.h"
#include "cr_check_internal.h"
#include "cr_prom.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cr_alloc.h"

extern const cr_check_ops cr_check_slo_ops;

typedef struct slo_priv {
    int phase;
    const char *ev, *svc, *lat;
    cr_strlist err_ev;
    double err_max, p99_max, tput_min; /* NAN: not checked */
    const char *url, *metric;
    double pmax, pmin; /* NAN: not checked */
} slo_priv;

static const cr_param slo_params[] = {
    {"phase", "string", "\"all\"",
     "before ([0, first fault)), during (fault windows), after ([last fault "
     "end, end]) or all ([0, end])"},
    {"ev", "string", "\"delivered\"", "the event that counts as a success"},
    {"svc", "string", "any", "only events from this service or instance"},
    {"error_ev", "array", "[\"giveup\",\"dead_lettered\"]",
     "events that count as errors"},
    {"latency_field", "string", "\"latency_ms\"",
     "field of the success events holding the latency in ms"},
    {"error_ratio_max", "number", "not checked",
     "errors / (successes + errors) must be <= this (0..1)"},
    {"p99_ms_max", "number", "not checked",
     "99th percentile latency must be <= this"},
    {"throughput_min", "number", "not checked",
     "successes per second in the phase must be >= this"},
    {"prometheus", "object", "none",
     "{\"url\", \"metric\", \"max\" or \"min\"}: every scraped value of metric "
     "in the phase within the bound"},
    {NULL, NULL, NULL, NULL},
};

static int slo_parse(cr_vctx *vx, const json_t *obj, const char *path,
                     cr_expect *x)
{
    if (cr_chk_priv(x, sizeof(slo_priv)) < 0)
        return CR_ENOMEM;
    slo_priv *p = x->priv;
    p->pmax = p->pmin = NAN;
    cr_venum(vx, obj, path, "phase", cr_chk_phase_names, CR_CHK_ALL, &p->phase);
    cr_vstr(vx, obj, path, "ev", "delivered", &p->ev);
    cr_vstr(vx, obj, path, "svc", NULL, &p->svc);
    cr_vstr(vx, obj, path, "latency_field", "latency_ms", &p->lat);
    if (cr_chk_vstrlist(vx, obj, path, "error_ev", &p->err_ev) == CR_ENOMEM)
        return CR_ENOMEM;
    cr_vnum(vx, obj, path, "error_ratio_max", 0, 1, NAN, &p->err_max);
    cr_vnum(vx, obj, path, "p99_ms_max", 0, 1e12, NAN, &p->p99_max);
    cr_vnum(vx, obj, path, "throughput_min", 0, 1e12, NAN, &p->tput_min);
    const json_t *pr = json_object_get(obj, "prometheus");
    if (pr) {
        static const cr_param pk[] = {{"url", "string", NULL, ""},
                                      {"metric", "string", NULL, ""},
                                      {"max", "number", "", ""},
                                      {"min", "number", "", ""},
                                      {NULL, NULL, NULL, NULL}};
        char q[CR_PATH_MAX];
        cr_path_key(q, sizeof q, path, "prometheus");
        if (!json_is_object(pr)) {
            cr_verr(vx, q,
                    "must be an object {\"url\", \"metric\", \"max\"|\"min\"}");
        } else {
            cr_vkeys(vx, pr, q, pk, NULL);
            if (cr_vrequire(vx, pr, q, "url") &&
                cr_vstr(vx, pr, q, "url", NULL, &p->url) > 0 &&
                strncmp(p->url, "http://", 7) &&
                strncmp(p->url, "https://", 8)) {
                char r[CR_PATH_MAX];
                cr_path_key(r, sizeof r, q, "url");
                cr_verr(vx, r, "must be an http:// or https:// URL");
            }
            if (cr_vrequire(vx, pr, q, "metric"))
                cr_vstr(vx, pr, q, "metric", NULL, &p->metric);
            cr_vnum(vx, pr, q, "max", -1e300, 1e300, NAN, &p->pmax);
            cr_vnum(vx, pr, q, "min", -1e300, 1e300, NAN, &p->pmin);
            if (isnan(p->pmax) && isnan(p->pmin))
                cr_verr(vx, q, "needs \"max\" or \"min\"");
        }
    }
    if (isnan(p->err_max) && isnan(p->p99_max) && isnan(p->tput_min) && !pr)
        cr_verr(vx, path,
                "needs at least one of error_ratio_max, p99_ms_max, "
                "throughput_min, prometheus");
    return 0;
}

static void slo_destroy(cr_expect *x)
{
    slo_priv *p = x->priv;
    if (p)
        cr_chk_strlist_free(&p->err_ev);
    cr_chk_destroy_priv(x);
}

size_t cr_check_scrape_urls(const cr_scen *sc, const char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; sc && i < sc->nexpects; i++) {
        const cr_expect *x = &sc->expects[i];
        const slo_priv *p = x->priv;
        if (x->ops != &cr_check_slo_ops || !p || !p->url)
            continue;
        size_t k = 0;
        while (k < n && k < max && strcmp(out[k], p->url))
            k++;
        if (k < n)
            continue;
        if (n < max)
            out[n] = p->url;
        n++;
    }
    return n;
}

static int is_err(const slo_priv *p, const char *ev)
{
    if (p->err_ev.n)
        return cr_chk_strlist_has(&p->err_ev, ev);
    return !strcmp(ev, "giveup") || !strcmp(ev, "dead_lettered");
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int metric_match(const char *key, const char *metric)
{
    size_t n = strlen(metric);
    if (strncmp(key, metric, n))
        return 0;
    return key[n] == '\0' || (key[n] == '{' && !strchr(metric, '{'));
}

/* Judge the scraped metrics.  Returns the number of violations, or a
 * negative code; *nvals gets the number of values judged. */
static int judge_prom(const cr_expect *x, const slo_priv *p, const cr_facts *f,
                      cr_result *res, size_t *nvals, double *worst, char *why,
                      size_t nwhy, cr_err *err)
{
    char path[4096];
    char *line = NULL;
    size_t cap = 0;
    int viol = 0;
    *nvals = 0;
    snprintf(path, sizeof path, "%s/metrics.jsonl",
             f->run_dir ? f->run_dir : ".");
    FILE *fp = fopen(path, "re");
    if (!fp) {
        if (errno == ENOENT)
            return 0;
        return cr_err_sys(err, CR_ESYS, errno, "slo %s: open %s", x->name,
                          path);
    }
    while (getline(&line, &cap, fp) >= 0) {
        json_t *o = json_loads(line, 0, NULL);
        const char *url = json_string_value(json_object_get(o, "url"));
        const json_t *t = json_object_get(o, "t");
        const json_t *s = json_object_get(o, "samples");
        if (!url || strcmp(url, p->url) || !json_is_number(t) ||
            !json_is_object(s) ||
            !cr_chk_in_phase(f, p->phase, json_number_value(t))) {
            json_decref(o);
            continue;
        }
        const char *key;
        json_t *v;
        json_object_foreach ((json_t *)s, key, v) {
            if (!metric_match(key, p->metric))
                continue;
            double val = cr_prom_value(v);
            (*nvals)++;
            int bad = isnan(val) || (!isnan(p->pmax) && val > p->pmax) ||
                      (!isnan(p->pmin) && val < p->pmin);
            if (!isnan(val)) {
                if (!isnan(p->pmax) ? (isnan(*worst) || val > *worst)
                                    : (isnan(*worst) || val < *worst))
                    *worst = val;
            }
            if (bad) {
                if (!viol++)
                    snprintf(why, nwhy, "%s = %g at t=%.3f (bound %s %g)", key,
                             val, json_number_value(t),
                             !isnan(p->pmax) ? "<=" : ">=",
                             !isnan(p->pmax) ? p->pmax : p->pmin);
                cr_result_evidence(res, json_number_value(t), "scraped %s = %g",
                                   key, val);
            }
        }
        json_decref(o);
    }
    free(line);
    fclose(fp);
    return viol;
}

/* What the judging steps share: the phase's figures, the violations (the
 * first names the summary) and why the verdict is unknown, if it is. */
typedef struct slo_run {
    const slo_priv *p;
    const char *ph; /* phase name */
    size_t ok, errs, nlat, cap, viol;
    double *lat; /* latencies of the success events (only with p99_ms_max) */
    double len, ratio, tput, p99;
    int unknown;
    char why[512], unk[256];
} slo_run;

/* ---- collect: the phase's successes, errors and latencies ------------- */

/* 0 or CR_ENOMEM. */
static int slo_collect(slo_run *r, const cr_facts *f, cr_result *res)
{
    const slo_priv *p = r->p;
    const cr_history *h = f->hist;
    for (size_t i = 0; h && i < h->n; i++) {
        const cr_event *e = &h->v[i];
        if (!cr_chk_in_phase(f, p->phase, e->t) ||
            !cr_chk_event_from(e, p->svc))
            continue;
        if (strcmp(e->ev, p->ev)) {
            if (is_err(p, e->ev) && r->errs++ < 5)
                cr_result_evidence_event(res, e, "error");
            continue;
        }
        r->ok++;
        double l = cr_event_num(e, p->lat);
        if (isnan(l) || isnan(p->p99_max))
            continue;
        if (r->nlat == r->cap) {
            size_t nc = r->cap ? r->cap * 2 : 1024;
            double *nv = cr_realloc(r->lat, nc * sizeof *nv);
            if (!nv)
                return CR_ENOMEM;
            r->lat = nv;
            r->cap = nc;
        }
        r->lat[r->nlat++] = l;
    }
    return 0;
}

/* Error ratio, throughput and the nearest-rank p99, into details. */
static void slo_figures(slo_run *r, const cr_facts *f, cr_result *res)
{
    size_t samples = r->ok + r->errs;
    r->len = cr_chk_phase_len(f, r->p->phase);
    r->ratio = samples ? (double)r->errs / (double)samples : NAN;
    r->tput = r->len > 0 ? (double)r->ok / r->len : NAN;
    r->p99 = NAN;
    if (r->nlat) {
        qsort(r->lat, r->nlat, sizeof *r->lat, cmp_double);
        size_t rank = (size_t)ceil(0.99 * (double)r->nlat);
        r->p99 = r->lat[rank ? rank - 1 : 0];
    }
    cr_chk_detail_str(res, "phase", r->ph);
    cr_chk_detail_int(res, "successes", (long long)r->ok);
    cr_chk_detail_int(res, "errors", (long long)r->errs);
    cr_chk_detail_num(res, "phase_s", r->len);
    cr_chk_detail_num(res, "error_ratio", r->ratio);
    cr_chk_detail_num(res, "throughput_per_s", r->tput);
    cr_chk_detail_num(res, "p99_ms", r->p99);
    cr_chk_detail_int(res, "latency_samples", (long long)r->nlat);
}

/* ---- judge: each configured bound -------------------------------------- */

/* Count a violation; the first one writes the summary. */
static void slo_violation(slo_run *r, const char *fmt, ...) CR_PRINTF(2, 3);
static void slo_violation(slo_run *r, const char *fmt, ...)
{
    if (r->viol++)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
}

/* The event bounds: error ratio, p99, throughput, in that order, until one
 * makes the verdict unknown (too few events, no latency, no phase length).
 * measured shows the first bound configured. */
static void slo_judge_events(const cr_expect *x, slo_run *r, cr_result *res)
{
    const slo_priv *p = r->p;
    size_t samples = r->ok + r->errs;
    if (isnan(p->err_max) && isnan(p->p99_max) && isnan(p->tput_min))
        return;
    if (samples == 0 || samples < (size_t)x->min_samples) {
        r->unknown = 1;
        snprintf(r->unk, sizeof r->unk,
                 "only %zu %s/error events in the %s phase (min_samples %d)",
                 samples, p->ev, r->ph, x->min_samples);
        return;
    }
    if (!isnan(p->err_max)) {
        cr_chk_measure(res, r->ratio * 100, "%");
        cr_chk_bound(res, "<=", p->err_max * 100);
        if (r->ratio > p->err_max)
            slo_violation(r,
                          "error ratio %.2f%% in the %s phase (%zu errors, "
                          "%zu %s; bound %g%%)",
                          r->ratio * 100, r->ph, r->errs, r->ok, p->ev,
                          p->err_max * 100);
    }
    if (!isnan(p->p99_max)) {
        if (r->nlat == 0) {
            r->unknown = 1;
            snprintf(r->unk, sizeof r->unk,
                     "no %s event of the %s phase has %s", p->ev, r->ph,
                     p->lat);
            return;
        }
        if (!res->has_measured) {
            cr_chk_measure(res, r->p99, "ms");
            cr_chk_bound(res, "<=", p->p99_max);
        }
        if (r->p99 > p->p99_max)
            slo_violation(r,
                          "p99 %s %.1f ms in the %s phase over %zu events "
                          "(bound %g ms)",
                          p->lat, r->p99, r->ph, r->nlat, p->p99_max);
    }
    if (!isnan(p->tput_min)) {
        if (isnan(r->tput)) {
            r->unknown = 1;
            snprintf(r->unk, sizeof r->unk,
                     "the %s phase has no length to measure throughput over",
                     r->ph);
            return;
        }
        if (!res->has_measured) {
            cr_chk_measure(res, r->tput, "events/s");
            cr_chk_bound(res, ">=", p->tput_min);
        }
        if (r->tput < p->tput_min)
            slo_violation(r,
                          "throughput %.2f %s/s in the %s phase (%zu in %.2f "
                          "s; bound >= %g/s)",
                          r->tput, p->ev, r->ph, r->ok, r->len, p->tput_min);
    }
}

/* The scraped metric (judge_prom).  0 or a negative code. */
static int slo_judge_metrics(const cr_expect *x, slo_run *r, const cr_facts *f,
                             cr_result *res, cr_err *err)
{
    const slo_priv *p = r->p;
    size_t nvals = 0;
    double worst = NAN;
    char pwhy[512] = "";
    int pv = judge_prom(x, p, f, res, &nvals, &worst, pwhy, sizeof pwhy, err);
    if (pv < 0)
        return pv;
    cr_chk_detail_int(res, "prometheus_values", (long long)nvals);
    cr_chk_detail_num(res, "prometheus_worst", worst);
    if (pv > 0) {
        if (!r->viol)
            snprintf(r->why, sizeof r->why, "%s", pwhy);
        r->viol += (size_t)pv;
    } else if (nvals == 0 || nvals < (size_t)x->min_samples) {
        if (!r->unknown)
            snprintf(r->unk, sizeof r->unk,
                     "no scraped value of %s from %s in the %s phase",
                     p->metric, p->url, r->ph);
        r->unknown = 1;
    }
    if (!res->has_measured && !isnan(worst)) {
        cr_chk_measure(res, worst, "");
        cr_chk_bound(res, !isnan(p->pmax) ? "<=" : ">=",
                     !isnan(p->pmax) ? p->pmax : p->pmin);
    }
    return 0;
}

static int slo_eval(const cr_expect *x, const cr_facts *f, cr_result *res,
                    cr_err *err)
{
    const slo_priv *p = x->priv;
    slo_run r = {.p = p, .ph = cr_chk_phase_names[p->phase]};
    int rc = 0;
    if (slo_collect(&r, f, res) < 0) {
        rc = cr_err_set(err, CR_ENOMEM, "slo %s: out of memory", x->name);
        goto out;
    }
    slo_figures(&r, f, res);
    slo_judge_events(x, &r, res);
    if (p->url && (rc = slo_judge_metrics(x, &r, f, res, err)) < 0)
        goto out;
    if (r.viol)
        cr_result_set(res, CR_VERDICT_FAILED, "%s", r.why);
    else if (r.unknown)
        cr_result_set(res, CR_VERDICT_UNKNOWN, "%s", r.unk);
    else
        cr_result_set(res, CR_VERDICT_PASSED,
                      "SLO held in the %s phase: %zu %s, %zu errors%s%s", r.ph,
                      r.ok, p->ev, r.errs, r.nlat ? ", p99 within bound" : "",
                      p->url ? ", scraped metrics within bound" : "");
out:
    cr_free(r.lat);
    return rc;
}

const cr_check_ops cr_check_slo_ops = {
    .kind = "slo",
    .summary = "error ratio, p99 latency, throughput and scraped metrics "
               "within bounds over a phase",
    .params = slo_params,
    .parse = slo_parse,
    .eval = slo_eval,
    .destroy = slo_destroy,
};
