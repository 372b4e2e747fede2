/* bench_loader: validation time of large scenarios, to show it is linear.
 *
 * Builds in memory scenarios of N services (each with a probe and an
 * expectation naming it) and of N faults (single-shot kills, each with a
 * name and a target), and times cr_scen_load_buffer() on each, for N =
 * 10^3, 10^4, 10^5 (--full adds 2 10^5).  Prints seconds, microseconds per
 * entry and the ratio of successive sizes (10 for linear work, 100 for
 * quadratic).  --quick loads 5,000 and 40,000 services and fails (exit 1)
 * when the second takes more than 24 times the first (linear: about 8,
 * quadratic: about 64); the best of three runs of each is compared, side
 * by side, so a noisy machine cannot fake either. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "base/cr_alloc.h"
#include "scenario/cr_scen.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int add(cr_sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int add(cr_sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    return cr_sbuf_add(b, tmp, (size_t)n);
}

/* what: 's' services (+ probes, expectations), 'f' faults. */
static char *make(char what, size_t n)
{
    cr_sbuf b = {0};
    add(&b, "{\"name\": \"big\", \"seed\": 1, \"duration_s\": 1000,\n"
            " \"services\": [\n");
    size_t ns = what == 's' ? n : 1;
    for (size_t i = 0; i < ns; i++)
        add(&b, "  {\"name\": \"s%zu\", \"cmd\": [\"sleep\", \"1\"]}%s\n", i,
            i + 1 < ns ? "," : "");
    add(&b, " ]");
    if (what == 's') {
        add(&b, ",\n \"steady_state\": [\n");
        for (size_t i = 0; i < n; i++)
            add(&b,
                "  {\"kind\": \"event\", \"name\": \"p%zu\", \"ev\": \"ready\","
                " \"svc\": \"s%zu\"}%s\n",
                i, i, i + 1 < n ? "," : "");
        add(&b, " ],\n \"expect\": [\n");
        for (size_t i = 0; i < n; i++)
            add(&b,
                "  {\"kind\": \"service\", \"name\": \"x%zu\", \"service\": "
                "\"s%zu\"}%s\n",
                i, i, i + 1 < n ? "," : "");
        add(&b, " ]");
    } else {
        add(&b, ",\n \"faults\": [\n");
        for (size_t i = 0; i < n; i++)
            add(&b,
                "  {\"kind\": \"kill\", \"name\": \"k%zu\", \"target\": "
                "\"s0\", \"at_s\": %zu}%s\n",
                i, i % 1000, i + 1 < n ? "," : "");
        add(&b, " ]");
    }
    add(&b, "}\n");
    return b.s;
}

/* Best of `reps` loads, in seconds; exits on a failed load. */
static double load_time(const char *text, int reps)
{
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        cr_scen *sc = NULL;
        cr_diags d = {0};
        cr_err err;
        cr_err_clear(&err);
        double t = now();
        int rc =
            cr_scen_load_buffer("big.json", text, strlen(text), &sc, &d, &err);
        t = now() - t;
        if (rc) {
            cr_diags_print(&d, stderr);
            fprintf(stderr, "bench_loader: load failed: %s\n", err.msg);
            exit(2);
        }
        cr_scen_free(sc);
        cr_diags_free(&d);
        if (t < best)
            best = t;
    }
    return best;
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    int full = argc > 1 && strcmp(argv[1], "--full") == 0;
    cr_alloc_install_json();
    if (quick) {
        char *a = make('s', 5000), *b = make('s', 40000);
        double ta = load_time(a, 3), tb = load_time(b, 3);
        double ratio = tb / ta;
        printf("services 5000: %.4f s, 40000: %.4f s, ratio %.1f "
               "(linear ~8, quadratic ~64; limit 24)\n",
               ta, tb, ratio);
        free(a);
        free(b);
        return ratio > 24 ? 1 : 0;
    }
    size_t sizes[] = {1000, 10000, 100000, 200000};
    size_t nsizes = full ? 4 : 3;
    const char *names[] = {"services (+ probes, expectations)", "faults"};
    for (int w = 0; w < 2; w++) {
        double prev = 0;
        printf("%s\n%10s %10s %12s %8s\n", names[w], "N", "seconds", "us/entry",
               "ratio");
        for (size_t k = 0; k < nsizes; k++) {
            char *text = make(w == 0 ? 's' : 'f', sizes[k]);
            double t = load_time(text, sizes[k] >= 100000 ? 1 : 3);
            printf("%10zu %10.3f %12.2f %8.1f\n", sizes[k], t,
                   t * 1e6 / (double)sizes[k], prev > 0 ? t / prev : 0.0);
            prev = t;
            free(text);
        }
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS %ld MiB\n", ru.ru_maxrss / 1024);
    return 0;
}
