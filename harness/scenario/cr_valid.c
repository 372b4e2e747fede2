/* cr_valid: diagnostics and the cr_v* validation helpers of cr_scen.h.
 *
 * Every helper reports through the validation context: a diagnostic is a
 * FILE:LINE:COLUMN position found in the position map (cr_jpos) plus a
 * sentence that starts with the JSON path of the culprit.  Helpers never
 * stop at the first problem; the loader collects them all.  Also here:
 * edit distance and "did you mean" hints, and signal names. */
#include "cr_scen_internal.h"

#include "base/cr_alloc.h"

#include <ctype.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- diagnostics ------------------------------------------------------ */

void cr_diags_free(cr_diags *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        cr_free(d->v[i].file);
        cr_free(d->v[i].msg);
    }
    cr_free(d->v);
    d->v = NULL;
    d->n = d->cap = 0;
}

void cr_diags_print(const cr_diags *d, FILE *fp)
{
    for (size_t i = 0; d && i < d->n; i++) {
        const char *f = d->v[i].file ? d->v[i].file : "-";
        if (d->v[i].line < 0)
            fprintf(fp, "%s: %s\n", f, d->v[i].msg);
        else
            fprintf(fp, "%s:%d:%d: %s\n", f, d->v[i].line, d->v[i].col,
                    d->v[i].msg);
    }
}

/* A load stops listing problems after CR_SCEN_MAX_DIAGS (a hostile file
 * could otherwise produce one per key: 10^5 unknown keys made 5.3 MB of
 * output); the others are only counted, and not even formatted. */
static int over_cap(cr_vctx *vx)
{
    if (vx->diags->n - vx->first < CR_SCEN_MAX_DIAGS)
        return 0;
    vx->dropped++;
    return 1;
}

static char *vfmt(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    char *s = cr_malloc((size_t)n + 1);
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

/* Takes ownership of msg (may be NULL: allocation failed). */
static void diag_add(cr_vctx *vx, int line, int col, char *msg)
{
    cr_diags *d = vx->diags;
    char *file = cr_strdup(vx->file ? vx->file : "-");
    if (!msg || !file)
        goto fail;
    if (d->n == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 16;
        cr_diag *v = cr_realloc(d->v, nc * sizeof *v);
        if (!v)
            goto fail;
        d->v = v;
        d->cap = nc;
    }
    d->v[d->n++] =
        (cr_diag){.file = file, .line = line, .col = col, .msg = msg};
    return;
fail:
    vx->nomem = 1;
    cr_free(file);
    cr_free(msg);
}

void cr_vdiag(cr_vctx *vx, int line, int col, const char *fmt, ...)
{
    if (over_cap(vx))
        return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = vfmt(fmt, ap);
    va_end(ap);
    diag_add(vx, line, col, msg);
}

/* Length of the parent part of a path ("faults[2].at_s" -> "faults[2]"). */
static size_t parent_len(const char *path)
{
    size_t n = strlen(path);
    if (n && path[n - 1] == ']') {
        const char *b = strrchr(path, '[');
        return b ? (size_t)(b - path) : 0;
    }
    const char *dot = strrchr(path, '.');
    return dot ? (size_t)(dot - path) : 0;
}

/* Position of path (key or value), walking up to the nearest known
 * ancestor. */
static void locate(const cr_vctx *vx, const char *path, int want_key, int *line,
                   int *col)
{
    char buf[CR_PATH_MAX];
    cr_jpos_at at;
    snprintf(buf, sizeof buf, "%s", path ? path : "");
    *line = *col = 0;
    for (;;) {
        if (cr_jpos_get(vx->pos, buf, &at)) {
            if (want_key && at.kline) {
                *line = at.kline;
                *col = at.kcol;
            } else {
                *line = at.vline;
                *col = at.vcol;
            }
            return;
        }
        if (!buf[0])
            return;
        buf[parent_len(buf)] = '\0';
        want_key = 0;
    }
}

static void vreport(cr_vctx *vx, const char *pospath, int want_key,
                    const char *prefix, size_t plen, const char *fmt,
                    va_list ap)
{
    int line, col;
    if (over_cap(vx))
        return;
    locate(vx, pospath, want_key, &line, &col);
    char *body = vfmt(fmt, ap);
    char *msg = NULL;
    if (body && plen)
        msg = cr_asprintf("%.*s: %s", (int)plen, prefix, body);
    else if (body)
        msg = cr_strdup(body);
    cr_free(body);
    diag_add(vx, line, col, msg);
}

void cr_verr(cr_vctx *vx, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(vx, path, 0, path, strlen(path), fmt, ap);
    va_end(ap);
}

void cr_verr_key(cr_vctx *vx, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(vx, path, 1, path, parent_len(path), fmt, ap);
    va_end(ap);
}

void cr_verr_member(cr_vctx *vx, const char *objpath, const char *key,
                    const char *fmt, ...)
{
    char p[CR_PATH_MAX];
    va_list ap;
    cr_path_key(p, sizeof p, objpath, key);
    va_start(ap, fmt);
    vreport(vx, p, 1, objpath, strlen(objpath), fmt, ap);
    va_end(ap);
}

size_t cr_vcount(const cr_vctx *vx)
{
    /* Problems not listed count too: parse functions compare counts to
     * learn whether something they called found a problem. */
    return vx->diags->n - vx->first + vx->dropped;
}

cr_scen *cr_vscen(cr_vctx *vx)
{
    return vx->sc;
}

void cr_vnomem(cr_vctx *vx)
{
    vx->nomem = 1;
}

/* 1234567 -> "1,234,567" */
static void thousands(char *buf, size_t n, size_t v)
{
    char tmp[32];
    int len = snprintf(tmp, sizeof tmp, "%zu", v);
    size_t o = 0;
    for (int i = 0; i < len && o + 1 < n; i++) {
        if (i > 0 && (len - i) % 3 == 0 && o + 2 < n)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = '\0';
}

void cr_vsort(cr_vctx *vx)
{
    if (vx->diags->v) {
        cr_diag *v = vx->diags->v + vx->first;
        size_t n = vx->diags->n - vx->first;
        /* Insertion sort: stable, and the lists are short (capped). */
        for (size_t i = 1; i < n; i++) {
            cr_diag d = v[i];
            size_t j = i;
            while (j > 0 &&
                   (v[j - 1].line > d.line ||
                    (v[j - 1].line == d.line && v[j - 1].col > d.col))) {
                v[j] = v[j - 1];
                j--;
            }
            v[j] = d;
        }
    }
    if (vx->dropped) {
        char num[32];
        thousands(num, sizeof num, vx->dropped);
        diag_add(vx, -1, 0,
                 cr_asprintf("... and %s more problem%s (only the first %d "
                             "are listed)",
                             num, vx->dropped == 1 ? "" : "s",
                             CR_SCEN_MAX_DIAGS));
    }
}

/* ---- paths ------------------------------------------------------------ */

/* Paths longer than the buffer are cut: a diagnostic then points at the
 * nearest ancestor whose path is known, which is still useful. */
void cr_path_key(char *buf, size_t n, const char *base, const char *key)
{
    int w;
    if (base && base[0])
        w = snprintf(buf, n, "%s.%s", base, key);
    else
        w = snprintf(buf, n, "%s", key);
    if (w < 0 && n)
        buf[0] = '\0';
}

void cr_path_idx(char *buf, size_t n, const char *base, size_t idx)
{
    int w = snprintf(buf, n, "%s[%zu]", base ? base : "", idx);
    if (w < 0 && n)
        buf[0] = '\0';
}

/* ---- hints ------------------------------------------------------------ */

int cr_levenshtein(const char *a, const char *b)
{
    enum { MAXL = 255 };
    size_t la = strlen(a), lb = strlen(b);
    if (la > MAXL || lb > MAXL)
        return (int)(la > lb ? la : lb);
    int row[MAXL + 1];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *cr_vsuggest(const char *word, const char *const *names, size_t n)
{
    const char *best = NULL;
    int bestd = 3;
    size_t lw = strlen(word);
    int maxd = (int)(lw / 2) + 1;
    for (size_t i = 0; i < n; i++) {
        int d = cr_levenshtein(word, names[i]);
        if (d < bestd && d <= maxd) {
            best = names[i];
            bestd = d;
        }
    }
    if (best)
        return best;
    for (size_t i = 0; i < n; i++) {
        size_t ln = strlen(names[i]);
        if ((lw >= 3 && strncmp(names[i], word, lw) == 0) ||
            (ln >= 2 && strncmp(word, names[i], ln) == 0))
            return names[i];
    }
    return NULL;
}

const char *cr_vhint(char *buf, size_t n, const char *word,
                     const char *const *names, size_t nnames)
{
    const char *s = cr_vsuggest(word, names, nnames);
    if (s)
        snprintf(buf, n, " (did you mean \"%s\"?)", s);
    else if (n)
        buf[0] = '\0';
    return buf;
}

const char *cr_jtype(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "?";
}

/* ---- getters ---------------------------------------------------------- */

int cr_vrequire(cr_vctx *vx, const json_t *obj, const char *path,
                const char *key)
{
    if (json_is_object(obj) && json_object_get(obj, key))
        return 1;
    cr_verr(vx, path, "missing required key \"%s\"", key);
    return 0;
}

/* The member, or NULL when absent; p gets its path. */
static json_t *member(const json_t *obj, const char *path, const char *key,
                      char *p, size_t n)
{
    cr_path_key(p, n, path, key);
    return json_is_object(obj) ? json_object_get(obj, key) : NULL;
}

static void fmt_range_num(char *buf, size_t n, double min, double max)
{
    if (isinf(min) && isinf(max))
        buf[0] = '\0';
    else if (isinf(max))
        snprintf(buf, n, " >= %g", min);
    else if (isinf(min))
        snprintf(buf, n, " <= %g", max);
    else
        snprintf(buf, n, " between %g and %g", min, max);
}

int cr_vnum(cr_vctx *vx, const json_t *obj, const char *path, const char *key,
            double min, double max, double dflt, double *out)
{
    char p[CR_PATH_MAX], r[96];
    json_t *v = member(obj, path, key, p, sizeof p);
    *out = dflt;
    if (!v)
        return 0;
    fmt_range_num(r, sizeof r, min, max);
    if (!json_is_number(v)) {
        cr_verr(vx, p, "must be a number%s (got %s)", r, cr_jtype(v));
        return -1;
    }
    double x = json_number_value(v);
    if (!(x >= min && x <= max)) {
        cr_verr(vx, p, "must be a number%s (got %g)", r, x);
        return -1;
    }
    *out = x;
    return 1;
}

int cr_vint(cr_vctx *vx, const json_t *obj, const char *path, const char *key,
            long long min, long long max, long long dflt, long long *out)
{
    char p[CR_PATH_MAX];
    json_t *v = member(obj, path, key, p, sizeof p);
    *out = dflt;
    if (!v)
        return 0;
    long long x;
    if (json_is_integer(v)) {
        x = json_integer_value(v);
    } else if (json_is_real(v) &&
               json_real_value(v) == floor(json_real_value(v)) &&
               fabs(json_real_value(v)) < 9.0e15) {
        x = (long long)json_real_value(v);
    } else {
        cr_verr(vx, p, "must be an integer between %lld and %lld (got %s)", min,
                max, cr_jtype(v));
        return -1;
    }
    if (x < min || x > max) {
        cr_verr(vx, p, "must be an integer between %lld and %lld (got %lld)",
                min, max, x);
        return -1;
    }
    *out = x;
    return 1;
}

int cr_vbool(cr_vctx *vx, const json_t *obj, const char *path, const char *key,
             int dflt, int *out)
{
    char p[CR_PATH_MAX];
    json_t *v = member(obj, path, key, p, sizeof p);
    *out = dflt;
    if (!v)
        return 0;
    if (!json_is_boolean(v)) {
        cr_verr(vx, p, "must be true or false (got %s)", cr_jtype(v));
        return -1;
    }
    *out = json_is_true(v);
    return 1;
}

int cr_vstr(cr_vctx *vx, const json_t *obj, const char *path, const char *key,
            const char *dflt, const char **out)
{
    char p[CR_PATH_MAX];
    json_t *v = member(obj, path, key, p, sizeof p);
    *out = dflt;
    if (!v)
        return 0;
    if (!json_is_string(v)) {
        cr_verr(vx, p, "must be a string (got %s)", cr_jtype(v));
        return -1;
    }
    *out = json_string_value(v);
    return 1;
}

static void join_names(char *buf, size_t n, const char *const *names)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; names[i] && off < n; i++) {
        int w = snprintf(buf + off, n - off, "%s%s", i ? ", " : "", names[i]);
        if (w < 0)
            break;
        off += (size_t)w;
    }
}

int cr_venum(cr_vctx *vx, const json_t *obj, const char *path, const char *key,
             const char *const *names, int dflt, int *out)
{
    char p[CR_PATH_MAX], list[512], hint[128];
    json_t *v = member(obj, path, key, p, sizeof p);
    *out = dflt;
    if (!v)
        return 0;
    join_names(list, sizeof list, names);
    if (!json_is_string(v)) {
        cr_verr(vx, p, "must be one of: %s (got %s)", list, cr_jtype(v));
        return -1;
    }
    const char *s = json_string_value(v);
    size_t n = 0;
    for (; names[n]; n++)
        if (strcmp(names[n], s) == 0) {
            *out = (int)n;
            return 1;
        }
    cr_verr(vx, p, "unknown value \"%s\"%s; expected one of: %s", s,
            cr_vhint(hint, sizeof hint, s, names, n), list);
    return -1;
}

int cr_vtime(cr_vctx *vx, const json_t *obj, const char *path, const char *key,
             double maxv, cr_time dflt, cr_time *out)
{
    char p[CR_PATH_MAX];
    json_t *v = member(obj, path, key, p, sizeof p);
    *out = dflt;
    if (!v)
        return 0;
    cr_time t;
    if (json_is_number(v)) {
        t.lo = t.hi = json_number_value(v);
    } else if (json_is_array(v) && json_array_size(v) == 2 &&
               json_is_number(json_array_get(v, 0)) &&
               json_is_number(json_array_get(v, 1))) {
        t.lo = json_number_value(json_array_get(v, 0));
        t.hi = json_number_value(json_array_get(v, 1));
        if (t.lo > t.hi) {
            cr_verr(vx, p, "range [%g, %g] is reversed: min must be <= max",
                    t.lo, t.hi);
            return -1;
        }
    } else if (json_is_array(v)) {
        cr_verr(vx, p,
                "must be a number of seconds or a range [min, max] "
                "of two numbers (got an array of %zu value%s)",
                json_array_size(v), json_array_size(v) == 1 ? "" : "s");
        return -1;
    } else {
        cr_verr(vx, p,
                "must be a number of seconds or a range [min, max] "
                "(got %s)",
                cr_jtype(v));
        return -1;
    }
    if (t.lo < 0) {
        cr_verr(vx, p, "must be >= 0 (got %g)", t.lo);
        return -1;
    }
    if (t.hi > maxv) {
        cr_verr(vx, p, "must be <= %g (got %g)", maxv, t.hi);
        return -1;
    }
    *out = t;
    return 1;
}

int cr_vsignal(cr_vctx *vx, const json_t *obj, const char *path,
               const char *key, int dflt, int *out)
{
    char p[CR_PATH_MAX], hint[128], up[40];
    json_t *v = member(obj, path, key, p, sizeof p);
    *out = dflt;
    if (!v)
        return 0;
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        if (x < 1 || x > 64 || !cr_signal_name((int)x)) {
            cr_verr(vx, p, "unknown signal number %lld", (long long)x);
            return -1;
        }
        *out = (int)x;
        return 1;
    }
    if (!json_is_string(v)) {
        cr_verr(vx, p, "must be a signal name such as \"SIGTERM\" (got %s)",
                cr_jtype(v));
        return -1;
    }
    const char *s = json_string_value(v);
    int sig = cr_signal_parse(s);
    if (sig > 0) {
        *out = sig;
        return 1;
    }
    const char *names[CR_SIGNAL_COUNT];
    size_t nnames = cr_signal_names(names, CR_SIGNAL_COUNT);
    size_t k = 0;
    if (strncasecmp(s, "SIG", 3) != 0)
        k = (size_t)snprintf(up, sizeof up, "SIG");
    for (const char *q = s; *q && k < sizeof up - 1; q++)
        up[k++] = (char)toupper((unsigned char)*q);
    up[k] = '\0';
    cr_verr(vx, p, "unknown signal \"%s\"%s", s,
            cr_vhint(hint, sizeof hint, up, names, nnames));
    return -1;
}

/* ---- unknown keys ----------------------------------------------------- */

static int param_known(const cr_param *ps, const char *key)
{
    for (size_t i = 0; ps && ps[i].name; i++)
        if (strcmp(ps[i].name, key) == 0)
            return 1;
    return 0;
}

int cr_vkeys(cr_vctx *vx, const json_t *obj, const char *path,
             const cr_param *a, const cr_param *b)
{
    const char *names[128];
    size_t n = 0;
    int bad = 0;
    const char *key;
    json_t *v;
    char hint[128];
    for (size_t i = 0; a && a[i].name && n < 128; i++)
        names[n++] = a[i].name;
    for (size_t i = 0; b && b[i].name && n < 128; i++)
        names[n++] = b[i].name;
    json_object_foreach ((json_t *)obj, key, v) {
        if (param_known(a, key) || param_known(b, key))
            continue;
        bad++;
        cr_verr_member(vx, path, key, "unknown key \"%s\"%s", key,
                       cr_vhint(hint, sizeof hint, key, names, n));
    }
    return bad;
}

/* ---- event patterns --------------------------------------------------- */

void cr_match_free(cr_match *m)
{
    if (!m)
        return;
    cr_free(m->ev);
    cr_free(m->svc);
    json_decref(m->where);
    m->ev = m->svc = NULL;
    m->where = NULL;
}

/* "svc" or an instance "svc.N" of the scenario. */
static int svc_or_inst(const cr_scen *sc, const char *s)
{
    if (cr_scen_service(sc, s))
        return 1;
    const char *dot = strrchr(s, '.');
    char name[CR_PATH_MAX];
    if (!dot || !dot[1] || strspn(dot + 1, "0123456789") != strlen(dot + 1) ||
        strlen(dot + 1) > 3 || (size_t)(dot - s) >= sizeof name)
        return 0;
    snprintf(name, sizeof name, "%.*s", (int)(dot - s), s);
    const cr_svc_spec *sp = cr_scen_service(sc, name);
    return sp && atoi(dot + 1) < sp->replicas;
}

int cr_vsvc_ref(cr_vctx *vx, const json_t *obj, const char *path,
                const char *key, const char **out)
{
    char p[CR_PATH_MAX];
    int rc = cr_vstr(vx, obj, path, key, NULL, out);
    if (rc <= 0)
        return rc;
    if (vx->sc && vx->sc->nsvcs && !svc_or_inst(vx->sc, *out)) {
        const char *names[64];
        size_t n = 0;
        char hint[128];
        for (size_t i = 0; i < vx->sc->nsvcs && n < 64; i++)
            if (vx->sc->svcs[i].name)
                names[n++] = vx->sc->svcs[i].name;
        cr_path_key(p, sizeof p, path, key);
        cr_verr(vx, p, "unknown service or instance \"%s\"%s", *out,
                cr_vhint(hint, sizeof hint, *out, names, n));
        *out = NULL;
        return -1;
    }
    return 1;
}

int cr_svc_ref_match(const char *ref, const char *svc, const char *inst)
{
    return ref &&
           ((svc && strcmp(ref, svc) == 0) || (inst && strcmp(ref, inst) == 0));
}

int cr_vmatch(cr_vctx *vx, const json_t *obj, const char *path, cr_match *m)
{
    const char *ev = NULL, *svc = NULL;
    char p[CR_PATH_MAX];
    int bad = 0;
    memset(m, 0, sizeof *m);
    if (!json_is_object(obj)) {
        cr_verr(vx, path,
                "must be an object {\"ev\": ..., \"svc\": ..., "
                "\"where\": {...}} (got %s)",
                cr_jtype(obj));
        return CR_EINVAL;
    }
    if (cr_vrequire(vx, obj, path, "ev") &&
        cr_vstr(vx, obj, path, "ev", NULL, &ev) > 0 && !*ev) {
        cr_path_key(p, sizeof p, path, "ev");
        cr_verr(vx, p, "must not be empty");
        bad = 1;
    }
    if (!ev)
        bad = 1;
    if (cr_vstr(vx, obj, path, "svc", NULL, &svc) < 0)
        bad = 1;
    else if (svc && vx->sc && vx->sc->nsvcs && !svc_or_inst(vx->sc, svc)) {
        const char *names[64];
        size_t n = 0;
        char hint[128];
        for (size_t i = 0; i < vx->sc->nsvcs && n < 64; i++)
            if (vx->sc->svcs[i].name)
                names[n++] = vx->sc->svcs[i].name;
        cr_path_key(p, sizeof p, path, "svc");
        cr_verr(vx, p, "unknown service or instance \"%s\"%s", svc,
                cr_vhint(hint, sizeof hint, svc, names, n));
        bad = 1;
    }
    json_t *where = json_object_get(obj, "where");
    if (where) {
        cr_path_key(p, sizeof p, path, "where");
        if (!json_is_object(where)) {
            cr_verr(vx, p, "must be an object of field -> value (got %s)",
                    cr_jtype(where));
            bad = 1;
        } else {
            const char *k;
            json_t *wv;
            json_object_foreach (where, k, wv) {
                if (json_is_object(wv) || json_is_array(wv)) {
                    char q[CR_PATH_MAX];
                    cr_path_key(q, sizeof q, p, k);
                    cr_verr(vx, q,
                            "must be a string, number, boolean or "
                            "null (got %s)",
                            cr_jtype(wv));
                    bad = 1;
                }
            }
        }
    }
    if (bad)
        return CR_EINVAL;
    m->ev = cr_strdup(ev);
    m->svc = cr_strdup(svc);
    m->where = json_incref(where);
    if (!m->ev || (svc && !m->svc)) {
        cr_match_free(m);
        vx->nomem = 1;
        return CR_ENOMEM;
    }
    return 0;
}
