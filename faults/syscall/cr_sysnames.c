/* cr_sysnames: system call names through libseccomp, errno names through
 * the C library, and the argument table of the path filter (see
 * cr_sysnames.h). */
#include "cr_sysnames.h"

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/cr_scen.h"

int cr_sys_nr(const char *name)
{
    if (!name || !*name)
        return -1;
    /* Negative numbers are libseccomp's pseudo-syscalls: names it knows
     * from another architecture that do not exist on this one. */
    int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, name);
    return nr >= 0 && nr < CR_SYS_NR_MAX ? nr : -1;
}

void cr_sys_name(int nr, char *buf, size_t n)
{
    char *s =
        nr >= 0 ? seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr) : NULL;
    snprintf(buf, n, "%s", s ? s : "");
    free(s); /* libseccomp allocates it with malloc */
}

const char *cr_sys_suggest(const char *name)
{
    static char best[64];
    int bestd = strlen(name) >= 8 ? 4 : 3;
    best[0] = '\0';
    for (int nr = 0; nr < CR_SYS_NR_MAX; nr++) {
        char cand[64];
        cr_sys_name(nr, cand, sizeof cand);
        if (!cand[0])
            continue;
        int d = cr_levenshtein(name, cand);
        if (d < bestd) {
            bestd = d;
            snprintf(best, sizeof best, "%s", cand);
        }
    }
    return best[0] ? best : NULL;
}

int cr_sys_check(const char *name, cr_err *err)
{
    size_t n = strlen(name);
    if (n == 0 || n > 48 ||
        strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
        return cr_err_set(err, CR_EINVAL,
                          "system call \"%s\": a kernel name is lower-case "
                          "letters, digits and '_' (e.g. \"write\", "
                          "\"openat\")",
                          name);
    int nr = cr_sys_nr(name);
    if (nr >= 0)
        return nr;
    if (seccomp_syscall_resolve_name(name) != __NR_SCMP_ERROR)
        return cr_err_set(err, CR_EINVAL,
                          "system call \"%s\" does not exist on this "
                          "architecture",
                          name);
    const char *s = cr_sys_suggest(name);
    return cr_err_set(err, CR_EINVAL,
                      "unknown system call \"%s\"%s%s%s (kernel names, as in "
                      "libseccomp's table: \"write\", \"pwrite64\", "
                      "\"openat\", \"fsync\", \"connect\")",
                      name, s ? " (did you mean \"" : "", s ? s : "",
                      s ? "\"?)" : "");
}

int cr_errno_parse(const char *name)
{
    if (!name || name[0] != 'E')
        return -1;
    for (int e = 1; e < 4096; e++) {
        const char *s = strerrorname_np(e);
        if (s && strcmp(s, name) == 0)
            return e;
    }
    return -1;
}

const char *cr_errno_name(int errnum)
{
    return errnum > 0 ? strerrorname_np(errnum) : NULL;
}

/* ---- the path filter's argument table ----------------------------------
 *
 * Kernel names (x86-64's set; a name that does not exist elsewhere is never
 * looked up there).  For two-path calls (rename, link) a call matches when
 * either path does. */
#define FD(i)                                                                  \
    {                                                                          \
        CR_SYSARG_FD, (i), 0                                                   \
    }
#define PATH(i)                                                                \
    {                                                                          \
        CR_SYSARG_PATH, (i), 0                                                 \
    }
#define AT(d, i)                                                               \
    {                                                                          \
        CR_SYSARG_AT, (i), (d)                                                 \
    }
#define NOREF                                                                  \
    {                                                                          \
        CR_SYSARG_NONE, 0, 0                                                   \
    }
#define F0(name)                                                               \
    {                                                                          \
        name,                                                                  \
        {                                                                      \
            FD(0), NOREF                                                       \
        }                                                                      \
    }
#define P0(name)                                                               \
    {                                                                          \
        name,                                                                  \
        {                                                                      \
            PATH(0), NOREF                                                     \
        }                                                                      \
    }
#define A01(name)                                                              \
    {                                                                          \
        name,                                                                  \
        {                                                                      \
            AT(0, 1), NOREF                                                    \
        }                                                                      \
    }

static const cr_sysargs sysargs[] = {
    /* file descriptor first */
    F0("read"),
    F0("write"),
    F0("pread64"),
    F0("pwrite64"),
    F0("readv"),
    F0("writev"),
    F0("preadv"),
    F0("pwritev"),
    F0("preadv2"),
    F0("pwritev2"),
    F0("fsync"),
    F0("fdatasync"),
    F0("syncfs"),
    F0("sync_file_range"),
    F0("ftruncate"),
    F0("fallocate"),
    F0("fadvise64"),
    F0("readahead"),
    F0("lseek"),
    F0("fstat"),
    F0("fstatfs"),
    F0("fchmod"),
    F0("fchown"),
    F0("fchdir"),
    F0("flock"),
    F0("fcntl"),
    F0("ioctl"),
    F0("close"),
    F0("getdents"),
    F0("getdents64"),
    F0("fsetxattr"),
    F0("fgetxattr"),
    F0("flistxattr"),
    F0("fremovexattr"),
    F0("connect"),
    F0("accept"),
    F0("accept4"),
    F0("bind"),
    F0("listen"),
    F0("shutdown"),
    F0("sendto"),
    F0("sendmsg"),
    F0("sendmmsg"),
    F0("recvfrom"),
    F0("recvmsg"),
    F0("recvmmsg"),
    F0("getsockopt"),
    F0("setsockopt"),
    F0("getsockname"),
    F0("getpeername"),
    {"mmap", {FD(4), NOREF}},
    {"sendfile", {FD(0), FD(1)}},
    {"splice", {FD(0), FD(2)}},
    {"tee", {FD(0), FD(1)}},
    {"copy_file_range", {FD(0), FD(2)}},
    /* path first */
    P0("open"),
    P0("creat"),
    P0("truncate"),
    P0("stat"),
    P0("lstat"),
    P0("statfs"),
    P0("access"),
    P0("chdir"),
    P0("chroot"),
    P0("mkdir"),
    P0("rmdir"),
    P0("unlink"),
    P0("readlink"),
    P0("chmod"),
    P0("chown"),
    P0("lchown"),
    P0("utime"),
    P0("utimes"),
    P0("mknod"),
    P0("execve"),
    P0("setxattr"),
    P0("lsetxattr"),
    P0("getxattr"),
    P0("lgetxattr"),
    P0("listxattr"),
    P0("llistxattr"),
    P0("removexattr"),
    P0("lremovexattr"),
    {"rename", {PATH(0), PATH(1)}},
    {"link", {PATH(0), PATH(1)}},
    {"symlink", {PATH(1), NOREF}}, /* the link, not its target text */
    /* directory fd + path */
    A01("openat"),
    A01("openat2"),
    A01("mkdirat"),
    A01("unlinkat"),
    A01("fchmodat"),
    A01("fchmodat2"),
    A01("fchownat"),
    A01("newfstatat"),
    A01("statx"),
    A01("faccessat"),
    A01("faccessat2"),
    A01("readlinkat"),
    A01("mknodat"),
    A01("utimensat"),
    A01("futimesat"),
    A01("execveat"),
    A01("name_to_handle_at"),
    {"renameat", {AT(0, 1), AT(2, 3)}},
    {"renameat2", {AT(0, 1), AT(2, 3)}},
    {"linkat", {AT(0, 1), AT(2, 3)}},
    {"symlinkat", {AT(1, 2), NOREF}},
};

const cr_sysargs *cr_sysargs_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof sysargs / sizeof sysargs[0]; i++)
        if (strcmp(sysargs[i].name, name) == 0)
            return &sysargs[i];
    return NULL;
}
