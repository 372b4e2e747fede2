// clang-format off
/* crp_scale: the supervisor's autoscaling decision as a pure function of
 * the queue depth samples and the clock (no I/O, so it is unit-tested on
 * made-up sample sequences).
 *
 *   depth > up_depth   held for for_ms  -> one worker more (up to max)
 *   depth < down_depth held for for_ms  -> one worker less (down to min)
 *   after every change nothing changes for cooldown_ms, and the hold
 *   timers start again from the next sample;
 *   a count outside [min, max] is brought back at once (not a scaling
 *   decision: no hold, no cool-down).
 * A sample that could not be taken (depth < 0) resets both hold timers:
 * a decision needs the condition seen continuously. */
// clang-format on
#ifndef CRP_SCALE_H
#define CRP_SCALE_H

#include <stddef.h>
#include <stdint.h>

typedef struct crp_scale_policy {
    int min, max;       /* 1 <= min <= max */
    int64_t up_depth;   /* scale up while ready depth > this */
    int64_t down_depth; /* scale down while ready depth < this */
    int for_ms;         /* the condition must hold this long */
    int cooldown_ms;    /* no change this long after a change */
    int no_cooldown;    /* DEFECT scale_no_cooldown (tests only) */
} crp_scale_policy;

typedef struct crp_scale {
    crp_scale_policy p;
    int64_t high_since, low_since; /* -1: the condition does not hold */
    int64_t last_change;           /* -1: never changed */
} crp_scale;

/* Check a policy: 0, or -1 with a sentence naming the option in err. */
int crp_scale_check(const crp_scale_policy *p, char *err, size_t n);
/* Parse "MIN:MAX" (or "N" for MIN = MAX = N) into p->min, p->max.
 * 0, or -1 with a message in err; p untouched on error. */
int crp_scale_parse_range(const char *s, crp_scale_policy *p, char *err,
                          size_t n);
/* Start with no history (no hold, no cool-down). */
void crp_scale_init(crp_scale *s, const crp_scale_policy *p);
/* Feed one depth sample taken at now_ms (monotonic, non-decreasing) with
 * cur workers running.  Returns the worker count wanted: cur when
 * nothing changes.  When it differs, why (may be NULL, size n) receives
 * the reason ("depth 350 > 200 for 1000 ms") and the cool-down starts. */
int crp_scale_decide(crp_scale *s, int64_t now_ms, int64_t depth, int cur,
                     char *why, size_t n);

#endif
