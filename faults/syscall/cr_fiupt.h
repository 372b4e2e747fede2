/* cr_fiupt: libfiu's POSIX failure points, the errnos each may set, the
 * errno names, and the presets of the `syscall` fault kind.
 *
 * The point table is built from libfiu's preload/posix/modules/ .mod files
 * (and posix.custom.c for open, fclose and the printf/scanf family), which
 * are what fiu_posix_preload.so wraps.  The errnos listed for a point are
 * the ones libfiu itself picks from when no errno is given ("valid errnos:"
 * in the .mod files), with three documented additions where libfiu's list
 * is narrower than the manual page: ENOSPC and EDQUOT for fsync/fdatasync
 * (fsync(2)), EACCES for open (libfiu's list misspells it EACCESS, so it is
 * compiled out) and EINVAL for getline/getdelim (misspelt INVAL).
 *
 * Points whose wrapper sets no errno (the ".../reduce" short-read/short-
 * write points, readdir_r, ungetc, tmpnam, ftrylockfile, ferror) have an
 * empty list.
 *
 * Matching follows libfiu's wtable: a name ending in '*' matches every
 * point whose name starts with what precedes the '*'. */
#ifndef CR_FIUPT_H
#define CR_FIUPT_H

#include <stddef.h>

#include "base/cr_err.h"

typedef struct cr_fiupt_point {
    const char *name;   /* "posix/io/rw/write" */
    const char *errnos; /* space-separated symbolic names; "" sets none */
} cr_fiupt_point;

/* The whole table (n entries). */
const cr_fiupt_point *cr_fiupt_table(size_t *n);

/* errno by symbolic name ("ENOSPC"); -1 if unknown.  And back; NULL if
 * the number has no name in the table. */
int cr_fiupt_errno_parse(const char *name);
const char *cr_fiupt_errno_name(int errnum);

/* 1 when the point may be failed with errnum (its list names it). */
int cr_fiupt_point_allows(const cr_fiupt_point *p, int errnum);

/* Count the table points matched by pattern (exact name, or prefix when
 * it ends in '*').  Up to max of them are stored in out (may be NULL). */
size_t cr_fiupt_match(const char *pattern, const cr_fiupt_point **out,
                      size_t max);

/* Validate a list of point names (patterns) and an errno for them.
 * *errnum: 0 means "not given": it is set to EIO when every matched point
 * that sets errno allows EIO, otherwise an error asks for one.  Rules:
 * every name has only [A-Za-z0-9_/.-] (and a final '*'), matches at least
 * one point, and errnum is allowed by every matched point that sets errno;
 * when none of the matched points sets errno, errnum must be 0 (stays 0).
 * Returns 0, or CR_EINVAL with a sentence naming the point and the errnos
 * it allows. */
int cr_fiupt_check(const char *const *points, size_t n, int *errnum,
                   cr_err *err);

/* Presets: names users think in, mapped to failure points and an errno. */
typedef struct cr_fiupt_preset {
    const char *name;          /* "disk_full" */
    const char *errno_name;    /* default errno ("ENOSPC") */
    const char *const *points; /* NULL-terminated */
    const char *doc;
} cr_fiupt_preset;

/* NULL-terminated array of every preset. */
const cr_fiupt_preset *const *cr_fiupt_presets(void);
/* NULL if unknown. */
const cr_fiupt_preset *cr_fiupt_preset_find(const char *name);

#endif
