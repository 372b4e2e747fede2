/* crp_retry: the retry policy: exponential backoff with full jitter and a
 * maximum number of attempts.  Pure computation (testable); the caller
 * sleeps and emits the retry/giveup events. */
#ifndef CRP_RETRY_H
#define CRP_RETRY_H

#include "crp_util.h"

typedef struct crp_retry {
    int base_ms, max_ms, attempts;
    double factor;
    int full_jitter; /* 1: delay uniform in [0, cap]; 0: delay = cap */
    int no_backoff;  /* DEFECT (tests only): retry at once */
    int unlimited;   /* DEFECT (tests only): never give up */
} crp_retry;

/* The cap before attempt `attempt`+1, `attempt` being the 1-based attempt
 * that failed: min(max_ms, base_ms * factor^(attempt-1)). */
int crp_retry_cap_ms(const crp_retry *p, int attempt);
/* The delay to sleep after failed attempt `attempt` (draws from r when
 * jittered). */
int crp_retry_delay_ms(const crp_retry *p, int attempt, crp_rng *r);
/* 1 when attempt `attempt` (1-based, failed) may be followed by another. */
int crp_retry_again(const crp_retry *p, int attempt);

#endif
