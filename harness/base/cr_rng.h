/* cr_rng: the one seeded generator behind every random decision.
 *
 * xoshiro256** seeded through splitmix64.  Independent streams are derived
 * from (run seed, label) so that adding a fault to a scenario does not shift
 * the draws of the others: cr_rng_derive(&r, seed, "fault:kill-worker"). */
#ifndef CR_RNG_H
#define CR_RNG_H

#include <stdint.h>

typedef struct cr_rng {
    uint64_t s[4];
} cr_rng;

void cr_rng_seed(cr_rng *r, uint64_t seed);
/* Stream for (seed, label); same inputs give the same stream. */
void cr_rng_derive(cr_rng *r, uint64_t seed, const char *label);
/* 64-bit hash of a label mixed with a seed (for derived sub-seeds). */
uint64_t cr_rng_mix(uint64_t seed, const char *label);
uint64_t cr_rng_next(cr_rng *r);
/* Uniform in [0, 1). */
double cr_rng_unit(cr_rng *r);
/* Uniform in [lo, hi]; returns lo when hi <= lo. */
double cr_rng_range(cr_rng *r, double lo, double hi);
/* Uniform integer in [0, n); 0 when n == 0. */
uint64_t cr_rng_below(cr_rng *r, uint64_t n);
/* A fresh seed from the system (getrandom, falling back to time^pid),
 * below 10^9 so that it reads well and is exact in JSON. */
uint64_t cr_rng_fresh_seed(void);

#endif
