/* crp_scale: see crp_scale.h. */
#include "crp_scale.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

int crp_scale_check(const crp_scale_policy *p, char *err, size_t n)
{
    if (p->min < 1 || p->max < p->min || p->max > 16) {
        snprintf(err, n, "--autoscale: need 1 <= MIN <= MAX <= 16 (got %d:%d)",
                 p->min, p->max);
        return -1;
    }
    if (p->up_depth < 0 || p->down_depth < 0 || p->down_depth > p->up_depth) {
        snprintf(err, n,
                 "--scale-down-depth (%" PRId64
                 ") must be >= 0 and <= --scale-up-depth (%" PRId64 ")",
                 p->down_depth, p->up_depth);
        return -1;
    }
    if (p->for_ms < 0 || p->cooldown_ms < 0) {
        snprintf(err, n, "--scale-for-ms and --cooldown-ms must be >= 0");
        return -1;
    }
    return 0;
}

int crp_scale_parse_range(const char *s, crp_scale_policy *p, char *err,
                          size_t n)
{
    char *end = NULL;
    long lo = strtol(s, &end, 10), hi = lo;
    if (end == s)
        goto bad;
    if (*end == ':') {
        const char *h = end + 1;
        hi = strtol(h, &end, 10);
        if (end == h)
            goto bad;
    }
    if (*end != '\0' || lo < 1 || hi < lo || hi > 16)
        goto bad;
    p->min = (int)lo;
    p->max = (int)hi;
    return 0;
bad:
    snprintf(err, n,
             "--autoscale \"%s\": expected MIN:MAX with 1 <= MIN <= "
             "MAX <= 16",
             s);
    return -1;
}

void crp_scale_init(crp_scale *s, const crp_scale_policy *p)
{
    s->p = *p;
    s->high_since = s->low_since = -1;
    s->last_change = -1;
}

static int change(crp_scale *s, int64_t now, int to)
{
    s->last_change = now;
    s->high_since = s->low_since = -1;
    return to;
}

int crp_scale_decide(crp_scale *s, int64_t now, int64_t depth, int cur,
                     char *why, size_t n)
{
    const crp_scale_policy *p = &s->p;
    char tmp[8];
    if (!why) {
        why = tmp;
        n = sizeof tmp;
    }
    if (cur < p->min) {
        snprintf(why, n, "below the minimum %d", p->min);
        return p->min;
    }
    if (cur > p->max) {
        snprintf(why, n, "above the maximum %d", p->max);
        return p->max;
    }
    if (depth < 0) {
        s->high_since = s->low_since = -1;
        return cur;
    }
    if (depth > p->up_depth) {
        if (s->high_since < 0)
            s->high_since = now;
    } else {
        s->high_since = -1;
    }
    if (depth < p->down_depth) {
        if (s->low_since < 0)
            s->low_since = now;
    } else {
        s->low_since = -1;
    }
    if (!p->no_cooldown && s->last_change >= 0 &&
        now - s->last_change < p->cooldown_ms)
        return cur;
    if (s->high_since >= 0 && now - s->high_since >= p->for_ms &&
        cur < p->max) {
        snprintf(why, n, "depth %" PRId64 " > %" PRId64 " for %" PRId64 " ms",
                 depth, p->up_depth, now - s->high_since);
        return change(s, now, cur + 1);
    }
    if (s->low_since >= 0 && now - s->low_since >= p->for_ms && cur > p->min) {
        snprintf(why, n, "depth %" PRId64 " < %" PRId64 " for %" PRId64 " ms",
                 depth, p->down_depth, now - s->low_since);
        return change(s, now, cur - 1);
    }
    return cur;
}
