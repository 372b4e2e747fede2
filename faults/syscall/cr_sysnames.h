/* cr_sysnames: system call and errno names for the seccomp backend of the
 * `syscall` fault kind.
 *
 * System calls are named as the kernel names them ("write", "openat",
 * "pwrite64"), resolved for the architecture chaosrun runs on through
 * libseccomp's table (seccomp_syscall_resolve_name_arch), so a name that
 * does not exist here ("socketcall" on x86-64) is refused rather than
 * silently never matched.  Errnos are named symbolically ("ENOSPC"), every
 * one the C library knows (strerrorname_np).
 *
 * The argument table says, for the system calls the path filter can judge,
 * which argument holds a path (a string in the caller's memory, relative
 * to a directory fd for the *at calls) or a file descriptor. */
#ifndef CR_SYSNAMES_H
#define CR_SYSNAMES_H

#include <stddef.h>

#include "base/cr_err.h"

/* Syscall numbers used as indexes are below this (x86-64 has ~460). */
#define CR_SYS_NR_MAX 1024

/* The native number of a system call name, or -1 when libseccomp does not
 * know it or it does not exist on this architecture. */
int cr_sys_nr(const char *name);
/* The name of a native syscall number into buf ("" when unknown). */
void cr_sys_name(int nr, char *buf, size_t n);

/* Validate a name: lower-case letters, digits and '_', known here.
 * Returns the number, or CR_EINVAL with a sentence naming the name and,
 * when one is close, "did you mean" the nearest real one. */
int cr_sys_check(const char *name, cr_err *err);

/* The nearest known syscall name (edit distance <= 2, or 3 for names of 8
 * characters or more), or NULL.  Static storage. */
const char *cr_sys_suggest(const char *name);

/* errno by symbolic name ("EIO"), any the C library names; -1 if unknown.
 * And back: "EIO", or NULL. */
int cr_errno_parse(const char *name);
const char *cr_errno_name(int errnum);

/* What an argument of a system call refers to, for the path filter. */
enum {
    CR_SYSARG_NONE = 0,
    CR_SYSARG_FD,   /* a file descriptor: its /proc/PID/fd link */
    CR_SYSARG_PATH, /* a path string, relative to the cwd */
    CR_SYSARG_AT,   /* a path string relative to the dirfd in argument at */
};

typedef struct cr_sysref {
    unsigned char kind; /* CR_SYSARG_* */
    unsigned char idx;  /* argument index 0..5 */
    unsigned char at;   /* CR_SYSARG_AT: index of the dirfd argument */
} cr_sysref;

typedef struct cr_sysargs {
    const char *name;
    cr_sysref ref[2]; /* a call matches when either refers to the path */
} cr_sysargs;

/* The arguments of a system call the path filter knows, or NULL. */
const cr_sysargs *cr_sysargs_find(const char *name);

#endif
