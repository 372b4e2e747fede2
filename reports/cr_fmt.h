/* cr_fmt: how every report writer says a duration, a measured figure, a
 * time, a bound, a verdict, a fault or a machine.
 *
 * report.html, report.md, junit.xml, the SVG pictures and the views over
 * several runs (compare, multi-seed, suite) print the same things; they
 * all take the words and numbers from here so that a figure reads the same
 * in every file.  Plain text only: escaping for HTML/XML/Markdown is the
 * writer's job (cr_out).  Every function writes a NUL-terminated string
 * into buf (truncated to n bytes) and never fails. */
#ifndef CR_FMT_H
#define CR_FMT_H

#include <jansson.h>
#include <stddef.h>

#include "cr_report.h"

/* ---- verdicts and run statuses ---------------------------------------- */

typedef struct cr_fmt_verdict {
    const char *word; /* passed failed unknown interrupted unrunnable
                         startup_failed aborted error */
    const char *icon; /* plain mark: ✔ ✖ ? ⚠ */
    const char *md;   /* Markdown badge: "✅ passed", "❌ failed", ... */
    const char *css;  /* class suffix: "passed", ... ("unknown" for any
                         word not in the table) */
    int severity;     /* suite order: 0 worst (error) .. 4 passed */
} cr_fmt_verdict;

/* The entry for a verdict or status word; words not in the table (NULL
 * too) get the "unknown" entry: never shown as a pass. */
const cr_fmt_verdict *cr_fmt_verdict_of(const char *word);

/* ---- numbers and times ------------------------------------------------- */

/* A duration for people: "250 ms", "1.84 s", "12.5 s", "2 min 5 s";
 * "n/a" for NAN. */
void cr_fmt_dur(char *buf, size_t n, double s);
/* A measured figure with its unit: "1.84 s" (unit "s" as a duration),
 * "12 events", "0.25 ratio"; "n/a" for NAN. */
void cr_fmt_measured(char *buf, size_t n, double v, const char *unit);
/* An expectation's measured figure, or an em dash when it has none (x may
 * be NULL). */
void cr_fmt_expect_measured(char *buf, size_t n, const cr_rep_expect *x);
/* "2026-11-26 23:40:12 UTC" of a Unix time ("" for NAN). */
void cr_fmt_utc(char *buf, size_t n, double unix_t);
/* ISO 8601 without zone, "2026-11-26T23:40:12" (JUnit's timestamp); the
 * epoch for NAN. */
void cr_fmt_iso(char *buf, size_t n, double unix_t);
/* "" when n == 1, else "s": "%zu line%s". */
const char *cr_fmt_s(size_t n);

/* ---- bounds ----------------------------------------------------------- */

/* A checker's bound "<= 5", "< 5", ">= 100", "> 0", "== 0", "!= 0". */
typedef struct cr_fmt_bound {
    char op[3];   /* "<=", "<", ">=", ">", "==", "!=" */
    double value; /* NAN when no number follows the operator */
    int better;   /* -1: lower is better (<, <=); +1: higher (>, >=);
                     0: closer to value is better (==) or no direction */
} cr_fmt_bound;

/* Parse a bound; 0, or -1 when it starts with no comparison operator (b is
 * then {"", NAN, 0}).  bound may be NULL. */
int cr_fmt_bound_parse(const char *bound, cr_fmt_bound *b);
/* The bound with a typographic operator: "≤ 5", "≥ 100", "≠ 0", "= 0";
 * anything else as written. */
void cr_fmt_bound_pretty(char *buf, size_t n, const char *bound);

/* ---- faults, seed, machine -------------------------------------------- */

/* "kill-worker" for the first occurrence, "kill-worker #2" after. */
void cr_fmt_fault_name(char *buf, size_t n, const cr_rep_fault *f);
/* How long it lasted: "instant", "4.01 s", "4.01 s (never reverted)". */
void cr_fmt_fault_lasted(char *buf, size_t n, const cr_rep_fault *f);
/* "kill-worker (kill) on worker.1 at 6.21 s" ("-" for an empty target). */
void cr_fmt_fault_line(char *buf, size_t n, const cr_rep_fault *f);
/* What a fault of this kind did to an instance: "killed", "paused",
 * "restarted", "stopped", "signalled", else "hit by a <kind> fault". */
void cr_fmt_fault_verb(char *buf, size_t n, const char *kind);
/* "42 (command line)", "42", or "" when the run has no seed. */
void cr_fmt_seed(char *buf, size_t n, const cr_report *r);
/* "ci-runner-07 · Linux 6.18.0 · 2 CPUs" from the journal's "machine"
 * object (parts that are absent are left out; "" without the object). */
void cr_fmt_machine(char *buf, size_t n, const json_t *journal);

#endif
