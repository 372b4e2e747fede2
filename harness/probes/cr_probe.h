/* cr_probe: steady-state probes, one operations table for all kinds.
 *
 * A probe answers "does the system look healthy right now?".  run() may
 * block up to the probe's timeout: the engine runs probes on its probe
 * thread, never on the event loop, so fault timing is not disturbed.
 * run() must therefore only read its own spec and the run's history
 * through cr_run_history() under the engine's lock (the event probe gets a
 * snapshot count instead; see cr_probe_ctx). */
#ifndef CR_PROBE_H
#define CR_PROBE_H

#include <jansson.h>

#include "base/cr_err.h"
#include "events/cr_event.h"
#include "scenario/cr_kinds.h"

/* What a probe may look at while it runs. */
typedef struct cr_probe_ctx {
    const char *run_dir;
    /* Count of events matching m so far (thread-safe, provided by the
     * engine). */
    size_t (*count_events)(void *eng, const cr_match *m, double since_t);
    void *eng;
    double now_t; /* seconds since t0 when the probe started */
} cr_probe_ctx;

#endif
