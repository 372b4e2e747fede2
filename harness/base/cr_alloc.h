/* cr_alloc: allocation wrappers with a failure hook for OOM tests.
 *
 * All chaosrun allocations (and jansson's, through json_set_alloc_funcs)
 * go through these.  cr_alloc_fail_after(n) makes the n-th allocation from
 * now on (1-based) and every later one fail, so tests can run
 * allocation-failure loops; 0 disables.  The counter is the one documented
 * mutable global (STYLE.md: an allocator hook for OOM tests). */
#ifndef CR_ALLOC_H
#define CR_ALLOC_H

#include <stddef.h>

void *cr_malloc(size_t n);
void *cr_calloc(size_t n, size_t size);
void *cr_realloc(void *p, size_t n);
char *cr_strdup(const char *s); /* NULL in, NULL out */
void cr_free(void *p);
/* printf into a fresh string; NULL on failure. */
char *cr_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growing NUL-terminated string: zero-initialise, append, cr_free(.s).
 * s stays NULL until the first append (append "" to get an empty string). */
typedef struct cr_sbuf {
    char *s;
    size_t n, cap;
} cr_sbuf;
/* Append n bytes of t; 0, or CR_ENOMEM with the buffer unchanged. */
int cr_sbuf_add(cr_sbuf *b, const char *t, size_t n);

void cr_alloc_fail_after(long n);
/* Allocations made since the last cr_alloc_fail_after() call. */
long cr_alloc_count(void);
/* Allocations that returned NULL since the process started (injected or
 * real; never reset).  A caller compares it before and after a call whose
 * library hides an allocation failure behind another error (jansson reports
 * some as syntax errors). */
long cr_alloc_failures(void);
/* Route jansson through the hook (called once by main and tests). */
void cr_alloc_install_json(void);

#endif
