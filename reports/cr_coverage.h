/* cr_coverage: resilience coverage over several runs (a suite, a --seeds
 * campaign, an exploration): which (fault kind x target service) pairs
 * were exercised, and which mechanisms of the event contract reacted to
 * each -- retry, breaker_open, degraded, dead_lettered, failover,
 * checkpoint_restored, scaled, ... -- with counts; which services were
 * never faulted and which mechanisms never reacted.
 *
 * Attribution rule (reports/README.md, "Resilience coverage"): a
 * mechanism event at time t (s after t0) is a reaction to every applied
 * fault occurrence whose window [start, end + settle_s] holds t (end =
 * start for an instantaneous fault; settle_s CR_COV_SETTLE_S by default).
 * Reactions outside every window are counted as unattributed.  Reads only
 * the loaded run directories (cr_report.h). */
#ifndef CR_COVERAGE_H
#define CR_COVERAGE_H

#include <jansson.h>
#include <stddef.h>

#include "base/cr_err.h"
#include "cr_out.h"
#include "cr_report.h"

/* How long after a fault's window a reaction is still the fault's. */
#define CR_COV_SETTLE_S 3.0

typedef struct cr_cov cr_cov;

/* The mechanism an event is (an index below cr_cov_nmech()), or -1:
 * "retry", "giveup", "breaker" by its state ("breaker_open",
 * "breaker_half_open", "breaker_closed"), "rejected", "degraded",
 * "restored", "dead_lettered", "failover", "checkpoint_restored",
 * "scaled", "drained", "alert" firing ("alert_firing"), "restarted" (a
 * supervisor's own; chaosrun's restarts are read from the journal). */
int cr_cov_mech_of(const cr_rep_event *e);
size_t cr_cov_nmech(void);
const char *cr_cov_mech_name(size_t i);

/* Build the coverage of runs[0..n) with the given settle time (s, >= 0).
 * *out receives a cr_cov to free with cr_cov_destroy(); NULL on error
 * (CR_ENOMEM, CR_EINVAL for a negative settle time). */
int cr_cov_build(const cr_report *const *runs, size_t n, double settle_s,
                 cr_cov **out, cr_err *err);
void cr_cov_destroy(cr_cov *c);

/* coverage.json's document (format in reports/README.md); a new
 * reference, NULL when out of memory. */
json_t *cr_cov_json(const cr_cov *c);
/* The section for an HTML page (a <section class="card" id="coverage">)
 * and for a Markdown file (a "## Resilience coverage" heading). */
void cr_cov_html(const cr_cov *c, cr_out *h);
void cr_cov_md(const cr_cov *c, cr_out *md);

/* coverage.json's text into json and coverage.md's into md (appended);
 * 0 or CR_ENOMEM. */
int cr_cov_render(const cr_cov *c, cr_out *json, cr_out *md, cr_err *err);

/* Build the coverage of the runs and write coverage.json and coverage.md
 * into out_dir; *cov (may be NULL) receives it for the caller's own page
 * (the caller frees it), else it is freed.  0 or a negative code. */
int cr_cov_write(const cr_report *const *runs, size_t n, const char *out_dir,
                 cr_cov **cov, cr_err *err);

#endif
