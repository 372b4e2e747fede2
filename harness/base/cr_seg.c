/* cr_seg: cutting a live file into zstd segments by offset, its index,
 * and the one reader of segments + live tail (see cr_seg.h). */
#include "cr_seg.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cr_alloc.h"
#include "cr_dirfd.h"
#include "cr_zst.h"

#define CHUNK       (1u << 20) /* bytes read from the live file at a time */
#define NL_LOOKBACK 65536      /* where a cut looks for its last newline */
#define IDX_LINE    128

int cr_seg_name(const char *live, unsigned n, char *buf, size_t size)
{
    const char *dot = strrchr(live, '.');
    if (!dot || dot == live || strchr(dot, '/'))
        return CR_EINVAL;
    size_t stem = (size_t)(dot - live);
    if (stem > 5 && memcmp(dot - 5, ".live", 5) == 0)
        stem -= 5;
    int k = n ? snprintf(buf, size, "%.*s.%u%s.zst", (int)stem, live, n, dot)
              : snprintf(buf, size, "%.*s.segments", (int)stem, live);
    return k > 0 && (size_t)k < size ? 0 : CR_EINVAL;
}

/* ---- cutting ------------------------------------------------------------ */

struct cr_seg {
    int dfd; /* not owned */
    int fd;  /* the live file, O_RDWR */
    int idx_fd;
    int level;
    uint64_t max;
    char live[NAME_MAX + 1];
    cr_seg_info *v;
    size_t n, cap;
    uint64_t end;
    /* The cut in progress (cut_fp != NULL). */
    int cut_fd;
    FILE *cut_fp;
    uint64_t cut_from, cut_to, cut_pos;
    char cut_name[NAME_MAX + 1];
    char *buf;
};

int cr_seg_open(cr_seg **out, int dfd, const char *live, int level,
                uint64_t max, cr_err *err)
{
    char name[NAME_MAX + 1];
    struct stat st;
    *out = NULL;
    if (max == 0 || level < 1 || level > 19 || strlen(live) >= sizeof name ||
        cr_seg_name(live, 1, name, sizeof name))
        return cr_err_set(err, CR_EINVAL, "rotate %s: bad name or setting",
                          live);
    cr_seg *s = cr_calloc(1, sizeof *s);
    if (!s || !(s->buf = cr_malloc(CHUNK))) {
        cr_free(s);
        return cr_err_set(err, CR_ENOMEM, "rotate %s: out of memory", live);
    }
    s->dfd = dfd;
    s->idx_fd = s->cut_fd = -1;
    s->level = level;
    s->max = max;
    snprintf(s->live, sizeof s->live, "%s", live);
    cr_err e;
    cr_err_clear(&e);
    s->fd = cr_dir_open_rw(dfd, live, &e);
    if (s->fd < 0) {
        int code = s->fd;
        s->fd = -1;
        cr_seg_close(s);
        return cr_err_set(err, code, "rotate %s", e.msg);
    }
    /* Freeing disk while writers append is what rotation is; without hole
     * punching it would be an unbounded run that claims otherwise.  A
     * range past the end: no byte of the file changes. */
    if (fstat(s->fd, &st) != 0 ||
        fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  ((st.st_size >> 12) + 16) << 12, 4096) != 0) {
        int e2 = errno;
        cr_seg_close(s);
        if (e2 == EOPNOTSUPP || e2 == ENOSYS)
            return cr_err_sys(err, CR_EUNSUP, e2,
                              "rotate: %s: the file system cannot punch "
                              "holes (fallocate FALLOC_FL_PUNCH_HOLE)",
                              live);
        return cr_err_sys(err, CR_ESYS, e2, "rotate: %s: fallocate", live);
    }
    *out = s;
    return 0;
}

static void cut_abandon(cr_seg *s)
{
    if (s->cut_fp)
        fclose(s->cut_fp);
    if (s->cut_fd >= 0) {
        close(s->cut_fd);
        unlinkat(s->dfd, s->cut_name, 0); /* the file we made, O_EXCL */
    }
    s->cut_fp = NULL;
    s->cut_fd = -1;
}

void cr_seg_close(cr_seg *s)
{
    if (!s)
        return;
    cut_abandon(s);
    if (s->fd >= 0)
        close(s->fd);
    if (s->idx_fd >= 0)
        close(s->idx_fd);
    cr_free(s->v);
    cr_free(s->buf);
    cr_free(s);
}

static uint64_t live_size(cr_seg *s)
{
    struct stat st;
    return fstat(s->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Begin the cut of [end, to). */
static int cut_begin(cr_seg *s, uint64_t to, cr_err *err)
{
    cr_err e;
    cr_err_clear(&e);
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 16;
        cr_seg_info *nv = cr_realloc(s->v, nc * sizeof *nv);
        if (!nv)
            return cr_err_set(err, CR_ENOMEM, "rotate %s: out of memory",
                              s->live);
        s->v = nv;
        s->cap = nc;
    }
    cr_seg_name(s->live, (unsigned)s->n + 1, s->cut_name, sizeof s->cut_name);
    int fd = cr_dir_create(s->dfd, s->cut_name, O_WRONLY, 0644, &e);
    if (fd < 0)
        return cr_err_set(err, fd, "rotate %s: segment %s", s->live, e.msg);
    s->cut_fd = fd;
    if (!(s->cut_fp = cr_zst_wopen(fd, s->level))) {
        cut_abandon(s);
        return cr_err_set(err, CR_ENOMEM, "rotate %s: out of memory", s->live);
    }
    s->cut_from = s->cut_pos = s->end;
    s->cut_to = to;
    return 0;
}

/* The range is compressed: sync it, index it, then free it. */
static int cut_finish(cr_seg *s, cr_err *err)
{
    char line[IDX_LINE], idx[NAME_MAX + 1];
    struct stat st;
    cr_err e;
    cr_err_clear(&e);
    FILE *fp = s->cut_fp;
    s->cut_fp = NULL;
    if (fclose(fp) != 0 || fsync(s->cut_fd) != 0 || fstat(s->cut_fd, &st)) {
        int e2 = errno;
        cut_abandon(s);
        return cr_err_sys(err, CR_ESYS, e2, "rotate %s: write %s", s->live,
                          s->cut_name);
    }
    /* The segment's name is durable before the index names it. */
    fsync(s->dfd);
    if (s->idx_fd < 0) {
        cr_seg_name(s->live, 0, idx, sizeof idx);
        s->idx_fd = cr_dir_create(s->dfd, idx, O_WRONLY | O_APPEND, 0644, &e);
        if (s->idx_fd < 0) {
            int code = s->idx_fd;
            s->idx_fd = -1;
            cut_abandon(s);
            return cr_err_set(err, code, "rotate %s: index %s", s->live, e.msg);
        }
    }
    unsigned n = (unsigned)s->n + 1;
    int k = snprintf(line, sizeof line,
                     "{\"n\":%u,\"from\":%" PRIu64 ",\"to\":%" PRIu64 "}\n", n,
                     s->cut_from, s->cut_to);
    if (write(s->idx_fd, line, (size_t)k) != k || fdatasync(s->idx_fd) != 0) {
        /* A line that may be half written: no later line could follow it
         * in good order, so this file stops rotating (caller). */
        int e2 = errno;
        cut_abandon(s);
        return cr_err_sys(err, CR_ESYS, e2, "rotate %s: index", s->live);
    }
    close(s->cut_fd);
    s->cut_fd = -1;
    s->v[s->n++] =
        (cr_seg_info){n, s->cut_from, s->cut_to, (uint64_t)st.st_size};
    s->end = s->cut_to;
    if (fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  (off_t)s->cut_from, (off_t)(s->cut_to - s->cut_from)) != 0)
        return cr_err_sys(err, CR_ESYS, errno,
                          "rotate %s: punching [%" PRIu64 ", %" PRIu64 ")",
                          s->live, s->cut_from, s->cut_to);
    return 0;
}

/* Compress at most budget bytes of the cut in progress; finish it when
 * its range is done.  1: more to do; 0: done; negative: abandoned. */
static int cut_progress(cr_seg *s, size_t budget, cr_err *err)
{
    while (s->cut_pos < s->cut_to && budget > 0) {
        uint64_t left = s->cut_to - s->cut_pos;
        size_t k = left < CHUNK ? (size_t)left : CHUNK;
        if (k > budget)
            k = budget;
        ssize_t got = pread(s->fd, s->buf, k, (off_t)s->cut_pos);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            int e2 = got < 0 ? errno : EIO;
            cut_abandon(s);
            return cr_err_sys(err, CR_ESYS, e2, "rotate %s: read", s->live);
        }
        if (fwrite(s->buf, 1, (size_t)got, s->cut_fp) != (size_t)got) {
            int e2 = errno;
            cut_abandon(s);
            return cr_err_sys(err, CR_ESYS, e2, "rotate %s: write %s", s->live,
                              s->cut_name);
        }
        s->cut_pos += (uint64_t)got;
        budget -= (size_t)got;
    }
    if (s->cut_pos < s->cut_to)
        return 1;
    return cut_finish(s, err);
}

/* The end of the last line at or before safe (safe itself when none is in
 * the last NL_LOOKBACK bytes). */
static uint64_t line_end(cr_seg *s, uint64_t safe)
{
    uint64_t from = safe - s->end > NL_LOOKBACK ? safe - NL_LOOKBACK : s->end;
    ssize_t got = pread(s->fd, s->buf, (size_t)(safe - from), (off_t)from);
    for (ssize_t i = got; i > 0; i--)
        if (s->buf[i - 1] == '\n')
            return from + (uint64_t)i;
    return safe;
}

int cr_seg_step(cr_seg *s, uint64_t safe, size_t budget, cr_err *err)
{
    if (!s->cut_fp) {
        uint64_t size = live_size(s);
        if (safe > size)
            safe = size;
        if (safe < s->end || safe - s->end < s->max)
            return 0;
        int rc = cut_begin(s, line_end(s, safe), err);
        if (rc != 0)
            return rc;
    }
    return cut_progress(s, budget ? budget : 1, err);
}

int cr_seg_cut(cr_seg *s, uint64_t to, cr_err *err)
{
    if (s->cut_fp)
        return cr_err_set(err, CR_ESTATE, "rotate %s: a cut is in progress",
                          s->live);
    uint64_t size = live_size(s);
    if (to > size)
        to = size;
    if (to <= s->end)
        return 0;
    int rc = cut_begin(s, to, err);
    return rc != 0 ? rc : cut_progress(s, SIZE_MAX, err);
}

size_t cr_seg_count(const cr_seg *s)
{
    return s->n;
}
const cr_seg_info *cr_seg_get(const cr_seg *s, size_t i)
{
    return i < s->n ? &s->v[i] : NULL;
}
uint64_t cr_seg_end(const cr_seg *s)
{
    return s->end;
}
const char *cr_seg_live(const cr_seg *s)
{
    return s->live;
}

/* ---- reading --------------------------------------------------------------
 */

struct cr_seg_reader {
    int dfd; /* a duplicate of the caller's (segments are opened late) */
    char dir[PATH_MAX]; /* rel's directory part, "" or "logs/" */
    char live[NAME_MAX + 1];
    char idx[NAME_MAX + 1];
    cr_seg_info *v;
    size_t n;
    int fd; /* the live file */
    uint64_t size, pos;
    size_t cur; /* the segment pos is in (n: the live tail) */
    FILE *zfp;  /* segment cur, decompressed up to zpos */
    uint64_t zpos;
    char skip[8192];
};

/* Parse the index text: one {"n":N,"from":A,"to":B} a line, n = 1, 2, ...,
 * each from the previous to. */
static int index_parse(cr_seg_reader *r, FILE *fp, cr_err *err)
{
    char *line = NULL;
    size_t cap = 0, capv = 0;
    ssize_t len;
    int rc = 0;
    unsigned lineno = 0;
    uint64_t end = 0;
    while ((len = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        unsigned n = 0;
        uint64_t from = 0, to = 0;
        int used = -1, col = 1;
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (sscanf(line, "{\"n\":%u,\"from\":%" SCNu64 ",\"to\":%" SCNu64 "}%n",
                   &n, &from, &to, &used) != 3 ||
            used != len || strpbrk(line, "-+ \t")) {
            rc =
                cr_err_set(err, CR_EINVAL,
                           "%s%s:%u:%d: expected {\"n\":N,\"from\":A,\"to\":B}",
                           r->dir, r->idx, lineno, col);
            break;
        }
        const char *why = NULL;
        if (n != r->n + 1) {
            why = "n is not the next segment number";
            col = 6;
        } else if (from != end) {
            why = "from is not the previous segment's to";
            col = (int)(strstr(line, "\"from\"") - line) + 1;
        } else if (to <= from) {
            why = "to is not past from";
            col = (int)(strstr(line, "\"to\"") - line) + 1;
        }
        if (why) {
            rc = cr_err_set(err, CR_EINVAL, "%s%s:%u:%d: %s", r->dir, r->idx,
                            lineno, col, why);
            break;
        }
        if (r->n == capv) {
            size_t nc = capv ? capv * 2 : 16;
            cr_seg_info *nv = cr_realloc(r->v, nc * sizeof *nv);
            if (!nv) {
                rc = cr_err_set(err, CR_ENOMEM, "%s%s: out of memory", r->dir,
                                r->idx);
                break;
            }
            r->v = nv;
            capv = nc;
        }
        r->v[r->n++] = (cr_seg_info){n, from, to, 0};
        end = to;
    }
    if (rc == 0 && ferror(fp))
        rc = cr_err_sys(err, CR_ESYS, errno, "read %s%s", r->dir, r->idx);
    free(line);
    return rc;
}

int cr_seg_reader_open(cr_seg_reader **out, int dfd, const char *rel,
                       cr_err *err)
{
    char path[PATH_MAX + NAME_MAX + 2];
    struct stat st;
    int rc;
    *out = NULL;
    cr_seg_reader *r = cr_calloc(1, sizeof *r);
    if (!r)
        return cr_err_set(err, CR_ENOMEM, "%s: out of memory", rel);
    r->fd = -1;
    if ((r->dfd = fcntl(dfd, F_DUPFD_CLOEXEC, 0)) < 0) {
        rc = cr_err_sys(err, CR_ESYS, errno, "%s: dup", rel);
        goto fail;
    }
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    if ((size_t)(base - rel) >= sizeof r->dir ||
        strlen(base) >= sizeof r->live ||
        cr_seg_name(base, 0, r->idx, sizeof r->idx) != 0) {
        rc = cr_err_set(err, CR_EINVAL, "%s: not a live file name", rel);
        goto fail;
    }
    memcpy(r->dir, rel, (size_t)(base - rel));
    snprintf(r->live, sizeof r->live, "%s", base);
    snprintf(path, sizeof path, "%s%s", r->dir, r->idx);
    cr_err e;
    cr_err_clear(&e);
    FILE *fp = cr_dir_fopen_read(dfd, path, &e);
    if (fp) {
        rc = index_parse(r, fp, err);
        fclose(fp);
        if (rc != 0)
            goto fail;
    } else if (e.code != CR_ENOTFOUND) {
        rc = cr_err_set(err, e.code, "%s", e.msg);
        goto fail;
    }
    r->fd = cr_dir_open_read(dfd, rel, err);
    if (r->fd < 0) {
        rc = r->fd;
        r->fd = -1;
        goto fail;
    }
    if (fstat(r->fd, &st) != 0) {
        rc = cr_err_sys(err, CR_ESYS, errno, "%s", rel);
        goto fail;
    }
    r->size = (uint64_t)st.st_size;
    if (r->n && r->v[r->n - 1].to > r->size)
        r->size = r->v[r->n - 1].to;
    *out = r;
    return 0;
fail:
    cr_seg_reader_close(r);
    return rc;
}

void cr_seg_reader_close(cr_seg_reader *r)
{
    if (!r)
        return;
    if (r->zfp)
        fclose(r->zfp);
    if (r->fd >= 0)
        close(r->fd);
    if (r->dfd >= 0)
        close(r->dfd);
    cr_free(r->v);
    cr_free(r);
}

uint64_t cr_seg_reader_size(const cr_seg_reader *r)
{
    return r->size;
}

size_t cr_seg_reader_segments(const cr_seg_reader *r)
{
    return r->n;
}

int cr_seg_reader_seek(cr_seg_reader *r, uint64_t off, cr_err *err)
{
    if (off > r->size)
        return cr_err_set(err, CR_EINVAL,
                          "%s%s: offset %" PRIu64 " beyond its size %" PRIu64,
                          r->dir, r->live, off, r->size);
    r->pos = off;
    return 0;
}

/* Open segment i, decompressed from its start. */
static int seg_open(cr_seg_reader *r, size_t i, cr_err *err)
{
    char name[NAME_MAX + 1], path[PATH_MAX + NAME_MAX + 2];
    cr_seg_name(r->live, r->v[i].n, name, sizeof name);
    snprintf(path, sizeof path, "%s%s", r->dir, name);
    if (r->zfp)
        fclose(r->zfp);
    r->zfp = NULL;
    FILE *in = cr_dir_fopen_read(r->dfd, path, err);
    if (!in)
        return err && err->code ? err->code : CR_ESYS;
    if (!(r->zfp = cr_zst_ropen(in)))
        return cr_err_set(err, CR_ENOMEM, "%s: out of memory", path);
    r->cur = i;
    r->zpos = r->v[i].from;
    return 0;
}

static int seg_bad(cr_seg_reader *r, const char *what, cr_err *err)
{
    char name[NAME_MAX + 1];
    cr_seg_name(r->live, r->v[r->cur].n, name, sizeof name);
    return cr_err_set(err, CR_ESYS,
                      "%s%s: %s (the index %s%s says %" PRIu64 " bytes)",
                      r->dir, name, what, r->dir, r->idx,
                      r->v[r->cur].to - r->v[r->cur].from);
}

ssize_t cr_seg_reader_read(cr_seg_reader *r, void *buf, size_t n, cr_err *err)
{
    if (r->pos >= r->size || n == 0)
        return 0;
    /* The segment that holds pos, if any. */
    size_t i = 0;
    while (i < r->n && r->v[i].to <= r->pos)
        i++;
    if (i == r->n || r->v[i].from > r->pos) { /* the live tail */
        if (r->zfp) {
            fclose(r->zfp);
            r->zfp = NULL;
        }
        uint64_t left = r->size - r->pos;
        ssize_t got =
            pread(r->fd, buf, n < left ? n : (size_t)left, (off_t)r->pos);
        if (got < 0)
            return cr_err_sys(err, CR_ESYS, errno, "read %s%s", r->dir,
                              r->live);
        r->pos += (uint64_t)got;
        return got;
    }
    if (!r->zfp || r->cur != i || r->zpos > r->pos) {
        int rc = seg_open(r, i, err);
        if (rc != 0)
            return rc;
    }
    while (r->zpos < r->pos) { /* a seek into the segment's middle */
        uint64_t gap = r->pos - r->zpos;
        size_t k =
            fread(r->skip, 1,
                  gap < sizeof r->skip ? (size_t)gap : sizeof r->skip, r->zfp);
        if (k == 0)
            return seg_bad(r, ferror(r->zfp) ? "corrupt" : "cut short", err);
        r->zpos += k;
    }
    uint64_t left = r->v[i].to - r->pos;
    size_t want = n < left ? n : (size_t)left;
    size_t got = fread(buf, 1, want, r->zfp);
    if (got == 0)
        return seg_bad(r, ferror(r->zfp) ? "corrupt" : "cut short", err);
    r->pos += got;
    r->zpos += got;
    if (r->pos == r->v[i].to) { /* its end: nothing may follow */
        if (fgetc(r->zfp) != EOF || ferror(r->zfp))
            return seg_bad(r, ferror(r->zfp) ? "corrupt" : "holds more bytes",
                           err);
        fclose(r->zfp);
        r->zfp = NULL;
    }
    return (ssize_t)got;
}

/* ---- as a stdio stream -----------------------------------------------------
 */

static ssize_t sr_read(void *c, char *buf, size_t n)
{
    cr_err e;
    cr_err_clear(&e);
    ssize_t k = cr_seg_reader_read(c, buf, n, &e);
    if (k < 0) {
        errno = EIO;
        return -1;
    }
    return k;
}

static int sr_seek(void *c, off64_t *off, int whence)
{
    cr_seg_reader *r = c;
    int64_t base = whence == SEEK_SET   ? 0
                   : whence == SEEK_CUR ? (int64_t)r->pos
                                        : (int64_t)r->size;
    int64_t to = base + *off;
    if (to < 0 || (uint64_t)to > r->size) {
        errno = EINVAL;
        return -1;
    }
    r->pos = (uint64_t)to;
    *off = to;
    return 0;
}

static int sr_close(void *c)
{
    cr_seg_reader_close(c);
    return 0;
}

FILE *cr_seg_reader_file(cr_seg_reader *r)
{
    cookie_io_functions_t io = {
        .read = sr_read, .seek = sr_seek, .close = sr_close};
    FILE *fp = fopencookie(r, "r", io);
    if (!fp) {
        cr_seg_reader_close(r);
        errno = ENOMEM;
    }
    return fp;
}

FILE *cr_seg_fopen(int dfd, const char *rel, cr_err *err)
{
    cr_seg_reader *r;
    if (cr_seg_reader_open(&r, dfd, rel, err) != 0)
        return NULL;
    FILE *fp = cr_seg_reader_file(r);
    if (!fp)
        cr_err_set(err, CR_ENOMEM, "%s: out of memory", rel);
    return fp;
}
