/* cr_scen: the scenario model, its loader and the validation helpers.
 *
 * cr_scen_load() reads a JSON scenario with jansson, records the line and
 * column of every key and value, and validates every section.  All problems
 * are collected (not just the first) as FILE:LINE:COLUMN diagnostics.  Fault
 * kinds, probe kinds, checkers and extra sections ("links", "hosts") parse
 * their own objects through the cr_v* helpers below; parse functions only
 * validate and fill structs: they never touch the system.
 *
 * The format itself is documented in scenarios/README.md. */
#ifndef CR_SCEN_H
#define CR_SCEN_H

#include <jansson.h>
#include <regex.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "base/cr_err.h"
#include "base/cr_signal.h"

#define CR_PATH_MAX 256

typedef struct cr_fault_ops cr_fault_ops;
typedef struct cr_probe_ops cr_probe_ops;
typedef struct cr_check_ops cr_check_ops;
typedef struct cr_vctx cr_vctx;
typedef struct cr_scen cr_scen;
typedef struct cr_explore cr_explore;

/* A documented parameter: drives `chaosrun list`, the unknown-key check and
 * scenarios/README.md.  Arrays of cr_param end with {NULL}. */
typedef struct cr_param {
    const char *name;
    const char *type; /* "number", "integer", "string", "bool", "time",
                         "signal", "array", "object", ... */
    const char *dflt; /* NULL: required */
    const char *doc;
} cr_param;

/* A time that is either fixed (lo == hi) or drawn from [lo, hi]. */
typedef struct cr_time {
    double lo, hi;
} cr_time;

/* ---- diagnostics ------------------------------------------------------ */

typedef struct cr_diag {
    char *file;
    int line, col; /* 1-based; 0 when unknown; line -1: a note about the
                      whole file (the count of problems not listed) */
    char *msg;
} cr_diag;

typedef struct cr_diags {
    cr_diag *v;
    size_t n, cap;
} cr_diags;

void cr_diags_free(cr_diags *d);
/* Print every diagnostic as "FILE:LINE:COLUMN: message\n" ("FILE:
 * message\n" for a note with line -1). */
void cr_diags_print(const cr_diags *d, FILE *fp);

/* ---- the model -------------------------------------------------------- */

enum { CR_RESTART_NEVER, CR_RESTART_ON_FAILURE, CR_RESTART_ALWAYS };
enum {
    CR_READY_NONE,
    CR_READY_TCP,
    CR_READY_HTTP,
    CR_READY_EXEC,
    CR_READY_LOG
};

typedef struct cr_ready {
    int kind;          /* CR_READY_* */
    char *host;        /* tcp: default 127.0.0.1 */
    int port;          /* tcp */
    char *url;         /* http */
    int status;        /* http: expected status, default 200 */
    char **argv;       /* exec: NULL-terminated */
    char *regex;       /* log: POSIX extended regex matched against log lines */
    double timeout_s;  /* default 10 */
    double interval_s; /* default 0.05 */
} cr_ready;

/* A service run as a container (scenarios/README.md, "Services in
 * containers"; engine/cr_run_ctr.c). */
#define CR_CTR_AUTO     0
#define CR_CTR_PODMAN   1
#define CR_CTR_DOCKER   2
#define CR_CTR_NET_HOST 0 /* the harness's namespace, or the service's host */
#define CR_CTR_NET_NONE 1 /* its own namespace with loopback only */
typedef struct cr_ctr_spec {
    char *image;    /* required; must be present locally (never pulled) */
    int engine;     /* CR_CTR_AUTO, CR_CTR_PODMAN, CR_CTR_DOCKER */
    char **args;    /* the container's command; NULL: the image's own */
    char **env;     /* "KEY=VALUE", NULL-terminated; may be NULL */
    char **volumes; /* "/host:/ctr[:ro|:rw]", NULL-terminated; may be NULL */
    int network;    /* CR_CTR_NET_* */
} cr_ctr_spec;

typedef struct cr_svc_spec {
    char *name;
    cr_ctr_spec *ctr; /* non-NULL: a container (argv is then NULL) */
    char **argv;      /* NULL-terminated, never passed through a shell */
    char **env;       /* "KEY=VALUE", NULL-terminated; may be NULL */
    char *cwd;        /* NULL: the directory chaosrun was started in */
    int replicas;     /* default 1 */
    int port;         /* 0: none; replica i listens on port + i */
    char *host;       /* network host (namespace) name, or NULL */
    /* The identity the service runs as (a name or a number; NULL: the
     * run-wide --service-user, else chaosrun's own), resolved at run start
     * (engine/cr_svc.c), and the run-directory subdirectories it writes:
     * made before it starts, owned by that user (scenarios/README.md,
     * "Services as another user"). */
    char *user, *group;
    char **dirs; /* NULL-terminated; may be NULL */
    cr_ready ready;
    int stop_signal;        /* default SIGTERM */
    double stop_timeout_s;  /* default 5 */
    int restart;            /* CR_RESTART_*, default never */
    double restart_delay_s; /* default 0.2 */
    int max_restarts;       /* default 10; -1 unlimited */
    /* The end of the run: the services (indices into svcs) that must have
     * stopped before this one gets its stop signal -- from its stop_after
     * (has_stop_after) or from the scenario's stop_order (default: the next
     * service of the list).  Resolved and checked for cycles by the loader
     * (cr_scen_stop.c). */
    size_t *stop_deps;
    size_t nstop_deps;
    int has_stop_after;
    char path[CR_PATH_MAX]; /* "services[1]" for diagnostics */
} cr_svc_spec;

#define CR_REPLICA_ALL    (-1)
#define CR_REPLICA_RANDOM (-2)

typedef struct cr_target {
    char *service; /* NULL: fault not aimed at a service (network faults) */
    int replica;   /* >= 0, CR_REPLICA_ALL or CR_REPLICA_RANDOM */
} cr_target;

/* An event pattern: used by the event probe, the events checker and
 * state-triggered faults. */
typedef struct cr_match {
    char *ev;      /* required */
    char *svc;     /* NULL: any service */
    json_t *where; /* object of field -> value that must be equal; or NULL */
} cr_match;

/* A state trigger: on_event (match) or on_ready (ready_svc set: a
 * service "svc" or an instance "svc.N" becoming ready, counted from its
 * first readiness in start-up). */
typedef struct cr_trigger {
    cr_match match;  /* on_event; zeroed for on_ready */
    char *ready_svc; /* on_ready: the service or instance; else NULL */
    int count;       /* fire on the count-th matching event (default 1) */
    double delay_s;  /* after the event (default 0) */
} cr_trigger;

/* How the end of the fault timeline is found after duration_s: a fixed
 * drain_s, or (drain.until_quiet_s > 0) until no event matching
 * drain.match arrived for until_quiet_s, at most max_s. */
typedef struct cr_drain {
    cr_match match;
    double until_quiet_s; /* 0: fixed drain_s */
    double max_s;
} cr_drain;

typedef struct cr_fault {
    char *name; /* unique; default "<kind>-<index>" */
    const cr_fault_ops *ops;
    cr_target target;
    cr_time at;             /* at_s */
    double for_s;           /* 0: instantaneous */
    double every_s;         /* 0: single shot */
    double until_s;         /* repetition end (default: duration_s) */
    cr_trigger *trigger;    /* non-NULL: state-triggered (at_s ignored) */
    void *priv;             /* kind data from ops->parse, freed by destroy */
    json_t *spec;           /* the object as written (reference held) */
    char path[CR_PATH_MAX]; /* "faults[2]" */
    /* Resolved by cr_scen_resolve(): start of each occurrence, seconds after
     * t0 (time-triggered faults only). */
    double *starts;
    size_t nstarts;
} cr_fault;

enum {
    CR_PHASE_BEFORE = 1u << 0,
    CR_PHASE_DURING = 1u << 1,
    CR_PHASE_AFTER = 1u << 2,
};

typedef struct cr_probe_spec {
    char *name;
    const cr_probe_ops *ops;
    void *priv;
    unsigned phases;   /* CR_PHASE_* mask, default all three */
    char *host;        /* probe from inside this network host, or NULL */
    double interval_s; /* during: default 1 */
    double timeout_s;  /* default 2 */
    json_t *spec;
    char path[CR_PATH_MAX];
} cr_probe_spec;

typedef struct cr_expect {
    char *name;
    const cr_check_ops *ops;
    void *priv;
    int min_samples; /* default 1 (checkers that count samples) */
    json_t *spec;
    char path[CR_PATH_MAX];
} cr_expect;

struct cr_scen {
    char *file;
    char *name;
    char *description;
    uint64_t seed;
    int seed_given;    /* 0: drawn at load time (or by --seed) */
    double duration_s; /* timeline length after t0 (required) */
    /* The timeline may stretch up to this (>= duration_s) while a
     * state-triggered fault has not fired or not ended; default
     * duration_s (no stretching). */
    double duration_max_s;
    double drain_s; /* after duration, before after-probes; default 2 */
    double before_timeout_s; /* before-probes retried this long; default 5 */
    cr_drain drain; /* "drain": drain until quiet (until_quiet_s > 0) */
    /* "rotate": the event file and the logs cut into zstd segments once
     * max_bytes were written past the last cut (harness/README.md,
     * "Rotating the event file and the logs"); max_bytes 0: off. */
    struct {
        uint64_t max_bytes;
        int level; /* zstd level, 1..19 */
        int logs;  /* the replicas' logs too */
    } rotate;
    cr_svc_spec *svcs;
    size_t nsvcs;
    int stop_parallel; /* stop_order "parallel" (for reports) */
    cr_fault *faults;
    size_t nfaults;
    cr_probe_spec *probes;
    size_t nprobes;
    cr_expect *expects;
    size_t nexpects;
    void *links;         /* owned by the proxy module, or NULL */
    void *hosts;         /* owned by the network module, or NULL */
    cr_explore *explore; /* the "explore" fault space (cr_explore.c), or
                            NULL */
    void *scratch;       /* owned by disk_fill (faults/resource), or NULL */
    json_t *root;        /* the document as written */
    /* The environment variables the document expanded (cr_scen_vars.c):
     * name -> the value it had, or null when it was unset (a default was
     * used).  Names chaosrun defines itself (CHAOSRUN_SCENARIO_DIR, and
     * CHAOSRUN_BINDIR unless the environment set it) are not in it.
     * Empty object when none; the journal and the reproduce line use it. */
    json_t *vars;
    /* Private to the loader: name tables behind cr_scen_service() and
     * cr_scen_fault() (NULL: they scan). */
    struct cr_scen_index *index;
};

/* ---- loading ---------------------------------------------------------- */

/* Limits of one scenario (scenarios/README.md, "Limits"). */
#define CR_SCEN_MAX_FILE        (16 << 20) /* bytes of the file */
#define CR_SCEN_MAX_DIAGS       100        /* problems listed; then one count */
#define CR_SCEN_MAX_OCCURRENCES 100000     /* planned fault occurrences */

/* Load and validate a scenario.  On success returns 0 and *out (free with
 * cr_scen_free), its timeline already resolved from sc->seed (call
 * cr_scen_resolve() again after changing the seed).  On any problem in the
 * document returns CR_EINVAL with the problems appended to *diags (sorted
 * by position; after CR_SCEN_MAX_DIAGS of them one last entry with line -1
 * counts the others).  A file that cannot be a scenario returns, with err
 * set and no diagnostic: CR_ENOTFOUND (no such file), CR_EINVAL (not a
 * regular file: a directory, FIFO, device or socket; unreadable; larger
 * than CR_SCEN_MAX_FILE) -- both exit status 2 -- or CR_ESYS (the machine:
 * out of descriptors, I/O error) and CR_ENOMEM.  Symbolic links are
 * followed.  *out stays NULL on error. */
int cr_scen_load(const char *file, cr_scen **out, cr_diags *diags, cr_err *err);
/* Same from a buffer; `file` is only used in messages. */
int cr_scen_load_buffer(const char *file, const char *text, size_t len,
                        cr_scen **out, cr_diags *diags, cr_err *err);
void cr_scen_free(cr_scen *sc);

/* Draw every time range and repetition from sc->seed (fills
 * faults[i].starts).  Same seed, same timeline. */
int cr_scen_resolve(cr_scen *sc, cr_err *err);

/* ---- exploration (cr_explore.c) ---------------------------------------- */

/* 1 when the scenario declares a fault space (key "explore"). */
int cr_explore_present(const cr_scen *sc);
/* Draw one concrete schedule from the fault space with the stream of
 * `seed` (same seed, same schedule): a JSON array of fault objects in time
 * order, named "x<i>-<kind>", each with a fixed "at_s", its "target" and
 * "for_s" and every parameter chosen -- no range, no every_s.  Returns 0
 * and *out (a new reference), CR_EINVAL (no fault space) or CR_ENOMEM;
 * *out is NULL on error. */
int cr_explore_draw(const cr_scen *sc, uint64_t seed, json_t **out,
                    cr_err *err);

/* How a schedule's faults are drawn.  UNIFORM: template, target, start
 * and parameters uniformly (cr_explore_draw).  COVERAGE: each fault from
 * an "arm" -- (template, one of its targets, one third of its start
 * window) -- tried least so far, uniformly among those; parameters are
 * still drawn uniformly.  So every (kind x target x early/middle/late)
 * combination is tried once before any is tried twice. */
typedef enum { CR_EXPLORE_UNIFORM, CR_EXPLORE_COVERAGE } cr_explore_strategy;
const char *cr_explore_strategy_name(cr_explore_strategy s);
/* "uniform" or "coverage" into *s; 0, or -1 for another name. */
int cr_explore_strategy_parse(const char *name, cr_explore_strategy *s);
/* The number of arms of the fault space (0 without one). */
size_t cr_explore_narms(const cr_scen *sc);
/* "kill \"worker.random\" at 0.5-1.333 s": arm k in buf; 0, or -1 when k
 * is not an arm. */
int cr_explore_arm_name(const cr_scen *sc, size_t k, char *buf, size_t n);
/* cr_explore_draw with a strategy.  tried: cr_explore_narms() counters,
 * the faults drawn so far from each arm, incremented for every fault of
 * this schedule (whatever the strategy; may be NULL for UNIFORM).  The
 * same seed and the same tally give the same schedule; UNIFORM's
 * schedules are cr_explore_draw's. */
int cr_explore_draw_with(const cr_scen *sc, uint64_t seed,
                         cr_explore_strategy strategy, size_t *tried,
                         json_t **out, cr_err *err);

/* Write the resolved timeline, human readable (for --dry-run). */
void cr_scen_print_timeline(const cr_scen *sc, FILE *fp);

/* The resolved timeline as JSON (for the journal): an array of
 * {fault, kind, target, occurrence, at_s, for_s} ordered by time (target
 * null for faults without a service target), then one entry per
 * state-triggered fault with occurrence and at_s null and "on_event":
 * {ev, svc, where, count, delay_s} or "on_ready": {svc, count, delay_s}.  NULL
 * on allocation failure. */
json_t *cr_scen_timeline_json(const cr_scen *sc);

/* Look-ups. */
const cr_svc_spec *cr_scen_service(const cr_scen *sc, const char *name);
const cr_fault *cr_scen_fault(const cr_scen *sc, const char *name);

/* Parse a target string: "svc" (all replicas), "svc.all", "svc.N",
 * "svc.random".  0 (t->service cr_malloc'd, free with cr_free), CR_EINVAL
 * or CR_ENOMEM (t->service NULL).  Does not check that the service
 * exists. */
int cr_target_parse(const char *s, cr_target *t);
/* "svc", "svc.2", "svc.random" */
void cr_target_format(const cr_target *t, char *buf, size_t n);

/* ---- validation helpers for parse functions ---------------------------
 *
 * `path` is the JSON path of `obj` ("faults[2]"); helpers append the key
 * themselves and report at the key's or value's position.  Getters return
 * 1 (present and valid), 0 (absent: *out = dflt), -1 (invalid: a diagnostic
 * was recorded).  A JSON null is a value of the wrong type, not an absent
 * key.  Messages read "PATH: text" ("faults[2].at_s: must be >= 0 (got
 * -1)"), so the text need not repeat the key. */

/* Report at the position of path's value (its nearest known ancestor when
 * the path does not exist, e.g. a missing key reports at its object). */
void cr_verr(cr_vctx *vx, const char *path, const char *fmt, ...)
    CR_PRINTF(3, 4);
/* Report at the position of the key itself ("unknown key" style); the
 * message is prefixed with the path of the object that holds the key
 * ("faults[0]: unknown key ..."). */
void cr_verr_key(cr_vctx *vx, const char *path, const char *fmt, ...)
    CR_PRINTF(3, 4);
/* Tell the loader that an allocation failed inside a parse function: the
 * load then fails with CR_ENOMEM (returning CR_ENOMEM from parse has the
 * same effect). */
void cr_vnomem(cr_vctx *vx);
/* Number of diagnostics recorded so far. */
size_t cr_vcount(const cr_vctx *vx);
/* The scenario being built (services are parsed before anything else, so
 * references to services can be checked). */
cr_scen *cr_vscen(cr_vctx *vx);

/* Join a path and a key ("faults[2]" + "at_s") or an index. */
void cr_path_key(char *buf, size_t n, const char *base, const char *key);
void cr_path_idx(char *buf, size_t n, const char *base, size_t idx);

int cr_vrequire(cr_vctx *vx, const json_t *obj, const char *path,
                const char *key);
int cr_vnum(cr_vctx *vx, const json_t *obj, const char *path, const char *key,
            double min, double max, double dflt, double *out);
int cr_vint(cr_vctx *vx, const json_t *obj, const char *path, const char *key,
            long long min, long long max, long long dflt, long long *out);
int cr_vbool(cr_vctx *vx, const json_t *obj, const char *path, const char *key,
             int dflt, int *out);
/* *out borrows from the JSON document (lives as long as the scenario). */
int cr_vstr(cr_vctx *vx, const json_t *obj, const char *path, const char *key,
            const char *dflt, const char **out);
/* names: NULL-terminated; *out = index. */
int cr_venum(cr_vctx *vx, const json_t *obj, const char *path, const char *key,
             const char *const *names, int dflt, int *out);
/* Number or [min, max] with 0 <= min <= max <= maxv. */
int cr_vtime(cr_vctx *vx, const json_t *obj, const char *path, const char *key,
             double maxv, cr_time dflt, cr_time *out);
int cr_vsignal(cr_vctx *vx, const json_t *obj, const char *path,
               const char *key, int dflt, int *out);
/* Reject keys not in either params list (b may be NULL), with a "did you
 * mean" hint when close to a known key.  Returns number of unknown keys. */
int cr_vkeys(cr_vctx *vx, const json_t *obj, const char *path,
             const cr_param *a, const cr_param *b);
/* Parse {"ev":..., "svc":..., "where":{...}} into m (strings copied,
 * where referenced).  svc must name a service or an instance "svc.N".
 * Does not reject other keys (callers list their own with cr_vkeys).
 * Returns 0, CR_EINVAL (diagnostics recorded, m zeroed) or CR_ENOMEM. */
int cr_vmatch(cr_vctx *vx, const json_t *obj, const char *path, cr_match *m);
void cr_match_free(cr_match *m);
/* Validator: the string member `key` of obj naming a service ("svc") or
 * an instance ("svc.N") of the scenario.  1 (*out borrows from the
 * document), 0 (absent), -1 (invalid: a diagnostic was recorded). */
int cr_vsvc_ref(cr_vctx *vx, const json_t *obj, const char *path,
                const char *key, const char **out);
/* 1 when ref (a service or an instance name) names the service svc or
 * the instance inst; 0 otherwise (ref NULL: 0). */
int cr_svc_ref_match(const char *ref, const char *svc, const char *inst);

/* ---- regular expressions ----------------------------------------------
 *
 * Every regular expression of a scenario (a log readiness check, a probe's
 * body_regex) is a POSIX extended regular expression within these limits,
 * checked before regcomp() sees it, because glibc's regcomp copies bounded
 * repetitions and nested ones multiply (cr_regex.c explains the bound).
 * Documented in scenarios/README.md, "Limits". */
#define CR_REGEX_MAX_LEN   4096 /* bytes */
#define CR_REGEX_MAX_NEST  32   /* nested parentheses */
#define CR_REGEX_MAX_COUNT 255  /* m and n of {m,n} (POSIX's RE_DUP_MAX) */
#define CR_REGEX_MAX_SIZE  2000 /* positions after expanding repetitions */

/* Check the limits only (no allocation, linear in the length).  0, or
 * CR_EINVAL with the reason and the limit in why (n bytes). */
int cr_regex_check(const char *pattern, char *why, size_t n);
/* Check the limits, then regcomp(REG_EXTENDED | REG_NOSUB).  0 and *re
 * (regfree it), or CR_EINVAL with the reason in why (regcomp's message for
 * a syntax error); *re is not to be freed on error. */
int cr_regex_compile(regex_t *re, const char *pattern, char *why, size_t n);
/* Validator: the string member `key` of obj as a bounded regular
 * expression.  1 (valid: *out borrows the pattern from the document, and
 * *re is compiled when re is not NULL), 0 (absent), -1 (invalid: a
 * diagnostic was recorded at the value). */
int cr_vregex(cr_vctx *vx, const json_t *obj, const char *path, const char *key,
              const char **out, regex_t *re);

/* A name -> index table (cr_names.c), for duplicate checks and look-ups
 * that must stay linear in large scenarios.  Keys are borrowed and must
 * outlive the table.  Zero-initialise; cr_names_free() releases it. */
typedef struct cr_names {
    const char **keys;
    size_t *vals;
    size_t n, cap; /* cap: 0 or a power of two */
} cr_names;

/* 0 (added), 1 (already there: *old = its value when old is not NULL; the
 * table is unchanged) or CR_ENOMEM (unchanged). */
int cr_names_put(cr_names *m, const char *key, size_t val, size_t *old);
/* 1 and *val, or 0 when absent (m may be NULL). */
int cr_names_get(const cr_names *m, const char *key, size_t *val);
void cr_names_free(cr_names *m);

/* Edit distance, for "did you mean" hints. */
int cr_levenshtein(const char *a, const char *b);

/* The scenario's own objects and their keys, as the loader validates
 * them (`chaosrun list scenario`): {"top level", ...}, {"services[]",
 * ...}, ...; ends with an entry whose where is NULL. */
typedef struct cr_scen_keyset {
    const char *where; /* "top level", "services[]", "services[].ready" */
    const cr_param *params;
} cr_scen_keyset;
const cr_scen_keyset *cr_scen_keysets(void);

#endif
