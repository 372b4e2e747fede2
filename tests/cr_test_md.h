/* cr_test_md: a small Markdown model for the doc tests (header-only, so
 * each test executable stays one .c file plus cr_test.c).
 *
 * md_load() reads a file of the source tree and finds its headings
 * (outside fenced code), each with its own text (up to the next heading)
 * and its whole section (up to the next heading of the same or a higher
 * level).  A key table is a table whose header's first cell is "key" (or
 * "lock"); its keys are the `code` spans of the first column.  A table with
 * an "attributes" column (the proxy's toxics) documents the keys named in
 * that column too.  slug() is GitHub's anchor of a heading. */
#ifndef CR_TEST_MD_H
#define CR_TEST_MD_H

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cr_test.h"
#include "scenario/cr_scen.h"

/* ---- names -------------------------------------------------------------- */

#define NAMES_MAX 512

typedef struct names {
    char v[NAMES_MAX][64];
    size_t n;
} names;

static inline int names_has(const names *s, const char *x)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], x) == 0)
            return 1;
    return 0;
}

static inline void names_add(names *s, const char *x, size_t len)
{
    char buf[64];
    if (len >= sizeof buf)
        return;
    memcpy(buf, x, len);
    buf[len] = '\0';
    if (names_has(s, buf) || s->n == NAMES_MAX)
        return;
    snprintf(s->v[s->n++], sizeof s->v[0], "%s", buf);
}

static inline void names_params(names *s, const cr_param *p)
{
    for (; p && p->name; p++)
        names_add(s, p->name, strlen(p->name));
}

/* ---- a small Markdown model ---------------------------------------------- */

typedef struct md_sec {
    int level;
    char title[200];
    size_t start;   /* the heading line */
    size_t end_own; /* the next heading of any level */
    size_t end;     /* the next heading of the same or a higher level */
    int parent;     /* enclosing heading, -1 */
} md_sec;

typedef struct md_doc {
    char rel[256];
    char *text;
    size_t len;
    md_sec v[400];
    size_t n;
} md_doc;

static inline char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0, k;
    do {
        if (n + 4096 > cap) {
            cap = cap ? cap * 2 : 65536;
            char *q = realloc(buf, cap);
            if (!q) {
                free(buf);
                fclose(fp);
                return NULL;
            }
            buf = q;
        }
        k = fread(buf + n, 1, cap - n - 1, fp);
        n += k;
    } while (k > 0);
    fclose(fp);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static inline size_t line_end(const char *t, size_t len, size_t at)
{
    const char *nl = memchr(t + at, '\n', len - at);
    return nl ? (size_t)(nl - t) : len;
}

/* Headings outside fenced code blocks. */
static inline md_doc *md_load(const char *rel)
{
    md_doc *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    snprintf(d->rel, sizeof d->rel, "%s", rel);
    d->text = slurp(cr_test_src(rel), &d->len);
    if (!d->text) {
        free(d);
        return NULL;
    }
    int fence = 0;
    for (size_t at = 0; at < d->len;) {
        size_t e = line_end(d->text, d->len, at);
        const char *l = d->text + at;
        if (strncmp(l, "```", 3) == 0)
            fence = !fence;
        int lv = 0;
        while (!fence && lv < 6 && at + (size_t)lv < e && l[lv] == '#')
            lv++;
        if (lv > 0 && at + (size_t)lv < e && l[lv] == ' ' &&
            d->n < sizeof d->v / sizeof d->v[0]) {
            md_sec *s = &d->v[d->n++];
            s->level = lv;
            s->start = at;
            snprintf(s->title, sizeof s->title, "%.*s",
                     (int)(e - at - (size_t)lv - 1), l + lv + 1);
        }
        at = e + 1;
    }
    for (size_t i = 0; i < d->n; i++) {
        md_sec *s = &d->v[i];
        s->end_own = i + 1 < d->n ? d->v[i + 1].start : d->len;
        s->end = d->len;
        for (size_t j = i + 1; j < d->n; j++)
            if (d->v[j].level <= s->level) {
                s->end = d->v[j].start;
                break;
            }
        s->parent = -1;
        for (size_t j = i; j-- > 0;)
            if (d->v[j].level < s->level) {
                s->parent = (int)j;
                break;
            }
    }
    return d;
}

static inline void md_free(md_doc *d)
{
    if (d)
        free(d->text);
    free(d);
}

/* The heading of `level` whose title is `name` or starts with `name `;
 * -1 when there is none, -2 when there are several. */
static inline int md_find(const md_doc *d, int level, const char *name)
{
    int found = -1;
    size_t k = strlen(name);
    for (size_t i = 0; i < d->n; i++) {
        const md_sec *s = &d->v[i];
        if (s->level != level || strncmp(s->title, name, k) != 0 ||
            (s->title[k] != '\0' && s->title[k] != ' '))
            continue;
        if (found >= 0)
            return -2;
        found = (int)i;
    }
    return found;
}

/* Same, failing the test (with the file's name) when it is not one. */
static inline int md_need(const md_doc *d, int level, const char *name)
{
    int i = md_find(d, level, name);
    if (i < 0) {
        fprintf(stderr, "%s: %s heading \"%.*s %s\"\n", d->rel,
                i == -1 ? "no" : "more than one", level, "######", name);
        CU_FAIL("a documented heading is missing or ambiguous");
    }
    return i;
}

/* Split a table row into cells (a "\|" does not split). */
static inline size_t row_cells(const char *l, size_t len, const char *cell[],
                               size_t clen[], size_t max)
{
    size_t n = 0, i = 0;
    if (len && l[0] == '|')
        i = 1;
    size_t from = i;
    for (; i <= len && n < max; i++) {
        if (i == len || (l[i] == '|' && l[i - 1] != '\\')) {
            if (i == len && i == from)
                break;
            size_t a = from, b = i;
            while (a < b && isspace((unsigned char)l[a]))
                a++;
            while (b > a && isspace((unsigned char)l[b - 1]))
                b--;
            cell[n] = l + a;
            clen[n] = b - a;
            n++;
            from = i + 1;
        }
    }
    return n;
}

/* Add the `code` spans of s[0..len) that look like keys. */
static inline void code_spans(names *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '`')
            continue;
        const char *e = memchr(s + i + 1, '`', len - i - 1);
        if (!e)
            return;
        size_t k = (size_t)(e - (s + i + 1));
        int ident = k > 0;
        for (size_t j = 0; j < k; j++)
            ident &= isalnum((unsigned char)s[i + 1 + j]) ||
                     s[i + 1 + j] == '_' || s[i + 1 + j] == '-';
        if (ident)
            names_add(out, s + i + 1, k);
        i = (size_t)(e - s);
    }
}

/* Keys documented by the tables in [from, to) of d (see the file's top). */
static inline void md_table_keys(const md_doc *d, size_t from, size_t to,
                                 names *out)
{
    const char *cell[16];
    size_t clen[16];
    int in_table = 0, key_col = -1, attr_col = -1, fence = 0;
    for (size_t at = from; at < to;) {
        size_t e = line_end(d->text, to, at);
        const char *l = d->text + at;
        if (strncmp(l, "```", 3) == 0)
            fence = !fence;
        if (fence || l[0] != '|') {
            in_table = 0;
            at = e + 1;
            continue;
        }
        size_t n = row_cells(l, e - at, cell, clen, 16);
        if (!in_table) { /* the header */
            in_table = 1;
            key_col = attr_col = -1;
            for (size_t c = 0; c < n; c++) {
                if (c == 0 && ((clen[c] == 3 && !strncmp(cell[c], "key", 3)) ||
                               (clen[c] == 4 && !strncmp(cell[c], "lock", 4))))
                    key_col = 0;
                if (clen[c] == 10 && strncmp(cell[c], "attributes", 10) == 0)
                    attr_col = (int)c;
            }
        } else if (n > 0 && cell[0][0] != '-' && cell[0][0] != ':') {
            if (key_col == 0)
                code_spans(out, cell[0], clen[0]);
            if (attr_col >= 0 && (size_t)attr_col < n)
                code_spans(out, cell[attr_col], clen[attr_col]);
        }
        at = e + 1;
    }
}

static inline void md_sec_keys(const md_doc *d, int i, int own_only, names *out)
{
    if (i < 0)
        return;
    md_table_keys(d, d->v[i].start, own_only ? d->v[i].end_own : d->v[i].end,
                  out);
}

/* ---- anchors ------------------------------------------------------------- */

/* GitHub's anchor of a heading: lower case; ASCII letters, digits, '_' and
 * '-' kept, spaces become '-', other ASCII dropped.  Of non-ASCII, the
 * letters U+00C0..U+024F are kept (but x and division signs) and
 * everything else (arrows, dashes, math signs) dropped; enough for these
 * docs, which use no other letters in headings. */
static inline void slug(const char *title, char *out, size_t n)
{
    size_t k = 0;
    const unsigned char *p = (const unsigned char *)title;
    while (*p && k + 4 < n) {
        if (*p < 0x80) {
            if (isalnum(*p) || *p == '_' || *p == '-')
                out[k++] = (char)tolower(*p);
            else if (*p == ' ')
                out[k++] = '-';
            p++;
            continue;
        }
        size_t cl = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
        unsigned cp = cl == 2 ? ((p[0] & 0x1fu) << 6) | (p[1] & 0x3fu) : 0;
        if (cp >= 0xc0 && cp <= 0x24f && cp != 0xd7 && cp != 0xf7) {
            memcpy(out + k, p, cl);
            k += cl;
        }
        for (size_t j = 0; j < cl && *p; j++)
            p++;
    }
    out[k] = '\0';
}

static inline int md_has_anchor(const md_doc *d, const char *anchor)
{
    for (size_t i = 0; i < d->n; i++) {
        char s[256];
        slug(d->v[i].title, s, sizeof s);
        /* GitHub strips the `code` marks with their text kept. */
        if (strcmp(s, anchor) == 0)
            return 1;
        /* Repeated headings get -1, -2, ... */
        size_t k = strlen(s);
        if (strncmp(anchor, s, k) == 0 && anchor[k] == '-' &&
            isdigit((unsigned char)anchor[k + 1]))
            return 1;
    }
    return 0;
}

#endif
