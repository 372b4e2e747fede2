/* crp_wire: the fixed-format messages inside the pipeline, between
 * ingest and the workers (`work`) and between the workers and the sink
 * (`results`), and the numbers of the feature protocol.  JSON stays at
 * the edges, where a record is validated against the schema (ingest) and
 * where something outside reads it (dead letters, events); in between, a
 * record is one line of space-separated fields with each number written
 * as the 16 hex digits of its IEEE-754 bits (F below): exact, and no
 * conversion at all -- the JSON work message cost each worker a jansson
 * parse of every number in decimal, each result a `%.17g`, and even C99
 * hex floats (`%a`) cost a strtod per number (README.md, "Protocols").
 *
 *   W1 <span> <t_in:F> <label> <x0:F>,<x1:F>,...,<x15:F>
 *   R1 <span> <score:F> <label> <degraded> <t_in:F> <deliveries> <worker>
 *
 * span: the sender's span id (16 hex digits), the parent of the next
 * stage's span; t_in: when ingest received the record (Unix seconds);
 * worker: the instance name, the rest of the line.  A consumer still
 * reads the JSON messages of older builds (a queue written before an
 * upgrade): the parse functions return 0 for anything that is not in
 * this format, and the caller falls back to jansson. */
#ifndef CRP_WIRE_H
#define CRP_WIRE_H

#include "crp_net.h"
#include "crp_schema.h"

typedef struct crp_work {
    char span[17];
    double t_in;
    int label;
    double x[CRP_DIM]; /* as received, not normalised */
} crp_work;

typedef struct crp_result {
    char span[17];
    double score, t_in;
    int label, degraded, deliveries;
    char worker[64];
} crp_result;

/* The 16 lowercase hex digits of v's bits at p (no NUL); returns p + 16. */
char *crp_wire_put_f64(char *p, double v);
/* Read 16 hex digits at *p as a double's bits; advances *p.  0, or -1
 * (not 16 hex digits). */
int crp_wire_get_f64(const char **p, double *v);

/* Append the message (no newline) to b.  0 or -ENOMEM. */
int crp_work_format(crp_sb *b, const crp_work *w);
int crp_result_format(crp_sb *b, const crp_result *r);
/* Read a message: 1 and *out filled, 0 when s is not in this format (e.g.
 * a JSON message of an older build), -1 when it is but malformed. */
int crp_work_parse(const char *s, crp_work *out);
int crp_result_parse(const char *s, crp_result *out);

#endif
