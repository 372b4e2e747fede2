/* cr_alloc: see cr_alloc.h. */
#include "cr_alloc.h"
#include "cr_err.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Failure hook for allocation-failure tests; the only mutable global
 * besides what main() owns.  Not thread-safe by design: tests that use it
 * are single-threaded. */
static long g_fail_at; /* 0: never fail */
static long g_count;
static long g_failures; /* allocations that returned NULL, ever */

static int alloc_should_fail(void)
{
    g_count++;
    if (g_fail_at > 0 && g_count >= g_fail_at) {
        g_failures++;
        return 1;
    }
    return 0;
}

/* Count a real allocation failure too (see cr_alloc_failures()). */
static void *alloc_checked(void *p)
{
    if (!p)
        g_failures++;
    return p;
}

long cr_alloc_failures(void)
{
    return g_failures;
}

void cr_alloc_fail_after(long n)
{
    g_fail_at = n;
    g_count = 0;
}

long cr_alloc_count(void)
{
    return g_count;
}

void *cr_malloc(size_t n)
{
    if (alloc_should_fail())
        return NULL;
    return alloc_checked(malloc(n ? n : 1));
}

void *cr_calloc(size_t n, size_t size)
{
    if (alloc_should_fail())
        return NULL;
    return alloc_checked(calloc(n ? n : 1, size ? size : 1));
}

void *cr_realloc(void *p, size_t n)
{
    if (alloc_should_fail())
        return NULL;
    return alloc_checked(realloc(p, n ? n : 1));
}

void cr_free(void *p)
{
    free(p);
}

char *cr_strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = cr_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

char *cr_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *s = cr_malloc((size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

int cr_sbuf_add(cr_sbuf *b, const char *t, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 64;
        while (nc < b->n + n + 1)
            nc *= 2;
        char *q = cr_realloc(b->s, nc);
        if (!q)
            return CR_ENOMEM;
        b->s = q;
        b->cap = nc;
    }
    if (n)
        memcpy(b->s + b->n, t, n);
    b->n += n;
    b->s[b->n] = '\0';
    return 0;
}

void cr_alloc_install_json(void)
{
    json_set_alloc_funcs(cr_malloc, cr_free);
}
