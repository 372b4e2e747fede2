// clang-format off
/* crp_breaker: a circuit breaker written as a state x event table.
 *
 *   closed --(failures reach threshold)--> open
 *   open --(open period elapsed, next call)--> half_open (one probe call)
 *   half_open --(probe fails)--> open;  --(probes succeed)--> closed
 *
 * Single-threaded: the owner calls allow() before a call and record()
 * after it.  State changes are reported through the change callback. */
// clang-format on
#ifndef CRP_BREAKER_H
#define CRP_BREAKER_H

#include <stdint.h>

typedef enum {
    CRP_BRK_CLOSED,
    CRP_BRK_OPEN,
    CRP_BRK_HALF_OPEN,
    CRP_BRK_NSTATES
} crp_brk_state;

typedef struct crp_breaker {
    crp_brk_state state;
    int threshold, open_ms, probes;
    int never_opens; /* DEFECT (tests only): the trip is ignored */
    int failures, successes;
    int probe_inflight;
    int64_t opened_at;
    void (*on_change)(void *arg, crp_brk_state from, crp_brk_state to);
    void *arg;
} crp_breaker;

void crp_breaker_init(crp_breaker *b, int threshold, int open_ms, int probes);
/* 1: the call may go ahead; 0: rejected (open, or a probe in flight). */
int crp_breaker_allow(crp_breaker *b, int64_t now_ms);
/* Record the outcome of an allowed call. */
void crp_breaker_record(crp_breaker *b, int ok, int64_t now_ms);
const char *crp_breaker_name(crp_brk_state s);

#endif
