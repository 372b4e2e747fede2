/* cr_jpos: the position map of a JSON text (see cr_jpos.h).
 *
 * A recursive walk over text that jansson already accepted, so the
 * tokenizer only needs to find token boundaries; it still checks bounds
 * and structure and fails with CR_EINVAL rather than read past the end.
 * Paths are kept in one growing arena and the entries are sorted once at
 * the end, so a look-up is a binary search and a build makes O(log n)
 * allocations. */
#include "cr_jpos.h"

#include "base/cr_alloc.h"
#include "base/cr_err.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct jent {
    size_t off; /* path offset in the arena while building */
    const char *path;
    cr_jpos_at at;
} jent;

struct cr_jpos {
    jent *v;
    size_t n, cap;
    char *arena;
    size_t alen, acap;
};

typedef struct jb {
    const char *s;
    size_t len, i;
    int line;
    size_t lstart; /* offset of the current line's first byte */
    char *path;    /* current path, NUL-terminated */
    size_t plen, pcap;
    char *key; /* decoded key scratch */
    size_t kcap;
    cr_jpos *m;
    int depth;
} jb;

#define JPOS_MAX_DEPTH 4096

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 64;
    while (nc < need)
        nc *= 2;
    void *q = cr_realloc(*p, nc * elem);
    if (!q)
        return CR_ENOMEM;
    *p = q;
    *cap = nc;
    return 0;
}

static void ws(jb *b)
{
    while (b->i < b->len) {
        char c = b->s[b->i];
        if (c == '\n') {
            b->line++;
            b->lstart = b->i + 1;
        } else if (c != ' ' && c != '\t' && c != '\r') {
            return;
        }
        b->i++;
    }
}

static int at_end(const jb *b)
{
    return b->i >= b->len;
}

static int put(cr_jpos *m, const char *path, size_t plen, const cr_jpos_at *at)
{
    if (grow((void **)&m->v, &m->cap, m->n + 1, sizeof *m->v) ||
        grow((void **)&m->arena, &m->acap, m->alen + plen + 1, 1))
        return CR_ENOMEM;
    jent *e = &m->v[m->n++];
    e->off = m->alen;
    e->path = NULL;
    e->at = *at;
    memcpy(m->arena + m->alen, path, plen);
    m->arena[m->alen + plen] = '\0';
    m->alen += plen + 1;
    return 0;
}

static int add(jb *b, int kl, int kc)
{
    cr_jpos_at at = {.kline = kl,
                     .kcol = kc,
                     .vline = b->line,
                     .vcol = (int)(b->i - b->lstart) + 1};
    return put(b->m, b->path, b->plen, &at);
}

static int path_append(jb *b, const char *t, size_t n)
{
    if (grow((void **)&b->path, &b->pcap, b->plen + n + 1, 1))
        return CR_ENOMEM;
    memcpy(b->path + b->plen, t, n);
    b->plen += n;
    b->path[b->plen] = '\0';
    return 0;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p[k];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t utf8_put(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Scan a string starting at its opening quote.  When dec is non-NULL the
 * decoded bytes go to b->key and *dec gets their length.  Strings never
 * span lines (JSON forbids raw newlines in them). */
static int string(jb *b, size_t *dec)
{
    size_t n = 0;
    b->i++; /* opening quote */
    while (!at_end(b) && b->s[b->i] != '"') {
        char tmp[8];
        size_t tn = 1;
        char c = b->s[b->i];
        if (c == '\\') {
            if (b->i + 1 >= b->len)
                return CR_EINVAL;
            char e = b->s[b->i + 1];
            b->i += 2;
            switch (e) {
            case 'b':
                tmp[0] = '\b';
                break;
            case 'f':
                tmp[0] = '\f';
                break;
            case 'n':
                tmp[0] = '\n';
                break;
            case 'r':
                tmp[0] = '\r';
                break;
            case 't':
                tmp[0] = '\t';
                break;
            case 'u': {
                unsigned cp, lo;
                if (b->i + 4 > b->len || hex4(b->s + b->i, &cp))
                    return CR_EINVAL;
                b->i += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF && b->i + 6 <= b->len &&
                    b->s[b->i] == '\\' && b->s[b->i + 1] == 'u' &&
                    hex4(b->s + b->i + 2, &lo) == 0 && lo >= 0xDC00 &&
                    lo <= 0xDFFF) {
                    cp = ((cp - 0xD800) << 10) + (lo - 0xDC00) + 0x10000;
                    b->i += 6;
                }
                tn = utf8_put(tmp, cp);
                break;
            }
            default:
                tmp[0] = e;
                break;
            }
        } else {
            tmp[0] = c;
            b->i++;
        }
        if (dec) {
            if (grow((void **)&b->key, &b->kcap, n + tn + 1, 1))
                return CR_ENOMEM;
            memcpy(b->key + n, tmp, tn);
            n += tn;
        }
    }
    if (at_end(b))
        return CR_EINVAL;
    b->i++; /* closing quote */
    if (dec) {
        if (grow((void **)&b->key, &b->kcap, n + 1, 1))
            return CR_ENOMEM;
        b->key[n] = '\0';
        *dec = n;
    }
    return 0;
}

static int walk(jb *b, int kl, int kc);

static int object(jb *b)
{
    int rc;
    b->i++;
    ws(b);
    if (!at_end(b) && b->s[b->i] == '}') {
        b->i++;
        return 0;
    }
    for (;;) {
        ws(b);
        if (at_end(b) || b->s[b->i] != '"')
            return CR_EINVAL;
        int kl = b->line, kc = (int)(b->i - b->lstart) + 1;
        size_t klen;
        if ((rc = string(b, &klen)))
            return rc;
        ws(b);
        if (at_end(b) || b->s[b->i] != ':')
            return CR_EINVAL;
        b->i++;
        size_t saved = b->plen;
        if ((saved && (rc = path_append(b, ".", 1))) ||
            (rc = path_append(b, b->key, klen)))
            return rc;
        rc = walk(b, kl, kc);
        b->plen = saved;
        b->path[saved] = '\0';
        if (rc)
            return rc;
        ws(b);
        if (at_end(b))
            return CR_EINVAL;
        if (b->s[b->i] == '}') {
            b->i++;
            return 0;
        }
        if (b->s[b->i] != ',')
            return CR_EINVAL;
        b->i++;
    }
}

static int array(jb *b)
{
    int rc;
    b->i++;
    ws(b);
    if (!at_end(b) && b->s[b->i] == ']') {
        b->i++;
        return 0;
    }
    for (size_t idx = 0;; idx++) {
        char t[32];
        int tn = snprintf(t, sizeof t, "[%zu]", idx);
        size_t saved = b->plen;
        if ((rc = path_append(b, t, (size_t)tn)))
            return rc;
        rc = walk(b, 0, 0);
        b->plen = saved;
        b->path[saved] = '\0';
        if (rc)
            return rc;
        ws(b);
        if (at_end(b))
            return CR_EINVAL;
        if (b->s[b->i] == ']') {
            b->i++;
            return 0;
        }
        if (b->s[b->i] != ',')
            return CR_EINVAL;
        b->i++;
    }
}

static int walk(jb *b, int kl, int kc)
{
    int rc;
    ws(b);
    if (at_end(b) || ++b->depth > JPOS_MAX_DEPTH)
        return CR_EINVAL;
    if ((rc = add(b, kl, kc)))
        return rc;
    char c = b->s[b->i];
    if (c == '{')
        rc = object(b);
    else if (c == '[')
        rc = array(b);
    else if (c == '"')
        rc = string(b, NULL);
    else {
        size_t start = b->i;
        while (!at_end(b) && !strchr(",]} \t\r\n", b->s[b->i]))
            b->i++;
        rc = b->i > start ? 0 : CR_EINVAL;
    }
    b->depth--;
    return rc;
}

static int ent_cmp(const void *a, const void *b)
{
    const jent *x = a, *y = b;
    return strcmp(x->path, y->path);
}

void cr_jpos_free(cr_jpos *m)
{
    if (!m)
        return;
    cr_free(m->v);
    cr_free(m->arena);
    cr_free(m);
}

cr_jpos *cr_jpos_create(void)
{
    return cr_calloc(1, sizeof(cr_jpos));
}

int cr_jpos_add(cr_jpos *m, const char *path, const cr_jpos_at *at)
{
    return put(m, path, strlen(path), at);
}

/* Pointers into the arena only once it stopped moving. */
void cr_jpos_seal(cr_jpos *m)
{
    for (size_t k = 0; k < m->n; k++)
        m->v[k].path = m->arena + m->v[k].off;
    if (m->n)
        qsort(m->v, m->n, sizeof *m->v, ent_cmp);
}

int cr_jpos_build(const char *text, size_t len, cr_jpos **out)
{
    int rc = 0;
    jb b = {.s = text, .len = len, .line = 1};
    *out = NULL;
    b.m = cr_calloc(1, sizeof *b.m);
    if (!b.m || path_append(&b, "", 0)) {
        rc = CR_ENOMEM;
        goto out;
    }
    if ((rc = walk(&b, 0, 0)))
        goto out;
    cr_jpos_seal(b.m);
    *out = b.m;
    b.m = NULL;
out:
    cr_jpos_free(b.m);
    cr_free(b.path);
    cr_free(b.key);
    return rc;
}

int cr_jpos_get(const cr_jpos *m, const char *path, cr_jpos_at *at)
{
    memset(at, 0, sizeof *at);
    if (!m || !path)
        return 0;
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(m->v[mid].path, path);
        if (c == 0) {
            *at = m->v[mid].at;
            return 1;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

void cr_jpos_offset(const char *text, size_t len, size_t off, int *line,
                    int *col)
{
    int l = 1;
    size_t ls = 0;
    if (off > len)
        off = len;
    for (size_t k = 0; k < off; k++)
        if (text[k] == '\n') {
            l++;
            ls = k + 1;
        }
    *line = l;
    *col = (int)(off - ls) + 1;
}
