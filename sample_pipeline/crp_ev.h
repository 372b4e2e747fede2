/* crp_ev: writes chaosrun events (harness/README.md, "The event contract"):
 * one JSON object per line, one write() per line, O_APPEND, with ts, svc,
 * inst.  Also the OTLP-JSON span file of the stage (one span per line). */
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
 * caller may retry: e.g. the sink re-announces later). */
int crp_ev_emit(crp_ev *e, const char *ev, const char *fields_fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Write one finished span (times: Unix seconds) to the span file.
 * trace_id: 32 hex, parent: 16 hex or NULL.  Returns 0 or -errno. */
int crp_ev_span(crp_ev *e, const char *name, const char *trace_id,
                const char *span_id, const char *parent, double start,
                double end, int error);

/* Write src into dst (size n > 0) as the inside of a JSON string: '"'
 * and '\\' escaped, control characters as \n \r \t or \u00XX, well-formed
 * UTF-8 kept, any other byte (invalid or cut UTF-8) as \ufffd.  Always
 * NUL-terminated; when dst is too small the text is cut before the first
 * character or escape that does not fit whole, so the result is always
 * valid JSON string content.  Returns its length. */
size_t crp_json_esc(char *dst, size_t n, const char *src);

#endif
