/* bench_checks: how fast the expectation checkers judge a large history.
 *
 * Builds a synthetic history of N (default 1,000,000) event lines with
 * every kind of event the checkers read (ids accepted/delivered, retries
 * with jittered backoff, breaker transitions and calls, checkpoints and
 * progress, failover, results, latencies), then in one process:
 *   1. baseline: parse the lines into a cr_history and sort it;
 *   2. checks: evaluate one expectation of each checker kind but
 *      `scaling` (the history has no scaled/drained events) on it.
 * Prints events per second for both and the ratio, time per checker, the
 * history's bytes per event and peak RSS (getrusage ru_maxrss).
 * Usage: bench_checks [N] [--file].  With --file the lines are written to
 * a temporary file and the text freed before the history reads the file
 * (cr_history_load), as chaosrun reads its event file: the peak RSS is then
 * the history's and the checkers' alone, not the benchmark's own text. */
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "base/cr_alloc.h"
#include "checks/cr_check.h"
#include "events/cr_event.h"
#include "scenario/cr_scen.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static const char scen_text[] =
    "{\"name\": \"bench\", \"duration_s\": 1000, \"seed\": 1,"
    " \"services\": [{\"name\": \"worker\", \"cmd\": [\"/bin/true\"], "
    "\"replicas\": 2},"
    "  {\"name\": \"db\", \"cmd\": [\"/bin/true\"], \"replicas\": 2}],"
    " \"faults\": [{\"kind\": \"kill\", \"name\": \"kill-worker\", \"target\": "
    "\"worker.0\", \"at_s\": 500},"
    "  {\"kind\": \"pause\", \"name\": \"dep\", \"target\": \"db.0\", "
    "\"at_s\": 200, \"for_s\": 100}],"
    " \"expect\": ["
    "  {\"kind\": \"steady_state\"},"
    "  {\"kind\": \"recovers\", \"within_s\": 5},"
    "  {\"kind\": \"service\", \"service\": \"worker\", \"restarts\": "
    "{\"max\": 1}},"
    "  {\"kind\": \"events\", \"ev\": \"giveup\", \"max\": 0},"
    "  {\"kind\": \"no_loss\"},"
    "  {\"kind\": \"backoff\", \"op\": \"fetch\", \"base_ms\": 10, \"max_ms\": "
    "80, \"max_attempts\": 5, \"jitter\": \"full\"},"
    "  {\"kind\": \"breaker\", \"breaker\": \"db\", \"dependency_fault\": "
    "\"dep\", \"opens_within_s\": 1, \"closes_within_s\": 5},"
    "  {\"kind\": \"checkpoint\", \"service\": \"worker\", \"max_replay\": "
    "100},"
    "  {\"kind\": \"same_result\", \"result\": \"hash\"},"
    "  {\"kind\": \"failover\", \"from\": \"db.0\", \"to\": \"db.1\", "
    "\"within_ms\": 1000, \"exclusive\": true},"
    "  {\"kind\": \"slo\", \"phase\": \"during\", \"error_ratio_max\": 0.5, "
    "\"p99_ms_max\": 100, \"throughput_min\": 1}"
    " ]}";

/* Append one line to the buffer, or with --file write it to the file
 * (then nothing is kept: the benchmark's own text stays out of its RSS). */
static char *buf;
static size_t blen, bcap, nlines;
static size_t *offs;
static FILE *out;

static void line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void line(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (out) {
        int w = vfprintf(out, fmt, ap);
        va_end(ap);
        fputc('\n', out);
        blen += (size_t)w + 1;
        nlines++;
        return;
    }
    if (blen + 512 > bcap) {
        bcap = bcap ? bcap * 2 : 1 << 20;
        buf = realloc(buf, bcap);
    }
    offs[nlines++] = blen;
    blen += (size_t)vsnprintf(buf + blen, 512, fmt, ap) + 1;
    va_end(ap);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    int from_file = argc > 2 && strcmp(argv[2], "--file") == 0;
    const double T0 = 1764000000.0;
    char path[] = "/tmp/bench_checks.XXXXXX";
    if (from_file) {
        int fd = mkstemp(path);
        out = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (!out) {
            fprintf(stderr, "cannot create %s\n", path);
            return 1;
        }
    } else {
        offs = malloc((n + 64) * sizeof *offs);
    }
    srand(42);
    /* ~n lines over 1000 s: a mix, each generator adding a few lines */
    double t = 0.001, dt = 1000.0 / (double)n;
    long id = 0, step = 0;
    int breaker_open = 0, restored = 0;
    long saved = 0;
    while (nlines < n) {
        int k = rand() % 100;
        double ts = T0 + t;
        const char *inst = (rand() & 1) ? "worker.1" : "worker.0";
        if (t >= 500.3 && !restored) {
            line("{\"ts\":%.6f,\"svc\":\"worker\",\"inst\":\"worker.0\",\"ev\":"
                 "\"checkpoint_restored\",\"name\":\"m\",\"step\":%ld}",
                 ts, saved);
            restored = 1;
            step = saved;
        } else if (k < 40) {
            line("{\"ts\":%.6f,\"svc\":\"api\",\"ev\":\"accepted\",\"id\":%ld}",
                 ts, id);
            line("{\"ts\":%.6f,\"svc\":\"sink\",\"ev\":\"delivered\",\"id\":\"%"
                 "ld\",\"latency_ms\":%d}",
                 ts + 0.0005, id, 5 + rand() % 50);
            id++;
        } else if (k < 55) {
            int d1 = rand() % 10, d2 = rand() % 20;
            line("{\"ts\":%.6f,\"svc\":\"worker\",\"inst\":\"%s\",\"ev\":"
                 "\"retry\",\"op\":\"fetch\",\"attempt\":1,\"delay_ms\":%d}",
                 ts, inst, d1);
            line("{\"ts\":%.6f,\"svc\":\"worker\",\"inst\":\"%s\",\"ev\":"
                 "\"retry\",\"op\":\"fetch\",\"attempt\":2,\"delay_ms\":%d}",
                 ts + d1 / 1000.0 + 0.0002, inst, d2);
        } else if (k < 70) {
            if (t >= 200 && t < 300 && !breaker_open) {
                line("{\"ts\":%.6f,\"svc\":\"worker\",\"inst\":\"worker.0\","
                     "\"ev\":\"breaker\",\"name\":\"db\",\"state\":\"open\"}",
                     ts);
                breaker_open = 1;
            } else if (t >= 300 && breaker_open == 1) {
                line("{\"ts\":%.6f,\"svc\":\"worker\",\"inst\":\"worker.0\","
                     "\"ev\":\"breaker\",\"name\":\"db\",\"state\":\"half_"
                     "open\"}",
                     ts);
                line("{\"ts\":%.6f,\"svc\":\"worker\",\"inst\":\"worker.0\","
                     "\"ev\":\"breaker\",\"name\":\"db\",\"state\":\"closed\"}",
                     ts + 0.001);
                breaker_open = 2;
            } else if (breaker_open != 1) {
                line("{\"ts\":%.6f,\"svc\":\"worker\",\"inst\":\"worker.0\","
                     "\"ev\":\"call\",\"name\":\"db\"}",
                     ts);
            } else {
                line("{\"ts\":%.6f,\"svc\":\"worker\",\"inst\":\"worker.0\","
                     "\"ev\":\"rejected\",\"name\":\"db\"}",
                     ts);
            }
        } else if (k < 85) {
            step++;
            if (step % 50 == 0 && t < 500)
                saved = step;
            if (step % 50 == 0)
                line("{\"ts\":%.6f,\"svc\":\"worker\",\"inst\":\"worker.0\","
                     "\"ev\":\"checkpoint_saved\",\"name\":\"m\",\"step\":%ld}",
                     ts, step);
            else
                line("{\"ts\":%.6f,\"svc\":\"worker\",\"inst\":\"worker.0\","
                     "\"ev\":\"progress\",\"step\":%ld}",
                     ts, step);
        } else {
            line("{\"ts\":%.6f,\"svc\":\"db\",\"inst\":\"%s\",\"ev\":"
                 "\"served\",\"latency_ms\":%d}",
                 ts, t < 200 ? "db.0" : "db.1", rand() % 30);
        }
        t += dt;
    }
    line("{\"ts\":%.6f,\"svc\":\"lb\",\"ev\":\"failover\",\"from\":\"db.0\","
         "\"to\":\"db.1\"}",
         T0 + 200.1);
    line("{\"ts\":%.6f,\"svc\":\"worker\",\"ev\":\"result\",\"name\":\"hash\","
         "\"value\":\"abc\"}",
         T0 + 999);
    size_t total = nlines;
    size_t bytes = blen;

    cr_alloc_install_json();
    cr_scen *sc = NULL;
    cr_diags d = {0};
    cr_err err;
    cr_err_clear(&err);
    if (cr_scen_load_buffer("bench.json", scen_text, strlen(scen_text), &sc, &d,
                            &err)) {
        cr_diags_print(&d, stderr);
        fprintf(stderr, "bench scenario invalid: %s\n", err.msg);
        return 1;
    }
    long rss0 = rss_kib();

    /* 1. baseline: parse + sort */
    if (out && fclose(out) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        return 1;
    }
    cr_history h;
    cr_history_init(&h, T0);
    double a = now();
    if (from_file) {
        if (cr_history_load(&h, path, &err) != 0) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        unlink(path);
    } else {
        for (size_t i = 0; i < total; i++)
            cr_history_add_line(&h, buf + offs[i], strlen(buf + offs[i]));
    }
    cr_history_sort(&h);
    double t_parse = now() - a;
    long rss_parse = rss_kib();
    cr_history base;
    cr_history_init(&base, T0);
    const char *res_line = "{\"ts\":1764000999,\"ev\":\"result\",\"name\":"
                           "\"hash\",\"value\":\"abc\"}";
    cr_history_add_line(&base, res_line, strlen(res_line));

    cr_fact_fault faults[2] = {
        {.name = "dep",
         .kind = "pause",
         .target = "db.0",
         .start = 200,
         .end = 300,
         .ok = 1},
        {.name = "kill-worker",
         .kind = "kill",
         .target = "worker.0",
         .start = 500,
         .end = 500,
         .ok = 1},
    };
    cr_fact_proc procs[] = {
        {-1, "worker.0", "worker", CR_PROC_START, -1, 0, NULL},
        {-1, "worker.1", "worker", CR_PROC_START, -1, 0, NULL},
        {500, "worker.0", "worker", CR_PROC_EXIT, -1, SIGKILL,
         "fault:kill-worker"},
        {500.2, "worker.0", "worker", CR_PROC_START, -1, 0, "restart-policy"},
    };
    cr_fact_probe probes[] = {
        {"health", CR_PHASE_BEFORE, -1, 1, "200"},
        {"health", CR_PHASE_AFTER, 500.5, 1, "200"},
    };
    cr_facts f = {
        .scen = sc,
        .hist = &h,
        .faults = faults,
        .nfaults = 2,
        .procs = procs,
        .nprocs = sizeof procs / sizeof *procs,
        .probes = probes,
        .nprobes = 2,
        .t_faults_end = 500,
        .t_workload_end = 1000,
        .t_end = 1001,
        .baseline = &base,
        .run_dir = "/nonexistent",
    };

    /* 2. every checker */
    double per[32];
    const char *verdict[32];
    double b = now();
    for (size_t i = 0; i < sc->nexpects; i++) {
        cr_result res;
        cr_result_init(&res);
        cr_err_clear(&err);
        double c = now();
        int rc = sc->expects[i].ops->eval(&sc->expects[i], &f, &res, &err);
        per[i] = now() - c;
        verdict[i] = rc ? "error" : cr_verdict_name(res.verdict);
        if (rc || res.verdict != CR_VERDICT_PASSED)
            fprintf(stderr, "  note: %s %s: %s%s\n", sc->expects[i].ops->kind,
                    verdict[i], res.summary, err.msg);
        cr_result_free(&res);
    }
    double t_checks = now() - b;
    long rss_checks = rss_kib();

    /* The design question for no_loss: a jansson object used as the id
     * set, over the same events, instead of the checker's own hash. */
    double c = now();
    json_t *set = json_object();
    size_t found = 0;
    for (size_t i = 0; i < h.n; i++) {
        const cr_event *e = &h.v[i];
        int acc = !strcmp(e->ev, "accepted");
        if (!acc && strcmp(e->ev, "delivered"))
            continue;
        char idb[64];
        json_t *v = cr_event_json(e, "id");
        if (json_is_integer(v))
            snprintf(idb, sizeof idb, "%lld", (long long)json_integer_value(v));
        else
            snprintf(idb, sizeof idb, "%s",
                     json_string_value(v) ? json_string_value(v) : "");
        json_decref(v);
        json_t *r = json_object_get(set, idb);
        if (r) {
            found++;
            json_integer_set(r, json_integer_value(r) + 1);
        } else {
            json_object_set_new(set, idb, json_integer(1));
        }
    }
    double t_jset = now() - c;
    json_decref(set);

    printf("history: %zu events, %.1f MB of JSON lines (malformed %zu)\n", h.n,
           bytes / 1e6, h.malformed);
    printf("%-28s %10s %14s %8s\n", "pass", "seconds", "events/s", "ratio");
    printf("%-28s %10.3f %14.0f %8.2f\n",
           from_file ? "baseline: read + parse + sort"
                     : "baseline: parse + sort",
           t_parse, h.n / t_parse, 1.0);
    printf("%-28s %10.3f %14.0f %8.2f\n", "all 11 checkers", t_checks,
           h.n / t_checks, t_checks / t_parse);
    for (size_t i = 0; i < sc->nexpects; i++)
        printf("  %-26s %10.3f %14.0f %8.3f  %s\n", sc->expects[i].ops->kind,
               per[i], h.n / per[i], per[i] / t_parse, verdict[i]);
    printf("  %-26s %10.3f %14.0f %8.3f  (%zu repeat ids)\n",
           "no_loss id set as json_t", t_jset, h.n / t_jset, t_jset / t_parse,
           found);
    printf("history in memory: %zu bytes, %.1f bytes/event\n",
           cr_history_mem(&h), (double)cr_history_mem(&h) / (double)h.n);
    printf("peak RSS: %ld KiB before parsing, %ld KiB after parsing, %ld KiB "
           "after checks\n",
           rss0, rss_parse, rss_checks);
    cr_history_free(&h);
    cr_history_free(&base);
    cr_scen_free(sc);
    cr_diags_free(&d);
    free(buf);
    free(offs);
    return 0;
}
