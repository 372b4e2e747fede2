/* crp_artifact: the content-addressed artifact store of the reference
 * pipeline (trained models, training-data and held-out snapshots).
 *
 * Layout of a store directory DIR:
 *   DIR/store.db          SQLite (WAL, synchronous=FULL): tables
 *                         `artifacts` (metadata), `current` (one pointer
 *                         per kind) and `history` (every promotion and
 *                         rollback, in order);
 *   DIR/objects/<sha256>  the bytes, written atomically (staged under a
 *                         per-writer name with crp_write_atomic: fsync,
 *                         rename, fsync dir) before the metadata row that
 *                         names them.
 * A version id is the SHA-256 (64 hex) of the bytes; any unambiguous
 * prefix of at least 4 characters is accepted by crp_art_resolve.
 *
 * Errors: functions return 0 (or a documented positive value) or a
 * negative errno-style code, with a sentence naming the version at fault
 * in the caller's err buffer: -ENOENT unknown version / missing blob,
 * -ENOTUNIQ ambiguous prefix, -EBADMSG blob does not hash to its id or
 * is not a model, -ENODATA nothing to roll back to, -EIO SQLite error. */
#ifndef CRP_ARTIFACT_H
#define CRP_ARTIFACT_H

#include <stddef.h>
#include <stdint.h>

#define CRP_ART_ID 65 /* 64 hex + NUL */

typedef struct crp_art crp_art;

typedef struct crp_art_info {
    char id[CRP_ART_ID];
    char kind[16];            /* "model", "train", "holdout" */
    char parent[CRP_ART_ID];  /* "" when none */
    char dataset[CRP_ART_ID]; /* models: training data version, else "" */
    char status[16];          /* registered, promoted, rejected */
    char metrics[512];        /* JSON object text, "{}" when none */
    double created;           /* Unix seconds */
    int64_t size;             /* bytes of the blob */
    int current;              /* 1 when the kind's current pointer names it */
} crp_art_info;

/* Result of the promotion gate (crp_art_gate). */
typedef struct crp_art_gate_res {
    int promoted;         /* 1 promoted, 0 rejected */
    double acc;           /* the candidate's accuracy */
    char cur[CRP_ART_ID]; /* the current model before, "" if none */
    double cur_acc;       /* its accuracy (when cur[0]) */
    char reason[200];     /* why (always set) */
} crp_art_gate_res;

/* SHA-256 of buf as 64 lower-case hex (OpenSSL EVP).  0 or -EIO. */
int crp_art_sha256(const void *buf, size_t len, char hex[CRP_ART_ID]);

/* Open (create) the store in dir (created with objects/).  0 and *out, or
 * -errno with err.  The handle is not thread-safe. */
int crp_art_open(const char *dir, crp_art **out, char *err, size_t n);
/* Close; NULL is a no-op. */
void crp_art_close(crp_art *a);

/* Store buf as an artifact of `kind` with its metadata (parent, dataset:
 * ids or NULL; metrics: JSON object text or NULL).  Idempotent: the same
 * bytes give the same id and the first metadata stays.  Writes the blob
 * (unless present and intact) before the row.  0 and id, or -errno. */
int crp_art_put(crp_art *a, const char *kind, const void *buf, size_t len,
                const char *parent, const char *dataset, const char *metrics,
                char id[CRP_ART_ID], char *err, size_t n);

/* Full id of a version given as an id or a prefix (>= 4 hex).  0, -ENOENT
 * (no such version), -ENOTUNIQ (prefix matches several), -EINVAL (not
 * hex / too short). */
int crp_art_resolve(crp_art *a, const char *ver, char id[CRP_ART_ID], char *err,
                    size_t n);
/* Metadata of a full id.  0, -ENOENT, -EIO. */
int crp_art_info_get(crp_art *a, const char *id, crp_art_info *out, char *err,
                     size_t n);
/* Call cb for every artifact of kind (NULL: all), oldest first.  Returns
 * the count or -EIO. */
int crp_art_list(crp_art *a, const char *kind,
                 void (*cb)(void *arg, const crp_art_info *i), void *arg,
                 char *err, size_t n);

/* The current version of kind into id.  1 found, 0 none (id = ""), -EIO.
 * Cheap: one indexed SELECT (the worker polls it). */
int crp_art_current(crp_art *a, const char *kind, char id[CRP_ART_ID]);

/* Read the blob of id and verify that it hashes to id.  0 and *buf
 * (malloc'd, caller frees) and *len; -ENOENT (no blob), -EBADMSG (hash
 * mismatch: corrupt), -ENOMEM, -errno.  *buf is NULL on error. */
int crp_art_load(crp_art *a, const char *id, void **buf, size_t *len, char *err,
                 size_t n);

/* The gate, in one transaction: candidate `id` (a model) is promoted when
 * accuracy >= floor and, if there is a current model, accuracy >= its
 * accuracy - margin; else its status becomes rejected.  skip != 0
 * promotes without judging (the no_gate defect, tests only).  A
 * candidate that is already the current model is promoted again (no new
 * history row).  0 with *res filled, or -errno. */
int crp_art_gate(crp_art *a, const char *id, double margin, double floor,
                 int skip, crp_art_gate_res *res, char *err, size_t n);

/* Make id (resolved full id) the current version of its kind after
 * verifying its blob; records `action` ("promote", "force") with reason in
 * the history.  prev gets the former current ("" if none).  0 (also when
 * it already was current: nothing recorded), -EBADMSG/-ENOENT blob bad,
 * -EIO. */
int crp_art_promote(crp_art *a, const char *id, const char *action,
                    const char *reason, char prev[CRP_ART_ID], char *err,
                    size_t n);

/* Roll the current version of kind back: to `to` (a full id that was
 * promoted before), or with to NULL/"" to the one promoted before the
 * current one (the promotion history is replayed as a stack: a promotion
 * pushes, a rollback pops back to its target).  The blob is verified
 * first.  0 with target and prev filled; -ENODATA nothing to roll back to
 * (no history, or a single promotion); -EPERM `to` was never promoted;
 * -EBADMSG/-ENOENT blob bad; -EIO. */
int crp_art_rollback(crp_art *a, const char *kind, const char *to,
                     char target[CRP_ART_ID], char prev[CRP_ART_ID], char *err,
                     size_t n);

/* One row of the promotion history. */
typedef struct crp_art_hist {
    int64_t seq;
    char kind[16], action[16]; /* action: promote, force, rollback */
    char id[CRP_ART_ID], prev[CRP_ART_ID];
    char reason[200];
    double t;
} crp_art_hist;

/* Call cb for every history row of kind (NULL: all), oldest first.
 * Returns the count or -EIO. */
int crp_art_history(crp_art *a, const char *kind,
                    void (*cb)(void *arg, const crp_art_hist *h), void *arg,
                    char *err, size_t n);

/* Accuracy ("accuracy" of the metrics JSON) of an info; -1 when absent. */
double crp_art_accuracy(const crp_art_info *i);

#endif
