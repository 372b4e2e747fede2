/* cr_check: the one operations table every expectation checker implements,
 * and the read-only facts a checker judges.
 *
 * A checker sees the run only through cr_facts: the merged event history,
 * the fault windows as applied, the process history and the probe results.
 * That makes every checker testable on hand-written histories.  Verdicts are
 * passed, failed (with evidence: the events that break the rule and a short
 * story) or unknown (not enough events to judge; never a silent pass). */
#ifndef CR_CHECK_H
#define CR_CHECK_H

#include <jansson.h>

#include "base/cr_err.h"
#include "events/cr_event.h"
#include "scenario/cr_kinds.h"

typedef enum {
    CR_VERDICT_PASSED = 0,
    CR_VERDICT_FAILED = 1,
    CR_VERDICT_UNKNOWN = 2,
} cr_verdict;

const char *cr_verdict_name(cr_verdict v); /* "passed", "failed", "unknown" */

/* One applied fault occurrence. */
typedef struct cr_fact_fault {
    const char *name; /* fault name */
    const char *kind;
    const char *target; /* "worker.1", "worker", "-" (network faults) */
    const char *hosts;  /* network faults: the hosts isolated or degraded,
                           "h1,h2" (details.hosts); NULL otherwise */
    double start;       /* its apply began, s after t0 */
    double applied;     /* its apply was complete (>= start) */
    double end;         /* reverted; == start for instantaneous faults */
    int ok;             /* 1 applied, 0 failed to apply */
} cr_fact_fault;

enum { CR_PROC_START, CR_PROC_READY, CR_PROC_EXIT };

typedef struct cr_fact_proc {
    double t;
    const char *inst;  /* "worker.1" */
    const char *svc;   /* "worker" */
    int what;          /* CR_PROC_* */
    int code;          /* exit code, or -1 */
    int sig;           /* terminating signal, or 0 */
    const char *cause; /* "fault:kill-worker", "restart-policy", "stop",
                          NULL (exited by itself) */
} cr_fact_proc;

typedef struct cr_fact_probe {
    const char *probe;
    int phase; /* CR_PHASE_* */
    double t;
    int ok;
    const char *detail;
} cr_fact_probe;

typedef struct cr_facts {
    const cr_scen *scen;
    const cr_history *hist;      /* sorted by ts */
    const cr_fact_fault *faults; /* sorted by start */
    size_t nfaults;
    const cr_fact_proc *procs; /* sorted by t */
    size_t nprocs;
    const cr_fact_probe *probes; /* sorted by t */
    size_t nprobes;
    double t_faults_end;        /* end of the last fault window (or 0) */
    double t_workload_end;      /* duration_s */
    double t_end;               /* after drain: when checks are evaluated */
    const cr_history *baseline; /* fault-free run of the same seed, or NULL */
    const char *run_dir;
} cr_facts;

/* What a checker concludes.  cr_result_init() before eval; the engine
 * frees it with cr_result_free(). */
typedef struct cr_result {
    cr_verdict verdict;
    char summary[512]; /* one sentence: "recovered in 1.84 s (bound 5 s)" */
    int has_measured;
    double measured;  /* the figure compared against the bound */
    char unit[16];    /* "s", "ms", "events", "%" */
    char bound[64];   /* "<= 5", ">= 100" */
    json_t *evidence; /* array of {"t":..,"text":..} in time order */
    json_t *details;  /* object: checker-specific counts */
} cr_result;

void cr_result_init(cr_result *res);
void cr_result_free(cr_result *res);
/* Add an evidence line (kept in the order added; callers add in time
 * order).  The first 50 are kept, the rest counted in details. */
void cr_result_evidence(cr_result *res, double t, const char *fmt, ...)
    CR_PRINTF(3, 4);
void cr_result_evidence_event(cr_result *res, const cr_event *e,
                              const char *why);
void cr_result_set(cr_result *res, cr_verdict v, const char *fmt, ...)
    CR_PRINTF(3, 4);

/* The distinct Prometheus URLs that slo expectations of a loaded scenario
 * want scraped (borrowed from the scenario).  Writes at most max into out
 * and returns how many there are in all.  The engine scrapes each URL
 * during the run (before, during and after the faults, e.g. once a
 * second) and appends {"t": <s after t0>, "url": ..., "samples": ...} to
 * <run_dir>/metrics.jsonl, samples as returned by cr_prom_parse()
 * (cr_prom.h). */
size_t cr_check_scrape_urls(const cr_scen *sc, const char **out, size_t max);

#endif
