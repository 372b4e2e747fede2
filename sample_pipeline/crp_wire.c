/* crp_wire: see crp_wire.h. */
#include "crp_wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crp_util.h"

int crp_work_format(crp_sb *b, const crp_work *w)
{
    const double *x = w->x;
    return crp_sb_printf(
        b, "W1 %s %a %d %a,%a,%a,%a,%a,%a,%a,%a,%a,%a,%a,%a,%a,%a,%a,%a",
        w->span, w->t_in, w->label, x[0], x[1], x[2], x[3], x[4], x[5], x[6],
        x[7], x[8], x[9], x[10], x[11], x[12], x[13], x[14], x[15]);
}

int crp_result_format(crp_sb *b, const crp_result *r)
{
    return crp_sb_printf(b, "R1 %s %a %d %d %a %d %s", r->span, r->score,
                         r->label, r->degraded, r->t_in, r->deliveries,
                         r->worker);
}

/* A span id (16 hex digits) and the space after it. */
static int span_of(const char **p, char *span)
{
    const char *s = *p;
    for (int i = 0; i < 16; i++)
        if (!strchr("0123456789abcdef", s[i]) || !s[i])
            return -1;
    if (s[16] != ' ')
        return -1;
    memcpy(span, s, 16);
    span[16] = '\0';
    *p = s + 17;
    return 0;
}

/* A number followed by sep ('\0': the end of the line). */
static int num(const char **p, double *v, char sep)
{
    char *e;
    errno = 0;
    *v = strtod(*p, &e);
    if (e == *p || *e != sep)
        return -1;
    *p = sep ? e + 1 : e;
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
