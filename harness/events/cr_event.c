/* cr_event: the event history (see cr_event.h and the event contract in
 * harness/README.md).
 *
 * A history is a growable array of cr_event, each holding a reference to
 * its parsed JSON line.  Lines that are not a JSON object with a numeric
 * `ts` and a string `ev` are counted (and the first one copied) but never
 * stop anything: the system under test is allowed to be broken. */
#include "cr_event.h"

#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cr_alloc.h"

void cr_history_init(cr_history *h, double t0)
{
    memset(h, 0, sizeof *h);
    h->t0 = t0;
}

void cr_history_free(cr_history *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++)
        json_decref(h->v[i].obj);
    cr_free(h->v);
    double t0 = h->t0;
    memset(h, 0, sizeof *h);
    h->t0 = t0;
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

/* 1 when obj has the fields every kept line needs. */
static int obj_valid(const json_t *obj)
{
    if (!json_is_object(obj))
        return 0;
    const json_t *ts = json_object_get(obj, "ts");
    if (!json_is_number(ts) || !isfinite(json_number_value(ts)))
        return 0;
    return json_is_string(json_object_get(obj, "ev"));
}

/* Append a validated object; steals the reference in every case. */
static int history_push(cr_history *h, json_t *obj)
{
    if (h->n == h->cap) {
        size_t ncap = h->cap ? h->cap * 2 : 64;
        cr_event *nv = cr_realloc(h->v, ncap * sizeof *nv);
        if (!nv) {
            json_decref(obj);
            return CR_ENOMEM;
        }
        h->v = nv;
        h->cap = ncap;
    }
    cr_event *e = &h->v[h->n];
    e->obj = obj;
    e->ts = json_number_value(json_object_get(obj, "ts"));
    e->t = e->ts - h->t0;
    e->ev = json_string_value(json_object_get(obj, "ev"));
    const char *svc = json_string_value(json_object_get(obj, "svc"));
    e->svc = svc ? svc : "";
    e->seq = h->n;
    h->n++;
    return 1;
}

int cr_history_add_line(cr_history *h, const char *line, size_t len)
{
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    json_error_t jerr;
    json_t *obj = json_loadb(line, len, JSON_DECODE_ANY, &jerr);
    if (!obj) {
        if (json_error_code(&jerr) == json_error_out_of_memory)
            return CR_ENOMEM;
        note_malformed(h, line, len);
        return 0;
    }
    if (!obj_valid(obj)) {
        json_decref(obj);
        note_malformed(h, line, len);
        return 0;
    }
    return history_push(h, obj);
}

int cr_history_add_obj(cr_history *h, json_t *obj)
{
    if (!obj)
        return CR_ENOMEM; /* the usual result of a failed json_pack */
    if (!obj_valid(obj)) {
        char *s = json_dumps(obj, JSON_COMPACT | JSON_ENCODE_ANY);
        note_malformed(h, s ? s : "(unprintable)", s ? strlen(s) : 13);
        cr_free(s); /* jansson allocates through cr_alloc or malloc */
        json_decref(obj);
        return 0;
    }
    return history_push(h, obj);
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
    /* seq is unique, so the comparison is total and the sort stable. */
    if (h->n > 1)
        qsort(h->v, h->n, sizeof *h->v, event_cmp);
}

int cr_history_write_fp(const cr_history *h, FILE *fp, cr_err *err)
{
    errno = 0;
    for (size_t i = 0; i < h->n; i++) {
        if (json_dumpf(h->v[i].obj, fp, JSON_COMPACT) < 0 ||
            fputc('\n', fp) == EOF)
            return cr_err_sys(err, CR_ESYS, errno ? errno : EIO,
                              "write events");
    }
    if (fflush(fp) != 0)
        return cr_err_sys(err, CR_ESYS, errno, "write events");
    return 0;
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

const char *cr_event_str(const cr_event *e, const char *key)
{
    return json_string_value(json_object_get(e->obj, key));
}

double cr_event_num(const cr_event *e, const char *key)
{
    const json_t *v = json_object_get(e->obj, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

int cr_event_has(const cr_event *e, const char *key)
{
    return json_object_get(e->obj, key) != NULL;
}

/* json_equal, except that 3 and 3.0 are the same number. */
static int value_equal(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    return json_equal(a, b);
}

int cr_match_event(const cr_match *m, const cr_event *e)
{
    if (!m->ev || strcmp(m->ev, e->ev) != 0)
        return 0;
    if (m->svc && strcmp(m->svc, e->svc) != 0) {
        const char *inst = cr_event_str(e, "inst");
        if (!inst || strcmp(inst, m->svc) != 0)
            return 0;
    }
    if (m->where) {
        const char *key;
        json_t *val;
        json_object_foreach (m->where, key, val) {
            const json_t *got = json_object_get(e->obj, key);
            if (!got || !value_equal(got, val))
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

void cr_event_format(const cr_event *e, char *buf, size_t n)
{
    if (n == 0)
        return;
    size_t pos = 0;
    const char *inst = cr_event_str(e, "inst");
    const char *who = inst ? inst : e->svc;
    put(buf, n, &pos, "t=%.3f %s%s%s", e->t, who, *who ? " " : "", e->ev);
    const char *key;
    json_t *val;
    json_object_foreach (e->obj, key, val) {
        if (!strcmp(key, "ts") || !strcmp(key, "svc") || !strcmp(key, "inst") ||
            !strcmp(key, "ev"))
            continue;
        if (json_is_string(val)) {
            const char *s = json_string_value(val);
            if (*s && !strpbrk(s, " \t\"="))
                put(buf, n, &pos, " %s=%s", key, s);
            else
                put(buf, n, &pos, " %s=\"%s\"", key, s);
        } else if (json_is_integer(val)) {
            put(buf, n, &pos, " %s=%lld", key,
                (long long)json_integer_value(val));
        } else if (json_is_real(val)) {
            put(buf, n, &pos, " %s=%g", key, json_real_value(val));
        } else {
            char *s = json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY);
            put(buf, n, &pos, " %s=%s", key, s ? s : "?");
            cr_free(s);
        }
    }
    buf[n - 1 < pos ? n - 1 : pos] = '\0';
}
