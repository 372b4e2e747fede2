/* bench_report_html: report.html of a long run, with and without the
 * limits for long runs (cr_html_limits_default against none: "before" is
 * the page as it was drawn before the limits, mark by mark and every row
 * listed), side by side on the same loaded run.
 *
 * For each event count given (default 10^4 and 10^6) it writes the
 * synthetic ten-hour run of tests/cr_test_longrun.h into a temporary
 * directory, loads it once (the load is the same either way and is
 * reported apart), then writes the page alternately without and with the
 * limits, 3 times each, and prints the size of each page, the median
 * write time of each and their ratios.  --quick: 10^4 events only, and
 * exit 1 when the limited page is larger than the unlimited one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../cr_test_longrun.h"
#include "reports/cr_html.h"
#include "reports/cr_report.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Write the page under lim; its size into *size, the time returned. */
static double write_page(const cr_report *r, const cr_html_limits *lim,
                         size_t *size)
{
    cr_out o;
    cr_err e;
    cr_out_init(&o);
    cr_err_clear(&e);
    double t = now();
    if (cr_html_write_limited(r, &o, lim, &e) != 0) {
        fprintf(stderr, "bench_report_html: %s\n", e.msg);
        exit(4);
    }
    t = now() - t;
    *size = o.n;
    cr_out_free(&o);
    return t;
}

static int bench(size_t nev, int quick)
{
    char dir[] = "/tmp/cr_bench_html.XXXXXX";
    char cmd[128];
    cr_report *r = NULL;
    cr_err e;
    cr_err_clear(&e);
    if (!mkdtemp(dir) || crt_longrun_write(dir, nev) != 0) {
        perror("bench_report_html: writing the run");
        return 4;
    }
    double t = now();
    if (cr_report_load(dir, &r, &e) != 0) {
        fprintf(stderr, "bench_report_html: %s\n", e.msg);
        return 4;
    }
    double load = now() - t;
    enum { REPS = 3 };
    double tb[REPS], ta[REPS];
    size_t sb = 0, sa = 0;
    for (int i = 0; i < REPS; i++) {
        tb[i] = write_page(r, NULL, &sb);
        ta[i] = write_page(r, &cr_html_limits_default, &sa);
    }
    qsort(tb, REPS, sizeof *tb, cmp_d);
    qsort(ta, REPS, sizeof *ta, cmp_d);
    printf("%8zu events (load %.2f s): before %9zu bytes %7.3f s | after "
           "%7zu bytes %7.3f s | size after/before %.4f, time after/before "
           "%.3f\n",
           nev, load, sb, tb[REPS / 2], sa, ta[REPS / 2],
           (double)sa / (double)sb, ta[REPS / 2] / tb[REPS / 2]);
    cr_report_destroy(r);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_report_html: could not remove %s\n", dir);
    return quick && sa > sb ? 1 : 0;
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && !strcmp(argv[1], "--quick"), rc = 0;
    if (quick)
        return bench(10000, 1);
    if (argc < 2) {
        rc |= bench(10000, 0);
        rc |= bench(1000000, 0);
        return rc;
    }
    for (int i = 1; i < argc; i++)
        rc |= bench(strtoul(argv[i], NULL, 10), 0);
    return rc;
}
