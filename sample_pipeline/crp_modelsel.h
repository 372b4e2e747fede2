/* crp_modelsel: which model a scoring stage uses (the worker with local
 * scoring, the model server).  Built-in until told otherwise; with
 * --store it follows the artifact store's current model (polled every
 * 500 ms, SHA-256 verified; a missing or corrupt blob never replaces the
 * model in use: `model_load_failed`); without --store, --model FILE|DIR
 * (the newest model-*.bin of DIR, checked every 2 s).  Each new model is
 * announced with `model_loaded` (and, from the store, `result`
 * canary_scores: a hash of its scores on a fixed canary set). */
#ifndef CRP_MODELSEL_H
#define CRP_MODELSEL_H

#include <stdint.h>
#include <time.h>

#include "crp_artifact.h"
#include "crp_model.h"
#include "crp_stage.h"

typedef struct crp_msel {
    crp_model model;      /* the model in use */
    char model_file[600]; /* --model: the artifact in use, "" = built-in */
    time_t model_mtime;
    crp_art *store;               /* --store, opened lazily */
    char version[CRP_ART_ID];     /* store version in use, "" = none */
    char bad_version[CRP_ART_ID]; /* last version that failed to load */
    int64_t last;                 /* monotonic ms of the last check */
} crp_msel;

/* Start with the built-in model and load the configured one at once. */
void crp_msel_init(crp_msel *m, crp_ctx *x);
/* Check for a new model when the poll period (500 ms with --store, 2 s
 * with --model) has passed; the model in use changes only on success. */
void crp_msel_poll(crp_msel *m, crp_ctx *x);
/* Release the store handle. */
void crp_msel_close(crp_msel *m);

#endif
