/* cr_yaml: a YAML scenario into jansson plus its position map (see
 * cr_yaml.h and scenarios/README.md, "YAML").
 *
 * A recursive descent over libyaml's events, one node per call, bounded by
 * CR_YAML_MAX_DEPTH.  Aliases are refused rather than expanded, so the
 * document can never be larger than the text (no "billion laughs").
 * libyaml's marks count characters; they are turned into byte columns by
 * walking the text forward with a cursor (marks arrive in order), so that
 * a YAML column means what a JSON column means. */
#include "cr_yaml.h"

#include "base/cr_alloc.h"
#include "base/cr_err.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef struct yb {
    yaml_parser_t p;
    const unsigned char *s;
    size_t len;
    size_t cur_line, cur_off; /* cursor: a line and its first byte */
    cr_sbuf path;             /* current path */
    cr_jpos *m;
    cr_yaml_error *e;
    int depth;
} yb;

int cr_yaml_is_yaml_name(const char *file)
{
    size_t n = file ? strlen(file) : 0;
    return (n >= 5 && strcmp(file + n - 5, ".yaml") == 0) ||
           (n >= 4 && strcmp(file + n - 4, ".yml") == 0);
}

/* Length of the line break at s[i] as libyaml counts breaks (CR LF, CR,
 * LF, NEL, LS, PS), 0 if none. */
static size_t brk(const yb *b, size_t i)
{
    const unsigned char *s = b->s;
    size_t left = b->len - i;
    if (s[i] == '\r')
        return left > 1 && s[i + 1] == '\n' ? 2 : 1;
    if (s[i] == '\n')
        return 1;
    if (left > 1 && s[i] == 0xC2 && s[i + 1] == 0x85)
        return 2;
    if (left > 2 && s[i] == 0xE2 && s[i + 1] == 0x80 &&
        (s[i + 2] == 0xA8 || s[i + 2] == 0xA9))
        return 3;
    return 0;
}

/* 1-based line and byte column of a libyaml mark. */
static void where(yb *b, const yaml_mark_t *mk, int *line, int *col)
{
    if (mk->line < b->cur_line) {
        b->cur_line = 0;
        b->cur_off = 0;
    }
    if (b->cur_line == 0 && b->cur_off == 0 && b->len >= 3 &&
        memcmp(b->s, "\xEF\xBB\xBF", 3) == 0)
        b->cur_off = 3; /* libyaml skips a byte order mark */
    size_t i = b->cur_off;
    while (b->cur_line < mk->line && i < b->len) {
        size_t k = brk(b, i);
        if (k) {
            i += k;
            b->cur_line++;
            b->cur_off = i;
        } else {
            i++;
        }
    }
    i = b->cur_off;
    for (size_t c = 0; c < mk->column && i < b->len && !brk(b, i); c++) {
        unsigned char ch = b->s[i];
        i += ch < 0x80 ? 1 : ch < 0xE0 ? 2 : ch < 0xF0 ? 3 : 4;
    }
    if (i > b->len)
        i = b->len;
    *line = (int)(mk->line < (size_t)INT32_MAX ? mk->line + 1 : INT32_MAX);
    *col = (int)(i - b->cur_off) + 1;
}

static int fail(yb *b, const yaml_mark_t *mk, const char *fmt, ...)
    CR_PRINTF(3, 4);
static int fail(yb *b, const yaml_mark_t *mk, const char *fmt, ...)
{
    va_list ap;
    where(b, mk, &b->e->line, &b->e->col);
    va_start(ap, fmt);
    vsnprintf(b->e->text, sizeof b->e->text, fmt, ap);
    va_end(ap);
    return CR_EINVAL;
}

/* The next event, or the parser's complaint. */
static int next(yb *b, yaml_event_t *ev)
{
    if (yaml_parser_parse(&b->p, ev))
        return 0;
    memset(ev, 0, sizeof *ev);
    if (b->p.error == YAML_MEMORY_ERROR)
        return CR_ENOMEM;
    const char *problem = b->p.problem ? b->p.problem : "unreadable text";
    if (b->p.context) {
        int cl, cc;
        where(b, &b->p.context_mark, &cl, &cc);
        return fail(b, &b->p.problem_mark, "invalid YAML: %s (%s at %d:%d)",
                    problem, b->p.context, cl, cc);
    }
    return fail(b, &b->p.problem_mark, "invalid YAML: %s", problem);
}

static void path_set(yb *b, size_t n)
{
    b->path.n = n;
    b->path.s[n] = '\0';
}

/* ---- plain scalars: the YAML 1.2 core schema ------------------------- */

static int all_in(const char *s, const char *set)
{
    return *s && strspn(s, set) == strlen(s);
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static int is_float(const char *s)
{
    size_t d1 = 0, d2 = 0;
    if (*s == '-' || *s == '+')
        s++;
    while (*s >= '0' && *s <= '9')
        s++, d1++;
    if (*s == '.') {
        s++;
        while (*s >= '0' && *s <= '9')
            s++, d2++;
    }
    if (d1 + d2 == 0)
        return 0;
    if (*s == 'e' || *s == 'E') {
        size_t d3 = 0;
        s++;
        if (*s == '-' || *s == '+')
            s++;
        while (*s >= '0' && *s <= '9')
            s++, d3++;
        if (!d3)
            return 0;
    }
    return *s == '\0';
}

/* The value of a plain scalar; *out NULL with CR_EINVAL for numbers JSON
 * cannot hold. */
static int plain(yb *b, const yaml_event_t *ev, json_t **out)
{
    const char *v = (const char *)ev->data.scalar.value;
    const char *body = (*v == '-' || *v == '+') ? v + 1 : v;
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    static const char *const trues[] = {"true", "True", "TRUE"};
    static const char *const falses[] = {"false", "False", "FALSE"};
    *out = NULL;
    for (size_t i = 0; i < sizeof nulls / sizeof *nulls; i++)
        if (strcmp(v, nulls[i]) == 0)
            return (*out = json_null()) ? 0 : CR_ENOMEM;
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(v, trues[i]) == 0)
            return (*out = json_true()) ? 0 : CR_ENOMEM;
        if (strcmp(v, falses[i]) == 0)
            return (*out = json_false()) ? 0 : CR_ENOMEM;
    }
    int base = 0;
    const char *digits = NULL;
    if (all_in(body, "0123456789"))
        base = 10, digits = v;
    else if (strncmp(v, "0o", 2) == 0 && all_in(v + 2, "01234567"))
        base = 8, digits = v + 2;
    else if (strncmp(v, "0x", 2) == 0 &&
             all_in(v + 2, "0123456789abcdefABCDEF"))
        base = 16, digits = v + 2;
    if (base) {
        errno = 0;
        long long n = strtoll(digits, NULL, base);
        if (errno == ERANGE)
            return fail(b, &ev->start_mark,
                        "integer %s out of range (-2^63..2^63-1)", v);
        return (*out = json_integer(n)) ? 0 : CR_ENOMEM;
    }
    if (strcmp(body, ".inf") == 0 || strcmp(body, ".Inf") == 0 ||
        strcmp(body, ".INF") == 0 || strcmp(v, ".nan") == 0 ||
        strcmp(v, ".NaN") == 0 || strcmp(v, ".NAN") == 0)
        return fail(b, &ev->start_mark,
                    "%s is not a finite number (a scenario's numbers are "
                    "JSON's)",
                    v);
    if (is_float(v)) {
        errno = 0;
        double d = strtod(v, NULL);
        if (!isfinite(d))
            return fail(b, &ev->start_mark, "number %s out of range", v);
        return (*out = json_real(d)) ? 0 : CR_ENOMEM;
    }
    return (*out = json_stringn(v, ev->data.scalar.length))
               ? 0
               : fail(b, &ev->start_mark, "a string that is not UTF-8");
}

/* ---- nodes ------------------------------------------------------------ */

/* Anchors, aliases and tags: refused wherever they are. */
static int refuse_extras(yb *b, const yaml_event_t *ev)
{
    const yaml_char_t *anchor = NULL, *tag = NULL;
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        return fail(b, &ev->start_mark,
                    "aliases (*%s) are not supported: write the value out",
                    (const char *)ev->data.alias.anchor);
    case YAML_SCALAR_EVENT:
        anchor = ev->data.scalar.anchor;
        tag = ev->data.scalar.tag;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = ev->data.sequence_start.anchor;
        tag = ev->data.sequence_start.tag;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = ev->data.mapping_start.anchor;
        tag = ev->data.mapping_start.tag;
        break;
    default:
        break;
    }
    if (anchor)
        return fail(b, &ev->start_mark,
                    "anchors (&%s) are not supported: write the value out",
                    (const char *)anchor);
    if (tag) {
        const char *t = (const char *)tag, *std = "tag:yaml.org,2002:";
        int short_form = strncmp(t, std, strlen(std)) == 0;
        return fail(b, &ev->start_mark,
                    "tags (%s%s) are not supported: a scenario's values are "
                    "strings, numbers, booleans, null, sequences and "
                    "mappings",
                    short_form ? "!!" : "", short_form ? t + strlen(std) : t);
    }
    return 0;
}

static int node(yb *b, yaml_event_t *ev, const cr_jpos_at *key, json_t **out);

static int sequence(yb *b, json_t *arr)
{
    yaml_event_t ev;
    int rc = 0;
    size_t base = b->path.n;
    for (size_t i = 0;; i++) {
        if ((rc = next(b, &ev)))
            return rc;
        if (ev.type == YAML_SEQUENCE_END_EVENT)
            break;
        char t[32];
        snprintf(t, sizeof t, "[%zu]", i);
        json_t *v = NULL;
        cr_jpos_at none = {0};
        if ((rc = cr_sbuf_add(&b->path, t, strlen(t))))
            yaml_event_delete(&ev);
        else
            rc = node(b, &ev, &none, &v);
        path_set(b, base);
        if (!rc && json_array_append_new(arr, v))
            rc = CR_ENOMEM;
        if (rc)
            return rc;
    }
    yaml_event_delete(&ev);
    return 0;
}

static int mapping(yb *b, json_t *obj)
{
    yaml_event_t ev, kev;
    int rc = 0;
    size_t base = b->path.n;
    for (;;) {
        if ((rc = next(b, &kev)))
            return rc;
        if (kev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&kev);
            return 0;
        }
        if ((rc = refuse_extras(b, &kev)))
            goto out;
        if (kev.type != YAML_SCALAR_EVENT) {
            rc = fail(
                b, &kev.start_mark, "a key must be a scalar (text), not a %s",
                kev.type == YAML_MAPPING_START_EVENT ? "mapping" : "sequence");
            goto out;
        }
        const char *k = (const char *)kev.data.scalar.value;
        size_t kn = kev.data.scalar.length;
        if (strlen(k) != kn) {
            rc = fail(b, &kev.start_mark, "a key holds a NUL character");
            goto out;
        }
        if (json_object_get(obj, k)) {
            rc = fail(b, &kev.start_mark, "duplicate key \"%s\"", k);
            goto out;
        }
        cr_jpos_at at = {0};
        where(b, &kev.start_mark, &at.kline, &at.kcol);
        if ((base && (rc = cr_sbuf_add(&b->path, ".", 1))) ||
            (rc = cr_sbuf_add(&b->path, k, kn)))
            goto out;
        json_t *v = NULL;
        if (!(rc = next(b, &ev)))
            rc = node(b, &ev, &at, &v);
        path_set(b, base);
        /* No UTF-8 check: libyaml hands out valid UTF-8 only. */
        if (!rc && json_object_setn_new_nocheck(obj, k, kn, v))
            rc = CR_ENOMEM;
    out:
        yaml_event_delete(&kev);
        if (rc)
            return rc;
    }
}

/* Takes ev (already read) and frees it. */
static int node(yb *b, yaml_event_t *ev, const cr_jpos_at *key, json_t **out)
{
    int rc;
    json_t *v = NULL;
    cr_jpos_at at = *key;
    *out = NULL;
    if ((rc = refuse_extras(b, ev)))
        goto out;
    where(b, &ev->start_mark, &at.vline, &at.vcol);
    if ((rc = cr_jpos_add(b->m, b->path.s, &at)))
        goto out;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        if (strlen((const char *)ev->data.scalar.value) !=
            ev->data.scalar.length) {
            rc = fail(b, &ev->start_mark, "a string holds a NUL character");
            break;
        }
        if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
            rc = plain(b, ev, &v);
        } else if (!(v = json_stringn((const char *)ev->data.scalar.value,
                                      ev->data.scalar.length))) {
            rc = CR_ENOMEM; /* libyaml hands out valid UTF-8 only */
        }
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        if (++b->depth > CR_YAML_MAX_DEPTH) {
            rc = fail(b, &ev->start_mark, "nested more than %d levels deep",
                      CR_YAML_MAX_DEPTH);
            break;
        }
        if (ev->type == YAML_SEQUENCE_START_EVENT)
            rc = (v = json_array()) ? sequence(b, v) : CR_ENOMEM;
        else
            rc = (v = json_object()) ? mapping(b, v) : CR_ENOMEM;
        b->depth--;
        break;
    default: /* libyaml never gives another event where a node is due */
        rc = fail(b, &ev->start_mark, "unexpected YAML event");
        break;
    }
out:
    yaml_event_delete(ev);
    if (rc) {
        json_decref(v);
        return rc;
    }
    *out = v;
    return 0;
}

int cr_yaml_load(const char *text, size_t len, json_t **root, cr_jpos **pos,
                 cr_yaml_error *e)
{
    yb b = {.s = (const unsigned char *)text, .len = len, .e = e};
    yaml_event_t ev;
    json_t *doc = NULL;
    int rc = 0, parser = 0;
    *root = NULL;
    *pos = NULL;
    memset(e, 0, sizeof *e);
    if (!(b.m = cr_jpos_create()) || cr_sbuf_add(&b.path, "", 0) ||
        !yaml_parser_initialize(&b.p)) {
        rc = CR_ENOMEM;
        goto out;
    }
    parser = 1;
    yaml_parser_set_input_string(&b.p, b.s, len);
    if ((rc = next(&b, &ev)))
        goto out;
    yaml_event_delete(&ev); /* STREAM-START */
    if ((rc = next(&b, &ev)))
        goto out;
    if (ev.type != YAML_DOCUMENT_START_EVENT) {
        rc = fail(&b, &ev.start_mark,
                  "empty document: a scenario is a mapping of keys to "
                  "values");
        yaml_event_delete(&ev);
        goto out;
    }
    yaml_event_delete(&ev);
    cr_jpos_at none = {0};
    if ((rc = next(&b, &ev)) || (rc = node(&b, &ev, &none, &doc)))
        goto out;
    if ((rc = next(&b, &ev))) /* DOCUMENT-END */
        goto out;
    yaml_event_delete(&ev);
    if ((rc = next(&b, &ev)))
        goto out;
    if (ev.type != YAML_STREAM_END_EVENT) {
        rc = fail(&b, &ev.start_mark,
                  "a second document: a scenario file holds one (no "
                  "\"---\" between two)");
        yaml_event_delete(&ev);
        goto out;
    }
    yaml_event_delete(&ev);
    cr_jpos_seal(b.m);
    *root = doc;
    *pos = b.m;
    doc = NULL;
    b.m = NULL;
out:
    if (parser)
        yaml_parser_delete(&b.p);
    json_decref(doc);
    cr_jpos_free(b.m);
    cr_free(b.path.s);
    return rc;
}
