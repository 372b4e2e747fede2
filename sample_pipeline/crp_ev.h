/* crp_ev: writes chaosrun events (harness/README.md, "The event contract"):
 * one JSON object per line, whole lines per write() (one, or a held batch:
 * crp_ev_hold), O_APPEND, with ts, svc, inst.  Also the OTLP-JSON span file
 * of the stage (one span per line). */
#ifndef CRP_EV_H
#define CRP_EV_H

#include <stddef.h>
#include <stdint.h>

typedef struct crp_ev crp_ev;

/* Open the event file (path may be empty: events are then dropped) and the
 * span file (may be empty).  Returns NULL only on allocation failure; an
 * unopenable file leaves that output disabled (message in err). */
crp_ev *crp_ev_open(const char *events, const char *traces, const char *svc,
                    const char *inst, char *err, size_t n);
void crp_ev_close(crp_ev *e);

/* Emit event `ev` with extra fields `fields`: a JSON fragment of members
 * without braces (`"id":"x","reason":"y"`), or NULL/"" for none.
 * Returns 0, or -errno when the line could not be written whole (the
 * caller may retry: e.g. the sink re-announces later).  A line that is not
 * held and whose write fails (a full disk, an I/O error) is kept in order
 * and written, with its original time, before the next line once the file
 * takes writes again (returns 0); only past 1 MiB of such lines are they
 * dropped (-ENOSPC). */
int crp_ev_emit(crp_ev *e, const char *ev, const char *fields_fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Write one finished span (times: Unix seconds) to the span file.
 * trace_id: 32 hex, parent: 16 hex or NULL.  Returns 0 or -errno. */
int crp_ev_span(crp_ev *e, const char *name, const char *trace_id,
                const char *span_id, const char *parent, double start,
                double end, int error);

/* Hold back the lines of events (CRP_EV_EVENTS) and/or spans
 * (CRP_EV_SPANS) until crp_ev_release, which writes each file's lines in
 * one write(): many lines a syscall instead of one (lines stay whole, and
 * O_APPEND keeps concurrent writers from interleaving).  An event is a
 * promise once written, so a caller releases before the action it
 * announces becomes visible (ingest: before ACKing; the sink: before
 * marking rows announced; the producer: before sending the records).
 * A held crp_ev_emit returns 0 (its line's fate is crp_ev_release's), or
 * < 0 when the line is not held (too long, out of memory). */
#define CRP_EV_EVENTS 1
#define CRP_EV_SPANS  2
void crp_ev_hold(crp_ev *e, int what);

/* Write and stop holding.  Returns the number of held event lines
 * written whole: all of them, or the first ones when a write failed or
 * was short (the caller may emit the others again).  Spans are written
 * the same way, without a count. */
int crp_ev_release(crp_ev *e);

/* Write src into dst (size n > 0) as the inside of a JSON string: '"'
 * and '\\' escaped, control characters as \n \r \t or \u00XX, well-formed
 * UTF-8 kept, any other byte (invalid or cut UTF-8) as \ufffd.  Always
 * NUL-terminated; when dst is too small the text is cut before the first
 * character or escape that does not fit whole, so the result is always
 * valid JSON string content.  Returns its length. */
size_t crp_json_esc(char *dst, size_t n, const char *src);

#endif
