/* cr_event_internal: the compact encoding of an event's fields, shared by
 * the history's reader (cr_event_store.c) and its accessors and writer
 * (cr_event.c).  Not for other modules.
 *
 * An event's fields other than ts, ev and string svc/inst are one run of
 * bytes ending with a 0 byte.  Each field starts with a header byte
 * (code << 3 | type): code 1..31 names a key of the contract's table
 * (cr_ev_keys), code 0 is followed by the key inline (varint length,
 * bytes).  Then the value: nothing (null, false, true), a zigzag varint
 * (integer), 8 bytes (real), varint length + bytes + NUL (string, or a
 * nested object or array as compact JSON text). */
#ifndef CR_EVENT_INTERNAL_H
#define CR_EVENT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "cr_event.h"

enum {
    CR_EVT_END = 0,
    CR_EVT_NULL = 1,
    CR_EVT_FALSE = 2,
    CR_EVT_TRUE = 3,
    CR_EVT_INT = 4,
    CR_EVT_REAL = 5,
    CR_EVT_STR = 6,
    CR_EVT_RAW = 7, /* object or array, as compact JSON text */
};

#define CR_EV_NKEYS 32
/* Index 0 unused; 1..31 the keys encoded in one byte. */
extern const char *const cr_ev_keys[CR_EV_NKEYS];

/* The "" of an event without a string svc (told apart from "svc":""). */
extern const char cr_ev_nosvc[];

/* One decoded field. */
typedef struct cr_evfld {
    const char *key;
    size_t klen;
    int type; /* CR_EVT_* */
    long long i;
    double d;
    const char *s; /* string or raw text, NUL-terminated */
    size_t len;
} cr_evfld;

/* Decode the field at p into *f; the next field, or NULL at the end. */
const unsigned char *cr_evfld_next(const unsigned char *p, cr_evfld *f);

/* Parse one line (no newline) into an event appended to h.  1 kept,
 * 0 malformed (not counted here), CR_ENOMEM. */
int cr_hstore_add(cr_history *h, const char *line, size_t len);
void cr_hstore_free(cr_hstore *st);
size_t cr_hstore_mem(const cr_hstore *st);

#endif
