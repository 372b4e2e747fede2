/* crp_breaker: see crp_breaker.h.  Every transition is in the table. */
#include "crp_breaker.h"

typedef enum {
    BE_SUCCESS,   /* a call succeeded (below the probe count) */
    BE_FAILURE,   /* a call failed (below the threshold) */
    BE_TRIP,      /* consecutive failures reached the threshold */
    BE_COOLDOWN,  /* the open period elapsed */
    BE_PROBES_OK, /* enough half-open calls succeeded */
    BE_N
} brk_event;

#define C CRP_BRK_CLOSED
#define O CRP_BRK_OPEN
#define H CRP_BRK_HALF_OPEN
static const crp_brk_state table[CRP_BRK_NSTATES][BE_N] = {
    [C] = {[BE_SUCCESS] = C,
           [BE_FAILURE] = C,
           [BE_TRIP] = O,
           [BE_COOLDOWN] = C,
           [BE_PROBES_OK] = C},
    [O] = {[BE_SUCCESS] = O,
           [BE_FAILURE] = O,
           [BE_TRIP] = O,
           [BE_COOLDOWN] = H,
           [BE_PROBES_OK] = O},
    [H] = {[BE_SUCCESS] = H,
           [BE_FAILURE] = O,
           [BE_TRIP] = O,
           [BE_COOLDOWN] = H,
           [BE_PROBES_OK] = C},
};
#undef C
#undef O
#undef H

const char *crp_breaker_name(crp_brk_state s)
{
    static const char *const n[] = {"closed", "open", "half_open"};
    return s < CRP_BRK_NSTATES ? n[s] : "?";
}

void crp_breaker_init(crp_breaker *b, int threshold, int open_ms, int probes)
{
    *b = (crp_breaker){.state = CRP_BRK_CLOSED,
                       .threshold = threshold,
                       .open_ms = open_ms,
                       .probes = probes > 0 ? probes : 1};
}

static void fire(crp_breaker *b, brk_event ev, int64_t now_ms)
{
    if (ev == BE_TRIP && b->never_opens)
        ev = BE_FAILURE; /* the defect: the trip is lost */
    crp_brk_state from = b->state, to = table[from][ev];
    if (to == from)
        return;
    b->state = to;
    b->failures = 0;
    b->successes = 0;
    b->probe_inflight = 0;
    if (to == CRP_BRK_OPEN)
        b->opened_at = now_ms;
    if (b->on_change)
        b->on_change(b->arg, from, to);
}

int crp_breaker_allow(crp_breaker *b, int64_t now_ms)
{
    if (b->state == CRP_BRK_OPEN && now_ms - b->opened_at >= b->open_ms)
        fire(b, BE_COOLDOWN, now_ms);
    switch (b->state) {
    case CRP_BRK_CLOSED:
        return 1;
    case CRP_BRK_HALF_OPEN:
        if (b->probe_inflight)
            return 0;
        b->probe_inflight = 1;
        return 1;
    default:
        return 0;
    }
}

void crp_breaker_record(crp_breaker *b, int ok, int64_t now_ms)
{
    b->probe_inflight = 0;
    if (ok) {
        b->failures = 0;
        b->successes++;
        fire(b,
             b->state == CRP_BRK_HALF_OPEN && b->successes >= b->probes
                 ? BE_PROBES_OK
                 : BE_SUCCESS,
             now_ms);
    } else {
        b->successes = 0;
        b->failures++;
        fire(b, b->failures >= b->threshold ? BE_TRIP : BE_FAILURE, now_ms);
    }
}
