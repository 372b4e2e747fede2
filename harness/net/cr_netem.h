/* cr_netem: the netem parameter set, its validation, and the netlink
 * request that installs it.
 *
 * Units, once: delays are given in milliseconds and handed to libnl in
 * microseconds (libnl converts to kernel ticks with /proc/net/psched);
 * probabilities are given in percent and sent as 32-bit fractions of
 * UINT32_MAX; rates are given in kbit/s and sent in bytes/s.  What libnl's
 * netem object cannot express (rate, the Gilbert-Elliott and 4-state loss
 * models, slotting) is appended to TCA_OPTIONS as raw attributes.  Delay
 * distributions are generated here (iproute2's .dist files are not needed). */
#ifndef CR_NETEM_H
#define CR_NETEM_H

#include <stddef.h>
#include <stdint.h>

#include "base/cr_err.h"

struct nl_msg;

enum {
    CR_NETEM_DIST_NONE, /* uniform jitter: the kernel's default */
    CR_NETEM_DIST_NORMAL,
    CR_NETEM_DIST_PARETO,
    CR_NETEM_DIST_PARETONORMAL,
    CR_NETEM_DIST_UNIFORM, /* same as NONE, named explicitly */
};

enum { CR_NETEM_LOSS_RANDOM, CR_NETEM_LOSS_GE, CR_NETEM_LOSS_STATE };

/* Every value in user units; 0 = not requested. */
typedef struct cr_netem_spec {
    double delay_ms, jitter_ms, delay_corr; /* corr in percent */
    int dist;                               /* CR_NETEM_DIST_* */
    double loss, loss_corr;                 /* percent */
    int loss_model;                         /* CR_NETEM_LOSS_* */
    double ge[4];    /* gemodel percents: p, r, 1-h, 1-k */
    double state[5]; /* 4-state percents: p13, p31, p32, p23, p14 */
    double duplicate, duplicate_corr;
    double corrupt, corrupt_corr;
    double reorder, reorder_corr;
    int gap;
    double rate_kbit;
    /* Slotting: packets leave in bursts every [slot_min_ms, slot_max_ms]
     * (uniform), at most slot_packets / slot_bytes per slot (0: no limit). */
    double slot_min_ms, slot_max_ms;
    int slot_packets, slot_bytes;
    unsigned limit; /* packets; 0: 1000 */
} cr_netem_spec;

/* Number of entries in a generated distribution table. */
#define CR_NETEM_DIST_SIZE 4096
/* Table values are standard-normalised quantiles times this (the
 * kernel's NETEM_DIST_SCALE). */
#define CR_NETEM_DIST_SCALE 8192

/* Distribution names as written in scenarios ("normal", ...), indexed by
 * CR_NETEM_DIST_*, NULL-terminated; index 0 is "none". */
extern const char *const cr_netem_dist_names[];

/* Check the cross-field rules (reorder needs delay, gap needs reorder, a
 * correlation needs its base value, a distribution needs jitter, jitter
 * needs delay, a loss model excludes "loss", slot limits need a slot,
 * slot_max_ms >= slot_min_ms) and the ranges.  Returns 0,
 * or CR_EINVAL with the first broken rule in err ("gap needs reorder"). */
int cr_netem_validate(const cr_netem_spec *s, cr_err *err);

/* Percent (0..100) to a 32-bit fraction of UINT32_MAX, rounded. */
uint32_t cr_netem_prob(double percent);

/* 1 when every requested effect can be emulated faithfully without netem
 * (random loss without correlation, rate); else 0 and `missing` lists the
 * others ("delay_ms, reorder"). */
int cr_netem_emulable(const cr_netem_spec *s, char *missing, size_t n);

/* Fill table[n] with the quantiles of distribution `dist` (normal, pareto
 * or paretonormal), standard-normalised and scaled by CR_NETEM_DIST_SCALE,
 * clamped to int16.  Returns 0 or CR_EINVAL for a distribution that has
 * no table. */
int cr_netem_dist_table(int dist, int16_t *table, size_t n);

/* Build the RTM_NEWQDISC request installing s as the root qdisc of
 * ifindex (NLM_F_CREATE|NLM_F_EXCL), without sending it.  On success *out
 * is the message (nlmsg_free).  On failure *out stays NULL. */
int cr_netem_build(const cr_netem_spec *s, int ifindex, struct nl_msg **out,
                   cr_err *err);

/* A JSON-ready one-line summary ("delay 100ms jitter 10ms loss 5%"). */
void cr_netem_format(const cr_netem_spec *s, char *buf, size_t n);

/* The same parameters as tc(8)'s netem arguments ("netem limit 1000 delay
 * 100ms 10ms 25% distribution normal loss random 5%"), for nodes reached
 * over ssh, where tc installs the qdisc.  Uniform jitter is tc's default
 * and is not named (older iproute2 has no "uniform" table).  Returns 0, or
 * CR_EINVAL when buf (n bytes) is too small. */
int cr_netem_tc_args(const cr_netem_spec *s, char *buf, size_t n);

#endif
