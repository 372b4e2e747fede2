/* crp: the reference pipeline, one program with a subcommand per stage.
 * See sample_pipeline/README.md for the design and every option. */
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crp_stage.h"

int crp_mkdirs(const char *path)
{
    char buf[512];
    crp_strlcpy(buf, path, sizeof buf);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                return -errno;
            *p = '/';
        }
    if (mkdir(buf, 0755) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

void crp_log(const crp_ctx *x, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%.6f %s: %s\n", crp_now(), x->c.inst, msg);
}

static const struct {
    const char *name;
    int (*fn)(crp_ctx *);
    int http; /* serves /metrics and /health */
} stages[] = {
    {"queue", crp_queue_main, 1},       {"ingest", crp_ingest_main, 1},
    {"worker", crp_worker_main, 1},     {"feature", crp_feature_main, 1},
    {"sink", crp_sink_main, 1},         {"trainer", crp_trainer_main, 1},
    {"produce", crp_produce_main, 1},   {"supervise", crp_super_main, 1},
    {"alerter", crp_alert_main, 1},     {"registry", crp_registry_main, 1},
    {"modelsrv", crp_modelsrv_main, 1},
};

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help")) {
        crp_conf_usage();
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "models") == 0)
        return crp_models_main(argc - 2, argv + 2);
    for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++) {
        if (strcmp(argv[1], stages[i].name) != 0)
            continue;
        static crp_ctx x;
        char err[512] = "";
        if (crp_conf_load(&x.c, argv[1], argc - 2, argv + 2, err, sizeof err) <
            0) {
            fprintf(stderr, "crp %s: %s\n", argv[1], err);
            return 2;
        }
        setvbuf(stderr, NULL, _IOLBF, 0);
        /* Keep the heap: every stage builds and frees a batch's buffers
         * (up to a few hundred KiB) each round, and glibc's defaults gave
         * them back to the kernel each time (brk down: a TLB shootdown on
         * every CPU, then page faults to grow again) -- 30 % of ingest's
         * CPU in the profile.  Fixed thresholds also stop the mmap one
         * from adapting (tests/bench/README.md). */
        mallopt(M_MMAP_THRESHOLD, 32 << 20);
        mallopt(M_TRIM_THRESHOLD, 128 << 20);
        crp_signals_install();
        crp_rng_seed(&x.rng, crp_entropy());
        if (crp_mkdirs(x.c.data_dir) < 0) {
            fprintf(stderr, "crp %s: cannot create %s: %s\n", argv[1],
                    x.c.data_dir, strerror(errno));
            return 1;
        }
        x.ev = crp_ev_open(x.c.events, x.c.traces, x.c.svc, x.c.inst, err,
                           sizeof err);
        if (!x.ev) {
            fprintf(stderr, "crp %s: out of memory\n", argv[1]);
            return 1;
        }
        if (err[0])
            crp_log(&x, "%s (events disabled)", err);
        if (stages[i].http && x.c.http_port > 0) {
            x.http = crp_http_start(x.c.http_port, argv[1], err, sizeof err);
            if (!x.http) {
                crp_log(&x, "%s", err);
                crp_ev_close(x.ev);
                return 1;
            }
        }
        if (x.c.defects)
            crp_log(&x, "DEFECT SWITCHES ON (test only): %s", x.c.defect);
        int rc = stages[i].fn(&x);
        crp_http_stop(x.http);
        crp_ev_close(x.ev);
        return rc;
    }
    fprintf(stderr, "crp: unknown stage \"%s\" (see `crp help`)\n", argv[1]);
    return 2;
}
