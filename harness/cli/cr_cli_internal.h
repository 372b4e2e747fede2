/* cr_cli_internal: what the sub-commands share and nothing else uses. */
#ifndef CR_CLI_INTERNAL_H
#define CR_CLI_INTERNAL_H

#include <stdio.h>

#include "engine/cr_run.h"
#include "scenario/cr_scen.h"

/* ---- a run on the terminal (cr_cli_output.c) ---------------------------- */

/* The command line's side of cr_run_output: progress on stderr (nothing
 * when quiet), the live status line. */
typedef struct cr_cli_out {
    cr_run_output iface; /* give &iface to cr_run_opts.out */
    int quiet;
    int status_drawn; /* a status line is on the terminal */
} cr_cli_out;
void cr_cli__out_init(cr_cli_out *o, int quiet);
/* After cr_run_scenario returned rc: clear the status line, print the
 * error, write the reports of the run directory and print the summary
 * (stdout) -- for failed and interrupted runs too.  Returns rc. */
int cr_cli__run_finish(cr_cli_out *o, int rc, cr_run_result *res);
/* The one-screen summary of a run from its journal. */
void cr_cli__summary(FILE *fp, const json_t *journal, const char *run_dir);
/* One run with its output, reports and summary; returns its exit status.
 * *dir_out (may be NULL) receives the run directory (free()), or NULL. */
int cr_cli__run_one(cr_scen *sc, const cr_run_opts *opts, int quiet,
                    char **dir_out);

/* Run the scenarios of a suite, each in a child process, at most `jobs`
 * at once and never two that share a port; run i writes into dirs[i].
 * Returns the worst exit status.  A signal stops starting new runs and is
 * passed on to the running ones (cr_cli_suite.c). */
int cr_cli__run_suite(cr_scen **scs, const char *const *dirs, int n,
                      const cr_run_opts *opts, int quiet, int jobs);

#endif
