/* cr_event: the event contract's history, as checkers and probes see it.
 *
 * Targets append JSON Lines to the file named by CHAOSRUN_EVENTS (see
 * harness/README.md, "The event contract").  The harness follows that file
 * during the run and keeps every well-formed line in a cr_history; a
 * malformed line is counted, never fatal.  Unknown event names are kept.
 *
 * The history is compact (harness/README.md, "The event history in
 * memory"): a line is read by a streaming parser (yajl) into one fixed
 * 56-byte cr_event -- time, interned service, instance and event names --
 * and a few bytes for its other fields (numbers as numbers, strings
 * inline, nested values as compact JSON text), decoded on demand by the
 * accessors below.  No jansson object is kept per event. */
#ifndef CR_EVENT_H
#define CR_EVENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "base/cr_err.h"
#include "scenario/cr_scen.h"

typedef struct cr_event {
    double ts;              /* Unix time, seconds */
    double t;               /* seconds since the run's t0 (ts - history t0) */
    const char *svc;        /* interned; "" when absent or not a string */
    const char *ev;         /* interned; never NULL for a kept event */
    const char *inst;       /* interned; NULL when absent or not a string */
    const unsigned char *f; /* the other fields, encoded (cr_event.c) */
    size_t seq;             /* arrival order */
} cr_event;

/* Interned names and the fields' bytes of one history (cr_event.c). */
typedef struct cr_hstore cr_hstore;

typedef struct cr_history {
    cr_event *v;
    size_t n, cap;
    size_t malformed; /* lines that were not a JSON object with ts/ev */
    char first_malformed[160]; /* a copy of the first malformed line */
    double t0;                 /* Unix time of t0; t = ts - t0 */
    cr_hstore *store;          /* private: NULL until the first event */
} cr_history;

void cr_history_init(cr_history *h, double t0);
/* Frees every event and the store; the pointers of its events (svc, ev,
 * inst, strings returned by cr_event_str) die with it. */
void cr_history_free(cr_history *h);
/* Parse one line (without or with its newline) and append it.  Returns 1
 * kept, 0 malformed (counted), CR_ENOMEM. */
int cr_history_add_line(cr_history *h, const char *line, size_t len);
/* Append a JSON object (reference stolen on success and on failure). */
int cr_history_add_obj(cr_history *h, json_t *obj);
/* Load a whole JSON Lines file. */
int cr_history_load(cr_history *h, const char *path, cr_err *err);
/* Stable sort by ts (arrival order breaks ties).  Allocates nothing when
 * the history is nearly sorted (the usual case: writers stamp ts just
 * before their write). */
void cr_history_sort(cr_history *h);
/* Write as JSON Lines (in current order): ts, svc, inst, ev, then the
 * other fields in the order of the line. */
int cr_history_write(const cr_history *h, const char *path, cr_err *err);
/* The same into an open stream (not closed; flushed).  0 or CR_ESYS. */
int cr_history_write_fp(const cr_history *h, FILE *fp, cr_err *err);
/* Bytes the history's events, names and fields take (the event array's
 * reserved capacity beyond n is not written, so neither resident nor
 * counted). */
size_t cr_history_mem(const cr_history *h);

/* Field accessors (0 / NULL / NAN when absent or of another type).  A
 * string returned lives as long as the history.  Duplicate keys in a line:
 * the last one counts (as jansson's). */
const char *cr_event_str(const cr_event *e, const char *key);
double cr_event_num(const cr_event *e, const char *key);
int cr_event_has(const cr_event *e, const char *key);
/* 1 and *out when the field is an integer (not a real), else 0. */
int cr_event_int(const cr_event *e, const char *key, long long *out);
/* 1 true, 0 false, -1 absent or not a boolean. */
int cr_event_bool(const cr_event *e, const char *key);
/* A field as a new jansson value (the caller owns it); NULL when absent
 * or out of memory. */
json_t *cr_event_json(const cr_event *e, const char *key);
/* The whole event as a new jansson object; NULL when out of memory. */
json_t *cr_event_to_json(const cr_event *e);

/* 1 when the event matches ev, svc (if set) and every where field. */
int cr_match_event(const cr_match *m, const cr_event *e);

/* A short one-line rendering for evidence: "t=12.345 worker.1 retry
 * op=feature attempt=3 delay_ms=400". */
void cr_event_format(const cr_event *e, char *buf, size_t n);

#endif
