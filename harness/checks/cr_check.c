/* cr_check: the helpers every checker uses to build its cr_result
 * (verdict, one-sentence summary, evidence lines, details). */
#include "cr_check.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/cr_alloc.h"
#include "cr_check_internal.h"

#define CR_EVIDENCE_MAX 50

const char *cr_verdict_name(cr_verdict v)
{
    switch (v) {
    case CR_VERDICT_PASSED:
        return "passed";
    case CR_VERDICT_FAILED:
        return "failed";
    case CR_VERDICT_UNKNOWN:
        return "unknown";
    }
    return "unknown";
}

void cr_result_init(cr_result *res)
{
    memset(res, 0, sizeof *res);
    res->verdict = CR_VERDICT_UNKNOWN;
    res->evidence = json_array();
    res->details = json_object();
}

void cr_result_free(cr_result *res)
{
    if (!res)
        return;
    json_decref(res->evidence);
    json_decref(res->details);
    res->evidence = NULL;
    res->details = NULL;
}

/* Evidence is best effort: an allocation failure loses a line, never the
 * verdict. */
static void evidence_add(cr_result *res, double t, const char *text)
{
    if (!res->evidence || !res->details)
        return;
    if (json_array_size(res->evidence) >= CR_EVIDENCE_MAX) {
        json_t *o = json_object_get(res->details, "evidence_omitted");
        json_int_t k = o ? json_integer_value(o) : 0;
        json_object_set_new(res->details, "evidence_omitted",
                            json_integer(k + 1));
        return;
    }
    json_array_append_new(res->evidence,
                          json_pack("{s:f,s:s}", "t", t, "text", text));
}

void cr_result_evidence(cr_result *res, double t, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    evidence_add(res, t, buf);
}

void cr_result_evidence_event(cr_result *res, const cr_event *e,
                              const char *why)
{
    char line[384], buf[512];
    cr_event_format(e, line, sizeof line);
    if (why && *why)
        snprintf(buf, sizeof buf, "%s: %s", why, line);
    else
        snprintf(buf, sizeof buf, "%s", line);
    evidence_add(res, e->t, buf);
}

void cr_result_set(cr_result *res, cr_verdict v, const char *fmt, ...)
{
    res->verdict = v;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->summary, sizeof res->summary, fmt, ap);
    va_end(ap);
}

/* ---- helpers for checkers (cr_check_internal.h) ----------------------- */

int cr_chk_vstrlist(cr_vctx *vx, const json_t *obj, const char *path,
                    const char *key, cr_strlist *out)
{
    char p[CR_PATH_MAX];
    out->v = NULL;
    out->n = 0;
    const json_t *a = json_object_get(obj, key);
    if (!a)
        return 0;
    cr_path_key(p, sizeof p, path, key);
    if (!json_is_array(a)) {
        cr_verr(vx, p, "must be an array of strings");
        return -1;
    }
    size_t i;
    const json_t *v;
    json_array_foreach (a, i, v) {
        if (!json_is_string(v) || !*json_string_value(v)) {
            char q[CR_PATH_MAX];
            cr_path_idx(q, sizeof q, p, i);
            cr_verr(vx, q, "must be a non-empty string");
            return -1;
        }
    }
    if (json_array_size(a) == 0)
        return 1;
    out->v = cr_calloc(json_array_size(a), sizeof *out->v);
    if (!out->v)
        return CR_ENOMEM;
    json_array_foreach (a, i, v)
        out->v[out->n++] = json_string_value(v);
    return 1;
}

void cr_chk_strlist_free(cr_strlist *l)
{
    if (!l)
        return;
    cr_free(l->v);
    l->v = NULL;
    l->n = 0;
}

int cr_chk_strlist_has(const cr_strlist *l, const char *s)
{
    for (size_t i = 0; s && i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return 1;
    return 0;
}

int cr_chk_priv(cr_expect *x, size_t size)
{
    x->priv = cr_calloc(1, size);
    return x->priv ? 0 : CR_ENOMEM;
}

void cr_chk_destroy_priv(cr_expect *x)
{
    cr_free(x->priv);
    x->priv = NULL;
}

const char *cr_chk_event_who(const cr_event *e)
{
    return e->inst ? e->inst : e->svc;
}

int cr_chk_event_from(const cr_event *e, const char *name)
{
    if (!name)
        return 1;
    if (strcmp(e->svc, name) == 0)
        return 1;
    return e->inst && strcmp(e->inst, name) == 0;
}

int cr_chk_target_is(const char *target, const char *name)
{
    if (!target || !name)
        return 0;
    if (strcmp(target, name) == 0)
        return 1;
    /* "worker.1" designates service "worker"; "worker" designates every
     * instance "worker.N". */
    size_t tl = strcspn(target, "."), nl = strcspn(name, ".");
    if (target[tl] == '.' && name[nl] == '\0')
        return tl == nl && strncmp(target, name, tl) == 0;
    if (name[nl] == '.' && target[tl] == '\0')
        return tl == nl && strncmp(target, name, nl) == 0;
    return 0;
}

size_t cr_chk_nfaults(const cr_facts *f, const char *fault)
{
    size_t n = 0;
    for (size_t i = 0; i < f->nfaults; i++)
        if (f->faults[i].ok && (!fault || (f->faults[i].name &&
                                           !strcmp(f->faults[i].name, fault))))
            n++;
    return n;
}

int cr_chk_in_fault(const cr_facts *f, double t)
{
    for (size_t i = 0; i < f->nfaults; i++)
        if (f->faults[i].ok && t >= f->faults[i].start && t <= f->faults[i].end)
            return 1;
    return 0;
}

const char *const cr_chk_phase_names[] = {"before", "during", "after", "all",
                                          NULL};

static double first_fault_start(const cr_facts *f)
{
    for (size_t i = 0; i < f->nfaults; i++)
        if (f->faults[i].ok)
            return f->faults[i].start;
    return f->t_workload_end;
}

int cr_chk_in_phase(const cr_facts *f, int phase, double t)
{
    switch (phase) {
    case CR_CHK_BEFORE:
        return t >= 0 && t < first_fault_start(f);
    case CR_CHK_DURING:
        return cr_chk_in_fault(f, t);
    case CR_CHK_AFTER:
        return cr_chk_nfaults(f, NULL) > 0 && t >= f->t_faults_end &&
               t <= f->t_end;
    default:
        return t >= 0 && t <= f->t_end;
    }
}

double cr_chk_phase_len(const cr_facts *f, int phase)
{
    switch (phase) {
    case CR_CHK_BEFORE:
        return first_fault_start(f);
    case CR_CHK_DURING: {
        /* length of the union of the windows (sorted by start) */
        double len = 0, cs = 0, ce = -1;
        int open = 0;
        for (size_t i = 0; i < f->nfaults; i++) {
            const cr_fact_fault *w = &f->faults[i];
            if (!w->ok)
                continue;
            if (open && w->start <= ce) {
                if (w->end > ce)
                    ce = w->end;
                continue;
            }
            if (open)
                len += ce - cs;
            cs = w->start;
            ce = w->end;
            open = 1;
        }
        if (open)
            len += ce - cs;
        return len;
    }
    case CR_CHK_AFTER:
        return cr_chk_nfaults(f, NULL) ? f->t_end - f->t_faults_end : 0;
    default:
        return f->t_end;
    }
}

int cr_chk_event_id(const cr_event *e, char *buf, size_t n)
{
    const char *str = cr_event_str(e, "id");
    long long i;
    double d;
    int w;
    if (str)
        w = snprintf(buf, n, "%s", str);
    else if (cr_event_int(e, "id", &i))
        w = snprintf(buf, n, "%lld", i);
    else if (!isnan(d = cr_event_num(e, "id")) && d == floor(d) &&
             fabs(d) < 9.0e15)
        w = snprintf(buf, n, "%lld", (long long)d);
    else
        return -1;
    if (w < 0)
        return -1;
    return (size_t)w < n ? w : (int)n - 1;
}

void cr_chk_bound(cr_result *res, const char *op, double x)
{
    snprintf(res->bound, sizeof res->bound, "%s %g", op, x);
}

void cr_chk_measure(cr_result *res, double v, const char *unit)
{
    res->has_measured = 1;
    res->measured = v;
    snprintf(res->unit, sizeof res->unit, "%s", unit);
}

void cr_chk_detail_int(cr_result *res, const char *key, long long v)
{
    if (res->details)
        json_object_set_new(res->details, key, json_integer(v));
}

void cr_chk_detail_num(cr_result *res, const char *key, double v)
{
    if (res->details && isfinite(v))
        json_object_set_new(res->details, key, json_real(v));
}

void cr_chk_detail_str(cr_result *res, const char *key, const char *v)
{
    if (res->details && v)
        json_object_set_new(res->details, key, json_string(v));
}
