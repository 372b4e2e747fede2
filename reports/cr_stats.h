/* cr_stats: the small statistics the reports need.
 *
 * Wilson score intervals for pass rates (a scenario that passed 19 of 20
 * seeds is flaky, and the interval says how sure we are), percentiles with
 * linear interpolation, and fixed-width histograms.  Pure functions, no
 * allocation except where documented. */
#ifndef CR_STATS_H
#define CR_STATS_H

#include <stddef.h>

/* Wilson score interval for k successes in n trials at normal quantile z
 * (1.959964 for 95%).  n == 0 gives [0, 1].  Returns 0, or CR_EINVAL-style
 * -1 when k > n or z <= 0 (lo/hi untouched). */
int cr_stats_wilson(size_t k, size_t n, double z, double *lo, double *hi);

/* The 95% quantile of the standard normal distribution. */
#define CR_STATS_Z95 1.959963984540054

/* Percentile p in [0, 100] of v[0..n) which must be sorted ascending, by
 * linear interpolation between closest ranks (the "R7"/numpy default).
 * NAN when n == 0. */
double cr_stats_percentile(const double *sorted, size_t n, double p);

/* Sort v[0..n) ascending in place (NaNs go last). */
void cr_stats_sort(double *v, size_t n);

/* Fixed-width histogram of v[0..n) over [lo, hi] into nbins counts (the
 * last bin includes hi; values outside are clamped to the end bins).  When
 * lo == hi every value lands in the middle bin.  Returns the number of
 * values counted (NaNs are skipped). */
size_t cr_stats_histogram(const double *v, size_t n, double lo, double hi,
                          size_t *counts, size_t nbins);

/* Summary of a sample: min, median, p90, max, mean (NAN when n == 0). */
typedef struct cr_stats_summary {
    size_t n;
    double min, median, p90, max, mean;
} cr_stats_summary;

/* Summarise v[0..n) (not modified; sorted internally in a copy).  Returns 0
 * or -1 when the copy cannot be allocated. */
int cr_stats_summarise(const double *v, size_t n, cr_stats_summary *out);

#endif
