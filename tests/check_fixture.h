/* check_fixture: hand-built facts for the checker tests.
 *
 * A scenario with services worker (2 replicas) and db, faults "kill-db"
 * (kill db at 1 s) and "dep" (pause db at 2 s for 3 s), and the
 * expectation(s) under test is loaded through the real loader, so parse()
 * is exercised too; then the test fills a history, fault windows, process
 * records and probe results by hand and evaluates.  History t0 is 0, so an
 * event's ts is its t. */
#ifndef CHECK_FIXTURE_H
#define CHECK_FIXTURE_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cr_alloc.h"
#include "checks/cr_check.h"
#include "events/cr_event.h"
#include "scenario/cr_scen.h"
#include "cr_test.h"

#define FX_MAX 256

typedef struct fx {
    cr_scen *sc;
    cr_history h, base;
    int has_base;
    cr_fact_fault faults[FX_MAX];
    cr_fact_proc procs[FX_MAX];
    cr_fact_probe probes[FX_MAX];
    cr_facts f;
    cr_result res;
    int evaluated;
} fx;

static const char fx_scen_fmt[] =
    "{\"name\": \"t\", \"duration_s\": 20, \"seed\": 1,\n"
    " \"services\": [\n"
    "  {\"name\": \"worker\", \"cmd\": [\"/bin/true\"], \"replicas\": 2},\n"
    "  {\"name\": \"db\", \"cmd\": [\"/bin/true\"]}],\n"
    " \"faults\": [\n"
    "  {\"kind\": \"kill\", \"name\": \"kill-db\", \"target\": \"db\", "
    "\"at_s\": 1},\n"
    "  {\"kind\": \"pause\", \"name\": \"dep\", \"target\": \"db\", \"at_s\": "
    "2, \"for_s\": 3}],\n"
    " \"expect\": [%s]}\n";

/* Load; returns 0 or the loader's code, diagnostics joined into diag. */
static inline int fx_try(const char *expects, char *diag, size_t n,
                         cr_scen **out)
{
    char *text = NULL;
    size_t len = (size_t)snprintf(NULL, 0, fx_scen_fmt, expects) + 1;
    text = malloc(len);
    snprintf(text, len, fx_scen_fmt, expects);
    cr_diags d = {0};
    cr_err err;
    cr_err_clear(&err);
    int rc = cr_scen_load_buffer("t.json", text, strlen(text), out, &d, &err);
    size_t off = 0;
    if (diag && n) {
        diag[0] = '\0';
        for (size_t i = 0; i < d.n && off < n; i++)
            off += (size_t)snprintf(diag + off, n - off, "%s\n", d.v[i].msg);
        if (rc && !d.n)
            snprintf(diag, n, "%s", err.msg);
    }
    cr_diags_free(&d);
    free(text);
    return rc;
}

/* Load a scenario that must be valid. */
static inline void fx_init(fx *x, const char *expects)
{
    char diag[2048];
    memset(x, 0, sizeof *x);
    int rc = fx_try(expects, diag, sizeof diag, &x->sc);
    if (rc) {
        fprintf(stderr, "fixture scenario invalid: %s\n", diag);
        CU_FAIL_FATAL("fixture scenario invalid");
    }
    cr_history_init(&x->h, 0);
    cr_history_init(&x->base, 0);
    x->f.scen = x->sc;
    x->f.hist = &x->h;
    x->f.faults = x->faults;
    x->f.procs = x->procs;
    x->f.probes = x->probes;
    x->f.t_workload_end = 20;
    x->f.t_end = 22;
    x->f.run_dir = "/nonexistent";
    cr_result_init(&x->res);
}

/* A scenario that must be rejected with a message containing want. */
static inline int fx_invalid(const char *expects, const char *want)
{
    char diag[2048];
    cr_scen *sc = NULL;
    int rc = fx_try(expects, diag, sizeof diag, &sc);
    cr_scen_free(sc);
    if (rc == 0) {
        fprintf(stderr, "accepted, expected an error with '%s'\n", want);
        return 0;
    }
    if (!strstr(diag, want)) {
        fprintf(stderr, "diagnostics '%s' lack '%s'\n", diag, want);
        return 0;
    }
    return 1;
}

static inline void fx_free(fx *x)
{
    cr_result_free(&x->res);
    cr_history_free(&x->h);
    cr_history_free(&x->base);
    cr_scen_free(x->sc);
}

/* Append an event line (printf format). */
static inline void fx_ev(fx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline void fx_ev(fx *x, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    int r = cr_history_add_line(&x->h, line, strlen(line));
    if (r != 1) {
        fprintf(stderr, "bad fixture line: %s\n", line);
        CU_FAIL_FATAL("bad fixture event line");
    }
}

static inline void fx_base_ev(fx *x, const char *line)
{
    x->has_base = 1;
    cr_history_add_line(&x->base, line, strlen(line));
}

static inline void fx_fault(fx *x, const char *name, const char *target,
                            double start, double end)
{
    cr_fact_fault *w = &x->faults[x->f.nfaults++];
    w->name = name;
    w->kind = "pause";
    w->target = target;
    w->start = start;
    w->applied = start;
    w->end = end;
    w->ok = 1;
    if (end > x->f.t_faults_end)
        x->f.t_faults_end = end;
}

static inline void fx_proc(fx *x, double t, const char *inst, const char *svc,
                           int what, int code, int sig, const char *cause)
{
    cr_fact_proc *p = &x->procs[x->f.nprocs++];
    p->t = t;
    p->inst = inst;
    p->svc = svc;
    p->what = what;
    p->code = code;
    p->sig = sig;
    p->cause = cause;
}

static inline void fx_probe(fx *x, const char *name, int phase, double t,
                            int ok, const char *detail)
{
    cr_fact_probe *p = &x->probes[x->f.nprobes++];
    p->probe = name;
    p->phase = phase;
    p->t = t;
    p->ok = ok;
    p->detail = detail;
}

/* Evaluate expectation i; returns the verdict (-1 on checker error). */
static inline int fx_eval(fx *x, size_t i)
{
    cr_err err;
    cr_err_clear(&err);
    if (x->evaluated) {
        cr_result_free(&x->res);
        cr_result_init(&x->res);
    }
    x->evaluated = 1;
    cr_history_sort(&x->h);
    x->f.baseline = x->has_base ? &x->base : NULL;
    const cr_expect *e = &x->sc->expects[i];
    int rc = e->ops->eval(e, &x->f, &x->res, &err);
    if (rc) {
        fprintf(stderr, "eval error: %s\n", err.msg);
        return -1;
    }
    return (int)x->res.verdict;
}

/* 1 when the summary contains s (prints it otherwise). */
static inline int fx_sum(const fx *x, const char *s)
{
    if (strstr(x->res.summary, s))
        return 1;
    fprintf(stderr, "summary '%s' lacks '%s'\n", x->res.summary, s);
    return 0;
}

/* 1 when some evidence line contains s. */
static inline int fx_evid(const fx *x, const char *s)
{
    size_t i;
    json_t *o;
    json_array_foreach (x->res.evidence, i, o) {
        const char *t = json_string_value(json_object_get(o, "text"));
        if (t && strstr(t, s))
            return 1;
    }
    fprintf(stderr, "no evidence line contains '%s'; evidence:\n", s);
    json_array_foreach (x->res.evidence, i, o)
        fprintf(stderr, "  %s\n",
                json_string_value(json_object_get(o, "text")));
    return 0;
}

static inline long long fx_detail(const fx *x, const char *key)
{
    const json_t *v = json_object_get(x->res.details, key);
    return json_is_number(v) ? (long long)json_number_value(v) : -1;
}

/* Evaluate and compare the verdict, printing the summary on a mismatch. */
static inline int fx_verdict(fx *x, size_t i, int want)
{
    int v = fx_eval(x, i);
    if (v != want)
        fprintf(stderr, "expected %s, got %s: %s\n", cr_verdict_name(want),
                v < 0 ? "error" : cr_verdict_name(v), x->res.summary);
    return v == want;
}

#define FX_PASSED(x, i)  CU_ASSERT(fx_verdict((x), (i), CR_VERDICT_PASSED))
#define FX_FAILED(x, i)  CU_ASSERT(fx_verdict((x), (i), CR_VERDICT_FAILED))
#define FX_UNKNOWN(x, i) CU_ASSERT(fx_verdict((x), (i), CR_VERDICT_UNKNOWN))

#endif
