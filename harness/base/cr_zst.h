/* cr_zst: zstd-compressed text as stdio streams (libzstd's streaming API,
 * ZSTD_compressStream2 / ZSTD_decompressStream), for the rotated segments
 * of the event file and the logs and the end-of-run events.jsonl.zst
 * (harness/README.md, "Rotating the event file and the logs").
 *
 * The streams are fopencookie() streams: callers write and read them with
 * fwrite/getline like any file.  Library code: never prints. */
#ifndef CR_ZST_H
#define CR_ZST_H

#include <stdio.h>

/* A stream that compresses what is written to it at level (1..19) into
 * fd, which stays the caller's (never closed here).  fclose() ends the
 * zstd frame and returns EOF when any write to fd failed (errno set).
 * NULL when out of memory (errno ENOMEM). */
FILE *cr_zst_wopen(int fd, int level);

/* A stream that reads the decompressed text of the zstd data read from
 * in (one or more frames).  Takes ownership of in: it is closed with the
 * stream, or at once when NULL is returned (out of memory).  A read error
 * (corrupt data, a frame cut short at the end of in) sets the stream's
 * error indicator with errno EIO. */
FILE *cr_zst_ropen(FILE *in);

/* 1 when name ends in ".zst". */
int cr_zst_named(const char *name);

#endif
