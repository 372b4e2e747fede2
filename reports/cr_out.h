/* cr_out: a growable text buffer with escaping for the report writers.
 *
 * Every report (HTML, SVG, XML, Markdown) is built in memory in a cr_out and
 * written to its file in one go (temporary file + rename, so a reader never
 * sees half a report).  Escaping helpers make text safe for HTML/XML text and
 * attribute contexts and for Markdown table cells; they also repair invalid
 * UTF-8 and drop control characters that XML 1.0 forbids, because log lines
 * and event fields come from the system under test and may contain anything.
 *
 * Allocation failure is sticky: after the first failure every append is a
 * no-op and cr_out_failed() returns 1, so writers check once at the end. */
#ifndef CR_OUT_H
#define CR_OUT_H

#include <stdio.h>
#include <stddef.h>

#include "base/cr_err.h"

typedef struct cr_out {
    char *s; /* NUL-terminated contents (NULL until the first append) */
    size_t n, cap;
    int failed; /* 1 after an allocation failure */
} cr_out;

/* An empty buffer (no allocation). */
void cr_out_init(cr_out *o);
/* Release the contents; the buffer is empty and usable again. */
void cr_out_free(cr_out *o);
/* 1 after an allocation failure. */
int cr_out_failed(const cr_out *o);
/* Contents ("" when empty); owned by the buffer. */
const char *cr_out_str(const cr_out *o);

/* Append raw bytes / a string / formatted text (no escaping). */
void cr_out_mem(cr_out *o, const char *p, size_t n);
void cr_out_puts(cr_out *o, const char *s);
void cr_out_printf(cr_out *o, const char *fmt, ...) CR_PRINTF(2, 3);

/* Append s escaped for HTML/XML text and attribute values (both quote
 * kinds): & < > " ' become entities, invalid UTF-8 becomes U+FFFD, C0
 * controls other than tab/newline/CR become U+FFFD.  NULL appends nothing. */
void cr_out_esc(cr_out *o, const char *s);
/* pre, then text escaped as cr_out_esc() does, then post (pre and post
 * raw): cr_out_wrap(o, "<td>", name, "</td>"). */
void cr_out_wrap(cr_out *o, const char *pre, const char *text,
                 const char *post);
/* Same, formatted. */
void cr_out_escf(cr_out *o, const char *fmt, ...) CR_PRINTF(2, 3);
/* Escape for a Markdown table cell: | becomes \|, newlines become spaces,
 * backticks, *, _, <, > and [ ] are backslash-escaped or entity-encoded so the
 * cell renders literally.  Invalid UTF-8 is repaired as above. */
void cr_out_md(cr_out *o, const char *s);
/* Inline code for Markdown: `s` with a fence long enough for the backticks
 * inside; newlines become spaces. */
void cr_out_mdcode(cr_out *o, const char *s);

/* Write the buffer to path atomically: a temporary file made with O_EXCL
 * in path's directory, then renamed over path (base/cr_dirfd.h: a link
 * planted as the temporary or the final name is never followed).  Returns
 * 0 or CR_ENOMEM (the buffer had failed) / CR_EINVAL / CR_ESYS; the file
 * is unchanged on error. */
int cr_out_write_file(const cr_out *o, const char *path, cr_err *err);

/* A file of a run directory opened for reading ("re"), never through a
 * symbolic link as its last component and only when it is a regular
 * file: NULL with errno (ENOENT, ELOOP for a link, EINVAL for anything
 * else than a regular file). */
FILE *cr_out_fopen_read(const char *path);

#endif
