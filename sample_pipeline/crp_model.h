/* crp_model: the synthetic workload and the model.
 *
 * Data: two classes in CRP_DIM dimensions; class c in {0,1} has mean
 * (2c-1)*mu_i per dimension, unit variance.  The feature service adds
 * CRP_EXTRA derived features (crp_model_extra); the model is a logistic
 * regression over base + extra features + bias, trained by SGD with
 * momentum in a fixed order (deterministic to the bit). */
#ifndef CRP_MODEL_H
#define CRP_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "crp_schema.h"
#include "crp_util.h"

#define CRP_EXTRA 4
#define CRP_NW    (CRP_DIM + CRP_EXTRA + 1) /* weights incl. bias (last) */

/* Draw one record: x[CRP_DIM] and its label. */
void crp_model_gen(crp_rng *r, double *x, int *label);
/* The derived features the feature service serves. */
void crp_model_extra(const double *x, double *extra);
/* Normalise x in place to unit L2 norm.  -1 when the norm is 0 (the
 * record cannot be processed: poison). */
int crp_model_normalise(double *x);

typedef struct crp_model {
    double w[CRP_NW];
} crp_model;

/* The built-in model (used until an artifact is given). */
void crp_model_default(crp_model *m);
/* P(label = 1).  extra may be NULL (degraded: base features only). */
double crp_model_score(const crp_model *m, const double *x,
                       const double *extra);
/* One SGD-with-momentum step on (x, extra, label). v: velocity. */
void crp_model_sgd(crp_model *m, double *v, const double *x,
                   const double *extra, int label, double lr, double momentum);
/* FNV-1a 64 of the weight bytes: the model hash. */
uint64_t crp_model_hash(const crp_model *m);
/* Write the artifact atomically (tmp, fsync, rename, fsync dir).  0/-errno. */
int crp_model_save(const crp_model *m, const char *path);
/* Load an artifact.  0, -errno, or -EINVAL (corrupt). */
int crp_model_load(crp_model *m, const char *path);

/* Bytes of an encoded model (the artifact format: magic, count, weights,
 * FNV hash). */
#define CRP_MODEL_BYTES (8 + 8 * CRP_NW + 8)
/* Encode m into buf (CRP_MODEL_BYTES bytes). */
void crp_model_encode(const crp_model *m, void *buf);
/* Decode an artifact.  0, or -EINVAL (wrong size, magic or hash); m is
 * untouched on error. */
int crp_model_decode(crp_model *m, const void *buf, size_t len);
/* Accuracy (threshold 0.5) and mean log loss of m over n records (x:
 * n*CRP_DIM normalised, extra: n*CRP_EXTRA, labels 0/1). */
void crp_model_eval(const crp_model *m, const double *x, const double *extra,
                    const int *label, long long n, double *acc, double *loss);

/* Write buf atomically to path: path.tmp, fsync, rename, fsync the
 * directory.  0 or -errno (path untouched on failure). */
int crp_write_atomic(const char *path, const void *buf, size_t len);

#endif
