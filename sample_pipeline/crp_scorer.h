// clang-format off
/* crp_scorer: the worker's remote scoring client (--scoring remote).
 * A thread refreshes the healthy set of model servers from the registry
 * every refresh-ms (crp_regc LIST); when the registry is unreachable the
 * last known set is kept (`registry_unreachable` once per outage,
 * `registry_restored` after it).  Each request goes to the instance
 * crp_route picks; when that instance does not answer (timeout, refused,
 * closed, error) the connection is closed — a late answer is never read
 * — the instance is held down, and the same request (same reqid) is sent
 * to the next healthy instance (`failover` {from, to, reason}).
 *
 * Model server protocol (crp_modelsrv.c):
 *   S <reqid> <x0,...,x15> <e0,...,e3 | ->  ->  OK <reqid> <score> <label>
 *                                             | ERR <reqid> <why>
 *   PING -> PONG */
// clang-format on
#ifndef CRP_SCORER_H
#define CRP_SCORER_H

#include "crp_conf.h"
#include "crp_ev.h"

typedef struct crp_scorer crp_scorer;

/* Create and start the refresh thread (registry, reg-service, region,
 * score-timeout-ms, refresh-ms, failback, down-ms and the defect switches
 * of c).  Returns NULL on failure with a message in err. */
crp_scorer *crp_scorer_create(const crp_conf *c, crp_ev *ev, char *err,
                              size_t n);
/* Stop the thread, close the connections, free.  NULL is a no-op. */
void crp_scorer_destroy(crp_scorer *s);
/* 1 when some model server is eligible now (else the worker should not
 * lease work). */
int crp_scorer_ready(crp_scorer *s);
/* Score one record (x: normalised, extra: NULL when degraded).  Returns
 * 0 with *score, or -EAGAIN when no model server could answer (the
 * record should be handed back).  *failed_over (may be NULL) is set to 1
 * when the request had to be re-sent to another server. */
int crp_scorer_score(crp_scorer *s, const double *x, const double *extra,
                     double *score, int *failed_over);

#endif
