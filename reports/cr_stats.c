/* cr_stats: see cr_stats.h. */
#include "cr_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/cr_alloc.h"

int cr_stats_wilson(size_t k, size_t n, double z, double *lo, double *hi)
{
    if (k > n || !(z > 0))
        return -1;
    if (n == 0) {
        *lo = 0;
        *hi = 1;
        return 0;
    }
    double nn = (double)n, p = (double)k / nn, z2 = z * z;
    double denom = 1 + z2 / nn;
    double centre = (p + z2 / (2 * nn)) / denom;
    double half = z * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / denom;
    double l = centre - half, h = centre + half;
    /* Exact ends: rounding must not put 0/n or n/n outside their bound. */
    if (k == 0)
        l = 0;
    if (k == n)
        h = 1;
    *lo = l < 0 ? 0 : l;
    *hi = h > 1 ? 1 : h;
    return 0;
}

double cr_stats_percentile(const double *v, size_t n, double p)
{
    if (n == 0)
        return NAN;
    if (p <= 0)
        return v[0];
    if (p >= 100)
        return v[n - 1];
    double h = (double)(n - 1) * p / 100.0;
    size_t i = (size_t)floor(h);
    if (i + 1 >= n)
        return v[n - 1];
    return v[i] + (h - (double)i) * (v[i + 1] - v[i]);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    if (isnan(x) || isnan(y))
        return isnan(x) - isnan(y);
    return (x > y) - (x < y);
}

void cr_stats_sort(double *v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_double);
}

size_t cr_stats_histogram(const double *v, size_t n, double lo, double hi,
                          size_t *counts, size_t nbins)
{
    size_t used = 0;
    if (nbins == 0)
        return 0;
    memset(counts, 0, nbins * sizeof *counts);
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i]))
            continue;
        size_t b;
        if (!(hi > lo))
            b = nbins / 2;
        else if (v[i] <= lo)
            b = 0;
        else if (v[i] >= hi)
            b = nbins - 1;
        else {
            b = (size_t)((v[i] - lo) / (hi - lo) * (double)nbins);
            if (b >= nbins)
                b = nbins - 1;
        }
        counts[b]++;
        used++;
    }
    return used;
}

int cr_stats_summarise(const double *v, size_t n, cr_stats_summary *out)
{
    double *c = NULL;
    size_t m = 0;
    double sum = 0;
    out->n = 0;
    out->min = out->median = out->p90 = out->max = out->mean = NAN;
    if (n == 0)
        return 0;
    c = cr_malloc(n * sizeof *c);
    if (!c)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i])) {
            c[m++] = v[i];
            sum += v[i];
        }
    cr_stats_sort(c, m);
    out->n = m;
    if (m) {
        out->min = c[0];
        out->max = c[m - 1];
        out->median = cr_stats_percentile(c, m, 50);
        out->p90 = cr_stats_percentile(c, m, 90);
        out->mean = sum / (double)m;
    }
    cr_free(c);
    return 0;
}
