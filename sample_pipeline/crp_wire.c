/* crp_wire: see crp_wire.h. */
#include "crp_wire.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crp_util.h"

static const char hexd[] = "0123456789abcdef";

char *crp_wire_put_f64(char *p, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    for (int i = 15; i >= 0; i--, u >>= 4)
        p[i] = hexd[u & 15];
    return p + 16;
}

/* The value of a lowercase hex digit + 1, 0 for any other byte: a table,
 * not branches (digits and letters come in no predictable order). */
static const unsigned char hexv[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,
    ['6'] = 7,  ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
    ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

static int hexval(char c)
{
    return (int)hexv[(unsigned char)c] - 1;
}

int crp_wire_get_f64(const char **p, double *v)
{
    uint64_t u = 0;
    const unsigned char *s = (const unsigned char *)*p;
    for (int i = 0; i < 16; i++) {
        unsigned d = hexv[s[i]];
        if (!d) /* not a hex digit (a NUL included: no read beyond it) */
            return -1;
        u = u << 4 | (uint64_t)(d - 1);
    }
    memcpy(v, &u, sizeof *v);
    *p += 16;
    return 0;
}

int crp_work_format(crp_sb *b, const crp_work *w)
{
    char line[64 + 17 * CRP_DIM], *p = line;
    p += snprintf(p, 32, "W1 %.16s ", w->span);
    p = crp_wire_put_f64(p, w->t_in);
    p += snprintf(p, 16, " %d ", w->label);
    for (int i = 0; i < CRP_DIM; i++) {
        if (i)
            *p++ = ',';
        p = crp_wire_put_f64(p, w->x[i]);
    }
    return crp_sb_append(b, line, (size_t)(p - line));
}

int crp_result_format(crp_sb *b, const crp_result *r)
{
    char line[160], *p = line;
    p += snprintf(p, 32, "R1 %.16s ", r->span);
    p = crp_wire_put_f64(p, r->score);
    p += snprintf(p, 32, " %d %d ", r->label, r->degraded);
    p = crp_wire_put_f64(p, r->t_in);
    p += snprintf(p, sizeof line - (size_t)(p - line), " %d %s", r->deliveries,
                  r->worker);
    if (p >= line + sizeof line)
        return -EOVERFLOW;
    return crp_sb_append(b, line, (size_t)(p - line));
}

/* A span id (16 hex digits) and the space after it. */
static int span_of(const char **p, char *span)
{
    const char *s = *p;
    for (int i = 0; i < 16; i++)
        if (hexval(s[i]) < 0)
            return -1;
    if (s[16] != ' ')
        return -1;
    memcpy(span, s, 16);
    span[16] = '\0';
    *p = s + 17;
    return 0;
}

/* A number (F) followed by sep ('\0': the end of the line). */
static int num(const char **p, double *v, char sep)
{
    if (crp_wire_get_f64(p, v) < 0 || **p != sep)
        return -1;
    if (sep)
        (*p)++;
    return 0;
}

static int int_of(const char **p, int *v, char sep)
{
    char *e;
    long l = strtol(*p, &e, 10);
    if (e == *p || *e != sep || l < -1000000 || l > 1000000)
        return -1;
    *v = (int)l;
    *p = sep ? e + 1 : e;
    return 0;
}

int crp_work_parse(const char *s, crp_work *w)
{
    if (strncmp(s, "W1 ", 3) != 0)
        return 0;
    const char *p = s + 3;
    if (span_of(&p, w->span) < 0 || num(&p, &w->t_in, ' ') < 0 ||
        int_of(&p, &w->label, ' ') < 0)
        return -1;
    for (int i = 0; i < CRP_DIM; i++)
        if (num(&p, &w->x[i], i + 1 < CRP_DIM ? ',' : '\0') < 0)
            return -1;
    return 1;
}

int crp_result_parse(const char *s, crp_result *r)
{
    if (strncmp(s, "R1 ", 3) != 0)
        return 0;
    const char *p = s + 3;
    if (span_of(&p, r->span) < 0 || num(&p, &r->score, ' ') < 0 ||
        int_of(&p, &r->label, ' ') < 0 || int_of(&p, &r->degraded, ' ') < 0 ||
        num(&p, &r->t_in, ' ') < 0 || int_of(&p, &r->deliveries, ' ') < 0 ||
        !*p)
        return -1;
    crp_strlcpy(r->worker, p, sizeof r->worker);
    return 1;
}
