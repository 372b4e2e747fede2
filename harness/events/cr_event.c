/* cr_event: the event history (see cr_event.h and the event contract in
 * harness/README.md).
 *
 * A history is a growable array of compact cr_event; the lines are read
 * by cr_event_store.c (yajl, the encoding of cr_event_internal.h).  Lines
 * that are not a JSON object with a numeric `ts` and a string `ev` are
 * counted (and the first one copied) but never stop anything: the system
 * under test is allowed to be broken.  This file holds the history's life
 * cycle, its sort and writer, and the accessors that decode a field on
 * demand. */
#include "cr_event.h"

#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "base/cr_alloc.h"
#include "base/cr_zst.h"
#include "cr_event_internal.h"

/* The size harness/README.md and the benchmark's figures count on. */
_Static_assert(sizeof(cr_event) == 56 || sizeof(void *) != 8,
               "cr_event grew: update harness/README.md");

void cr_history_init(cr_history *h, double t0)
{
    memset(h, 0, sizeof *h);
    h->t0 = t0;
}

void cr_history_free(cr_history *h)
{
    if (!h)
        return;
    cr_free(h->v);
    cr_hstore_free(h->store);
    double t0 = h->t0;
    memset(h, 0, sizeof *h);
    h->t0 = t0;
}

size_t cr_history_mem(const cr_history *h)
{
    /* the array's capacity beyond n is reserved, never written: not
     * resident, not counted */
    return h->n * sizeof *h->v + cr_hstore_mem(h->store);
}

static void note_malformed(cr_history *h, const char *line, size_t len)
{
    if (h->malformed == 0) {
        size_t n = len < sizeof h->first_malformed - 1
                       ? len
                       : sizeof h->first_malformed - 1;
        memcpy(h->first_malformed, line, n);
        h->first_malformed[n] = '\0';
    }
    h->malformed++;
}

int cr_history_add_line(cr_history *h, const char *line, size_t len)
{
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    int r = cr_hstore_add(h, line, len);
    if (r == 0)
        note_malformed(h, line, len);
    return r;
}

int cr_history_add_obj(cr_history *h, json_t *obj)
{
    if (!obj)
        return CR_ENOMEM; /* the usual result of a failed json_pack */
    char *s = json_dumps(obj, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(obj);
    if (!s)
        return CR_ENOMEM;
    int r = cr_history_add_line(h, s, strlen(s));
    cr_free(s); /* jansson allocates through cr_alloc or malloc */
    return r;
}

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

int cr_history_load(cr_history *h, const char *path, cr_err *err)
{
    int rc = 0;
    char *line = NULL;
    size_t cap = 0;
    FILE *fp = fopen(path, "re");
    if (!fp)
        return cr_err_sys(err, CR_ESYS, errno, "open events %s", path);
    /* A run that rotated its files wrote events.jsonl.zst (a baseline's
     * too, read back here). */
    if (cr_zst_named(path) && !(fp = cr_zst_ropen(fp)))
        return cr_err_set(err, CR_ENOMEM, "load events %s: out of memory",
                          path);
    ssize_t n;
    errno = 0;
    while ((n = getline(&line, &cap, fp)) >= 0) {
        if (blank(line, (size_t)n))
            continue;
        int r = cr_history_add_line(h, line, (size_t)n);
        if (r < 0) {
            rc = cr_err_set(err, r, "load events %s: out of memory", path);
            goto out;
        }
    }
    if (ferror(fp))
        rc = cr_err_sys(err, CR_ESYS, errno, "read events %s", path);
out:
    free(line); /* getline's buffer comes from malloc */
    fclose(fp);
    return rc;
}

static int event_cmp(const void *a, const void *b)
{
    const cr_event *x = a, *y = b;
    if (x->ts < y->ts)
        return -1;
    if (x->ts > y->ts)
        return 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

void cr_history_sort(cr_history *h)
{
    /* Lines arrive nearly sorted (concurrent writers stamp ts just before
     * their write), so an insertion sort moves each event a few places and
     * allocates nothing -- qsort's merge sort would want a temporary array
     * as long as the history.  A budget of moves caps the quadratic case
     * (a writer whose clock is far off); then qsort takes over. */
    size_t budget = 32 * h->n + 4096, moves = 0;
    for (size_t i = 1; i < h->n; i++) {
        if (event_cmp(&h->v[i - 1], &h->v[i]) <= 0)
            continue;
        cr_event x = h->v[i];
        size_t j = i;
        while (j > 0 && event_cmp(&h->v[j - 1], &x) > 0 && moves < budget) {
            h->v[j] = h->v[j - 1];
            j--;
            moves++;
        }
        h->v[j] = x;
        if (moves >= budget) {
            /* seq is unique, so the comparison is total and qsort stable */
            qsort(h->v, h->n, sizeof *h->v, event_cmp);
            return;
        }
    }
}

/* A real as jansson writes it: 17 digits, and ".0" when it would read
 * back as an integer. */
static size_t fmt_real(char *buf, size_t n, double d)
{
    int w = snprintf(buf, n, "%.17g", d);
    if (w < 0 || (size_t)w >= n)
        return 0;
    if (strspn(buf, "0123456789-") == (size_t)w && (size_t)w + 2 < n) {
        memcpy(buf + w, ".0", 3);
        w += 2;
    }
    return (size_t)w;
}

#define GEN_STR(g, s) yajl_gen_string(g, (const unsigned char *)(s), strlen(s))

/* 1 when f is an earlier non-string svc or inst that a later string one
 * replaced (a line that repeats the key: the last one counts). */
static int shadowed(const cr_event *e, const cr_evfld *f)
{
    return (e->svc != cr_ev_nosvc && f->klen == 3 &&
            !memcmp(f->key, "svc", 3)) ||
           (e->inst && f->klen == 4 && !memcmp(f->key, "inst", 4));
}

/* One event as a JSON object into g. */
static yajl_gen_status gen_event(yajl_gen g, const cr_event *e)
{
    char num[64];
    size_t nl;
    yajl_gen_status s;
#define TRY(x)                                                                 \
    do {                                                                       \
        if ((s = (x)) != yajl_gen_status_ok)                                   \
            return s;                                                          \
    } while (0)
    TRY(yajl_gen_map_open(g));
    TRY(GEN_STR(g, "ts"));
    nl = fmt_real(num, sizeof num, e->ts);
    TRY(yajl_gen_number(g, num, nl));
    if (e->svc != cr_ev_nosvc) {
        TRY(GEN_STR(g, "svc"));
        TRY(GEN_STR(g, e->svc));
    }
    if (e->inst) {
        TRY(GEN_STR(g, "inst"));
        TRY(GEN_STR(g, e->inst));
    }
    TRY(GEN_STR(g, "ev"));
    TRY(GEN_STR(g, e->ev));
    cr_evfld f;
    for (const unsigned char *p = e->f; (p = cr_evfld_next(p, &f));) {
        if (shadowed(e, &f))
            continue;
        TRY(yajl_gen_string(g, (const unsigned char *)f.key, f.klen));
        switch (f.type) {
        case CR_EVT_NULL:
            TRY(yajl_gen_null(g));
            break;
        case CR_EVT_FALSE:
        case CR_EVT_TRUE:
            TRY(yajl_gen_bool(g, f.type == CR_EVT_TRUE));
            break;
        case CR_EVT_INT:
            nl = (size_t)snprintf(num, sizeof num, "%lld", f.i);
            TRY(yajl_gen_number(g, num, nl));
            break;
        case CR_EVT_REAL:
            nl = fmt_real(num, sizeof num, f.d);
            TRY(yajl_gen_number(g, num, nl));
            break;
        case CR_EVT_STR:
            TRY(yajl_gen_string(g, (const unsigned char *)f.s, f.len));
            break;
        default:
            /* A nested value, as compact JSON that yajl_gen made when
             * reading; yajl_gen_number inserts text verbatim as one value. */
            TRY(yajl_gen_number(g, f.s, f.len));
        }
    }
#undef TRY
    return yajl_gen_map_close(g);
}

int cr_history_write_fp(const cr_history *h, FILE *fp, cr_err *err)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g)
        return cr_err_set(err, CR_ENOMEM, "write events: out of memory");
    int rc = 0;
    errno = 0;
    for (size_t i = 0; i < h->n; i++) {
        const unsigned char *buf;
        size_t len;
        if (gen_event(g, &h->v[i]) != yajl_gen_status_ok) {
            rc = cr_err_set(err, CR_ENOMEM, "write events: out of memory");
            goto out;
        }
        yajl_gen_get_buf(g, &buf, &len);
        if (fwrite(buf, 1, len, fp) != len || fputc('\n', fp) == EOF) {
            rc = cr_err_sys(err, CR_ESYS, errno ? errno : EIO, "write events");
            goto out;
        }
        yajl_gen_clear(g);
        yajl_gen_reset(g, NULL);
    }
    if (fflush(fp) != 0)
        rc = cr_err_sys(err, CR_ESYS, errno, "write events");
out:
    yajl_gen_free(g);
    return rc;
}

int cr_history_write(const cr_history *h, const char *path, cr_err *err)
{
    FILE *fp = fopen(path, "we");
    if (!fp)
        return cr_err_sys(err, CR_ESYS, errno, "create %s", path);
    cr_err e;
    cr_err_clear(&e);
    int rc = cr_history_write_fp(h, fp, &e);
    if (fclose(fp) != 0 && rc == 0)
        rc = cr_err_sys(&e, CR_ESYS, errno, "write events");
    if (rc != 0)
        return cr_err_set(err, rc, "%s: %s", path, e.msg);
    return 0;
}

/* ---- accessors ----------------------------------------------------------- */

/* The field named key (the last one when a line repeats a key), ts, ev and
 * string svc/inst included.  1 found, 0 absent. */
static int find(const cr_event *e, const char *key, cr_evfld *out)
{
    size_t kn = strlen(key);
    if (kn >= 2 && kn <= 4) {
        const char *s = NULL;
        if (!strcmp(key, "ts")) {
            memset(out, 0, sizeof *out);
            out->type = CR_EVT_REAL;
            out->d = e->ts;
            return 1;
        }
        if (!strcmp(key, "ev"))
            s = e->ev;
        else if (!strcmp(key, "svc") && e->svc != cr_ev_nosvc)
            s = e->svc;
        else if (!strcmp(key, "inst"))
            s = e->inst;
        if (s) {
            memset(out, 0, sizeof *out);
            out->type = CR_EVT_STR;
            out->s = s;
            out->len = strlen(s);
            return 1;
        }
    }
    int found = 0;
    cr_evfld f;
    for (const unsigned char *p = e->f; (p = cr_evfld_next(p, &f));)
        if (f.klen == kn && memcmp(f.key, key, kn) == 0) {
            *out = f;
            found = 1;
        }
    return found;
}

const char *cr_event_str(const cr_event *e, const char *key)
{
    cr_evfld f;
    return find(e, key, &f) && f.type == CR_EVT_STR ? f.s : NULL;
}

double cr_event_num(const cr_event *e, const char *key)
{
    cr_evfld f;
    if (!find(e, key, &f) || (f.type != CR_EVT_INT && f.type != CR_EVT_REAL))
        return NAN;
    return f.d;
}

int cr_event_has(const cr_event *e, const char *key)
{
    cr_evfld f;
    return find(e, key, &f);
}

int cr_event_int(const cr_event *e, const char *key, long long *out)
{
    cr_evfld f;
    if (!find(e, key, &f) || f.type != CR_EVT_INT)
        return 0;
    *out = f.i;
    return 1;
}

int cr_event_bool(const cr_event *e, const char *key)
{
    cr_evfld f;
    if (!find(e, key, &f) || (f.type != CR_EVT_TRUE && f.type != CR_EVT_FALSE))
        return -1;
    return f.type == CR_EVT_TRUE;
}

static json_t *fld_json(const cr_evfld *f)
{
    switch (f->type) {
    case CR_EVT_NULL:
        return json_null();
    case CR_EVT_FALSE:
        return json_false();
    case CR_EVT_TRUE:
        return json_true();
    case CR_EVT_INT:
        return json_integer(f->i);
    case CR_EVT_REAL:
        return json_real(f->d);
    case CR_EVT_STR:
        return json_stringn(f->s, f->len);
    default:
        return json_loadb(f->s, f->len, 0, NULL);
    }
}

json_t *cr_event_json(const cr_event *e, const char *key)
{
    cr_evfld f;
    return find(e, key, &f) ? fld_json(&f) : NULL;
}

json_t *cr_event_to_json(const cr_event *e)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = json_object_set_new(o, "ts", json_real(e->ts));
    if (e->svc != cr_ev_nosvc)
        bad |= json_object_set_new(o, "svc", json_string(e->svc));
    if (e->inst)
        bad |= json_object_set_new(o, "inst", json_string(e->inst));
    bad |= json_object_set_new(o, "ev", json_string(e->ev));
    cr_evfld f;
    for (const unsigned char *p = e->f; !bad && (p = cr_evfld_next(p, &f));)
        if (!shadowed(e, &f))
            bad |= json_object_setn_new(o, f.key, f.klen, fld_json(&f));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* A scenario's where value against a field: jansson's equality, except
 * that 3 and 3.0 are the same number. */
static int value_equal(const json_t *want, const cr_evfld *f)
{
    switch (json_typeof(want)) {
    case JSON_INTEGER:
    case JSON_REAL:
        return (f->type == CR_EVT_INT || f->type == CR_EVT_REAL) &&
               json_number_value(want) == f->d;
    case JSON_STRING:
        return f->type == CR_EVT_STR && f->len == json_string_length(want) &&
               memcmp(f->s, json_string_value(want), f->len) == 0;
    case JSON_TRUE:
        return f->type == CR_EVT_TRUE;
    case JSON_FALSE:
        return f->type == CR_EVT_FALSE;
    case JSON_NULL:
        return f->type == CR_EVT_NULL;
    default: {
        if (f->type != CR_EVT_RAW)
            return 0;
        json_t *got = json_loadb(f->s, f->len, 0, NULL);
        int eq = got && json_equal(got, want);
        json_decref(got);
        return eq;
    }
    }
}

int cr_match_event(const cr_match *m, const cr_event *e)
{
    if (!m->ev || strcmp(m->ev, e->ev) != 0)
        return 0;
    if (m->svc && strcmp(m->svc, e->svc) != 0 &&
        (!e->inst || strcmp(e->inst, m->svc) != 0))
        return 0;
    if (m->where) {
        const char *key;
        json_t *val;
        json_object_foreach (m->where, key, val) {
            cr_evfld f;
            if (!find(e, key, &f) || !value_equal(val, &f))
                return 0;
        }
    }
    return 1;
}

/* Append to buf at *pos, truncating safely. */
static void put(char *buf, size_t n, size_t *pos, const char *fmt, ...)
    CR_PRINTF(4, 5);

static void put(char *buf, size_t n, size_t *pos, const char *fmt, ...)
{
    if (*pos >= n)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *pos, n - *pos, fmt, ap);
    va_end(ap);
    if (w > 0)
        *pos = *pos + (size_t)w < n ? *pos + (size_t)w : n;
}

static int skipped_key(const cr_evfld *f)
{
    static const char *const k[] = {"ts", "svc", "inst", "ev"};
    for (size_t i = 0; i < 4; i++)
        if (f->klen == strlen(k[i]) && !memcmp(f->key, k[i], f->klen))
            return 1;
    return 0;
}

void cr_event_format(const cr_event *e, char *buf, size_t n)
{
    if (n == 0)
        return;
    size_t pos = 0;
    const char *who = e->inst ? e->inst : e->svc;
    put(buf, n, &pos, "t=%.3f %s%s%s", e->t, who, *who ? " " : "", e->ev);
    cr_evfld f;
    for (const unsigned char *p = e->f; (p = cr_evfld_next(p, &f));) {
        if (skipped_key(&f))
            continue;
        int kl = (int)f.klen;
        switch (f.type) {
        case CR_EVT_STR:
            if (*f.s && !strpbrk(f.s, " \t\"="))
                put(buf, n, &pos, " %.*s=%s", kl, f.key, f.s);
            else
                put(buf, n, &pos, " %.*s=\"%s\"", kl, f.key, f.s);
            break;
        case CR_EVT_INT:
            put(buf, n, &pos, " %.*s=%lld", kl, f.key, f.i);
            break;
        case CR_EVT_REAL:
            put(buf, n, &pos, " %.*s=%g", kl, f.key, f.d);
            break;
        case CR_EVT_NULL:
        case CR_EVT_TRUE:
        case CR_EVT_FALSE:
            put(buf, n, &pos, " %.*s=%s", kl, f.key,
                f.type == CR_EVT_NULL   ? "null"
                : f.type == CR_EVT_TRUE ? "true"
                                        : "false");
            break;
        default:
            put(buf, n, &pos, " %.*s=%s", kl, f.key, f.s);
        }
    }
    buf[n - 1 < pos ? n - 1 : pos] = '\0';
}
