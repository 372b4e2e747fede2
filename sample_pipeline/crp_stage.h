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

int crp_queue_main(crp_ctx *x);
int crp_ingest_main(crp_ctx *x);
int crp_worker_main(crp_ctx *x);
int crp_feature_main(crp_ctx *x);
int crp_sink_main(crp_ctx *x);
int crp_trainer_main(crp_ctx *x);
int crp_produce_main(crp_ctx *x);
int crp_super_main(crp_ctx *x);
int crp_alert_main(crp_ctx *x);    /* crp_alert.c */
int crp_registry_main(crp_ctx *x); /* crp_registry.c */
int crp_modelsrv_main(crp_ctx *x); /* crp_modelsrv.c */
/* `crp models ...` (crp_models.c): argv after "models"; the exit code. */
int crp_models_main(int argc, char **argv);

/* mkdir -p.  0 or -errno. */
int crp_mkdirs(const char *path);
/* Log a line to stderr with the instance name (the harness keeps it). */
void crp_log(const crp_ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
