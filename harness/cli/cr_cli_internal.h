/* cr_cli_internal: what the sub-commands share and nothing else uses. */
#ifndef CR_CLI_INTERNAL_H
#define CR_CLI_INTERNAL_H

#include "engine/cr_run.h"
#include "scenario/cr_scen.h"

/* Run the scenarios of a suite, each in a child process, at most `jobs`
 * at once and never two that share a port; run i writes into dirs[i].
 * Returns the worst exit status.  A signal stops starting new runs and is
 * passed on to the running ones (cr_cli_suite.c). */
int cr_cli__run_suite(cr_scen **scs, const char *const *dirs, int n,
                      const cr_run_opts *opts, int jobs);

#endif
