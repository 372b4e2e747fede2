/* cr_rng: see cr_rng.h. */
#include "cr_rng.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void cr_rng_seed(cr_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

uint64_t cr_rng_mix(uint64_t seed, const char *label)
{
    /* FNV-1a over the label, then mixed with the seed. */
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)label; p && *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    uint64_t x = seed ^ h;
    return splitmix64(&x);
}

void cr_rng_derive(cr_rng *r, uint64_t seed, const char *label)
{
    cr_rng_seed(r, cr_rng_mix(seed, label));
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t cr_rng_next(cr_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double cr_rng_unit(cr_rng *r)
{
    return (double)(cr_rng_next(r) >> 11) * 0x1.0p-53;
}

double cr_rng_range(cr_rng *r, double lo, double hi)
{
    if (hi <= lo)
        return lo;
    return lo + (hi - lo) * cr_rng_unit(r);
}

uint64_t cr_rng_below(cr_rng *r, uint64_t n)
{
    if (n == 0)
        return 0;
    /* Rejection sampling keeps the draw unbiased. */
    uint64_t lim = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do
        v = cr_rng_next(r);
    while (v >= lim);
    return v % n;
}

uint64_t cr_rng_fresh_seed(void)
{
    uint64_t s = 0;
    if (getrandom(&s, sizeof s, 0) != (ssize_t)sizeof s) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
            (uint64_t)getpid();
    }
    /* Keep seeds readable and exactly representable in JSON numbers. */
    return s % 1000000000ULL;
}
