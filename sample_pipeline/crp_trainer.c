/* crp_trainer: trains the model (logistic regression, SGD with momentum)
 * on --train-n seeded records for --epochs passes, in an order fixed by
 * the seed (a Fisher-Yates shuffle per epoch from a generator whose state
 * is part of the checkpoint).  Every --ckpt-every steps it checkpoints its
 * full state atomically (crp_ckpt.c); after a crash it resumes from the
 * last checkpoint, so the final model is bit-identical whether or not it
 * was killed.  At the end it writes models/model-<hash>.bin (atomic) and
 * emits result {name: model_hash, value}.
 *
 * With --store DIR it also publishes to the artifact store
 * (crp_artifact.h): the training data and a held-out validation set as
 * dataset snapshots, and the model with its held-out accuracy and loss,
 * parent (the current model) and dataset version; then the promotion gate
 * decides (model_promoted / model_rejected). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crp_artifact.h"
#include "crp_ckpt.h"
#include "crp_model.h"
#include "crp_stage.h"

typedef struct dataset {
    long long n;
    double *x;     /* n * CRP_DIM */
    double *extra; /* n * CRP_EXTRA */
    int *label;
} dataset;

static int make_data(dataset *d, long long n, uint64_t seed)
{
    crp_rng r;
    crp_rng_seed(&r, seed ^ 0x747261696e6572ULL);
    d->n = n;
    d->x = malloc((size_t)n * CRP_DIM * sizeof(double));
    d->extra = malloc((size_t)n * CRP_EXTRA * sizeof(double));
    d->label = malloc((size_t)n * sizeof(int));
    if (!d->x || !d->extra || !d->label)
        return -ENOMEM;
    for (long long i = 0; i < n; i++) {
        crp_model_gen(&r, d->x + i * CRP_DIM, &d->label[i]);
        crp_model_normalise(d->x + i * CRP_DIM);
        crp_model_extra(d->x + i * CRP_DIM, d->extra + i * CRP_EXTRA);
    }
    return 0;
}

/* DEFECT shuffled_labels (tests only): the labels are permuted, so the
 * model learns noise (held-out accuracy about 0.5). */
static void shuffle_labels(dataset *d, uint64_t seed)
{
    crp_rng r;
    crp_rng_seed(&r, seed ^ 0x6c6162656c73ULL);
    for (long long i = d->n - 1; i > 0; i--) {
        long long j = (long long)crp_rng_below(&r, (uint64_t)i + 1);
        int t = d->label[i];
        d->label[i] = d->label[j];
        d->label[j] = t;
    }
}

static void data_free(dataset *d)
{
    free(d->x);
    free(d->extra);
    free(d->label);
}

/* The snapshot bytes of a dataset: "CRPD", n (int64), then per record
 * x[CRP_DIM] (doubles) and the label (int32).  NULL when out of memory. */
static unsigned char *data_bytes(const dataset *d, size_t *len)
{
    size_t rec = CRP_DIM * sizeof(double) + sizeof(int32_t);
    unsigned char *b = malloc(12 + (size_t)d->n * rec), *p = b;
    int64_t n = d->n;
    if (!b)
        return NULL;
    memcpy(p, "CRPD", 4);
    memcpy(p + 4, &n, 8);
    p += 12;
    for (long long i = 0; i < d->n; i++) {
        int32_t l = d->label[i];
        memcpy(p, d->x + i * CRP_DIM, CRP_DIM * sizeof(double));
        memcpy(p + CRP_DIM * sizeof(double), &l, sizeof l);
        p += rec;
    }
    *len = (size_t)(p - b);
    return b;
}

/* Store a dataset snapshot of kind.  0 and id, or -errno (logged). */
static int put_data(crp_ctx *x, crp_art *a, const char *kind, const dataset *d,
                    char id[CRP_ART_ID])
{
    char err[512], met[128];
    size_t len = 0;
    unsigned char *b = data_bytes(d, &len);
    if (!b)
        return -ENOMEM;
    snprintf(met, sizeof met, "{\"n\":%lld,\"seed\":%lld}", d->n, x->c.seed);
    int rc = crp_art_put(a, kind, b, len, NULL, NULL, met, id, err, sizeof err);
    if (rc < 0)
        crp_log(x, "%s", err);
    free(b);
    return rc;
}

/* Publish the trained model to the store and run the promotion gate.
 * 0, or -errno (logged; the model file in models/ is still there). */
static int publish(crp_ctx *x, const dataset *train, const crp_model *m,
                   int64_t steps)
{
    const crp_conf *c = &x->c;
    dataset hold = {0};
    crp_art *a = NULL;
    char err[512] = "", tid[CRP_ART_ID], hid[CRP_ART_ID], mid[CRP_ART_ID],
         parent[CRP_ART_ID], met[300];
    unsigned char mb[CRP_MODEL_BYTES];
    crp_art_info info;
    crp_art_gate_res g;
    double acc, loss;
    int rc = crp_art_open(c->store, &a, err, sizeof err);
    if (rc < 0)
        goto out;
    /* the held-out set: same distribution, its own seed, true labels */
    if ((rc = make_data(&hold, c->holdout_n,
                        (uint64_t)c->seed * 7919 + 0x686f6c64ULL)) < 0 ||
        (rc = put_data(x, a, "train", train, tid)) < 0 ||
        (rc = put_data(x, a, "holdout", &hold, hid)) < 0)
        goto out;
    crp_model_eval(m, hold.x, hold.extra, hold.label, hold.n, &acc, &loss);
    if ((rc = crp_art_current(a, "model", parent)) < 0)
        goto out;
    snprintf(met, sizeof met,
             "{\"accuracy\":%.6f,\"loss\":%.6f,\"holdout\":\"%s\","
             "\"steps\":%" PRId64 "}",
             acc, loss, hid, steps);
    crp_model_encode(m, mb);
    if ((rc = crp_art_put(a, "model", mb, sizeof mb, parent, tid, met, mid, err,
                          sizeof err)) < 0 ||
        (rc = crp_art_info_get(a, mid, &info, err, sizeof err)) < 0)
        goto out;
    if (strcmp(info.status, "registered") != 0) {
        /* a restart after the decision: it stands */
        crp_log(x, "model %.12s already %s", mid, info.status);
        goto out;
    }
    crp_ev_emit(x->ev, "model_registered",
                "\"version\":\"%s\",\"parent\":\"%s\",\"dataset\":"
                "\"%s\",\"holdout\":\"%s\",\"accuracy\":%.6f,"
                "\"loss\":%.6f",
                mid, info.parent, tid, hid, acc, loss);
    if ((rc = crp_art_gate(a, mid, c->promote_margin, c->min_accuracy,
                           !!(c->defects & CRP_DEFECT_NO_GATE), &g, err,
                           sizeof err)) < 0)
        goto out;
    char why[300];
    crp_json_esc(why, sizeof why, g.reason);
    if (g.promoted) {
        crp_ev_emit(x->ev, "model_promoted",
                    "\"version\":\"%s\",\"parent\":\"%s\",\"accuracy\":"
                    "%.6f,\"by\":\"gate\",\"reason\":\"%s\"",
                    mid, g.cur, acc, why);
        crp_log(x, "model %.12s promoted: %s", mid, g.reason);
    } else {
        crp_ev_emit(x->ev, "model_rejected",
                    "\"version\":\"%s\",\"accuracy\":%.6f,\"current\":"
                    "\"%s\",\"current_accuracy\":%.6f,\"reason\":\"%s\"",
                    mid, acc, g.cur, g.cur_acc, why);
        crp_log(x, "model %.12s rejected: %s", mid, g.reason);
    }
out:
    if (err[0])
        crp_log(x, "artifact store: %s", err);
    data_free(&hold);
    crp_art_close(a);
    return rc;
}

static void shuffle(long long *perm, long long n, crp_rng *r)
{
    for (long long i = 0; i < n; i++)
        perm[i] = i;
    for (long long i = n - 1; i > 0; i--) {
        long long j = (long long)crp_rng_below(r, (uint64_t)i + 1);
        long long t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

int crp_trainer_main(crp_ctx *x)
{
    const crp_conf *c = &x->c;
    dataset d = {0};
    long long *perm = NULL;
    int rc = 1;
    char ck[600], mdir[600], mpath[700];
    snprintf(ck, sizeof ck, "%s/trainer.ckpt", c->data_dir);
    snprintf(mdir, sizeof mdir, "%s/models", c->data_dir);
    int unsafe = !!(c->defects & CRP_DEFECT_UNSAFE_CHECKPOINT);
    crp_metric *m_steps = crp_http_metric(x->http, "records_in_total",
                                          CRP_COUNTER, "training steps");
    crp_metric *m_ck = crp_http_metric(x->http, "checkpoints_total",
                                       CRP_COUNTER, "checkpoints saved");
    crp_metric *m_ckfail =
        crp_http_metric(x->http, "records_failed_total", CRP_COUNTER,
                        "checkpoint writes failed");
    crp_metric *m_cklat = crp_http_metric(x->http, "checkpoint_latency_seconds",
                                          CRP_HISTO, "checkpoint write time");
    if (make_data(&d, c->train_n, (uint64_t)c->seed) < 0 ||
        !(perm = malloc((size_t)d.n * sizeof *perm))) {
        crp_log(x, "out of memory");
        goto out;
    }
    if (c->defects & CRP_DEFECT_SHUFFLED_LABELS)
        shuffle_labels(&d, (uint64_t)c->seed);
    crp_train_state s;
    memset(&s, 0, sizeof s);
    int lr = crp_ckpt_load(ck, &s);
    if (lr == 0) {
        crp_ev_emit(x->ev, "checkpoint_restored",
                    "\"name\":\"trainer\",\"step\":%" PRId64, s.step);
        crp_log(x, "restored checkpoint at step %" PRId64, s.step);
    } else {
        if (lr == -EINVAL) {
            crp_ev_emit(x->ev, "checkpoint_corrupt",
                        "\"name\":\"trainer\",\"error\":\"bad checkpoint, "
                        "starting over\"");
            crp_log(x, "checkpoint %s is corrupt: starting from step 0", ck);
        }
        memset(&s, 0, sizeof s);
        crp_rng_seed(&s.rng_epoch, (uint64_t)c->seed * 31 + 7);
        crp_model_default(&s.m);
        for (int i = 0; i < CRP_NW; i++)
            s.m.w[i] = 0;
    }
    crp_ev_emit(x->ev, "ready", NULL);
    int64_t total = d.n * c->epochs;
    crp_rng r = s.rng_epoch;
    shuffle(perm, d.n, &r);
    while (s.step < total && !crp_stop_requested) {
        long long i = perm[s.pos];
        crp_model_sgd(&s.m, s.v, d.x + i * CRP_DIM, d.extra + i * CRP_EXTRA,
                      d.label[i], c->lr, c->momentum);
        s.step++;
        s.pos++;
        crp_metric_add(m_steps, 1);
        if (s.pos == d.n) { /* next epoch: its shuffle starts from r */
            s.epoch++;
            s.pos = 0;
            s.rng_epoch = r;
            shuffle(perm, d.n, &r);
        }
        if (s.step % 50 == 0)
            crp_ev_emit(x->ev, "progress",
                        "\"name\":\"trainer\",\"step\":%" PRId64, s.step);
        if (c->step_delay_us > 0)
            usleep((useconds_t)c->step_delay_us);
        if (s.step % c->ckpt_every == 0 || s.step == total) {
            double t0 = crp_now();
            int wr = crp_ckpt_save(ck, &s, unsafe);
            if (wr < 0) {
                crp_metric_add(m_ckfail, 1);
                crp_ev_emit(x->ev, "checkpoint_failed",
                            "\"name\":\"trainer\",\"step\":%" PRId64
                            ",\"error\":\"%s\"",
                            s.step, strerror(-wr));
            } else {
                crp_metric_add(m_ck, 1);
                crp_metric_observe(m_cklat, (crp_now() - t0) * 1000);
                crp_ev_emit(x->ev, "checkpoint_saved",
                            "\"name\":\"trainer\",\"step\":%" PRId64, s.step);
            }
        }
    }
    if (s.step < total) { /* SIGTERM: the last checkpoint is the state */
        crp_ev_emit(x->ev, "stopping", NULL);
        if (crp_ckpt_save(ck, &s, unsafe) == 0)
            crp_ev_emit(x->ev, "checkpoint_saved",
                        "\"name\":\"trainer\",\"step\":%" PRId64, s.step);
        crp_ev_emit(x->ev, "stopped", NULL);
        rc = 0;
        goto out;
    }
    uint64_t hash = crp_model_hash(&s.m);
    crp_mkdirs(mdir);
    snprintf(mpath, sizeof mpath, "%s/model-%016" PRIx64 ".bin", mdir, hash);
    int mr = crp_model_save(&s.m, mpath);
    if (mr < 0)
        crp_log(x, "write %s: %s", mpath, strerror(-mr));
    crp_ev_emit(x->ev, "result",
                "\"name\":\"model_hash\",\"value\":\"%016" PRIx64
                "\",\"steps\":%" PRId64 ",\"artifact\":\"%s\"",
                hash, s.step, mpath);
    crp_log(x, "model %016" PRIx64 " after %" PRId64 " steps -> %s", hash,
            s.step, mpath);
    if (c->store[0] && publish(x, &d, &s.m, s.step) < 0)
        mr = -EIO;
    while (!c->exit_when_done && !crp_stop_requested)
        crp_sleep_ms(200);
    crp_ev_emit(x->ev, "stopping", NULL);
    crp_ev_emit(x->ev, "stopped", NULL);
    rc = mr < 0 ? 1 : 0;
out:
    data_free(&d);
    free(perm);
    return rc;
}
