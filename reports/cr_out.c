/* cr_out: see cr_out.h. */
#include "cr_out.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/cr_alloc.h"
#include "base/cr_dirfd.h"
#include <sys/stat.h>

void cr_out_init(cr_out *o)
{
    o->s = NULL;
    o->n = o->cap = 0;
    o->failed = 0;
}

void cr_out_free(cr_out *o)
{
    cr_free(o->s);
    cr_out_init(o);
}

int cr_out_failed(const cr_out *o)
{
    return o->failed;
}

const char *cr_out_str(const cr_out *o)
{
    return o->s ? o->s : "";
}

static int grow(cr_out *o, size_t extra)
{
    if (o->failed)
        return -1;
    if (o->n + extra + 1 <= o->cap)
        return 0;
    size_t cap = o->cap ? o->cap : 4096;
    while (cap < o->n + extra + 1)
        cap *= 2;
    char *p = cr_realloc(o->s, cap);
    if (!p) {
        o->failed = 1;
        return -1;
    }
    o->s = p;
    o->cap = cap;
    return 0;
}

void cr_out_mem(cr_out *o, const char *p, size_t n)
{
    if (grow(o, n) < 0)
        return;
    memcpy(o->s + o->n, p, n);
    o->n += n;
    o->s[o->n] = '\0';
}

void cr_out_puts(cr_out *o, const char *s)
{
    if (s)
        cr_out_mem(o, s, strlen(s));
}

static void vout(cr_out *o, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int k = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (k < 0 || grow(o, (size_t)k) < 0)
        return;
    vsnprintf(o->s + o->n, (size_t)k + 1, fmt, ap);
    o->n += (size_t)k;
}

void cr_out_printf(cr_out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vout(o, fmt, ap);
    va_end(ap);
}

/* Length of a valid UTF-8 sequence at p (1..4), or 0 when invalid
 * (overlong forms, surrogates and code points above U+10FFFF included). */
static size_t utf8_len(const unsigned char *p)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if ((p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && p[1] < 0xA0)
            return 0;
        if (c == 0xED && p[1] >= 0xA0)
            return 0; /* surrogates */
        if (c == 0xEF && p[1] == 0xBF && p[2] >= 0xBE)
            return 0; /* U+FFFE, U+FFFF are not XML characters */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if ((p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
            (p[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && p[1] < 0x90)
            return 0;
        if (c == 0xF4 && p[1] >= 0x90)
            return 0;
        return 4;
    }
    return 0;
}

static const char REPL[] = "\xEF\xBF\xBD";

/* Shared escaper.  md: Markdown cell rules instead of pure HTML text. */
static void esc(cr_out *o, const char *s, int md)
{
    if (!s)
        return;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        /* Copy the longest run that needs no escaping in one go. */
        const unsigned char *q = p;
        while (*q >= 0x20 && *q < 0x80 && !strchr("&<>\"'|`*_[]\\", *q))
            q++;
        if (q > p) {
            cr_out_mem(o, (const char *)p, (size_t)(q - p));
            p = q;
            continue;
        }
        unsigned c = *p;
        if (c >= 0x80) {
            size_t k = utf8_len(p);
            if (k) {
                cr_out_mem(o, (const char *)p, k);
                p += k;
            } else {
                cr_out_puts(o, REPL);
                p++;
            }
            continue;
        }
        p++;
        switch (c) {
        case '&':
            cr_out_puts(o, "&amp;");
            break;
        case '<':
            cr_out_puts(o, "&lt;");
            break;
        case '>':
            cr_out_puts(o, "&gt;");
            break;
        case '"':
            cr_out_puts(o, md ? "\"" : "&quot;");
            break;
        case '\'':
            cr_out_puts(o, md ? "'" : "&#39;");
            break;
        case '\t':
            cr_out_puts(o, md ? " " : "\t");
            break;
        case '\n':
        case '\r':
            cr_out_puts(o, md ? " " : (c == '\n' ? "\n" : "\r"));
            break;
        case '|':
            cr_out_puts(o, md ? "\\|" : "|");
            break;
        case '`':
        case '*':
        case '_':
        case '[':
        case ']':
        case '\\':
            if (md)
                cr_out_puts(o, "\\");
            cr_out_mem(o, (const char *)p - 1, 1);
            break;
        default:
            cr_out_puts(o, REPL);
            break; /* other C0 controls */
        }
    }
}

void cr_out_esc(cr_out *o, const char *s)
{
    esc(o, s, 0);
}

void cr_out_wrap(cr_out *o, const char *pre, const char *text, const char *post)
{
    cr_out_puts(o, pre);
    cr_out_esc(o, text);
    cr_out_puts(o, post);
}

void cr_out_escf(cr_out *o, const char *fmt, ...)
{
    cr_out tmp;
    cr_out_init(&tmp);
    va_list ap;
    va_start(ap, fmt);
    vout(&tmp, fmt, ap);
    va_end(ap);
    if (tmp.failed)
        o->failed = 1;
    else
        esc(o, tmp.s, 0);
    cr_out_free(&tmp);
}

void cr_out_md(cr_out *o, const char *s)
{
    esc(o, s, 1);
}

void cr_out_mdcode(cr_out *o, const char *s)
{
    if (!s)
        return;
    /* The fence must be longer than the longest run of backticks inside. */
    size_t run = 0, longest = 0;
    for (const char *p = s; *p; p++) {
        run = *p == '`' ? run + 1 : 0;
        if (run > longest)
            longest = run;
    }
    char fence[8];
    size_t f = longest + 1 < sizeof fence ? longest + 1 : sizeof fence - 1;
    memset(fence, '`', f);
    fence[f] = '\0';
    cr_out_puts(o, fence);
    if (longest)
        cr_out_puts(o, " ");
    for (const char *p = s; *p; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t')
            cr_out_puts(o, " ");
        else if (*p == '|')
            cr_out_puts(o, "\\|"); /* GFM tables split on | even in code */
        else if ((unsigned char)*p < 0x20)
            cr_out_puts(o, REPL);
        else if ((unsigned char)*p >= 0x80) {
            size_t k = utf8_len((const unsigned char *)p);
            if (k) {
                cr_out_mem(o, p, k);
                p += k - 1;
            } else
                cr_out_puts(o, REPL);
        } else
            cr_out_mem(o, p, 1);
    }
    if (longest)
        cr_out_puts(o, " ");
    cr_out_puts(o, fence);
}

int cr_out_write_file(const cr_out *o, const char *path, cr_err *err)
{
    char dir[4096];
    cr_err e;
    cr_err_clear(&e);
    if (o->failed)
        return cr_err_set(err, CR_ENOMEM, "writing %s: out of memory", path);
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    /* The directory is the caller's (named on the command line); what is
     * in it is never followed. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return cr_err_sys(err, CR_ESYS, errno, "writing %s: %s", path, dir);
    int rc = cr_dir_write(dfd, name, cr_out_str(o), o->n, 0644, &e);
    close(dfd);
    if (rc < 0)
        return cr_err_set(err, rc, "writing %s: %s", path, e.msg);
    return 0;
}

FILE *cr_out_fopen_read(const char *path)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = EINVAL;
        return NULL;
    }
    /* Blocking reads from here on (a regular file never blocks anyway). */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    FILE *fp = fdopen(fd, "r");
    if (!fp)
        close(fd);
    return fp;
}
