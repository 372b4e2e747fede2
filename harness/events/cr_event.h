/* cr_event: the event contract's history, as checkers and probes see it.
 *
 * Targets append JSON Lines to the file named by CHAOSRUN_EVENTS (see
 * harness/README.md, "The event contract").  The harness follows that file
 * during the run and keeps every well-formed line in a cr_history; a
 * malformed line is counted, never fatal.  Unknown event names are kept. */
#ifndef CR_EVENT_H
#define CR_EVENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "base/cr_err.h"
#include "scenario/cr_scen.h"

typedef struct cr_event {
    double ts;       /* Unix time, seconds */
    double t;        /* seconds since the run's t0 (ts - history t0) */
    const char *svc; /* "" when absent; borrows from obj */
    const char *ev;  /* never NULL for a kept event; borrows from obj */
    json_t *obj;     /* the whole line (reference owned by the history) */
    size_t seq;      /* arrival order */
} cr_event;

typedef struct cr_history {
    cr_event *v;
    size_t n, cap;
    size_t malformed; /* lines that were not a JSON object with ts/ev */
    char first_malformed[160]; /* a copy of the first malformed line */
    double t0;                 /* Unix time of t0; t = ts - t0 */
} cr_history;

void cr_history_init(cr_history *h, double t0);
void cr_history_free(cr_history *h);
/* Parse one line (without or with its newline) and append it.  Returns 1
 * kept, 0 malformed (counted), CR_ENOMEM. */
int cr_history_add_line(cr_history *h, const char *line, size_t len);
/* Append a JSON object (reference stolen on success and on failure). */
int cr_history_add_obj(cr_history *h, json_t *obj);
/* Load a whole JSON Lines file. */
int cr_history_load(cr_history *h, const char *path, cr_err *err);
/* Stable sort by ts (arrival order breaks ties). */
void cr_history_sort(cr_history *h);
/* Write as JSON Lines (in current order). */
int cr_history_write(const cr_history *h, const char *path, cr_err *err);
/* The same into an open stream (not closed; flushed).  0 or CR_ESYS. */
int cr_history_write_fp(const cr_history *h, FILE *fp, cr_err *err);

/* Field accessors (0 / NULL / NAN when absent or of another type). */
const char *cr_event_str(const cr_event *e, const char *key);
double cr_event_num(const cr_event *e, const char *key);
int cr_event_has(const cr_event *e, const char *key);

/* 1 when the event matches ev, svc (if set) and every where field. */
int cr_match_event(const cr_match *m, const cr_event *e);

/* A short one-line rendering for evidence: "t=12.345 worker.1 retry
 * op=feature attempt=3 delay_ms=400". */
void cr_event_format(const cr_event *e, char *buf, size_t n);

#endif
