/* crp_wire: the fixed-format messages inside the pipeline, between
 * ingest and the workers (`work`) and between the workers and the sink
 * (`results`).  JSON stays at the edges, where a record is validated
 * against the schema (ingest) and where something outside reads it (dead
 * letters, events); in between, a record is one line of space-separated
 * fields with its numbers as C99 hex floats (`%a`): exact, and cheap to
 * write and to read back (strtod), where the JSON work message cost each
 * worker a jansson parse of every number in decimal and each result a
 * `%.17g` (README.md, "Protocols").
 *
 *   W1 <span> <t_in> <label> <x0>,<x1>,...,<x15>
 *   R1 <span> <score> <label> <degraded> <t_in> <deliveries> <worker>
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

/* Append the message (no newline) to b.  0 or -ENOMEM. */
int crp_work_format(crp_sb *b, const crp_work *w);
int crp_result_format(crp_sb *b, const crp_result *r);
/* Read a message: 1 and *out filled, 0 when s is not in this format (e.g.
 * a JSON message of an older build), -1 when it is but malformed. */
int crp_work_parse(const char *s, crp_work *out);
int crp_result_parse(const char *s, crp_result *out);

#endif
