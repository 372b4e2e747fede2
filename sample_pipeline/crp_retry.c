/* crp_retry: see crp_retry.h. */
#include "crp_retry.h"

#include <math.h>

int crp_retry_cap_ms(const crp_retry *p, int attempt)
{
    double cap = p->base_ms * pow(p->factor, attempt > 0 ? attempt - 1 : 0);
    if (cap > p->max_ms)
        cap = p->max_ms;
    return (int)cap;
}

int crp_retry_delay_ms(const crp_retry *p, int attempt, crp_rng *r)
{
    if (p->no_backoff)
        return 0;
    int cap = crp_retry_cap_ms(p, attempt);
    if (!p->full_jitter)
        return cap;
    return (int)crp_rng_below(r, (uint64_t)cap + 1);
}

int crp_retry_again(const crp_retry *p, int attempt)
{
    return p->unlimited || attempt < p->attempts;
}
