/* cr_cli_internal: what the sub-commands share and nothing else uses. */
#ifndef CR_CLI_INTERNAL_H
#define CR_CLI_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "engine/cr_run.h"
#include "scenario/cr_scen.h"

/* ---- colour (cr_cli_output.c) ------------------------------------------ */

/* --color=WHEN.  auto: colour when the stream is a terminal, NO_COLOR is
 * unset or empty (https://no-color.org) and TERM is not "dumb". */
enum { CR_COLOR_AUTO, CR_COLOR_ALWAYS, CR_COLOR_NEVER };
/* "auto", "always", "never" -> CR_COLOR_*, else -1. */
int cr_cli__color_parse(const char *s);
/* 1 when text written to fp gets colour under mode. */
int cr_cli__color_on(int mode, FILE *fp);
/* The escape sequence of a colour ("red", "green", "yellow", "bold",
 * "off"), or "" when on is 0. */
const char *cr_cli__sgr(int on, const char *name);

/* How a run shows itself on the terminal. */
typedef struct cr_cli_view {
    int quiet; /* no progress lines (the summary is still printed) */
    int color; /* CR_COLOR_* */
} cr_cli_view;

/* ---- a run on the terminal (cr_cli_output.c) ---------------------------- */

/* The command line's side of cr_run_output: progress on stderr (nothing
 * when quiet), the live status line. */
typedef struct cr_cli_out {
    cr_run_output iface; /* give &iface to cr_run_opts.out */
    int quiet;
    int color;        /* CR_COLOR_* */
    int status_drawn; /* a status line is on the terminal */
} cr_cli_out;
void cr_cli__out_init(cr_cli_out *o, const cr_cli_view *v);
/* After cr_run_scenario returned rc: clear the status line, print the
 * error, write the reports of the run directory and print the summary
 * (stdout) -- for failed and interrupted runs too.  Returns rc. */
int cr_cli__run_finish(cr_cli_out *o, int rc, cr_run_result *res);
/* The one-screen summary of a run from its journal; color: 1 to use
 * colour (cr_cli__color_on). */
void cr_cli__summary(FILE *fp, const json_t *journal, const char *run_dir,
                     int color);
/* One run with its output, reports and summary; returns its exit status.
 * *dir_out (may be NULL) receives the run directory (free()), or NULL;
 * *sig_out (may be NULL) the signal that interrupted the run, or 0. */
int cr_cli__run_one(cr_scen *sc, const cr_run_opts *opts, const cr_cli_view *v,
                    char **dir_out, int *sig_out);

/* Run the scenarios of a suite, each in a child process, at most `jobs`
 * at once and never two that share a port; run i writes into dirs[i].
 * Prints a line when each starts (unless quiet) and ends (verdict, time)
 * and a tally.  Returns the worst exit status.  A signal stops starting
 * new runs and is passed on to the running ones (cr_cli_suite.c). */
int cr_cli__run_suite(cr_scen **scs, const char *const *dirs, int n,
                      const cr_run_opts *opts, const cr_cli_view *v, int jobs);

/* ---- shards of a suite (cr_cli_suite.c) --------------------------------- */

/* FNV-1a, 64 bits, of the bytes of s (offset basis 14695981039346656037,
 * prime 1099511628211). */
uint64_t cr_cli__fnv1a64(const char *s);
/* The shard (0 .. n-1) a scenario file belongs to among n: the FNV-1a 64
 * hash of its base name (the part after the last '/') modulo n, so that a
 * scenario stays in its shard when others are added or removed. */
unsigned cr_cli__shard_of(const char *file, unsigned n);
/* "K/N" with 1 <= K <= N <= 1000 into *k, *n: 0, or -1. */
int cr_cli__parse_shard(const char *s, unsigned *k, unsigned *n);

/* ---- concrete schedules: shrink and explore (cr_cli_sched.c) ----------- */

double cr_cli__mono(void);
/* x rounded to the millisecond. */
double cr_cli__ms(double x);
/* "90", "90s", "10m", "1.5h" -> seconds (> 0, at most a week); 0 or -1. */
int cr_cli__parse_duration(const char *s, double *out);
/* mkdir -p; 0 or -1 (errno). */
int cr_cli__mkdirs(const char *path);
/* The absolute directory of a scenario file, "" when it does not exist. */
void cr_cli__scen_dir(const char *file, char *out, size_t n);
/* A concrete scenario document: a deep copy of root without "explore",
 * its "faults" a copy of faults, "seed" and "duration_s" set, and
 * ${CHAOSRUN_SCENARIO_DIR} replaced by scen_dir (when not NULL or "") so
 * that the document works from another directory.  NULL: out of memory. */
json_t *cr_cli__concrete_doc(const json_t *root, const json_t *faults,
                             uint64_t seed, double duration_s,
                             const char *scen_dir);
/* The concrete schedule of a run from its journal: one fault object per
 * applied occurrence (failed and skipped ones changed nothing), in time
 * order -- its spec from the journal's scenario without at_s, every_s,
 * until_s and on_event (a triggered fault is fixed at the time it was
 * applied), named "<fault>.<occurrence>", aimed at the one instance it hit
 * (a drawn "svc.random" is replayed), at_s the scheduled time (ms, rounded
 * down), for_s as applied.  NULL when a fault is not in the scenario or
 * out of memory. */
json_t *cr_cli__journal_schedule(const json_t *journal);
/* Write doc to path (indented) and load it as a scenario, diagnostics on
 * stderr.  0 and *sc, or the exit status (2, 3 or 4). */
int cr_cli__doc_load(const json_t *doc, const char *path, cr_scen **sc);
/* One run of sc into dir with nothing on the terminal but errors; its
 * reports are written.  Returns the run's exit status; *journal (may be
 * NULL) receives the journal (json_decref it) or NULL. */
int cr_cli__run_quiet(cr_scen *sc, const char *dir, json_t **journal);
/* The verdict of the expectation `name` in a journal, or NULL. */
const char *cr_cli__verdict(const json_t *journal, const char *name);
/* The name of the first failed expectation of a journal, or NULL. */
const char *cr_cli__first_failed(const json_t *journal);
/* 1 when the journal's status is "interrupted". */
int cr_cli__interrupted(const json_t *journal);
/* "12.3 s" / "4 min 05 s" */
void cr_cli__dur_text(char *buf, size_t n, double s);

#endif
