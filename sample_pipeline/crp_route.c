/* crp_route: see crp_route.h. */
#include "crp_route.h"

#include <string.h>

#include "crp_util.h"

void crp_route_init(crp_route *r, const char *region, int failback, int down_ms,
                    int no_failover)
{
    memset(r, 0, sizeof *r);
    crp_strlcpy(r->region, region ? region : "", sizeof r->region);
    r->failback = failback;
    r->down_ms = down_ms;
    r->no_failover = no_failover;
}

void crp_route_set(crp_route *r, const crp_rinst *v, int n)
{
    if (n > CRP_ROUTE_MAX)
        n = CRP_ROUTE_MAX;
    if (n < 0)
        n = 0;
    int k = 0;
    /* stable: own region first, each part in the registry's order */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++) {
            int mine = r->region[0] && !strcmp(v[i].region, r->region);
            if (mine == (pass == 0))
                r->set[k++] = v[i];
        }
    r->n = k;
    r->known = 1;
}

void crp_route_forget(crp_route *r)
{
    r->n = 0;
    r->known = 0;
}

static int held_down(const crp_route *r, const char *inst, int64_t now)
{
    for (int i = 0; i < r->ndown; i++)
        if (!strcmp(r->down[i].inst, inst))
            return now < r->down[i].until;
    return 0;
}

/* Index in the set of the first eligible instance, or -1. */
static int best(const crp_route *r, int64_t now)
{
    for (int i = 0; i < r->n; i++)
        if (!held_down(r, r->set[i].inst, now))
            return i;
    return -1;
}

static int index_of(const crp_route *r, const char *inst)
{
    for (int i = 0; i < r->n; i++)
        if (!strcmp(r->set[i].inst, inst))
            return i;
    return -1;
}

int crp_route_available(const crp_route *r, int64_t now)
{
    if (r->no_failover && r->cur.inst[0])
        return 1;
    return best(r, now) >= 0;
}

/* The static string naming a failure reason (cur_why is a copy). */
static const char *static_reason(const char *why)
{
    static const char *const known[] = {"timeout", "refused", "closed",
                                        "error"};
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (!strcmp(why, known[i]))
            return known[i];
    return "error";
}

int crp_route_pick(crp_route *r, int64_t now, crp_rpick *p)
{
    memset(p, 0, sizeof *p);
    crp_strlcpy(p->from, r->cur.inst, sizeof p->from);
    if (r->no_failover && r->cur.inst[0]) {
        /* DEFECT (tests only): stick to the instance in use. */
        int c = index_of(r, r->cur.inst);
        if (c >= 0)
            r->cur = r->set[c]; /* its address may have changed */
        p->to = r->cur;
        return 1;
    }
    int b = best(r, now);
    int c = r->cur.inst[0] ? index_of(r, r->cur.inst) : -1;
    int cur_ok = c >= 0 && !held_down(r, r->cur.inst, now) && !r->cur_why[0];
    if (cur_ok && !(r->failback && b >= 0 && b < c)) {
        r->cur = r->set[c];
        p->to = r->cur;
        return 1;
    }
    if (b < 0)
        return 0;
    int to = b;
    if (!r->cur.inst[0])
        p->reason = "first";
    else if (cur_ok)
        p->reason = "failback";
    else if (r->cur_why[0])
        p->reason = static_reason(r->cur_why);
    else if (c < 0)
        p->reason = "unhealthy";
    else
        p->reason = "held down";
    p->switched = strcmp(r->set[to].inst, r->cur.inst) != 0;
    r->cur = r->set[to];
    r->cur_why[0] = '\0';
    p->to = r->cur;
    return 1;
}

void crp_route_failed(crp_route *r, const char *inst, int64_t now,
                      const char *reason)
{
    int i;
    for (i = 0; i < r->ndown; i++)
        if (!strcmp(r->down[i].inst, inst))
            break;
    if (i == r->ndown) {
        if (r->ndown < CRP_ROUTE_MAX) {
            r->ndown++;
        } else { /* full: reuse the entry that expires first */
            i = 0;
            for (int k = 1; k < r->ndown; k++)
                if (r->down[k].until < r->down[i].until)
                    i = k;
        }
        crp_strlcpy(r->down[i].inst, inst, sizeof r->down[i].inst);
    }
    r->down[i].until = now + r->down_ms;
    if (!strcmp(inst, r->cur.inst))
        crp_strlcpy(r->cur_why, reason ? reason : "error", sizeof r->cur_why);
}
