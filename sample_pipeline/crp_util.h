/* crp_util: small shared helpers of the reference pipeline: clocks, a seeded
 * generator (xoshiro256**), hashing, ids, the stop flag set by signals.
 * The pipeline is an independent system under test: it does not link the
 * harness and only speaks the event contract. */
#ifndef CRP_UTIL_H
#define CRP_UTIL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* Unix time in seconds (fractional). */
double crp_now(void);
/* Monotonic milliseconds. */
int64_t crp_mono_ms(void);
/* Sleep ms milliseconds (returns early when a signal arrives). */
void crp_sleep_ms(int64_t ms);

/* Seeded generator; state is 4 words so it can be checkpointed. */
typedef struct crp_rng {
    uint64_t s[4];
} crp_rng;
void crp_rng_seed(crp_rng *r, uint64_t seed);
uint64_t crp_rng_next(crp_rng *r);
/* Uniform in [0, 1). */
double crp_rng_unit(crp_rng *r);
/* Standard normal (Box-Muller, no cached second value: state stays 4 words). */
double crp_rng_normal(crp_rng *r);
/* Uniform integer in [0, n). n > 0. */
uint64_t crp_rng_below(crp_rng *r, uint64_t n);

/* FNV-1a 64 over bytes, continuing from h (start with CRP_FNV_INIT). */
#define CRP_FNV_INIT 0xcbf29ce484222325ULL
uint64_t crp_fnv1a(uint64_t h, const void *p, size_t n);

/* Random hex string of 2*nbytes characters into out (size >= 2*nbytes+1),
 * drawn from r. */
void crp_hex_id(crp_rng *r, char *out, size_t nbytes);

/* A 64-bit value that differs between processes and starts (for ids). */
uint64_t crp_entropy(void);

/* Set by SIGTERM/SIGINT (crp_signals_install); read by every main loop. */
extern volatile sig_atomic_t crp_stop_requested;
/* Install SIGTERM/SIGINT handlers (no SA_RESTART: poll/sleep wake up) and
 * ignore SIGPIPE.  Returns 0 or -errno. */
int crp_signals_install(void);
/* A self-pipe for one event loop (the supervisor's): from now on SIGTERM,
 * SIGINT (after crp_signals_install) and SIGCHLD each write a byte to it,
 * so a poll() on the returned read end (CLOEXEC, non-blocking) wakes up
 * whichever thread the kernel delivered the signal to.  Returns the fd or
 * -errno.  Call once per process. */
int crp_signals_wakeup(void);
/* Read away the pending wake-ups of that fd. */
void crp_signals_drain(int fd);

/* Copy with truncation, always NUL-terminated. */
void crp_strlcpy(char *dst, const char *src, size_t n);

#endif
