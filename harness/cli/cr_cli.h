/* cr_cli: the sub-commands of `chaosrun`, each a main of its own: parse
 * its arguments, call the library, print, and return the exit status of
 * the command-line contract (the only place, with harness/main.c, that
 * prints or chooses an exit status):
 *   0 every expectation held, 1 an expectation failed (or could not be
 *   judged), 2 invalid scenario or usage, 3 this machine cannot run the
 *   scenario, 4 the harness itself failed or the run was interrupted,
 *   5 the system under test did not start (README.md, "Exit status").
 * argv[0] is the sub-command's name ("validate", "report", ...), or the
 * program name when `chaosrun SCENARIO...` runs without one. */
#ifndef CR_CLI_H
#define CR_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "scenario/cr_scen.h"

/* One sub-command: `chaosrun NAME ARGS`; main gets argv from NAME on. */
typedef struct cr_cli_cmd {
    const char *name;
    const char *args;    /* "[OPTIONS] DIR..." for the usage text */
    const char *summary; /* one line */
    int (*main)(int argc, char **argv);
    int curl;   /* libcurl initialised first (probes, scrapes) */
    int hidden; /* not in the usage text (the janitor) */
} cr_cli_cmd;

/* Every sub-command, ending with a NULL name (cr_cli_main.c). */
const cr_cli_cmd *cr_cli_commands(void);
/* The whole command line: picks the sub-command (a first word that is no
 * command runs it as a scenario when it names an existing file or ends
 * in .json/.yaml/.yml, else exit 2 with the list of commands); answers
 * --version anywhere.  Returns the exit status. */
int cr_cli_main(int argc, char **argv);
/* "chaosrun 0.1.0\n". */
void cr_cli_print_version(FILE *fp);
/* The "Commands:" block of the usage text, from the table. */
void cr_cli_usage_commands(FILE *fp);

/* `chaosrun [run] [OPTIONS] SCENARIO...` (cr_cli_run.c): one run, a
 * --seeds/--repeat campaign, or several scenarios as a suite. */
int cr_cli_run(int argc, char **argv);
/* `chaosrun suite [OPTIONS] DIR...`: every DIR/<name>.json as one suite
 * (cr_cli_suite.c). */
int cr_cli_suite(int argc, char **argv);
/* `chaosrun shrink RUN_DIR [OPTIONS]` (cr_cli_shrink.c): a failed run's
 * fault schedule made minimal; 0 minimal.json written, 1 the schedule
 * does not fail the same way in K of K runs, 2 usage, 4 harness failure
 * or interrupted. */
int cr_cli_shrink(int argc, char **argv);
/* `chaosrun explore SCENARIO --budget D [OPTIONS]` (cr_cli_explore.c):
 * concrete schedules drawn from the scenario's fault space until one
 * fails; 0 no failure found, 1 a failure found (its reproducing scenario
 * written), 2 usage or invalid scenario, 3 unrunnable, 4 harness
 * failure or interrupted. */
int cr_cli_explore(int argc, char **argv);
/* `chaosrun validate SCENARIO...` (cr_cli_scen.c). */
int cr_cli_validate(int argc, char **argv);
/* `chaosrun list [faults|probes|checks]` (cr_cli_scen.c). */
int cr_cli_list(int argc, char **argv);
/* `chaosrun init [--example] [--force] [DIR]` (cr_cli_init.c): a starter
 * scenario and its README in DIR (default "."); 0, 2 usage or files
 * exist (without --force), 4 cannot write. */
int cr_cli_init(int argc, char **argv);
/* `chaosrun cleanup [--dry-run] [RUN_DIR...]` (cr_cli_cleanup.c). */
int cr_cli_cleanup(int argc, char **argv);
/* `chaosrun __janitor LEDGER INDEX` (cr_cli_cleanup.c): the janitor
 * process of a run, started by the engine, never by hand. */
int cr_cli_janitor(int argc, char **argv);
/* `chaosrun proxy ...` (cr_cli_proxy.c): 0, 2 usage, 4 failure. */
int cr_cli_proxy(int argc, char **argv);
/* `chaosrun report ...` (cr_cli_report.c): argv[0] is "report", then
 *   RUN_DIR                         regenerate the three reports
 *   --compare OLD NEW [--out DIR]   compare.html + compare.md into DIR
 *                                   (default NEW), Markdown to stdout
 *   --multi OUT RUN...              multi-seed summary (as cr_report_multi)
 *   --suite OUT RUN...              suite index (as cr_report_suite)
 *   --merge [--force] OUT SUITE...  suites (shards) joined into one (as
 *                                   cr_report_merge): exits with the
 *                                   highest status of the merged runs
 *   --help
 * Returns the exit status: 0 done, 2 usage error or a refused merge
 * (message on stderr), 4 a report could not be written; --merge: the
 * merged verdict's status otherwise. */
int cr_cli_report(int argc, char **argv);

/* The usage text of `chaosrun` (cr_cli_run.c). */
void cr_cli_usage(FILE *fp);

/* ---- shared by the sub-commands (cr_cli_scen.c) ------------------------ */

/* Load and validate a scenario, printing every diagnostic to stderr.
 * Returns 0 (*sc set) or the exit status (2, 3 or 4). */
int cr_cli_load(const char *file, cr_scen **sc);
/* A decimal unsigned number; 0 or -1. */
int cr_cli_parse_u64(const char *s, uint64_t *out);

#endif
