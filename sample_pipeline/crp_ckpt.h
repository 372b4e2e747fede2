/* crp_ckpt: the trainer's checkpoint: its full state (weights, optimizer
 * velocity, input position, RNG state) in one file with a checksum,
 * written atomically (tmp + fsync + rename + fsync of the directory).
 * The defect switch unsafe_checkpoint writes it in place instead. */
#ifndef CRP_CKPT_H
#define CRP_CKPT_H

#include <stdint.h>

#include "crp_model.h"
#include "crp_util.h"

typedef struct crp_train_state {
    int64_t step;       /* steps done */
    int64_t epoch, pos; /* next record: perm[pos] of epoch `epoch` */
    crp_rng rng_epoch;  /* generator state before this epoch's shuffle */
    crp_model m;
    double v[CRP_NW]; /* momentum velocity */
} crp_train_state;

/* Save.  unsafe != 0: DEFECT (tests only): open in place with O_TRUNC,
 * write, no fsync, no rename.  0 or -errno. */
int crp_ckpt_save(const char *path, const crp_train_state *s, int unsafe);
/* Load.  0; -ENOENT none; -EINVAL corrupt (torn/short/bad checksum). */
int crp_ckpt_load(const char *path, crp_train_state *s);

#endif
