/* cr_report: a run directory loaded into memory, and the entry points that
 * turn run directories into reports.
 *
 * Every writer (JUnit, HTML, Markdown, compare, multi-seed, suite) reads only
 * the run directory: journal.json, events.jsonl and logs/ (formats in
 * reports/README.md).  cr_report_load() builds the model they share: the
 * journal itself, the events with times relative to t0, the fault windows,
 * one state lane per service instance and the expectations. */
#ifndef CR_REPORT_H
#define CR_REPORT_H

#include <jansson.h>
#include <stddef.h>

#include "base/cr_err.h"

/* One event line, times in seconds after t0. */
typedef struct cr_rep_event {
    double t;
    const char *svc;  /* "" when absent; borrows from obj */
    const char *inst; /* "inst", else svc */
    const char *ev;   /* never NULL */
    json_t *obj;      /* the line (reference owned by the report) */
    size_t seq;       /* line order in the file (ties keep it) */
} cr_rep_event;

/* One fault occurrence as the journal recorded it. */
typedef struct cr_rep_fault {
    const char *name, *kind, *target;
    const char *outcome; /* applied | failed | skipped */
    const char *error;   /* NULL unless failed */
    int occurrence;
    double start;      /* applied_t (scheduled_t when not applied) */
    double end;        /* reverted_t; start when instantaneous; the end of
                          the run when it was never reverted */
    int instant;       /* 1: no window (kill, restart, ...) */
    int open;          /* 1: never reverted */
    const json_t *obj; /* the journal entry */
} cr_rep_fault;

/* Service instance states drawn in the timeline. */
enum {
    CR_REP_STARTING,   /* started, not ready yet */
    CR_REP_UP,         /* ready */
    CR_REP_PAUSED,     /* SIGSTOP / freezer */
    CR_REP_DEAD,       /* exited, not (yet) restarted */
    CR_REP_RESTARTING, /* started again after an exit, not ready yet */
    CR_REP_STOPPED,    /* stopped by the harness at the end */
    CR_REP_NSTATES
};
const char *cr_rep_state_name(int state); /* "up", "paused", ... */

typedef struct cr_rep_seg {
    double t0, t1;
    int state;
} cr_rep_seg;

typedef struct cr_rep_lane {
    const char *inst;    /* "worker.0" */
    const char *service; /* "worker" */
    const char *log;     /* "logs/worker.0.log" or NULL */
    int restarts;
    cr_rep_seg *segs;
    size_t nsegs;
} cr_rep_lane;

/* One evidence row of an expectation. */
typedef struct cr_rep_evrow {
    double t;         /* s after t0; NAN when the row has none */
    const char *text; /* "" when absent */
    int info;         /* 1: informational, not a reason for the verdict */
} cr_rep_evrow;

/* A record that a failed no_loss expectation counts as lost, recounted
 * from events.jsonl (and the spans in traces/, when there are any). */
typedef struct cr_rep_lost_id {
    const char *id;   /* the id as text (42 and "42" are the same id) */
    double t_acc;     /* first accepted */
    const char *seen; /* the instance of the last record naming it */
    const char *what; /* that record: an event name or a span name */
    double t_seen;    /* its time */
    int group;        /* index into cr_rep_lost.groups, or -1 */
} cr_rep_lost_id;

/* Lost ids that were still in flight at one instance when one fault hit
 * it: last seen at `inst` at most `dwell` seconds (the p99 of how long
 * records stayed there before moving on, in the same run) before the
 * fault's start. */
typedef struct cr_rep_lost_group {
    const char *inst, *what; /* what: the last record of the first id */
    const cr_rep_fault *fault;
    size_t n;
    double gap_min, gap_max; /* fault start - last seen */
    double dwell;
} cr_rep_lost_group;

typedef struct cr_rep_lost {
    cr_rep_lost_id *ids; /* in order of acceptance */
    size_t n;
    cr_rep_lost_group *groups; /* largest first */
    size_t ngroups;
    long long checker_lost; /* details.lost, -1 when absent; when it is
                               not n, no id is tied to a fault (no
                               groups, no hint) */
    int spans;              /* 1: records from traces/ were used */
    char *hint;             /* one sentence for the largest group; NULL
                               when no fault can be tied to a lost id */
    json_t *pool;           /* owns the strings above */
} cr_rep_lost;

typedef struct cr_rep_expect {
    const char *name, *kind;
    const char *verdict; /* passed | failed | unknown */
    const char *summary; /* "" when absent */
    int has_measured;
    double measured;
    const char *unit, *bound; /* "" when absent */
    const json_t *evidence;   /* array of {"t","text"} or NULL */
    const json_t *details;    /* object or NULL */
    /* The evidence, failure rows first, then informational rows, each in
     * time order (rows without a time last).  A row is informational when
     * it says "role": "info", when the expectation passed, or (no_loss)
     * when the id it names is neither lost, duplicated nor unexpected. */
    cr_rep_evrow *rows;
    size_t nrows, nfail;
    long long omitted; /* rows the checker left out (details.
                          evidence_omitted / evidence_dropped) */
    cr_rep_lost *lost; /* failed no_loss only, else NULL */
} cr_rep_expect;

typedef struct cr_report {
    char *dir;
    json_t *journal; /* owned */
    const char *name, *status, *error, *reproduce, *scenario_file;
    const char *description, *seed_source;
    int has_seed;
    unsigned long long seed;
    int exit_code;
    double started_at, ended_at, t0_unix; /* Unix times (NAN if absent) */
    double duration_s, drain_s;
    double t_min, t_max; /* the time axis, s after t0 */
    double t_faults_end; /* end of the last fault window, or NAN */
    cr_rep_event *ev;    /* sorted by t */
    size_t nev;
    size_t malformed;     /* malformed lines found while loading */
    int events_missing;   /* 1: no events.jsonl */
    cr_rep_fault *faults; /* sorted by start */
    size_t nfaults;
    cr_rep_lane *lanes;
    size_t nlanes;
    cr_rep_expect *ex;
    size_t nex;
    size_t npassed, nfailed, nunknown;
} cr_report;

/* Load RUN_DIR/journal.json and RUN_DIR/events.jsonl (a missing or partly
 * malformed events file is tolerated and counted; a missing or malformed
 * journal is an error: CR_ENOTFOUND / CR_EPROTO).  *out receives a report
 * to free with cr_report_destroy(); NULL on error. */
int cr_report_load(const char *run_dir, cr_report **out, cr_err *err);
void cr_report_destroy(cr_report *r);

/* The overall verdict word: the journal's status ("passed", "failed",
 * "interrupted", "unrunnable", "error"), or "unknown" when absent. */
const char *cr_report_verdict(const cr_report *r);

/* Events named ev per second in bins of bin_s seconds from t0 (s after
 * t0 of the run; r->t_min for the run's own axis); counts[nbins]
 * (caller-allocated, nbins = cr_report_nbins() for the run's own axis).
 * ev NULL: every event carrying an "error" field plus
 * giveup/dead_lettered/rejected. */
size_t cr_report_nbins(const cr_report *r, double bin_s);
void cr_report_rate(const cr_report *r, const char *ev, double t0, double bin_s,
                    double *counts, size_t nbins);
/* Mean rate (events/s) of ev inside fault windows (inside = 1) or outside
 * them during the fault phase [0, duration_s] (inside = 0).  NAN when the
 * span is empty or no event is named ev. */
double cr_report_rate_faults(const cr_report *r, const char *ev, int inside);

/* Write junit.xml, report.html and report.md into run_dir from its
 * journal.json and events.jsonl.  Called by the engine at the end of every
 * run, interrupted runs included.  Returns 0 or a negative code; files
 * written before an error stay. */
int cr_report_write_all(const char *run_dir, cr_err *err);

/* Multi-seed summary of runs of the same scenario: multi.html, multi.md and
 * multi.json in out_dir (created if missing): pass rate, Wilson 95%
 * interval, flaky when 0 < passes < n, per-expectation pass rates, and for
 * every `recovers` expectation the recovery-time distribution. */
int cr_report_multi(const char *const *run_dirs, size_t n, const char *out_dir,
                    cr_err *err);

/* Suite: one junit.xml with one testsuite per run and index.html linking
 * each run's report, in out_dir (created if missing). */
int cr_report_suite(const char *const *run_dirs, size_t n, const char *out_dir,
                    cr_err *err);

/* The report of a `chaosrun shrink` output directory: report.md and
 * report.html in out_dir, from its summary.json and steps.jsonl only
 * (original vs minimal: faults removed or changed, duration_s, the wall
 * time of one run of each, failure rates, the search's cost).  0, or
 * CR_ENOTFOUND / CR_EPROTO (a file missing or not JSON), CR_ENOMEM,
 * CR_ESYS. */
int cr_report_shrink(const char *out_dir, cr_err *err);

/* The state trigger of fault document f as text ("on leased #3 of
 * worker.2", "on ready #2 of queue") into buf; 0 when f has none (it is
 * timed: at_s). */
int cr_report_trigger_text(const json_t *f, char *buf, size_t n);

/* A suite that is one shard of a CI matrix (`chaosrun suite --shard K/N`):
 * index K in 1..count.  count 0: not a shard. */
typedef struct cr_suite_shard {
    unsigned index, count;
} cr_suite_shard;

/* cr_report_suite, for shard K of N (shard NULL, or count 0: the whole
 * suite).  Besides junit.xml and index.html it writes index.md (the same
 * table in Markdown) and suite.json, the manifest that cr_report_merge()
 * reads: chaosrun's version, the shard, each run's name, status, exit
 * code and journal (reports/README.md, "Suite"). */
int cr_report_suite_shard(const char *const *run_dirs, size_t n,
                          const cr_suite_shard *shard, const char *out_dir,
                          cr_err *err);

/* Merge suites (each a directory written by cr_report_suite_shard, e.g.
 * the shards of one CI matrix) into the directory out_dfd (not owned; its
 * files are replaced atomically, never through a link): one junit.xml
 * (one <testsuites>, totals recomputed), index.html, index.md and
 * suite.json over every run of every suite, as if one suite had run them
 * all.  Refused (CR_EINVAL, nothing written, err names the suites): a
 * scenario name in two suites; suites or runs of different chaosrun
 * versions; shards of different counts, a shard given twice or missing,
 * shards mixed with whole suites.  CR_ENOTFOUND: a suite without
 * suite.json, a run directory missing; CR_EPROTO: a malformed suite.json.
 * On success *nruns is the number of runs and *exit_status the highest
 * exit status among them (0 when there are none). */
int cr_report_merge(const char *const *suite_dirs, size_t n, int out_dfd,
                    size_t *nruns, int *exit_status, cr_err *err);

/* Compare two runs: writes compare.html and compare.md into out_dir; *md
 * (malloc'd, may be NULL) receives the Markdown. */
int cr_report_compare(const char *old_dir, const char *new_dir,
                      const char *out_dir, char **md, cr_err *err);

/* What a comparison found, for a caller that decides on it (`report
 * --compare --fail-on`): expectations by change of verdict (regressed:
 * passed before, not now; fixed: the reverse; changed: another change,
 * e.g. failed -> unknown; added/removed: on one side only), measured
 * figures by trend (worse/better outside the noise, within noise, same),
 * and the runs' overall verdicts (cr_report_verdict; "flaky" for a
 * multi-seed side that passed some runs). */
typedef struct cr_compare_tally {
    size_t regressed, fixed, changed, added, removed;
    size_t worse, better, noise, same;
    char old_verdict[16], new_verdict[16];
} cr_compare_tally;
/* cr_report_compare, and *tally (may be NULL) filled when it returns 0. */
int cr_report_compare_tally(const char *old_dir, const char *new_dir,
                            const char *out_dir, char **md,
                            cr_compare_tally *tally, cr_err *err);

#endif
