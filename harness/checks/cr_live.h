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
 * States (cr_live.state), as status.json shows them (scenarios/README.md,
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
 * cr_live_set drives every expectation of a scenario over a growing
 * history in arrival order: it feeds them in time order, holding back the
 * events of the last lateness_s (writers stamp ts just before they write,
 * so later arrivals of earlier events come within it); an event older
 * than one already fed is fed anyway and counted as late. */
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
 * back now. */
size_t cr_live_set_fed(const cr_live_set *ls);
size_t cr_live_set_late(const cr_live_set *ls);
size_t cr_live_set_held(const cr_live_set *ls);

#endif
