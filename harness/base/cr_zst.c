/* cr_zst: zstd streams behind stdio (see cr_zst.h). */
#include "cr_zst.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "cr_alloc.h"

/* ---- writing --------------------------------------------------------------
 */

typedef struct zw {
    int fd;
    ZSTD_CCtx *cc;
    char *out;
    size_t cap;
    int failed; /* a write to fd failed (errno kept) */
    int err;
} zw;

static int write_all(zw *z, const char *p, size_t n)
{
    while (n) {
        ssize_t k = write(z->fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            z->failed = 1;
            z->err = k < 0 ? errno : EIO;
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Feed in (may be empty) with mode; write what comes out.  For ZSTD_e_end,
 * until the frame is complete. */
static int zw_pump(zw *z, ZSTD_inBuffer *in, ZSTD_EndDirective mode)
{
    for (;;) {
        ZSTD_outBuffer out = {z->out, z->cap, 0};
        size_t left = ZSTD_compressStream2(z->cc, &out, in, mode);
        if (ZSTD_isError(left)) {
            z->failed = 1;
            z->err = EIO;
            return -1;
        }
        if (out.pos && write_all(z, z->out, out.pos) != 0)
            return -1;
        if (mode == ZSTD_e_end ? left == 0 : in->pos == in->size)
            return 0;
    }
}

static ssize_t zw_write(void *c, const char *buf, size_t n)
{
    zw *z = c;
    ZSTD_inBuffer in = {buf, n, 0};
    if (z->failed || zw_pump(z, &in, ZSTD_e_continue) != 0) {
        errno = z->err;
        return -1;
    }
    return (ssize_t)n;
}

static int zw_close(void *c)
{
    zw *z = c;
    ZSTD_inBuffer in = {NULL, 0, 0};
    int rc = z->failed || zw_pump(z, &in, ZSTD_e_end) != 0 ? -1 : 0;
    int e = z->err;
    ZSTD_freeCCtx(z->cc);
    cr_free(z->out);
    cr_free(z);
    if (rc)
        errno = e;
    return rc;
}

FILE *cr_zst_wopen(int fd, int level)
{
    zw *z = cr_calloc(1, sizeof *z);
    if (!z)
        goto nomem;
    z->fd = fd;
    z->cap = ZSTD_CStreamOutSize();
    z->out = cr_malloc(z->cap);
    z->cc = ZSTD_createCCtx();
    if (!z->out || !z->cc ||
        ZSTD_isError(
            ZSTD_CCtx_setParameter(z->cc, ZSTD_c_compressionLevel, level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(z->cc, ZSTD_c_checksumFlag, 1)))
        goto fail;
    cookie_io_functions_t io = {.write = zw_write, .close = zw_close};
    FILE *fp = fopencookie(z, "w", io);
    if (fp)
        return fp;
fail:
    if (z) {
        ZSTD_freeCCtx(z->cc);
        cr_free(z->out);
        cr_free(z);
    }
nomem:
    errno = ENOMEM;
    return NULL;
}

/* ---- reading --------------------------------------------------------------
 */

typedef struct zr {
    FILE *in;
    ZSTD_DCtx *dc;
    char *buf;
    size_t cap;
    ZSTD_inBuffer ib;
    int eof;
    int clean; /* between frames (nothing read yet counts) */
} zr;

static ssize_t zr_read(void *c, char *buf, size_t n)
{
    zr *z = c;
    ZSTD_outBuffer out = {buf, n, 0};
    for (;;) {
        /* Called with no new input too: the decoder may hold output. */
        size_t in0 = z->ib.pos, out0 = out.pos;
        size_t r = ZSTD_decompressStream(z->dc, &out, &z->ib);
        if (ZSTD_isError(r)) {
            errno = EIO;
            return -1;
        }
        /* 0: a frame ended and was flushed (asked again without input,
         * the decoder hints at the next frame's header: not a loss). */
        if (z->ib.pos != in0 || out.pos != out0)
            z->clean = r == 0;
        if (out.pos > 0)
            return (ssize_t)out.pos;
        if (z->ib.pos < z->ib.size)
            continue;
        if (z->eof) {
            if (!z->clean) { /* a frame cut short */
                errno = EIO;
                return -1;
            }
            return 0;
        }
        size_t k = fread(z->buf, 1, z->cap, z->in);
        if (k == 0) {
            if (ferror(z->in)) {
                errno = EIO;
                return -1;
            }
            z->eof = 1;
        }
        z->ib = (ZSTD_inBuffer){z->buf, k, 0};
    }
}

static int zr_close(void *c)
{
    zr *z = c;
    int rc = fclose(z->in) == 0 ? 0 : -1;
    ZSTD_freeDCtx(z->dc);
    cr_free(z->buf);
    cr_free(z);
    return rc;
}

FILE *cr_zst_ropen(FILE *in)
{
    zr *z = cr_calloc(1, sizeof *z);
    if (!z)
        goto fail;
    z->in = in;
    z->clean = 1;
    z->cap = ZSTD_DStreamInSize();
    z->buf = cr_malloc(z->cap);
    z->dc = ZSTD_createDCtx();
    if (!z->buf || !z->dc)
        goto fail;
    cookie_io_functions_t io = {.read = zr_read, .close = zr_close};
    FILE *fp = fopencookie(z, "r", io);
    if (fp)
        return fp;
fail:
    if (z) {
        ZSTD_freeDCtx(z->dc);
        cr_free(z->buf);
        cr_free(z);
    }
    fclose(in);
    errno = ENOMEM;
    return NULL;
}

int cr_zst_named(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && strcmp(name + n - 4, ".zst") == 0;
}
