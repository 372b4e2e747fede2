/* cr_fiupt: libfiu's POSIX failure points, errno names, presets and the
 * validation of a `syscall` fault's points and errno (see cr_fiupt.h). */
#include "cr_fiupt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Every errno a point of the table may set (one table generates names and
 * numbers). */
#define CR_FIUPT_ERRNOS(X)                                                     \
    X(EACCES)                                                                  \
    X(EADDRINUSE)                                                              \
    X(EADDRNOTAVAIL)                                                           \
    X(EAFNOSUPPORT)                                                            \
    X(EAGAIN)                                                                  \
    X(EALREADY)                                                                \
    X(EBADF)                                                                   \
    X(EBADFD)                                                                  \
    X(EBUSY)                                                                   \
    X(ECHILD)                                                                  \
    X(ECONNABORTED)                                                            \
    X(ECONNREFUSED)                                                            \
    X(ECONNRESET)                                                              \
    X(EDESTADDRREQ)                                                            \
    X(EDQUOT)                                                                  \
    X(EEXIST)                                                                  \
    X(EFAULT)                                                                  \
    X(EFBIG)                                                                   \
    X(EHOSTUNREACH)                                                            \
    X(EILSEQ)                                                                  \
    X(EINPROGRESS)                                                             \
    X(EINTR)                                                                   \
    X(EINVAL)                                                                  \
    X(EIO)                                                                     \
    X(EISCONN)                                                                 \
    X(EISDIR)                                                                  \
    X(ELOOP)                                                                   \
    X(EMFILE)                                                                  \
    X(EMLINK)                                                                  \
    X(EMSGSIZE)                                                                \
    X(ENAMETOOLONG)                                                            \
    X(ENETDOWN)                                                                \
    X(ENETUNREACH)                                                             \
    X(ENFILE)                                                                  \
    X(ENOBUFS)                                                                 \
    X(ENODEV)                                                                  \
    X(ENOENT)                                                                  \
    X(ENOMEM)                                                                  \
    X(ENOSPC)                                                                  \
    X(ENOTCONN)                                                                \
    X(ENOTDIR)                                                                 \
    X(ENOTEMPTY)                                                               \
    X(ENOTSOCK)                                                                \
    X(ENXIO)                                                                   \
    X(EOPNOTSUPP)                                                              \
    X(EOVERFLOW)                                                               \
    X(EPERM)                                                                   \
    X(EPIPE)                                                                   \
    X(EPROTO)                                                                  \
    X(EPROTONOSUPPORT)                                                         \
    X(EPROTOTYPE)                                                              \
    X(EROFS)                                                                   \
    X(ESPIPE)                                                                  \
    X(ESRCH)                                                                   \
    X(ETIMEDOUT)                                                               \
    X(ETXTBSY)                                                                 \
    X(EXDEV)

static const struct {
    const char *name;
    int num;
} errno_tab[] = {
#define CR_X_(e) {#e, e},
    CR_FIUPT_ERRNOS(CR_X_)
#undef CR_X_
};

/* From libfiu 1.1's preload/posix/modules/ (see cr_fiupt.h for the three
 * additions).  Same names, in the same order, as the strings in the
 * installed fiu_posix_preload.so; test_fiupt checks that. */
static const cr_fiupt_point points[] = {
    {"posix/io/oc/open",
     "EACCES EFAULT EFBIG EOVERFLOW ELOOP EMFILE ENAMETOOLONG ENFILE ENOENT "
     "ENOMEM ENOSPC ENOTDIR EROFS"},
    {"posix/io/oc/close", "EBADFD EINTR EIO"},
    {"posix/io/sync/fsync", "EBADFD EIO EROFS EINVAL ENOSPC EDQUOT"},
    {"posix/io/sync/fdatasync", "EBADFD EIO EROFS EINVAL ENOSPC EDQUOT"},
    {"posix/io/rw/read", "EBADFD EFAULT EINTR EINVAL EIO EISDIR"},
    {"posix/io/rw/read/reduce", ""},
    {"posix/io/rw/pread",
     "EBADFD EFAULT EINTR EINVAL EIO EISDIR EOVERFLOW ENXIO"},
    {"posix/io/rw/pread/reduce", ""},
    {"posix/io/rw/readv", "EBADFD EFAULT EINTR EINVAL EIO EISDIR"},
    {"posix/io/rw/readv/reduce", ""},
    {"posix/io/rw/preadv",
     "EBADFD EFAULT EINTR EINVAL EIO EISDIR EOVERFLOW ENXIO"},
    {"posix/io/rw/preadv/reduce", ""},
    {"posix/io/rw/write", "EBADFD EDQUOT EFAULT EFBIG EINTR EINVAL EIO ENOSPC"},
    {"posix/io/rw/write/reduce", ""},
    {"posix/io/rw/pwrite",
     "EBADFD EDQUOT EFAULT EFBIG EINTR EINVAL EIO ENOSPC EOVERFLOW ENXIO"},
    {"posix/io/rw/pwrite/reduce", ""},
    {"posix/io/rw/writev",
     "EBADFD EDQUOT EFAULT EFBIG EINTR EINVAL EIO ENOSPC"},
    {"posix/io/rw/writev/reduce", ""},
    {"posix/io/rw/pwritev",
     "EBADFD EDQUOT EFAULT EFBIG EINTR EINVAL EIO ENOSPC EOVERFLOW ENXIO"},
    {"posix/io/rw/pwritev/reduce", ""},
    {"posix/io/rw/truncate",
     "EACCES EFAULT EFBIG EINTR EINVAL EIO EISDIR ELOOP ENAMETOOLONG ENOENT "
     "ENOTDIR EPERM EROFS ETXTBSY"},
    {"posix/io/rw/ftruncate",
     "EACCES EBADF EFAULT EFBIG EINTR EINVAL EIO EISDIR ELOOP ENAMETOOLONG "
     "ENOENT ENOTDIR EPERM EROFS ETXTBSY"},
    {"posix/io/dir/opendir",
     "EACCES EBADF EMFILE ENFILE ENOENT ENOMEM ENOTDIR"},
    {"posix/io/dir/fdopendir",
     "EACCES EBADF EMFILE ENFILE ENOENT ENOMEM ENOTDIR"},
    {"posix/io/dir/readdir", "EBADF"},
    {"posix/io/dir/readdir_r", ""},
    {"posix/io/dir/closedir", "EBADF"},
    {"posix/io/dir/unlink", "EACCES EBUSY EFAULT EIO EISDIR ELOOP ENAMETOOLONG "
                            "ENOENT ENOMEM ENOTDIR EPERM EROFS"},
    {"posix/io/dir/rename",
     "EACCES EBUSY EFAULT EINVAL EISDIR ELOOP EMLINK ENAMETOOLONG ENOENT "
     "ENOMEM ENOSPC ENOTDIR ENOTEMPTY EPERM EROFS EXDEV"},
    {"posix/io/net/socket", "EAFNOSUPPORT EMFILE ENFILE EPROTONOSUPPORT "
                            "EPROTOTYPE EACCES ENOBUFS ENOMEM"},
    {"posix/io/net/bind", "EADDRINUSE EADDRNOTAVAIL EAFNOSUPPORT EBADF EINVAL "
                          "ENOTSOCK EOPNOTSUPP EACCES EDESTADDRREQ EIO ELOOP "
                          "ENAMETOOLONG ENOENT ENOTDIR EROFS EISCONN ENOBUFS"},
    {"posix/io/net/listen",
     "EBADF EDESTADDRREQ EINVAL ENOTSOCK EOPNOTSUPP EACCES ENOBUFS"},
    {"posix/io/net/accept", "EAGAIN EBADF ECONNABORTED EINTR EINVAL EMFILE "
                            "ENFILE ENOTSOCK EOPNOTSUPP ENOBUFS ENOMEM EPROTO"},
    {"posix/io/net/connect",
     "EADDRNOTAVAIL EAFNOSUPPORT EALREADY EBADF ECONNREFUSED EINPROGRESS EINTR "
     "EISCONN ENETUNREACH ENOTSOCK EPROTOTYPE ETIMEDOUT EIO ELOOP ENAMETOOLONG "
     "ENOENT ENOTDIR EACCES EADDRINUSE ECONNRESET EHOSTUNREACH EINVAL ENETDOWN "
     "ENOBUFS EOPNOTSUPP"},
    {"posix/io/net/recv", "EAGAIN EBADF ECONNRESET EINTR EINVAL ENOTCONN "
                          "ENOTSOCK EOPNOTSUPP ETIMEDOUT EIO ENOBUFS ENOMEM"},
    {"posix/io/net/recvfrom",
     "EAGAIN EBADF ECONNRESET EINTR EINVAL ENOTCONN ENOTSOCK EOPNOTSUPP "
     "ETIMEDOUT EIO ENOBUFS ENOMEM"},
    {"posix/io/net/recvmsg",
     "EAGAIN EBADF ECONNRESET EINTR EINVAL EMSGSIZE ENOTCONN ENOTSOCK "
     "EOPNOTSUPP ETIMEDOUT EIO ENOBUFS ENOMEM"},
    {"posix/io/net/send",
     "EAGAIN EBADF ECONNRESET EDESTADDRREQ EINTR EMSGSIZE ENOTCONN ENOTSOCK "
     "EOPNOTSUPP EPIPE EACCES EIO ENETDOWN ENETUNREACH ENOBUFS"},
    {"posix/io/net/sendto",
     "EAFNOSUPPORT EAGAIN EBADF ECONNRESET EINTR EMSGSIZE ENOTCONN ENOTSOCK "
     "EOPNOTSUPP EPIPE EIO ELOOP ENAMETOOLONG ENOENT ENOTDIR EACCES "
     "EDESTADDRREQ EHOSTUNREACH EINVAL EISCONN ENETDOWN ENETUNREACH ENOBUFS "
     "ENOMEM"},
    {"posix/io/net/sendmsg",
     "EAGAIN EAFNOSUPPORT EBADF ECONNRESET EINTR EINVAL EMSGSIZE ENOTCONN "
     "ENOTSOCK EOPNOTSUPP EPIPE EIO ELOOP ENAMETOOLONG ENOENT ENOTDIR EACCES "
     "EDESTADDRREQ EHOSTUNREACH EISCONN ENETDOWN ENETUNREACH ENOBUFS ENOMEM"},
    {"posix/io/net/shutdown", "EBADF EINVAL ENOTCONN ENOTSOCK ENOBUFS"},
    {"posix/io/net/select", "EBADF EINTR EINVAL ENOMEM"},
    {"posix/io/net/pselect", "EBADF EINTR EINVAL ENOMEM"},
    {"posix/io/net/poll", "EBADF EFAULT EINTR EINVAL ENOMEM"},
    {"linux/io/sync_file_range", "EBADF EINVAL EIO ENOMEM ENOSPC"},
    {"libc/mm/malloc", "ENOMEM"},
    {"libc/mm/calloc", "ENOMEM"},
    {"libc/mm/realloc", "ENOMEM"},
    {"libc/str/strdup", "ENOMEM"},
    {"libc/str/strndup", "ENOMEM"},
    {"posix/mm/mmap",
     "EACCES EAGAIN EBADF EINVAL ENFILE ENODEV ENOMEM EPERM ETXTBSY"},
    {"posix/mm/munmap",
     "EACCES EAGAIN EBADF EINVAL ENFILE ENODEV ENOMEM EPERM ETXTBSY"},
    {"posix/mm/msync", "EBUSY EINVAL ENOMEM"},
    {"posix/mm/mprotect", "EACCES EINVAL ENOMEM"},
    {"posix/mm/madvise", "EAGAIN EBADF EINVAL EIO ENOMEM"},
    {"posix/mm/mlock", "ENOMEM EPERM EAGAIN EINVAL"},
    {"posix/mm/munlock", "ENOMEM EPERM EAGAIN EINVAL"},
    {"posix/mm/mlockall", "ENOMEM EPERM EINVAL"},
    {"posix/mm/munlockall", "ENOMEM EPERM"},
    {"posix/proc/fork", "EAGAIN ENOMEM"},
    {"posix/proc/wait", "ECHILD EINTR EINVAL"},
    {"posix/proc/waitpid", "ECHILD EINTR EINVAL"},
    {"posix/proc/waitid", "ECHILD EINTR EINVAL"},
    {"posix/proc/kill", "EINVAL EPERM ESRCH"},
    {"posix/proc/signal", "EINVAL"},
    {"posix/proc/sigaction", "EFAULT EINVAL"},
    {"posix/stdio/oc/fopen",
     "EACCES EINTR EISDIR ELOOP EMFILE ENAMETOOLONG ENFILE ENOENT ENOTDIR "
     "ENOSPC ENXIO EOVERFLOW EROFS EINVAL ENOMEM ETXTBSY"},
    {"posix/stdio/oc/freopen",
     "EACCES EBADF EINTR EISDIR ELOOP EMFILE ENAMETOOLONG ENFILE ENOENT "
     "ENOTDIR ENOSPC ENXIO EOVERFLOW EROFS EINVAL ENOMEM ETXTBSY"},
    {"posix/stdio/oc/fclose",
     "EAGAIN EBADF EFBIG EINTR EIO ENOMEM ENOSPC EPIPE ENXIO"},
    {"posix/stdio/oc/fdopen", "EMFILE EBADF EINVAL ENOMEM"},
    {"posix/stdio/oc/fmemopen", "EMFILE EINVAL ENOMEM"},
    {"posix/stdio/oc/open_memstream", "EMFILE EINVAL ENOMEM"},
    {"posix/stdio/oc/popen", "EMFILE EINVAL ENOMEM EAGAIN ENFILE"},
    {"posix/stdio/oc/pclose", "ECHILD"},
    {"posix/stdio/tmp/tmpfile", "EINTR EMFILE ENFILE ENOSPC EOVERFLOW ENOMEM"},
    {"posix/stdio/tmp/tmpnam", ""},
    {"posix/stdio/tmp/tempnam", "ENOMEM"},
    {"posix/stdio/rw/fread", "EAGAIN EBADF EINTR EIO EOVERFLOW ENOMEM ENXIO"},
    {"posix/stdio/rw/fwrite",
     "EAGAIN EBADF EFBIG EINTR EIO ENOSPC EPIPE ENOMEM ENXIO"},
    {"posix/stdio/seek/fgetpos", "EBADF EOVERFLOW ESPIPE"},
    {"posix/stdio/seek/ftell", "EBADF EOVERFLOW ESPIPE"},
    {"posix/stdio/seek/ftello", "EBADF EOVERFLOW ESPIPE"},
    {"posix/stdio/seek/fseek",
     "EAGAIN EBADF EFBIG EINTR EINVAL EIO ENOSPC EOVERFLOW EPIPE ENXIO"},
    {"posix/stdio/seek/fseeko",
     "EAGAIN EBADF EFBIG EINTR EINVAL EIO ENOSPC EOVERFLOW EPIPE ENXIO"},
    {"posix/stdio/seek/fsetpos",
     "EAGAIN EBADF EFBIG EINTR EIO ENOSPC EOVERFLOW EPIPE ENXIO"},
    {"posix/stdio/gp/fgetc", "EAGAIN EBADF EINTR EIO ENOMEM ENXIO EOVERFLOW"},
    {"posix/stdio/gp/fgets", "EAGAIN EBADF EINTR EIO ENOMEM ENXIO EOVERFLOW"},
    {"posix/stdio/gp/getc", "EAGAIN EBADF EINTR EIO ENOMEM ENXIO EOVERFLOW"},
    {"posix/stdio/gp/getchar", "EAGAIN EBADF EINTR EIO ENOMEM ENXIO EOVERFLOW"},
    {"posix/stdio/gp/gets", "EAGAIN EBADF EINTR EIO ENOMEM ENXIO EOVERFLOW"},
    {"posix/stdio/gp/fputc",
     "EAGAIN EBADF EFBIG EINTR EIO ENOMEM ENOSPC ENXIO EPIPE"},
    {"posix/stdio/gp/fputs",
     "EAGAIN EBADF EFBIG EINTR EIO ENOMEM ENOSPC ENXIO EPIPE"},
    {"posix/stdio/gp/putc",
     "EAGAIN EBADF EFBIG EINTR EIO ENOMEM ENOSPC ENXIO EPIPE"},
    {"posix/stdio/gp/putchar",
     "EAGAIN EBADF EFBIG EINTR EIO ENOMEM ENOSPC ENXIO EPIPE"},
    {"posix/stdio/gp/puts",
     "EAGAIN EBADF EFBIG EINTR EIO ENOMEM ENOSPC ENXIO EPIPE"},
    {"posix/stdio/gp/ungetc", ""},
    {"posix/stdio/gp/getdelim",
     "EAGAIN EBADF EINTR EIO ENOMEM ENXIO EOVERFLOW EINVAL"},
    {"posix/stdio/gp/getline",
     "EAGAIN EBADF EINTR EIO ENOMEM ENXIO EOVERFLOW EINVAL"},
    {"posix/stdio/sp/fprintf",
     "EAGAIN EBADF EFBIG EINTR EIO ENOMEM ENOSPC ENXIO EPIPE EILSEQ EOVERFLOW"},
    {"posix/stdio/sp/printf",
     "EAGAIN EBADF EFBIG EINTR EIO ENOMEM ENOSPC ENXIO EPIPE EILSEQ EOVERFLOW"},
    {"posix/stdio/sp/dprintf",
     "EAGAIN EBADF EFBIG EINTR EIO ENOMEM ENOSPC ENXIO EPIPE EILSEQ EOVERFLOW"},
    {"posix/stdio/sp/vfprintf",
     "EAGAIN EBADF EFBIG EINTR EIO ENOMEM ENOSPC ENXIO EPIPE EILSEQ EOVERFLOW"},
    {"posix/stdio/sp/vprintf",
     "EAGAIN EBADF EFBIG EINTR EIO ENOMEM ENOSPC ENXIO EPIPE EILSEQ EOVERFLOW"},
    {"posix/stdio/sp/vdprintf",
     "EAGAIN EBADF EFBIG EINTR EIO ENOMEM ENOSPC ENXIO EPIPE EILSEQ EOVERFLOW"},
    {"posix/stdio/sp/fscanf",
     "EAGAIN EBADF EINTR EIO ENOMEM ENXIO EOVERFLOW EILSEQ EINVAL"},
    {"posix/stdio/sp/scanf",
     "EAGAIN EBADF EINTR EIO ENOMEM ENXIO EOVERFLOW EILSEQ"},
    {"posix/stdio/sp/vfscanf",
     "EAGAIN EBADF EINTR EIO ENOMEM ENXIO EOVERFLOW EILSEQ EINVAL"},
    {"posix/stdio/sp/vscanf",
     "EAGAIN EBADF EINTR EIO ENOMEM ENXIO EOVERFLOW EILSEQ"},
    {"posix/stdio/remove", "EACCES EBUSY EEXIST ENOTEMPTY EINVAL EIO ELOOP "
                           "ENAMETOOLONG ENOENT ENOTDIR EPERM EROFS ETXTBSY"},
    {"posix/stdio/setvbuf", "EBADF"},
    {"posix/stdio/ftrylockfile", ""},
    {"posix/stdio/fflush",
     "EAGAIN EBADF EFBIG EINTR EIO ENOMEM ENOSPC EPIPE ENXIO"},
    {"posix/stdio/error/ferror", ""},
};

const cr_fiupt_point *cr_fiupt_table(size_t *n)
{
    *n = sizeof points / sizeof points[0];
    return points;
}

int cr_fiupt_errno_parse(const char *name)
{
    for (size_t i = 0; name && i < sizeof errno_tab / sizeof errno_tab[0]; i++)
        if (strcmp(errno_tab[i].name, name) == 0)
            return errno_tab[i].num;
    return -1;
}

const char *cr_fiupt_errno_name(int errnum)
{
    for (size_t i = 0; i < sizeof errno_tab / sizeof errno_tab[0]; i++)
        if (errno_tab[i].num == errnum)
            return errno_tab[i].name;
    return NULL;
}

int cr_fiupt_point_allows(const cr_fiupt_point *p, int errnum)
{
    const char *s = p->errnos;
    while (*s) {
        size_t len = strcspn(s, " ");
        char tok[32];
        if (len > 0 && len < sizeof tok) {
            memcpy(tok, s, len);
            tok[len] = '\0';
            if (cr_fiupt_errno_parse(tok) == errnum)
                return 1;
        }
        s += len;
        s += strspn(s, " ");
    }
    return 0;
}

static int pattern_matches(const char *pattern, const char *name)
{
    size_t n = strlen(pattern);
    if (n > 0 && pattern[n - 1] == '*')
        return strncmp(pattern, name, n - 1) == 0;
    return strcmp(pattern, name) == 0;
}

size_t cr_fiupt_match(const char *pattern, const cr_fiupt_point **out,
                      size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
        if (!pattern_matches(pattern, points[i].name))
            continue;
        if (out && k < max)
            out[k] = &points[i];
        k++;
    }
    return k;
}

/* Characters that cannot break libfiu's "cmd name=...,k=v" line. */
static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 200)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '_' || c == '/' || c == '.' ||
                 c == '-' || (c == '*' && i == n - 1);
        if (!ok)
            return 0;
    }
    return 1;
}

int cr_fiupt_check(const char *const *names, size_t n, int *errnum, cr_err *err)
{
    enum { MAXM = 128 };
    const cr_fiupt_point *m[MAXM];
    int sets_errno = 0, eio_ok = 1;
    if (n == 0)
        return cr_err_set(err, CR_EINVAL, "no failure point given");
    for (size_t i = 0; i < n; i++) {
        if (!name_ok(names[i]))
            return cr_err_set(err, CR_EINVAL,
                              "failure point \"%s\": only letters, digits, "
                              "'_', '/', '.', '-' and a final '*' are allowed",
                              names[i]);
        size_t k = cr_fiupt_match(names[i], m, MAXM);
        if (k == 0)
            return cr_err_set(err, CR_EINVAL,
                              "failure point \"%s\" is not one that libfiu's "
                              "POSIX preload provides (see faults/README.md; "
                              "e.g. posix/io/rw/write, libc/mm/malloc)",
                              names[i]);
        for (size_t j = 0; j < k && j < MAXM; j++) {
            if (!m[j]->errnos[0])
                continue;
            sets_errno = 1;
            if (!cr_fiupt_point_allows(m[j], EIO))
                eio_ok = 0;
            if (*errnum && !cr_fiupt_point_allows(m[j], *errnum)) {
                const char *en = cr_fiupt_errno_name(*errnum);
                return cr_err_set(
                    err, CR_EINVAL,
                    "errno %s cannot be returned by %s%s%s%s "
                    "(it can return: %s)",
                    en ? en : "?", m[j]->name,
                    strcmp(m[j]->name, names[i]) ? " (matched by " : "",
                    strcmp(m[j]->name, names[i]) ? names[i] : "",
                    strcmp(m[j]->name, names[i]) ? ")" : "", m[j]->errnos);
            }
        }
    }
    if (!sets_errno) {
        if (*errnum)
            return cr_err_set(err, CR_EINVAL,
                              "errno given, but %s%s sets no errno (short "
                              "reads/writes or a plain failure value)",
                              names[0], n > 1 ? " and the others" : "");
        return CR_OK;
    }
    if (*errnum == 0) {
        if (!eio_ok)
            return cr_err_set(err, CR_EINVAL,
                              "errno is required for %s%s (EIO, the "
                              "default, is not one they can all return)",
                              names[0], n > 1 ? " and the others" : "");
        *errnum = EIO;
    }
    return CR_OK;
}

/* ---- presets ------------------------------------------------------------ */

static const char *const disk_full_pts[] = {
    "posix/io/rw/write",
    "posix/io/rw/pwrite",
    "posix/io/rw/writev",
    "posix/io/rw/pwritev",
    "posix/io/sync/fsync",
    "posix/io/sync/fdatasync",
    NULL,
};
static const char *const io_error_pts[] = {
    "posix/io/rw/read",   "posix/io/rw/pread",   "posix/io/rw/readv",
    "posix/io/rw/preadv", "posix/io/rw/write",   "posix/io/rw/pwrite",
    "posix/io/rw/writev", "posix/io/rw/pwritev", NULL,
};
static const char *const fsync_fail_pts[] = {
    "posix/io/sync/fsync",
    "posix/io/sync/fdatasync",
    NULL,
};
static const char *const oom_pts[] = {
    "libc/mm/malloc",
    "libc/mm/calloc",
    "libc/mm/realloc",
    NULL,
};
static const char *const net_refused_pts[] = {
    "posix/io/net/connect",
    NULL,
};
static const char *const net_reset_pts[] = {
    "posix/io/net/send",
    "posix/io/net/sendto",
    "posix/io/net/sendmsg",
    "posix/io/net/recv",
    "posix/io/net/recvfrom",
    "posix/io/net/recvmsg",
    NULL,
};

static const cr_fiupt_preset p_disk_full = {
    "disk_full", "ENOSPC", disk_full_pts,
    "write, pwrite, writev, pwritev, fsync and fdatasync fail with ENOSPC"};
static const cr_fiupt_preset p_io_error = {
    "io_error", "EIO", io_error_pts,
    "read, pread, readv, preadv, write, pwrite, writev, pwritev fail with EIO"};
static const cr_fiupt_preset p_fsync_fail = {
    "fsync_fail", "EIO", fsync_fail_pts, "fsync and fdatasync fail with EIO"};
static const cr_fiupt_preset p_oom = {
    "oom", "ENOMEM", oom_pts,
    "malloc, calloc and realloc return NULL (errno ENOMEM)"};
static const cr_fiupt_preset p_net_refused = {
    "net_refused", "ECONNREFUSED", net_refused_pts,
    "connect fails with ECONNREFUSED"};
static const cr_fiupt_preset p_net_reset = {
    "net_reset", "ECONNRESET", net_reset_pts,
    "send, sendto, sendmsg, recv, recvfrom, recvmsg fail with ECONNRESET"};

static const cr_fiupt_preset *const presets[] = {
    &p_disk_full,   &p_io_error,  &p_fsync_fail, &p_oom,
    &p_net_refused, &p_net_reset, NULL,
};

const cr_fiupt_preset *const *cr_fiupt_presets(void)
{
    return presets;
}

const cr_fiupt_preset *cr_fiupt_preset_find(const char *name)
{
    for (size_t i = 0; name && presets[i]; i++)
        if (strcmp(presets[i]->name, name) == 0)
            return presets[i];
    return NULL;
}
