/* cr_scrule: what a seccomp-backed `syscall` fault does to a call -- the
 * pure part, with no kernel in it (unit-tested on its own).
 *
 * A rule names system calls and says, for a call of one of them made by a
 * targeted replica inside the fault's window: fail it with errnum, or delay
 * it by delay_ms (+- jitter_ms, uniform) and then let it run (or fail it
 * after the delay when both are given); only with the given probability,
 * only for at most `count` calls per replica and window (the first ones
 * when probability is 1; 0: no limit), and only when the path filter, if
 * any, matches the file the call names.
 *
 * Every draw comes from a cr_scdraw: a generator derived from the run seed
 * and a label (fault, occurrence, replica), so the same calls in the same
 * order get the same verdicts.
 *
 * Paths: the filter is a prefix.  An absolute one ("/data/") is compared
 * component-wise after lexical normalisation of both sides ("/data" matches
 * "/data" and "/data/x", not "/database"); any other ("socket:", "pipe:")
 * is a plain prefix of what /proc/PID/fd/N links to ("socket:[1234]"). */
#ifndef CR_SCRULE_H
#define CR_SCRULE_H

#include <stddef.h>
#include <stdint.h>

#include "base/cr_err.h"
#include "base/cr_rng.h"
#include "cr_sysnames.h"

#define CR_SC_MAX_SYS  64   /* system calls per rule */
#define CR_SC_PATH_MAX 1024 /* path filter and resolved paths */

typedef struct cr_scrule {
    size_t nsys;
    int nr[CR_SC_MAX_SYS];          /* native numbers */
    char name[CR_SC_MAX_SYS][48];   /* kernel names */
    cr_sysargs args[CR_SC_MAX_SYS]; /* what the path filter reads, per call */
    int errnum;                     /* 0: do not fail */
    double delay_ms, jitter_ms;     /* 0: no delay */
    double probability;             /* 0..1 */
    uint64_t count;                 /* 0: every call */
    char path[CR_SC_PATH_MAX];      /* "": no path filter */
} cr_scrule;

/* Add a system call by name (validated, "did you mean" on a typo; a
 * second mention is ignored).  0, or CR_EINVAL with a sentence. */
int cr_scrule_add(cr_scrule *r, const char *name, cr_err *err);
/* Index of a native number in r (its position in nr[]), or -1. */
int cr_scrule_index(const cr_scrule *r, int nr);
/* With a path filter: every named call must have a path or fd argument
 * the filter can read.  0, or CR_EINVAL naming the first that has none. */
int cr_scrule_check_path(const cr_scrule *r, cr_err *err);

/* Per replica and window: the seeded stream and the calls faulted so far. */
typedef struct cr_scdraw {
    cr_rng rng;
    uint64_t faulted;
} cr_scdraw;

void cr_scdraw_init(cr_scdraw *d, uint64_t seed, const char *label);

typedef struct cr_scverdict {
    int errnum;       /* 0: let the call run (after the delay) */
    int64_t delay_ns; /* 0: answer at once */
} cr_scverdict;

/* A call the rule names (path filter passed) was made: 1 when it is to be
 * faulted (*v says how; d->faulted counted), 0 when it runs untouched.
 * The draws: one unit for the probability when it is below 1, one for the
 * jitter of a faulted call when jitter_ms > 0. */
int cr_scrule_decide(const cr_scrule *r, cr_scdraw *d, cr_scverdict *v);

/* ---- presets: names users think in, as system calls -------------------- */

typedef struct cr_scpreset {
    const char *name;
    const char *const *syscalls; /* NULL-terminated */
    const char *errno_name;      /* default errno, or NULL (delay only) */
    double delay_ms;             /* default delay, 0: none */
    const char *path;            /* default path filter, or NULL */
    const char *refused;         /* non-NULL: not possible here, and why */
    const char *doc;
} cr_scpreset;

/* NULL-terminated array of every preset, refused ones included. */
const cr_scpreset *const *cr_scpresets(void);
const cr_scpreset *cr_scpreset_find(const char *name);

/* ---- paths -------------------------------------------------------------- */

/* Lexical normalisation of an absolute path: "//" and "/./" collapse, ".."
 * removes the component before it (never above "/"), no trailing '/'
 * except for "/" itself.  0, or -1 when in is not absolute or out is too
 * small. */
int cr_scpath_normalize(const char *in, char *out, size_t n);
/* rel when absolute, else dir + "/" + rel; normalised.  0 or -1. */
int cr_scpath_join(const char *dir, const char *rel, char *out, size_t n);
/* 1 when path is under the filter prefix (see above), 0 otherwise.  An
 * absolute prefix must already be normalised; path is normalised here. */
int cr_scpath_match(const char *prefix, const char *path);

#endif
