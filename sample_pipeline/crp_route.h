// clang-format off
/* crp_route: the worker's routing and failover state machine for remote
 * scoring, pure (time passed in, no I/O) so that every transition can be
 * tested.  crp_scorer.c feeds it the registry's healthy set and the
 * outcome of each request, and asks it where to send the next one.
 *
 * State: the last known healthy set (preference order: the worker's own
 * region first, then the registry's order, i.e. priority), the instance
 * in use, and a local hold-down per instance that failed (it is skipped
 * for down_ms even while the registry, which learns of failures later,
 * still lists it).  Transitions (crp_route_pick):
 *
 *   current eligible, failback off or current is the best  -> keep it
 *   current eligible, failback on, a better one eligible   -> switch, "failback"
 *   current failed (crp_route_failed)                      -> next eligible,
 *                                                             reason of the failure
 *   current no longer in the healthy set                   -> next eligible, "unhealthy"
 *   nothing eligible                                       -> none (caller waits)
 *
 * Eligible = in the healthy set and not held down.  With no_failover (a
 * defect switch, tests only) the current instance is kept whatever
 * happens. */
// clang-format on
#ifndef CRP_ROUTE_H
#define CRP_ROUTE_H

#include <stdint.h>

#define CRP_ROUTE_MAX 32

typedef struct crp_rinst {
    char inst[64], addr[128], region[64];
    int prio;
} crp_rinst;

typedef struct crp_route {
    crp_rinst set[CRP_ROUTE_MAX]; /* healthy set, preference order */
    int n;
    int known;        /* a set was received at least once */
    crp_rinst cur;    /* in use; cur.inst[0] == 0: none */
    char cur_why[32]; /* why cur failed ("" = it did not) */
    struct {
        char inst[64];
        int64_t until;
    } down[CRP_ROUTE_MAX];
    int ndown;
    char region[64];
    int failback, down_ms, no_failover;
} crp_route;

typedef struct crp_rpick {
    crp_rinst to;       /* where to send */
    int switched;       /* 1: differs from the instance used before */
    char from[64];      /* the instance left ("" at the first choice) */
    const char *reason; /* of a switch: timeout, refused, closed, error,
                         * unhealthy, failback, first */
} crp_rpick;

/* Fresh state: no set known, nothing in use. */
void crp_route_init(crp_route *r, const char *region, int failback, int down_ms,
                    int no_failover);
/* Replace the healthy set with v[0..n-1] (the registry's order); n is
 * capped at CRP_ROUTE_MAX.  The instance in use is not changed here. */
void crp_route_set(crp_route *r, const crp_rinst *v, int n);
/* Drop the healthy set (as if none were known). */
void crp_route_forget(crp_route *r);
/* Where to send the next request at now.  Returns 1 with *p filled, or 0
 * when no instance is eligible (*p.from then names the instance in use,
 * if any).  Makes the chosen instance the current one. */
int crp_route_pick(crp_route *r, int64_t now, crp_rpick *p);
/* A request to inst failed (reason: a short static string): inst is held
 * down until now + down_ms, and if it is the current one the next pick
 * moves away from it. */
void crp_route_failed(crp_route *r, const char *inst, int64_t now,
                      const char *reason);
/* 1 when some instance is eligible at now. */
int crp_route_available(const crp_route *r, int64_t now);

#endif
