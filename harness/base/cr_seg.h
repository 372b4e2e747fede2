/* cr_seg: an append-only file cut into zstd segments by offset, and the
 * one reader of what was written to it (issue 20; harness/README.md,
 * "Rotating the event file and the logs").
 *
 * Writers keep appending to the live file (O_APPEND): it is never renamed
 * or truncated.  A cut compresses a range [from, to) of it into a new
 * segment, syncs it, records {n, from, to} in the index, and only then
 * frees the range with fallocate(FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE):
 * offsets stay valid for every writer and reader, and the disk holds the
 * segments plus what was not cut yet.
 *
 * Names, for a live file "<stem>[.live]<ext>" ("events.live.jsonl",
 * "worker.0.log"), in the live file's directory:
 *   segment n (1, 2, ...)   "<stem>.<n><ext>.zst"  ("events.1.jsonl.zst")
 *   the index               "<stem>.segments": one line a segment,
 *                           {"n":1,"from":0,"to":1048576}
 * Segments and the index are made O_EXCL through the directory's fd: a
 * name that exists (planted: a link, a file) is refused, never written.
 *
 * Functions return 0 or a negative CR_E* code with err set; library
 * code: never prints. */
#ifndef CR_SEG_H
#define CR_SEG_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "cr_err.h"

/* One segment: its number, the live file's range, the compressed size. */
typedef struct cr_seg_info {
    unsigned n;
    uint64_t from, to;
    uint64_t bytes;
} cr_seg_info;

/* The name of segment n of live (n == 0: the index) into buf.  0, or
 * CR_EINVAL when live has no extension or the name does not fit. */
int cr_seg_name(const char *live, unsigned n, char *buf, size_t size);

/* ---- cutting ------------------------------------------------------------ */

typedef struct cr_seg cr_seg;

/* Rotation of live, a file in dfd (the fd stays the caller's and must
 * outlive *out): opened O_RDWR (a regular file of ours with one link,
 * never through a link), then hole punching is tried beyond its end
 * (call before any writer appends: CR_EUNSUP when the file system cannot
 * punch holes).  level: zstd level 1..19; max: bytes not yet cut before a
 * cut begins (> 0).  *out is set only on success. */
int cr_seg_open(cr_seg **out, int dfd, const char *live, int level,
                uint64_t max, cr_err *err);
/* Close; a cut in progress is abandoned (its segment file removed,
 * nothing punched).  NULL: no-op. */
void cr_seg_close(cr_seg *s);

/* Progress, without blocking for long: when no cut is in progress and
 * safe (an offset the caller no longer needs from the live file; clipped
 * to its size) is max or more past the end of the last segment, a cut of
 * [end, the last line end at or before safe) begins (the whole range when
 * it holds no newline in its last 64 KiB).  Then at most budget bytes of
 * the cut in progress are compressed; when its range is done the segment
 * is synced, indexed and the range punched.  Returns 1 while a cut is in
 * progress (call again), 0 when idle, or a negative code (the cut in
 * progress is abandoned; nothing of the live file was freed). */
int cr_seg_step(cr_seg *s, uint64_t safe, size_t budget, cr_err *err);
/* Cut [end, to) now, whole (to clipped to the live file's size; nothing
 * to do when it is not past the end).  0 or a negative code, as above. */
int cr_seg_cut(cr_seg *s, uint64_t to, cr_err *err);

/* The segments made so far, in order, and the end of the last (0). */
size_t cr_seg_count(const cr_seg *s);
const cr_seg_info *cr_seg_get(const cr_seg *s, size_t i);
uint64_t cr_seg_end(const cr_seg *s);
const char *cr_seg_live(const cr_seg *s);

/* ---- reading --------------------------------------------------------------
 */

typedef struct cr_seg_reader cr_seg_reader;

/* What was written to rel, a live file below dfd ("events.live.jsonl",
 * "logs/worker.0.log"): its segments in index order, then the live file
 * from the end of the last one (dfd is duplicated: the caller's may be
 * closed at once).  No index: the live file alone.  Every
 * file is opened without following links (cr_dir_open_read).  A bad
 * index is CR_EINVAL naming its file, line and column.  Returns 0 and
 * *out, or CR_ENOTFOUND (no live file), CR_EINVAL, CR_ESYS, CR_ENOMEM. */
int cr_seg_reader_open(cr_seg_reader **out, int dfd, const char *rel,
                       cr_err *err);
/* Bytes at the current offset into buf: > 0, 0 at the end, or a negative
 * code (a segment missing or that decompresses to another length than
 * its range, a read error). */
ssize_t cr_seg_reader_read(cr_seg_reader *r, void *buf, size_t n, cr_err *err);
/* Move to offset off (reads of a segment's middle decompress from its
 * start).  0 or CR_EINVAL beyond the size. */
int cr_seg_reader_seek(cr_seg_reader *r, uint64_t off, cr_err *err);
/* Total size: what was ever written (the live file's size). */
uint64_t cr_seg_reader_size(const cr_seg_reader *r);
/* Segments in the index. */
size_t cr_seg_reader_segments(const cr_seg_reader *r);
void cr_seg_reader_close(cr_seg_reader *r);

/* The same as a stdio stream (read, fseek with SEEK_SET/CUR/END); the
 * stream owns r (fclose closes it).  Errors set the stream's error
 * indicator (errno EIO).  NULL when out of memory (r closed). */
FILE *cr_seg_reader_file(cr_seg_reader *r);
/* cr_seg_reader_open + cr_seg_reader_file; NULL with err set. */
FILE *cr_seg_fopen(int dfd, const char *rel, cr_err *err);

#endif
