/* cr_regex: the bounded regular expressions of a scenario (see
 * cr_scen.h, "regular expressions", and scenarios/README.md, "Limits").
 *
 * Scenarios use POSIX extended regular expressions compiled by the C
 * library's regcomp().  glibc's regcomp copies a bounded repetition X{m,n}
 * n times while it parses, so nested repetitions multiply: the 30-byte
 * `(((a{1,100}){1,100}){1,100})` took 12.7 s and 1.18 GB before regcomp
 * returned, `a{1,32767}` 29 s and 8 GB, 20 nested `(...+)` 1.9 s and 1.6
 * GB, and 50,000 nested parentheses overflow the stack.  So before regcomp
 * sees a pattern, scan() walks it once, without allocating, and computes
 * an upper bound of what regcomp will build:
 *
 *   size(atom) = 1 (a character, `.`, a bracket expression, an escape,
 *                   an anchor)
 *   size(X Y) = size(X) + size(Y)     size(X|Y) = size(X) + size(Y) + 1
 *   size(X*) = size(X?) = size(X) + 1  size(X+) = 2 size(X) + 1
 *   size(X{m,n}) = (size(X) + 1) max(n, 1)
 *   size(X{m,}) = (size(X) + 1) (m + 1)
 *
 * and refuses a pattern longer than CR_REGEX_MAX_LEN bytes, nested deeper
 * than CR_REGEX_MAX_NEST parentheses, with a repetition count above
 * CR_REGEX_MAX_COUNT, with a back-reference (a GNU extension that makes
 * matching exponential), or whose size exceeds CR_REGEX_MAX_SIZE.  Within
 * these limits the worst shapes measured (optional repetitions nested in
 * repetitions, the quadratic case of glibc's epsilon closures) compile in
 * about 30 ms and 30 MB; ordinary patterns in microseconds.  The scanner
 * over-approximates where it is unsure (an unmatched parenthesis, a brace
 * that is not an interval), so it never lets through what regcomp would
 * expand further; syntax errors are left to regcomp, whose message the
 * caller reports. */
#include "cr_scen_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct scan {
    const char *s;
    size_t n, i;
    int nest;  /* deepest nesting seen */
    char *why; /* first violation, or "" */
    size_t nwhy;
} scan;

static int failed(const scan *x)
{
    return x->why[0] != '\0';
}

static void fail(scan *x, const char *fmt, ...) CR_PRINTF(2, 3);
static void fail(scan *x, const char *fmt, ...)
{
    if (failed(x))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->why, x->nwhy, fmt, ap);
    va_end(ap);
}

/* Sizes saturate at HUGE: they are compared with a small limit only, and
 * doubles never overflow into something small. */
#define HUGE 1e300

static double sat(double v)
{
    return v > HUGE ? HUGE : v;
}

static double alt(scan *x, int depth);

/* A bracket expression from its '[' to its ']' (or the end of the
 * pattern: regcomp then reports it). */
static void bracket(scan *x)
{
    x->i++; /* '[' */
    if (x->i < x->n && x->s[x->i] == '^')
        x->i++;
    if (x->i < x->n && x->s[x->i] == ']')
        x->i++; /* a leading ']' is literal */
    while (x->i < x->n && x->s[x->i] != ']') {
        char c = x->s[x->i];
        if (c == '[' && x->i + 1 < x->n &&
            (x->s[x->i + 1] == ':' || x->s[x->i + 1] == '.' ||
             x->s[x->i + 1] == '=')) {
            /* [:class:], [.coll.], [=equiv=]: up to the matching "c]". */
            char d = x->s[x->i + 1];
            size_t k = x->i + 2;
            while (k + 1 < x->n && !(x->s[k] == d && x->s[k + 1] == ']'))
                k++;
            x->i = k + 1 < x->n ? k + 2 : x->n;
            continue;
        }
        x->i++;
    }
    if (x->i < x->n)
        x->i++; /* ']' */
}

/* Decimal digits at *k (capped at 10^6: only compared with small limits);
 * -1 when there is none. */
static long digits(const scan *x, size_t *k)
{
    long v = -1;
    for (; *k < x->n && x->s[*k] >= '0' && x->s[*k] <= '9'; (*k)++) {
        v = (v < 0 ? 0 : v) * 10 + (x->s[*k] - '0');
        if (v > 1000000)
            v = 1000000;
    }
    return v;
}

/* "{m}", "{m,}", "{m,n}" or "{,n}" at x->i: 1 and the counts (n < 0:
 * unbounded), or 0 when it is not an interval (x->i unchanged). */
static int interval(scan *x, long *m, long *n)
{
    size_t k = x->i + 1;
    long a = digits(x, &k), b = -1;
    int comma = 0;
    if (k < x->n && x->s[k] == ',') {
        comma = 1;
        k++;
        b = digits(x, &k);
    }
    if (k >= x->n || x->s[k] != '}' || (a < 0 && b < 0))
        return 0;
    *m = a < 0 ? 0 : a;
    *n = comma ? b : *m;
    x->i = k + 1;
    return 1;
}

/* Quantifiers after an atom of size a: the size of the whole. */
static double quantifiers(scan *x, double a)
{
    while (x->i < x->n && !failed(x)) {
        char c = x->s[x->i];
        size_t at = x->i;
        long m, n;
        if (c == '*' || c == '?') {
            a = sat(a + 1);
            x->i++;
        } else if (c == '+') {
            a = sat(2 * a + 1);
            x->i++;
        } else if (c == '{' && interval(x, &m, &n)) {
            long big = n > m ? n : m;
            if (big > CR_REGEX_MAX_COUNT) {
                fail(x,
                     "repetition count %ld at offset %zu is over %d, the "
                     "largest allowed",
                     big, at, CR_REGEX_MAX_COUNT);
                return a;
            }
            a = sat((a + 1) * (double)(n < 0 ? m + 1 : (big > 1 ? big : 1)));
        } else {
            break;
        }
    }
    return a;
}

/* One branch: atoms and their quantifiers up to '|', ')' or the end. */
static double branch(scan *x, int depth)
{
    double total = 0;
    while (x->i < x->n && !failed(x)) {
        char c = x->s[x->i];
        double a = 1;
        if (c == '|' || (c == ')' && depth > 0))
            break;
        if (c == '(') {
            if (depth + 1 > CR_REGEX_MAX_NEST) {
                fail(x, "parentheses nested more than %d deep (at offset %zu)",
                     CR_REGEX_MAX_NEST, x->i);
                break;
            }
            x->i++;
            a = alt(x, depth + 1);
            if (a < 1)
                a = 1;
            if (x->i < x->n && x->s[x->i] == ')')
                x->i++;
        } else if (c == '[') {
            bracket(x);
        } else if (c == '\\') {
            if (x->i + 1 < x->n && x->s[x->i + 1] >= '1' &&
                x->s[x->i + 1] <= '9') {
                fail(x,
                     "back-reference \\%c at offset %zu: not part of POSIX "
                     "extended regular expressions (and it makes matching "
                     "exponential)",
                     x->s[x->i + 1], x->i);
                break;
            }
            x->i += x->i + 1 < x->n ? 2 : 1;
        } else {
            /* A character, '.', an anchor, or an unmatched ')' or
             * quantifier that regcomp will judge: one position. */
            x->i++;
        }
        total = sat(total + quantifiers(x, a));
    }
    return total;
}

static double alt(scan *x, int depth)
{
    double total = branch(x, depth);
    while (x->i < x->n && x->s[x->i] == '|' && !failed(x)) {
        x->i++;
        total = sat(total + 1 + branch(x, depth));
    }
    return total;
}

int cr_regex_check(const char *pattern, char *why, size_t n)
{
    char dflt[256];
    if (!why || n == 0) {
        why = dflt;
        n = sizeof dflt;
    }
    why[0] = '\0';
    size_t len = strlen(pattern);
    if (len > CR_REGEX_MAX_LEN) {
        snprintf(why, n, "regular expression of %zu bytes (at most %d)", len,
                 CR_REGEX_MAX_LEN);
        return CR_EINVAL;
    }
    scan x = {.s = pattern, .n = len, .why = why, .nwhy = n};
    double size = 0;
    while (x.i < x.n && !failed(&x)) {
        size = sat(size + alt(&x, 0));
        if (x.i < x.n && x.s[x.i] == ')') {
            x.i++; /* unmatched: regcomp reports it */
            size = sat(size + 1);
        }
    }
    if (failed(&x))
        return CR_EINVAL;
    if (size > CR_REGEX_MAX_SIZE) {
        if (size < 1e15)
            snprintf(why, n,
                     "regular expression too large: its repetitions expand "
                     "it to %.0f positions (at most %d)",
                     size, CR_REGEX_MAX_SIZE);
        else
            snprintf(why, n,
                     "regular expression too large: its repetitions expand "
                     "it to more than 10^15 positions (at most %d)",
                     CR_REGEX_MAX_SIZE);
        return CR_EINVAL;
    }
    return 0;
}

int cr_regex_compile(regex_t *re, const char *pattern, char *why, size_t n)
{
    int rc = cr_regex_check(pattern, why, n);
    if (rc)
        return rc;
    int e = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);
    if (e) {
        char msg[160];
        regerror(e, re, msg, sizeof msg);
        if (why && n)
            snprintf(why, n, "%s", msg);
        return CR_EINVAL;
    }
    return 0;
}

int cr_vregex(cr_vctx *vx, const json_t *obj, const char *path, const char *key,
              const char **out, regex_t *re)
{
    const char *s;
    char p[CR_PATH_MAX], why[256];
    regex_t tmp;
    *out = NULL;
    int r = cr_vstr(vx, obj, path, key, NULL, &s);
    if (r <= 0)
        return r;
    cr_path_key(p, sizeof p, path, key);
    if (cr_regex_check(s, why, sizeof why)) {
        cr_verr(vx, p, "%s", why);
        return -1;
    }
    if (cr_regex_compile(re ? re : &tmp, s, why, sizeof why)) {
        cr_verr(vx, p, "invalid regular expression \"%s\": %s", s, why);
        return -1;
    }
    if (!re)
        regfree(&tmp);
    *out = s;
    return 1;
}
