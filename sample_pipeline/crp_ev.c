/* crp_ev: see crp_ev.h. */
#include "crp_ev.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crp_util.h"

/* Lines held back (crp_ev_hold) until crp_ev_release writes them. */
typedef struct held {
    int on;
    int dropped; /* lines held while the file is disabled (no bytes) */
    char *s;
    size_t len, cap;
} held;

/* Event lines whose write failed (a full disk, an I/O error): kept, in
 * order, and written before any later line, so that what the service did
 * while its disk failed (the retries of a commit that hit ENOSPC) is still
 * reported once the file takes writes again, each line with its original
 * time.  Bounded: beyond CRP_EV_BACKLOG_MAX bytes further lines are
 * dropped and counted (dropped_backlog). */
#define CRP_EV_BACKLOG_MAX (1u << 20)

struct crp_ev {
    int fd, tfd;
    char svc[64], inst[64];
    held ev, sp; /* events, spans */
    held bl;     /* event lines not yet written (backlog) */
    unsigned long dropped_backlog;
};

static int backlog_flush(crp_ev *e);

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF), or 0 when there is none. */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    unsigned char lo = 0x80, hi = 0xbf;
    size_t len;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
    } else {
        return 0;
    }
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if (s[k] < 0x80 || s[k] > 0xbf)
            return 0;
    return len;
}

size_t crp_json_esc(char *dst, size_t n, const char *src)
{
    static const char hex[] = "0123456789abcdef";
    size_t j = 0;
    if (n == 0)
        return 0;
    for (const unsigned char *s = (const unsigned char *)src; *s;) {
        char e[8];
        size_t k = 0, take = 1;
        if (*s == '"' || *s == '\\') {
            e[k++] = '\\';
            e[k++] = (char)*s;
        } else if (*s == '\n' || *s == '\r' || *s == '\t') {
            e[k++] = '\\';
            e[k++] = *s == '\n' ? 'n' : *s == '\r' ? 'r' : 't';
        } else if (*s < 0x20 || *s == 0x7f) {
            memcpy(e, "\\u00", 4);
            k = 4;
            e[k++] = hex[*s >> 4];
            e[k++] = hex[*s & 15];
        } else if ((take = utf8_seq(s)) == 0) {
            memcpy(e, "\\ufffd", 6); /* not UTF-8: the replacement char */
            k = 6;
            take = 1;
        } else {
            memcpy(e, s, take);
            k = take;
        }
        if (j + k >= n)
            break; /* truncated, never inside an escape or a character */
        memcpy(dst + j, e, k);
        j += k;
        s += take;
    }
    dst[j] = '\0';
    return j;
}

static int open_append(const char *path)
{
    if (!path || !*path)
        return -1;
    /* create the parent directory (traces/) if needed */
    char dir[512];
    crp_strlcpy(dir, path, sizeof dir);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        mkdir(dir, 0755);
    }
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

crp_ev *crp_ev_open(const char *events, const char *traces, const char *svc,
                    const char *inst, char *err, size_t n)
{
    crp_ev *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->fd = open_append(events);
    if (events && *events && e->fd < 0)
        snprintf(err, n, "open %s: %s", events, strerror(errno));
    e->tfd = open_append(traces);
    crp_strlcpy(e->svc, svc, sizeof e->svc);
    crp_strlcpy(e->inst, inst, sizeof e->inst);
    return e;
}

void crp_ev_close(crp_ev *e)
{
    if (!e)
        return;
    crp_ev_release(e);
    if (e->fd >= 0)
        backlog_flush(e);
    free(e->ev.s);
    free(e->sp.s);
    free(e->bl.s);
    if (e->fd >= 0)
        close(e->fd);
    if (e->tfd >= 0)
        close(e->tfd);
    free(e);
}

/* Append len bytes to h's buffer (grown by doubling); -ENOMEM. */
static int held_append(held *h, const char *buf, size_t len)
{
    if (h->len + len > h->cap) {
        size_t ncap = h->cap ? h->cap * 2 : 16384;
        while (ncap < h->len + len)
            ncap *= 2;
        char *ns = realloc(h->s, ncap);
        if (!ns)
            return -ENOMEM;
        h->s = ns;
        h->cap = ncap;
    }
    memcpy(h->s + h->len, buf, len);
    h->len += len;
    return 0;
}

/* Write the backlog in one write(); what was written leaves it (a line cut
 * by a short write is torn, as elsewhere).  0 when the backlog is empty
 * afterwards, else -errno (or -EIO after a short write). */
static int backlog_flush(crp_ev *e)
{
    held *b = &e->bl;
    if (!b->len)
        return 0;
    ssize_t w = write(e->fd, b->s, b->len);
    if (w < 0)
        return -errno;
    memmove(b->s, b->s + w, b->len - (size_t)w);
    b->len -= (size_t)w;
    return b->len ? -EIO : 0;
}

/* A line that could not be written now: into the backlog (0), or dropped
 * and counted when the backlog is full (-ENOSPC) or memory is short. */
static int backlog_put(crp_ev *e, const char *buf, size_t len)
{
    if (e->bl.len + len > CRP_EV_BACKLOG_MAX ||
        held_append(&e->bl, buf, len) != 0) {
        e->dropped_backlog++;
        return -ENOSPC;
    }
    return 0;
}

static int write_line(int fd, const char *buf, size_t len)
{
    /* One write() per line: concurrent writers never interleave.  A short
     * write is reported as an error (the line may be torn; rare). */
    ssize_t w = write(fd, buf, len);
    if (w < 0)
        return -errno;
    return (size_t)w == len ? 0 : -EIO;
}

/* A line for fd: appended to h when held, else written at once.  Held and
 * out of memory: -ENOMEM, nothing written (as a failed write). */
static int put_line(int fd, held *h, const char *buf, size_t len)
{
    if (!h->on)
        return write_line(fd, buf, len);
    return held_append(h, buf, len);
}

/* Empty and stop holding (what it held is written or given up). */
static void held_reset(held *h)
{
    h->len = 0;
    h->dropped = 0;
    h->on = 0;
}

/* Write what h holds in one write(); returns the number of whole lines
 * written, the rest is dropped (a line cut by a short write is torn, as a
 * short write of a single line would be). */
static int flush_held(int fd, held *h)
{
    int lines = fd < 0 ? h->dropped : 0;
    if (h->len && fd >= 0) {
        ssize_t w = write(fd, h->s, h->len);
        size_t done = w > 0 ? (size_t)w : 0;
        for (const char *q = h->s; (q = memchr(q, '\n', h->s + done - q)); q++)
            lines++;
    }
    held_reset(h);
    return lines;
}

void crp_ev_hold(crp_ev *e, int what)
{
    if (!e)
        return;
    if (what & CRP_EV_EVENTS)
        e->ev.on = 1;
    if (what & CRP_EV_SPANS)
        e->sp.on = 1;
}

int crp_ev_release(crp_ev *e)
{
    if (!e)
        return 0;
    /* Earlier lines first; while they cannot be written, neither can the
     * held ones (none written: the caller announces them again). */
    int n = 0;
    if (e->fd >= 0 && backlog_flush(e) != 0) {
        held_reset(&e->ev);
    } else {
        n = flush_held(e->fd, &e->ev);
    }
    flush_held(e->tfd, &e->sp);
    return n;
}

/* "s.uuuuuu" of the wall clock, without formatting a double (printf's %f
 * of a double is most of an event's cost). */
static int fmt_ts(char *buf, size_t n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long us = (ts.tv_nsec + 500) / 1000;
    if (us >= 1000000) {
        ts.tv_sec++;
        us -= 1000000;
    }
    return snprintf(buf, n, "%lld.%06ld", (long long)ts.tv_sec, us);
}

int crp_ev_emit(crp_ev *e, const char *ev, const char *fields_fmt, ...)
{
    if (!e)
        return 0;
    if (e->fd < 0) { /* no event file: dropped, as if written */
        e->ev.dropped += e->ev.on;
        return 0;
    }
    char fields[3072]; /* (not "= {...}": that zeroes 3 KiB per event) */
    fields[0] = '\0';
    if (fields_fmt && *fields_fmt) {
        va_list ap;
        va_start(ap, fields_fmt);
        vsnprintf(fields, sizeof fields, fields_fmt, ap);
        va_end(ap);
    }
    char line[4096], ts[32];
    fmt_ts(ts, sizeof ts);
    int len = snprintf(
        line, sizeof line,
        "{\"ts\":%s,\"svc\":\"%s\",\"inst\":\"%s\",\"ev\":\"%s\"%s%s}\n", ts,
        e->svc, e->inst, ev, fields[0] ? "," : "", fields);
    if (len < 0 || (size_t)len >= sizeof line)
        return -EOVERFLOW;
    if (e->ev.on)
        return put_line(e->fd, &e->ev, line, (size_t)len);
    /* Not held: written now, after any backlog; what the write did not
     * take (all of it, or the rest of a short write) goes to the backlog
     * (0: it will be written), or is dropped when that is full. */
    size_t done = 0;
    if (backlog_flush(e) == 0) {
        ssize_t w = write(e->fd, line, (size_t)len);
        done = w > 0 ? (size_t)w : 0;
        if (done == (size_t)len)
            return 0;
    }
    return backlog_put(e, line + done, (size_t)len - done);
}

int crp_ev_span(crp_ev *e, const char *name, const char *trace_id,
                const char *span_id, const char *parent, double start,
                double end, int error)
{
    if (!e || e->tfd < 0)
        return 0;
    char line[1536];
    int len = snprintf(
        line, sizeof line,
        "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service."
        "name\","
        "\"value\":{\"stringValue\":\"%s\"}},{\"key\":\"service.instance.id\","
        "\"value\":{\"stringValue\":\"%s\"}}]},\"scopeSpans\":[{\"scope\":{"
        "\"name\":"
        "\"crp\"},\"spans\":[{\"traceId\":\"%s\",\"spanId\":\"%s\"%s%s%s,"
        "\"name\":\"%s\","
        "\"kind\":1,\"startTimeUnixNano\":\"%" PRId64
        "\",\"endTimeUnixNano\":\"%" PRId64 "\","
        "\"status\":{\"code\":%d}}]}]}]}\n",
        e->svc, e->inst, trace_id, span_id,
        parent ? ",\"parentSpanId\":\"" : "", parent ? parent : "",
        parent ? "\"" : "", name, (int64_t)(start * 1e9), (int64_t)(end * 1e9),
        error ? 2 : 1);
    if (len < 0 || (size_t)len >= sizeof line)
        return -EOVERFLOW;
    return put_line(e->tfd, &e->sp, line, (size_t)len);
}
