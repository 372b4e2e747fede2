/* crp_stage: what every stage gets (configuration, event writer, metrics
 * endpoint, a seeded generator) and the entry point of each stage.  Each
 * entry returns the process exit status. */
#ifndef CRP_STAGE_H
#define CRP_STAGE_H

#include "crp_conf.h"
#include "crp_ev.h"
#include "crp_http.h"
#include "crp_util.h"

typedef struct crp_ctx {
    crp_conf c;
    crp_ev *ev;
    crp_http *http;
    crp_rng rng;
} crp_ctx;

/* The stages: each entry is defined in the file named beside it
 * (tests/check_readme_map.sh checks these names). */
int crp_queue_main(crp_ctx *x);    /* crp_queue.c */
int crp_ingest_main(crp_ctx *x);   /* crp_ingest.c */
int crp_worker_main(crp_ctx *x);   /* crp_worker.c */
int crp_feature_main(crp_ctx *x);  /* crp_feature.c */
int crp_sink_main(crp_ctx *x);     /* crp_sink.c */
int crp_trainer_main(crp_ctx *x);  /* crp_trainer.c */
int crp_produce_main(crp_ctx *x);  /* crp_produce.c */
int crp_super_main(crp_ctx *x);    /* crp_super.c */
int crp_alert_main(crp_ctx *x);    /* crp_alerter.c (`crp alerter`) */
int crp_registry_main(crp_ctx *x); /* crp_registry.c */
int crp_modelsrv_main(crp_ctx *x); /* crp_modelsrv.c */
/* `crp models ...`: argv after "models"; the exit code. */
int crp_models_main(int argc, char **argv); /* crp_models.c */

/* mkdir -p.  0 or -errno. */
int crp_mkdirs(const char *path); /* crp_main.c */
/* Log a line to stderr with the instance name (the harness keeps it). */
void crp_log(const crp_ctx *x, const char *fmt, ...) /* crp_main.c */
    __attribute__((format(printf, 2, 3)));

#endif
