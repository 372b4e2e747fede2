/* cr_evid: the story behind each verdict, part of the report model (see
 * cr_report.h): every expectation's evidence in time order with failure
 * rows apart from informational ones, and, for a failed no_loss
 * expectation, the lost ids recounted from the run directory with a
 * causal hint where the data supports one.
 *
 * The hint says only what the records show: a lost id was last named by a
 * record of instance X at time t, a fault hit X at t' >= t, and in the same
 * run records normally stayed at X longer than t' - t (the p99 of the time
 * from a record's last sighting at X to its next record, over every id
 * that moved on; at least 10 of them).  "Last named" uses every event
 * carrying the id and, when accepted events carry a trace_id, the OTLP/JSON
 * spans in traces/<instance>.jsonl.  When the recount disagrees with the
 * checker's count no hint is given. */
#ifndef CR_EVID_H
#define CR_EVID_H

#include "base/cr_err.h"
#include "cr_report.h"

/* Fill rows/nrows/nfail/omitted and lost of every expectation of r.
 * Returns 0 or CR_ENOMEM (r keeps what was built; cr_evid_free() releases
 * it).  Unreadable trace files are skipped, never an error. */
int cr_evid_build(cr_report *r, cr_err *err);
void cr_evid_free(cr_rep_expect *x);

/* The sentence of one group: "10 of 61 lost ids were in flight at
 * worker.1 (last record: worker.score) when kill-worker killed it at
 * 1.778 s". */
void cr_evid_group_text(char *buf, size_t n, const cr_rep_lost *l,
                        const cr_rep_lost_group *g);

/* The lost ids in no group: "The other 2 lost ids: no fault hit the
 * instance where they were last seen while they were still in flight
 * there." ("" when every lost id is in a group). */
void cr_evid_rest_text(char *buf, size_t n, const cr_rep_lost *l);
/* "The checker recorded 7 more rows than it kept." ("" for none). */
void cr_evid_omitted_text(char *buf, size_t n, const cr_rep_expect *x);

#endif
