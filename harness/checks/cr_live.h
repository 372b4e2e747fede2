/* cr_live: judging while the run goes on.
 *
 * A checker that can stream implements the live members of its operations
 * table (scenario/cr_kinds.h):
 *
 *   live_open(x, &st)       its state for expectation x (0 or CR_ENOMEM);
 *   live_feed(st, e)        one event, in time order (0 or CR_ENOMEM); the
 *                           event is valid during the call only (copy what
 *                           must be kept; its field bytes and interned
 *                           names live as long as the history);
 *   live_status(st, f, out) the state now: f are the facts so far (the
 *                           fault windows applied until now, t_end = now;
 *                           no process records nor probe results);
 *   live_close(st)          free it.
 *
 * The state must stay bounded (per open sequence, per id, per source),
 * never the history itself.  A checker whose verdict needs what only the
 * end can give (probe results after the faults, the whole latency
 * distribution) leaves them NULL and is shown as judged at the end --
 * never a made-up state.
 *
 * States (cr_live.state), as status.json shows them (reports/README.md,
 * "status.json"):
 *   at_end    the checker does not stream: judged when the run ends;
 *   pending   not yet judgeable (too few samples so far, or the verdict
 *             depends on what is still to come: ids in flight before the
 *             drain, a window still open);
 *   holding   nothing so far breaks the rule (the end may still: a lost
 *             id is only lost after the drain);
 *   violated  broken since `since`; final = 1 when no later event can
 *             mend it (a duplicate delivery, an illegal breaker
 *             transition, a retry sooner than its bound): the end verdict
 *             will be failed, and --fail-fast stops the run there.
 *
 * Order.  Lines arrive in the order they were written, which across
 * writers is not the order of their ts (a writer paused between its stamp
 * and its write, a failed write kept back and written later with its
 * original time).  What the harness relies on is only the contract's
 * per-source order: one source -- an event's `inst`, else its `svc`, the
 * unit every order-dependent checker judges by (cr_chk_event_who) -- writes
 * its lines in ts order.  cr_live_set feeds events in time order after
 * holding back the last lateness_s (small inversions across writers come
 * out sorted), and an event older than one already fed is still fed
 * (counted as late).  Across sources that is harmless: a checker whose
 * final violations depend on order judges each source's sequence on its
 * own (breaker, backoff), and one that mixes sources uses only facts that
 * order cannot change (no_loss: how many times an id was delivered).
 * When a source itself breaks the order (an event older than one fed
 * from the same source: counted as disordered), order-dependent
 * violations are no longer final for the rest of the run (a violation
 * seen on a source's sequence could be mended by a line that comes late);
 * the verdict at the end, on the sorted history, decides. */
#ifndef CR_LIVE_H
#define CR_LIVE_H

#include <stddef.h>

#include "cr_check.h"

typedef enum {
    CR_LIVE_AT_END = 0,
    CR_LIVE_PENDING,
    CR_LIVE_HOLDING,
    CR_LIVE_VIOLATED,
    CR_LIVE_NSTATES,
} cr_live_state;

struct cr_live {
    cr_live_state state;
    int final;         /* violated: 1 when nothing can mend it */
    int order_free;    /* set by the checker: `final` holds whatever order
                          the events come in (cr_live_set then keeps it
                          when a source broke its order) */
    double since;      /* violated: run time of the first violation */
    char summary[300]; /* one sentence about the state now */
};

/* "at_end", "pending", "holding", "violated". */
const char *cr_live_state_name(cr_live_state s);

typedef struct cr_live_set cr_live_set;

/* One live state per expectation of sc (borrowed; must outlive the set).
 * 0 or CR_ENOMEM (err set). */
int cr_live_set_new(const cr_scen *sc, double lateness_s, cr_live_set **out,
                    cr_err *err);
void cr_live_set_free(cr_live_set *ls);

/* Take the events h gained since the last call (h grows by appending;
 * its t must be final, i.e. t0 known) and feed those with t <= now -
 * lateness_s, in time order, to every streaming expectation; flush: feed
 * every event held back (the end of the run).  0 or CR_ENOMEM (err set). */
int cr_live_set_feed(cr_live_set *ls, const cr_history *h, double now,
                     int flush, cr_err *err);

/* The state of every expectation into out[0 .. nexpects-1].  Returns the
 * index of the first expectation whose violation is final (the earliest
 * `since`), or -1. */
long cr_live_set_status(cr_live_set *ls, const cr_facts *f, cr_live *out);

/* The states as status.json's "expectations" array (new reference, NULL
 * when out of memory): one object per expectation, in scenario order,
 * {"name", "kind", "state", "final", "since" (run time or null),
 * "summary"}. */
json_t *cr_live_json(const cr_scen *sc, const cr_live *st);

/* Counters: events fed, events fed out of time order (late), events held
 * back now, events fed older than one already fed from the same source
 * (disordered: from the first one on, only order-free violations stay
 * final). */
size_t cr_live_set_fed(const cr_live_set *ls);
size_t cr_live_set_late(const cr_live_set *ls);
size_t cr_live_set_held(const cr_live_set *ls);
size_t cr_live_set_disordered(const cr_live_set *ls);

#endif
